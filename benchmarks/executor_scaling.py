#!/usr/bin/env python
"""Benchmark: one annealing sweep and one 4-chain MCMC on 1 and 2 local workers and on a 2-worker
Dask LocalCluster, side by side in one run.

* Annealing: the triangular NMC model at the paper's ten stoichiometries, L = 96 (default), seeds 0-4
  (50 runs of the model's default schedule, over 60 s on 2 workers), through
  :func:`latticeclosure.simulation.run_tasks` into temporary directories.
* MCMC: ``run_inference`` of the pair-closed triangular pair model (the paper's eq. 5) on a
  synthetic dataset, a multi-start fit from 4 points and 4 DR-MH chains of ``--samples`` samples.

Every configuration first opens its executor (untimed: a local pool forks its workers, a
LocalCluster starts its scheduler and worker processes — printed as ``dask_startup_s``), then the
stage is timed. Before anything, the annealing kernels and the closed model are loaded in this
process (forked local workers inherit them; Dask's spawned workers load them on their first task,
which is counted: it is part of what Dask costs). Every configuration's results are checked
identical to the single worker's.

Usage::

    python benchmarks/executor_scaling.py [--size 96] [--seeds 0 1 2 3 4] [--samples 100000] [--no-dask]

Targets: ``ratio_2w_1w_anneal`` and ``ratio_2w_1w_mcmc`` ≤ 0.6, ``dask_overhead`` (the LocalCluster's
time over the 2-local-worker time, minus 1, the mean of both stages) ≤ 0.10. The last three lines
are ``ratio_2w_1w_anneal=…``, ``ratio_2w_1w_mcmc=…``, ``dask_overhead=…``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on this platform
        return "n/a"


def _anneal(session, tasks, backend, out: Path) -> float:
    from latticeclosure.simulation import run_tasks

    t0 = time.perf_counter()
    run_tasks(tasks, backend, out_dir=out, executor=session, progress=False, checkpoint_every=None)
    return time.perf_counter() - t0


def _same_sweep(a: Path, b: Path) -> bool:
    from latticeclosure.data import Trajectory

    names = sorted(p.name for p in a.glob("x*.npz"))
    if names != sorted(p.name for p in b.glob("x*.npz")):
        return False
    for name in names:
        ta, tb = Trajectory.load(a / name), Trajectory.load(b / name)
        if ta.metadata != tb.metadata or any(not np.array_equal(v, tb.arrays[k]) for k, v in ta.arrays.items()):
            return False
    return True


def _mcmc_problem():
    from latticeclosure.closedmodel import close_equations
    from latticeclosure.equations import generate_equations

    eqs = generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)
    model = close_equations(eqs, "pair")
    t = np.linspace(0, 1, 41)
    sol = model.solve(t, {"C++": 0.40, "C--": 0.15, "C+-": 0.225}, [1.2, 0.7, 0.9, 0.4, 0.8, 0.5, 1.1, 0.6])
    data = {"time": t, **{n: np.asarray(sol[n]) for n in model.window_names}}
    return {"pair": model}, [data]


def _mcmc(session, models, data, samples: int, seed: int) -> tuple[float, np.ndarray]:
    import warnings

    from latticeclosure.inference.run import InferenceSettings, run_inference

    settings = InferenceSettings.make(samples=samples, chains=4, n_starts=4, seed=seed, workers=session.workers or 1)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes of short chains
        result = run_inference(models, data, settings, executor=session.executor, progress=False)
    seconds = time.perf_counter() - t0
    return seconds, np.asarray(result.closures["pair"].chains)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=96, help="lattice side (default 96)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                        help="seeds per stoichiometry (default 0 1 2 3 4: at least 60 s on 2 workers)")
    parser.add_argument("--scale", type=float, default=1.0, help="schedule length factor (default 1)")
    parser.add_argument("--samples", type=int, default=100000, help="samples per chain (default 100000, the paper's)")
    parser.add_argument("--no-dask", action="store_true", help="skip the LocalCluster (no dask_overhead)")
    args = parser.parse_args(argv)

    from latticeclosure.parallel import ExecutorSpec
    from latticeclosure.registry import get_registry
    from latticeclosure.simulation import sweep_tasks

    registry = get_registry()
    model = registry.resolve("models", "nmc")
    backend = registry.resolve("data_backends", "nmc-anneal")
    schedule = model.default_schedule.scaled(args.scale)
    tasks = [backend.check_task(t) for t in sweep_tasks(model, list(model.stoichiometries), args.seeds,
                                                        size=args.size, settings={"schedule": schedule},
                                                        backend=backend)]
    print(f"{os.cpu_count()} cores, load average {_load()} at the start")
    print(f"annealing: model nmc, L = {args.size}, {len(tasks)} runs ({len(model.stoichiometries)} stoichiometries × "
          f"{len(args.seeds)} seeds), schedule {schedule.n_levels} levels × {schedule.sweeps[0]:g} sweeps")
    print(f"mcmc: pair-closed pair model, 4 starts, 4 chains × {args.samples} samples")
    backend.warm_up(tasks[0])
    models, data = _mcmc_problem()
    with ExecutorSpec("local", 1).open() as inline:
        _mcmc(inline, models, data, 50, 0)  # compile the closed model here (inherited by forked workers)

    configs = [("1w", ExecutorSpec("local", 1)), ("2w", ExecutorSpec("local", 2))]
    if not args.no_dask:
        configs.append(("dask", ExecutorSpec("dask-local", 2)))
    anneal, mcmc, startup, chains = {}, {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="lc-executor-bench-") as tmp:
        for label, spec in configs:
            t0 = time.perf_counter()
            with spec.open() as session:
                startup[label] = time.perf_counter() - t0
                anneal[label] = _anneal(session, tasks, backend, Path(tmp) / label)
                mcmc[label], chains[label] = _mcmc(session, models, data, args.samples, seed=1)
            print(f"{label:>4}: {session.description}; start-up {startup[label]:.2f} s, annealing {anneal[label]:.2f} s, "
                  f"mcmc {mcmc[label]:.2f} s, load average {_load()}", flush=True)
        for label in anneal:
            if label != "1w":
                same = _same_sweep(Path(tmp) / "1w", Path(tmp) / label) and np.array_equal(chains["1w"], chains[label])
                print(f"{label} results identical to 1 worker: {same}")
                if not same:
                    print(f"error: the {label} results differ from the single worker's", file=sys.stderr)
                    return 1
    ratio_anneal = anneal["2w"] / anneal["1w"]
    ratio_mcmc = mcmc["2w"] / mcmc["1w"]
    print(f"anneal_1w_s={anneal['1w']:.2f}")
    print(f"anneal_2w_s={anneal['2w']:.2f}")
    print(f"mcmc_1w_s={mcmc['1w']:.2f}")
    print(f"mcmc_2w_s={mcmc['2w']:.2f}")
    if "dask" in anneal:
        overhead_anneal = anneal["dask"] / anneal["2w"] - 1
        overhead_mcmc = mcmc["dask"] / mcmc["2w"] - 1
        print(f"anneal_dask_s={anneal['dask']:.2f}")
        print(f"mcmc_dask_s={mcmc['dask']:.2f}")
        print(f"dask_overhead_anneal={overhead_anneal:.3f}")
        print(f"dask_overhead_mcmc={overhead_mcmc:.3f}")
        print(f"dask_startup_s={startup['dask']:.2f}")
    print(f"ratio_2w_1w_anneal={ratio_anneal:.3f}")
    print(f"ratio_2w_1w_mcmc={ratio_mcmc:.3f}")
    if "dask" in anneal:
        print(f"dask_overhead={(overhead_anneal + overhead_mcmc) / 2:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
