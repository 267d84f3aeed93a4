"""DR-MH sampling speed: 10^5 samples of the PA-closed triangular pair model on one dataset, one core.

The chain (Algorithm 1, σ1 = 0.1·Y1, σ2 = 0.01·Y1, start Y1 = best of a multi-start fit) runs in
the compiled loop of :mod:`latticeclosure.inference` (the model's compiled Dormand–Prince solve, the
Rosenbrock fallback where the rates make the system stiff, no allocation per sample). The baseline
is the same Algorithm 1 written plainly in Python with F evaluated by ``sympy.lambdify`` of the
closed right-hand side and ``scipy.integrate.solve_ivp(method="LSODA")`` on the data's grid, timed
on a few hundred samples of the same chain in the same run.

Usage::

    python benchmarks/inference_speed.py [DATASET.npz] [--samples 100000] [--baseline-samples 300]

Without a dataset, the default main job's x = 1/3 dataset is used if ``/tmp/inf-run`` holds one,
else a fresh 48×48 annealing run at x = 1/3 is made. The last lines are ``name=value``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

def _dataset(path: str | None):
    from latticeclosure.data import Trajectory

    if path:
        return Trajectory.load(path)
    for cand in ("/tmp/inf-run/datasets/x0.33_seed0.npz", "out/datasets/x0.33_seed0.npz"):
        if Path(cand).exists():
            return Trajectory.load(cand)

    raise SystemExit("give the x = 1/3 dataset of `latticeclosure run` (datasets/x0.33_seed0.npz)")

def baseline_objective(model, obj):
    """F(K) with sympy.lambdify + solve_ivp(LSODA) on the same grids and weights."""
    import sympy as sp
    from scipy.integrate import solve_ivp

    f = sp.lambdify([model.state_symbols, model.rate_symbols], [model.rhs[n] for n in model.state_names], "numpy")
    compiled = model.compile()
    F_map, g_map = compiled.F, compiled.g

    def F(k):
        total = 0.0
        for d in range(len(obj.datasets)):
            a, b = int(obj.offsets[d]), int(obj.offsets[d + 1])
            t = obj.t_all[a:b]
            sol = solve_ivp(lambda _t, y: f(y, k), (t[0], t[-1]), obj.y0s[d], method="LSODA", t_eval=t,
                            rtol=obj.options.rtol, atol=obj.options.atol)
            if sol.status != 0 or sol.y.shape[1] != len(t):
                return math.inf
            full = sol.y.T @ F_map.T + g_map
            total += 0.5 * float(np.sum(obj.W[a:b] * (full - obj.D[a:b]) ** 2))
        return total

    return F

def python_dr(F, x0, s1, s2, upper, n, seed):
    """Algorithm 1 with the recorded-rejection correction, plain Python (the baseline sampler)."""
    rng = np.random.default_rng(seed)
    x = x0.copy()
    fx = F(x)
    out = np.empty((n, len(x)))
    for i in range(n):
        y1 = x + s1 * (2 * rng.random(len(x)) - 1)
        f1 = F(y1) if np.all(y1 > 0) and np.all(y1 <= upper) else math.inf
        a1 = min(1.0, math.exp(fx - f1)) if math.isfinite(f1) else 0.0
        if rng.random() < a1:
            x, fx = y1, f1
        else:
            y2 = x + s2 * (2 * rng.random(len(x)) - 1)
            if np.all(y2 > 0) and np.all(y2 <= upper) and np.all(np.abs(y1 - y2) <= s1):
                f2 = F(y2)
                if math.isfinite(f2):
                    a12 = min(1.0, math.exp(f2 - f1)) if math.isfinite(f1) else 0.0
                    num = math.exp(fx - f2) * (1 - a12)
                    a2 = min(1.0, num / (1 - a1))
                    if rng.random() < a2:
                        x, fx = y2, f2
        out[i] = x
    return out

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", nargs="?")
    ap.add_argument("--samples", type=int, default=100000)
    ap.add_argument("--baseline-samples", type=int, default=300)
    args = ap.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    from latticeclosure.closedmodel import close_equations
    from latticeclosure.equations import generate_equations
    from latticeclosure.inference import InferenceSettings, build_objective, multistart_fit
    from latticeclosure.inference.run import chain_start
    from latticeclosure.inference.sampler import advance_chain, init_chain

    traj = _dataset(args.dataset)
    eqs = generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)
    model = close_equations(eqs, "pair")
    obj = build_objective(model, traj)
    ms = multistart_fit(obj, 8, seed=0)
    st = chain_start(obj, ms.best.x, InferenceSettings())
    f0 = obj.value(st["x0"])
    chain = init_chain(st["x0"], -f0, f0, scales=st["scales"], scales2=st["scales2"], seed=0, lower=st["lower"],
                       upper=st["upper"])
    advance_chain(chain, 200, ("model", obj, 1.0))  # warm-up: load every compiled kernel
    t0 = time.perf_counter()
    new, samples, values, stage = advance_chain(chain, args.samples, ("model", obj, 1.0))
    t_fast = time.perf_counter() - t0
    c = new.counts
    evals_fast = int(c[7])
    F_base = baseline_objective(model, obj)
    F_base(st["x0"])
    t0 = time.perf_counter()
    python_dr(F_base, st["x0"], st["scales"], st["scales2"], st["upper"], args.baseline_samples, 0)
    t_base = time.perf_counter() - t0
    rate_fast = args.samples / t_fast
    rate_base = args.baseline_samples / t_base
    print(f"dataset: {traj.name}, {traj.n_records} records; best multi-start F = {ms.best.F:.6g}")
    print(f"compiled chain: {args.samples} samples in {t_fast:.2f} s, {evals_fast} F evaluations "
          f"({evals_fast / args.samples:.2f} per sample), acceptance stage 1 {c[1] / c[0]:.3f}, stage 2 "
          f"{(c[3] / c[2]) if c[2] else float('nan'):.3f}, failed solves {int(obj.failures_array.sum())}")
    print(f"baseline (lambdify + solve_ivp LSODA, Python DR-MH): {args.baseline_samples} samples in {t_base:.2f} s")
    print(f"seconds_for_samples={t_fast:.3f}")
    print(f"baseline_samples_per_second={rate_base:.2f}")
    print(f"samples_per_second={rate_fast:.1f}")
    print(f"speedup_vs_scipy={rate_fast / rate_base:.1f}")

if __name__ == "__main__":
    sys.exit(main())
