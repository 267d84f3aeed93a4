"""DR-MH sampling speed: 10^5 samples of the PA-closed triangular pair model on one dataset, one core.

The chain (Algorithm 1, σ1 = 0.1·Y1, σ2 = 0.01·Y1, start Y1 = best of an 8-start multi-start fit,
temperature s = 1) runs in the compiled loop of :mod:`latticeclosure.inference`: per proposal one
call of the model's bound objective (explicit Dormand–Prince solve, or the Rosenbrock solve where the
Jacobian at the first record or the explicit method's stiffness test says the rates make the system
stiff), no allocation per sample. The baseline is the same Algorithm 1 written plainly in Python,
F evaluated by ``sympy.lambdify`` of the closed right-hand side and
``scipy.integrate.solve_ivp(method="LSODA")`` on the data's grid with the same tolerances, drawing
the same random numbers and continuing, after each step, from the compiled chain's sample (so both
do the same work on the same path), timed on the first few hundred samples in the same run; the
compiled chain is timed on those same samples too, and the ratio of the two is ``speedup_vs_scipy``.

Times are CPU seconds of this process (``time.process_time``: the machine may be shared; the wall
times and the load average are printed as well). A second chain at the data-driven temperature
(``s = 2·F_min/n``, which keeps the chain near the good fits) is timed for comparison, and the cost
of F by solver route is measured on points of the s = 1 chain (where the chain spends its time).

Usage::

    python benchmarks/inference_speed.py [DATASET.npz] [--samples 100000] [--baseline-samples 300]

Without a dataset, ``/tmp/inf-run/datasets/x0.33_seed0.npz`` or ``out/datasets/x0.33_seed0.npz``
(the x = 1/3 dataset of ``latticeclosure run --out DIR``) is used. The last lines are ``name=value``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def _dataset(path: str | None):
    from latticeclosure.data import Trajectory

    if path:
        return Trajectory.load(path)
    for cand in ("/tmp/inf-run/datasets/x0.33_seed0.npz", "out/datasets/x0.33_seed0.npz"):
        if Path(cand).exists():
            return Trajectory.load(cand)
    raise SystemExit("give the x = 1/3 dataset of `latticeclosure run` (datasets/x0.33_seed0.npz)")


def baseline_objective(model, obj):
    """F(K) with sympy.lambdify + solve_ivp(LSODA) on the same grids, weights and tolerances.

    Like the compiled F, a solve that loses positivity (a window class below ``-neg_tol``) or blows up
    (beyond ``max_value``) stops there and gives F = inf (terminal events), and so does one that
    exceeds the step budget ``max_steps`` (counted in right-hand-side evaluations); without them
    LSODA follows a diverging or stalling solution for minutes.
    """
    import sympy as sp
    from scipy.integrate import solve_ivp

    f = sp.lambdify([model.state_symbols, model.rate_symbols], [model.rhs[n] for n in model.state_names], "numpy")
    compiled = model.compile()
    F_map, g_map = compiled.F, compiled.g
    neg_tol, max_value = obj.options.neg_tol, obj.options.max_value

    def negative(_t, y):
        return float(np.min(F_map @ y + g_map)) + neg_tol

    def blow_up(_t, y):
        return max_value - float(np.max(np.abs(F_map @ y + g_map)))

    negative.terminal = blow_up.terminal = True
    budget = int(obj.options.max_steps)

    class OverBudget(Exception):
        pass

    def F(k):
        total = 0.0
        for d in range(len(obj.datasets)):
            a, b = int(obj.offsets[d]), int(obj.offsets[d + 1])
            t = obj.t_all[a:b]
            calls = [0]

            def rhs(_t, y):
                # the compiled solve gives up after max_steps steps (F = inf); so does this one, counted in
                # right-hand-side evaluations (LSODA makes one or more per step)
                calls[0] += 1
                if calls[0] > budget:
                    raise OverBudget
                return f(y, k)

            try:
                with np.errstate(all="ignore"):
                    sol = solve_ivp(rhs, (t[0], t[-1]), obj.y0s[d], method="LSODA", t_eval=t,
                                    rtol=obj.options.rtol, atol=obj.options.atol, events=(negative, blow_up))
            except OverBudget:
                return math.inf
            if sol.status != 0 or sol.y.shape[1] != len(t):
                return math.inf
            full = sol.y.T @ F_map.T + g_map
            if not np.all(np.isfinite(full)):
                return math.inf
            total += 0.5 * float(np.sum(obj.W[a:b] * (full - obj.D[a:b]) ** 2))
        return total

    return F


def python_dr(F, x0, f0, s1, s2, upper, n, seed, inv_temp=1.0, follow=None):
    """Algorithm 1 with the recorded-rejection correction in plain Python, on the compiled chain's random
    numbers (per sample ``[u1 (d), r1, u2 (d), r2]`` from ``PCG64(SeedSequence(seed))``).

    With ``follow`` (the compiled chain's samples), every step makes its own proposals, solves and
    accept/reject decision, then continues from the compiled chain's sample: both chains then do the
    same work per sample on the same path, so their times compare (on their own, the two chains part
    where LSODA and the compiled solver disagree on a solution that leaves the physical region, and
    LSODA's path can stall for minutes in a single solve there). Returns the samples and the number
    of steps whose own decision differed from the compiled chain's.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    d = len(x0)
    x, lpx = x0.copy(), -f0 * inv_temp
    out = np.empty((n, d))
    differ = 0

    def log_a1(lp_from, lp_to):
        return -math.inf if lp_to == -math.inf else min(0.0, lp_to - lp_from)

    def log1m_exp(a):
        return 0.0 if a == -math.inf else (-math.inf if a >= 0 else math.log(-math.expm1(a)))

    for i in range(n):
        u = rng.random(2 * d + 2)
        x_prev, lp_prev = x, lpx
        y1 = x + s1 * (2 * u[:d] - 1)
        lp1 = -F(y1) * inv_temp if np.all(y1 > 0) and np.all(y1 <= upper) else -math.inf
        la1 = log_a1(lpx, lp1)
        if la1 == 0.0 or (la1 > -math.inf and u[d] < math.exp(la1)):
            x, lpx = y1, lp1
        else:
            y2 = x + s2 * (2 * u[d + 1:2 * d + 1] - 1)
            if np.all(y2 > 0) and np.all(y2 <= upper) and np.all(np.abs(y1 - y2) <= s1):
                f2 = F(y2)
                if math.isfinite(f2):
                    lp2 = -f2 * inv_temp
                    num = log1m_exp(log_a1(lp2, lp1))
                    if num > -math.inf:
                        la2 = min(0.0, lp2 - lpx + num - log1m_exp(la1))
                        if la2 == 0.0 or u[2 * d + 1] < math.exp(la2):
                            x, lpx = y2, lp2
        out[i] = x
        if follow is not None and not np.array_equal(x, follow[i]):
            differ += 1
            target = follow[i]
            if np.array_equal(target, x_prev):
                x, lpx = x_prev, lp_prev
            elif np.array_equal(target, y1):
                x, lpx = y1.copy(), lp1
            else:
                x = target.copy()
                lpx = -F(x) * inv_temp  # rare: only where the two solvers disagree
    return out, differ


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    res = fn()
    return res, time.perf_counter() - w, time.process_time() - c


def route_costs(obj, points, n_probe=1500, seed=1):
    """CPU ms per F by solver route, and each route's share of the points (where the chain spends time)."""
    from latticeclosure.inference._kernels import STIFF_FIRST

    comp = obj.model.compile()
    rng = np.random.default_rng(seed)
    pick = points[rng.choice(len(points), min(n_probe, len(points)), replace=False)]
    t = obj.t_all.copy()
    y0 = obj.y0s[0].copy()
    span = t[-1] - t[0]
    o = obj.options
    stats: dict[str, list[float]] = {}
    for x in pick:
        p = obj.kernel_arguments()[0].copy()
        p[: len(x)] = x
        norm = float(np.abs(comp.jacobian(y0, p)).sum(axis=1).max())
        if not math.isfinite(norm) or norm * span > STIFF_FIRST:
            route = "stiff (Jacobian test)"
        else:
            st, _, _ = comp.solve_raw(t, y0, p, o.rtol, o.atol, max_steps=o.max_steps, neg_tol=o.neg_tol,
                                      max_value=o.max_value)
            route = "explicit, then stiff" if st == 3 else "explicit"
        c0 = time.process_time()
        for _ in range(3):
            obj.value(x)
        stats.setdefault(route, []).append((time.process_time() - c0) / 3 * 1e3)
    n = sum(len(v) for v in stats.values())
    return {k: (len(v) / n, float(np.mean(v))) for k, v in stats.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", nargs="?")
    ap.add_argument("--samples", type=int, default=100000)
    ap.add_argument("--baseline-samples", type=int, default=300)
    args = ap.parse_args()
    from latticeclosure.closedmodel import close_equations
    from latticeclosure.equations import generate_equations
    from latticeclosure.inference import InferenceSettings, build_objective, multistart_fit
    from latticeclosure.inference.run import chain_start
    from latticeclosure.inference.sampler import advance_chain, init_chain
    from latticeclosure.inference.temperature import resolve_temperature

    load0 = os.getloadavg()[0]
    traj = _dataset(args.dataset)
    eqs = generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)
    model = close_equations(eqs, "pair")
    obj = build_objective(model, traj)
    ms = multistart_fit(obj, 8, seed=0)
    st = chain_start(obj, ms.best.x, InferenceSettings())
    f0 = obj.value(st["x0"])

    def chain(inv_temp):
        return init_chain(st["x0"], -f0 * inv_temp, f0, scales=st["scales"], scales2=st["scales2"], seed=0,
                          lower=st["lower"], upper=st["upper"])

    log(f"multi-start done (best F {ms.best.F:.6g}); compiled chain, s = 1")
    advance_chain(chain(1.0), 200, ("model", obj, 1.0))  # warm-up: load every compiled kernel
    m = args.baseline_samples
    # the compiled chain: its first m samples (compared with the baseline), then the rest of the run
    c0 = obj.failures_array.copy()
    (first, s_first, _, _), w_first, c_first = timed(lambda: advance_chain(chain(1.0), m, ("model", obj, 1.0)))
    (rest, s_rest, _, _), w_rest, c_rest = timed(lambda: advance_chain(first, args.samples - m, ("model", obj, 1.0)))
    w_fast, c_fast = w_first + w_rest, c_first + c_rest
    counts = rest.counts
    fails = int((obj.failures_array - c0).sum())
    samples = np.vstack([s_first, s_rest])
    log("route costs")
    routes = route_costs(obj, samples)
    log("compiled chain, auto temperature")
    temp = resolve_temperature("auto", ms.best.F, obj.n_residuals)
    inv_auto = 1.0 / temp.value
    advance_chain(chain(inv_auto), 200, ("model", obj, inv_auto))
    (auto_state, _, auto_F, _), w_auto, c_auto = timed(
        lambda: advance_chain(chain(inv_auto), args.samples, ("model", obj, inv_auto)))
    log("baseline")
    F_base = baseline_objective(model, obj)
    F_base(st["x0"])
    (base, differ), w_base, c_base = timed(lambda: python_dr(F_base, st["x0"], f0, st["scales"], st["scales2"],
                                                             st["upper"], m, 0, follow=s_first))
    n_eval = 200
    _, _, c_F = timed(lambda: [obj.value(st["x0"]) for _ in range(n_eval)])
    _, _, c_Fb = timed(lambda: [F_base(st["x0"]) for _ in range(20)])
    load1 = os.getloadavg()[0]

    print(f"dataset: {traj.name}, {traj.n_records} records; best multi-start F = {ms.best.F:.6g} "
          f"({ms.n_minima} distinct minima), start Y1 = {np.array2string(st['x0'], precision=4)}")
    print(f"compiled chain (s = 1): {args.samples} samples in {c_fast:.2f} s CPU ({w_fast:.2f} s wall), "
          f"{int(counts[7])} F evaluations ({counts[7] / args.samples:.2f} per sample), acceptance stage 1 "
          f"{counts[1] / counts[0]:.3f}, stage 2 {(counts[3] / counts[2]) if counts[2] else float('nan'):.3f}, "
          f"failed solves {fails}, prior-bound proposals {int(counts[5])}")
    print("  where the time goes (points of the chain, CPU ms per F): "
          + "; ".join(f"{k}: {100 * share:.1f}% of points, {ms_:.3f} ms" for k, (share, ms_) in sorted(routes.items())))
    print(f"compiled chain (auto temperature, {temp.describe()}): {args.samples} samples in {c_auto:.2f} s CPU "
          f"({w_auto:.2f} s wall), acceptance stage 1 {auto_state.counts[1] / auto_state.counts[0]:.3f}, "
          f"mean F {float(np.mean(auto_F)):.6g}")
    print(f"baseline (lambdify + solve_ivp LSODA, Python DR-MH): {m} samples in {c_base:.2f} s CPU ({w_base:.2f} s wall); "
          f"the compiled chain's first {m} samples: {c_first:.3f} s CPU; on that path the baseline's own decision "
          f"differed at {differ} of {m} steps")
    print(f"one F at Y1: compiled {1e3 * c_F / n_eval:.3f} ms, baseline {1e3 * c_Fb / 20:.2f} ms CPU")
    print(f"load average (1 min) at start / end: {load0:.2f} / {load1:.2f} on {os.cpu_count()} cores")
    print(f"seconds_for_samples_cpu={c_fast:.3f}")
    print(f"seconds_for_samples_wall={w_fast:.3f}")
    print(f"samples_per_second_auto_temperature={args.samples / c_auto:.1f}")
    print(f"baseline_samples_per_second={m / c_base:.2f}")
    print(f"speedup_per_F_evaluation={(c_Fb / 20) / (c_F / n_eval):.1f}")
    print(f"samples_per_second={args.samples / c_fast:.1f}")
    print(f"speedup_vs_scipy={(c_base / m) / (c_first / m):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
