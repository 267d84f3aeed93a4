#!/usr/bin/env python
"""Benchmark: attempted Kawasaki swaps per second of the annealer on one core (triangular NMC).

A random configuration at x = 1/3 (Li) on an L×L triangular supercell with the Pauling oxygen energy
is brought to temperature T by 100 untimed sweeps; then ``--sweeps`` sweeps (L² attempted swaps each)
are timed, ``--repeat`` times, and the best rate counts. Compilation is excluded: before timing, the
kernel is called once (compiled, or loaded from numba's on-disk cache).

Compilation is measured separately, in fresh subprocesses with an empty private numba cache
directory: the first run compiles and writes the cache, the second loads it (``--no-compile-timing``
skips this).

Usage::

    python benchmarks/anneal_speed.py [--size L] [--sweeps N] [--temperature T] [--kernel K]

The last line printed is ``swaps_per_second=<number>``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=96, help="side L of the L×L supercell (default 96)")
    parser.add_argument("--sweeps", type=int, default=None,
                        help="timed sweeps per repeat (default: about 5·10⁷ attempts, at least 10 sweeps)")
    parser.add_argument("--temperature", type=float, default=0.3, help="temperature in oxygen-energy units (0.3)")
    parser.add_argument("--x", type=float, default=1 / 3, help="Li fraction (default 1/3)")
    parser.add_argument("--kernel", default="auto", choices=("auto", "mask", "stencil", "clusters"))
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats; the best counts (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-compile-timing", action="store_true", help="skip the compile/cache-load measurement")
    args = parser.parse_args(argv)
    if args.size < 6:
        parser.error("--size must be at least 6")
    if args.sweeps is not None and args.sweeps < 1:
        parser.error("--sweeps must be positive")
    if not args.temperature >= 0:
        parser.error("--temperature must be ≥ 0")
    return args


_PROBE = """
import time
t0 = time.perf_counter()
from latticeclosure.anneal import _kernels, plans
from latticeclosure.anneal.energy import ClusterEnergy
from latticeclosure.anneal.geometry import SwapGeometry
from latticeclosure.anneal.rng import seed_state
from latticeclosure_std.lattices import standard_lattices
import numpy as np
t1 = time.perf_counter()
tri = [l for l in standard_lattices() if l.name == "triangular"][0]
energy = ClusterEnergy.from_function("triangle", 3, ("+", "-"), lambda s: (s.count("+") - 2) ** 2 / 4)
plan = plans.make_plan(SwapGeometry(tri.supercell(12), energy), energy, {kernel!r})
state = seed_state(0)
real = (np.arange(144) % 3 == 0).astype(np.int8)
_kernels.shuffle_inplace(real, state)
work = plan.new_work(real)
t2 = time.perf_counter()
plan.run(work, state, 10, plan.temperature_tables(0.3))
plan.real(work)
t3 = time.perf_counter()
print(f"{{t1 - t0:.3f}} {{t3 - t2:.3f}}")
"""


def compile_times(kernel: str) -> tuple[float, float, float]:
    """(import s, first call with an empty cache s, first call with a warm cache s) in fresh processes."""
    with tempfile.TemporaryDirectory(prefix="lc-numba-cache-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = []
        for _ in range(2):
            res = subprocess.run([sys.executable, "-c", _PROBE.format(kernel=kernel)], env=env,
                                 capture_output=True, text=True, check=True)
            out.append([float(v) for v in res.stdout.split()])
    return out[1][0], out[0][1], out[1][1]


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import numpy as np

    from latticeclosure.anneal import _kernels, plans
    from latticeclosure.anneal.geometry import SwapGeometry
    from latticeclosure.anneal.rng import seed_state
    from latticeclosure.model import realise_composition
    from latticeclosure.registry import get_lattice, get_model

    print(f"python {platform.python_version()}, {platform.machine()}, {platform.processor() or platform.system()}")
    if not args.no_compile_timing:
        imp, cold, warm = compile_times(args.kernel)
        print(f"numba: first call with an empty cache {cold:.2f} s (compile + write cache); "
              f"with the cache {warm:.3f} s (load); package import {imp:.2f} s")

    model = get_model("nmc")
    lattice = get_lattice("triangular")
    L = args.size
    supercell = lattice.supercell(L)
    N = supercell.n_sites
    geometry = SwapGeometry(supercell, model.energy)
    plan = plans.make_plan(geometry, model.energy, args.kernel)
    counts = realise_composition(args.x, N, model.species, "-", (1 / 3, 2 / 3))
    state = seed_state(args.seed)
    real = np.repeat(np.arange(2, dtype=np.int8), counts)
    _kernels.shuffle_inplace(real, state)
    work = plan.new_work(real)
    tables = plan.temperature_tables(args.temperature)
    plan.run(work, state, 10, tables)                     # compile or load from cache
    acc_warm, _ = plan.run(work, state, 100 * N, tables)  # 100 untimed sweeps at T
    sweeps = args.sweeps if args.sweeps is not None else max(10, int(round(5e7 / N)))
    n = sweeps * N
    best = float("inf")
    accepted = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        accepted, _ = plan.run(work, state, n, tables)
        best = min(best, time.perf_counter() - t0)
    rate = n / best
    print(f"L = {L} ({N} sites), x = {counts[1] / N:.4f}, T = {args.temperature:g}, kernel {plan.name}; "
          f"{sweeps} sweeps = {n} attempted swaps per repeat, best of {args.repeat}: {best:.3f} s; "
          f"acceptance {accepted / n:.3f}")
    print(f"{rate / 1e6:.1f} million attempted swaps per second ({1e9 / rate:.2f} ns per attempt)")
    print(f"swaps_per_second={rate:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
