#!/usr/bin/env python
"""Benchmark: wall time of a ten-stoichiometry sweep on 1 worker versus 2 workers.

Runs the triangular NMC model at the paper's ten stoichiometries (seed 0) with
:func:`latticeclosure.sweep.run_sweep`, once with ``workers=1`` (in process) and once with
``workers=2`` (process pool), into temporary directories, after a warm-up that loads the numba
kernels. The target is a ratio (2 workers / 1 worker) of at most 0.6.

Usage::

    python benchmarks/sweep_scaling.py [--size L] [--scale F] [--workers N]

``--scale`` multiplies the model's default schedule (24 levels × 1000 sweeps) level lengths. The last
line printed is ``ratio=<number>``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=48, help="lattice side (default 48)")
    parser.add_argument("--scale", type=float, default=0.25, help="schedule length factor (default 0.25)")
    parser.add_argument("--workers", type=int, default=2, help="workers of the parallel run (default 2)")
    args = parser.parse_args(argv)

    from latticeclosure.registry import get_model
    from latticeclosure.sweep import run_sweep

    model = get_model("nmc")
    schedule = model.default_schedule.scaled(args.scale)
    print(f"{os.cpu_count()} cores; model nmc, L = {args.size}, {len(model.stoichiometries)} stoichiometries, "
          f"schedule {schedule.n_levels} levels × {schedule.sweeps[0]:g} sweeps")
    times = {}
    with tempfile.TemporaryDirectory(prefix="lc-sweep-bench-") as tmp:
        run_sweep(model, [0.5], [0], 12, schedule.scaled(0.01), out_dir=os.path.join(tmp, "warm"), progress=False)
        for workers in (1, args.workers):
            t0 = time.perf_counter()
            run_sweep(model, None, [0], args.size, schedule, out_dir=os.path.join(tmp, f"w{workers}"),
                      workers=workers, progress=False)
            times[workers] = time.perf_counter() - t0
            print(f"{workers} worker(s): {times[workers]:.2f} s")
    ratio = times[args.workers] / times[1]
    print(f"{args.workers} workers / 1 worker wall time: {ratio:.3f} (target ≤ 0.6 for 2 workers)")
    print(f"ratio={ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
