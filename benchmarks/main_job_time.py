"""Wall time of the full default main job (``latticeclosure run`` with no arguments).

Runs :func:`latticeclosure.pipeline.run_main_job` on its embedded default (NMC model, the paper's ten
stoichiometries, L = 48, seed 0, one worker per core) into a temporary directory and prints the time
of the annealing sweep and of the whole job. Numba kernels are compiled (or loaded from the cache) in
the first stage, as in a user's first run.

Usage: python benchmarks/main_job_time.py [--workers N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from latticeclosure.pipeline import run_main_job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_main_job(Path(tmp) / "run", workers=args.workers, progress=False, log=lambda _m: None)
        total = time.perf_counter() - start
    timing = result.summary["timing_seconds"]
    print(f"annealing sweep: {timing['anneal']:.1f} s")
    print(f"analysis, report and figures: {total - timing['anneal']:.1f} s")
    print(f"main_job_seconds={total:.1f}")


if __name__ == "__main__":
    main()
