"""Speed of the compiled closed triangular pair model (pair approximation and power-law closures).

Measures, for the triangular pair window with ``exclude_closed`` (the paper's eq. 5):

* right-hand-side evaluations per second of the compiled model — inside compiled code (what the
  integrator sees) and through the Python wrapper;
* one full solve over a 10⁴-point annealing time grid (time = fraction of the run, [0, 1]) at
  rtol 1e-8 / atol 1e-10 with the compiled Dormand–Prince integrator, through the checked API
  (``model.solve``) and the raw compiled call (``CompiledModel.solve_raw``), with its error against a
  tight reference solution (scipy DOP853 at rtol 1e-13);
* the plain baseline: ``sympy.lambdify`` right-hand side + ``scipy.integrate.solve_ivp(LSODA)`` at
  the same tolerances, its error, and the speed ratio;
* the disk cache: first compile of a model into an empty cache, then a fresh import from the cache.

Run:  python benchmarks/closed_model_speed.py [--repeat 200] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from latticeclosure.closedmodel import close_equations  # noqa: E402
from latticeclosure.closedmodel.compile import compile_model  # noqa: E402
from latticeclosure.closures import PairClosure, PowerLawClosure  # noqa: E402
from latticeclosure.equations import generate_equations  # noqa: E402

#: Rate constants k1…k8 used throughout (time unit: the whole anneal, t ∈ [0, 1]).
RATES = np.array([6.0, 3.0, 2.0, 1.0, 5.0, 2.5, 3.0, 1.5])
X_LI = 1.0 / 3.0  # the "-" (Li) fraction; uncorrelated start: C++ = (1-x)², C-- = x², C+- = x(1-x)
INITIAL = {"C++": (1 - X_LI) ** 2, "C--": X_LI**2, "C+-": X_LI * (1 - X_LI)}


def _timeit(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def _power_law_values(model, eqs) -> np.ndarray:
    """Exponents near the pair approximation but not equal to it (a generic fitted-like point)."""
    closure = PowerLawClosure()
    vals = {}
    for c in eqs.context_classes:
        for sym, v in closure.initial_values(c, eqs.index).items():
            vals[sym.name] = v + (0.08 if sym.name.startswith("gamma") else 0.05)
    return np.array([vals[n] for n in model.closure_parameter_names])


def _rhs_loop_rate(compiled, y, p, n_calls: int) -> float:
    from numba import njit

    rhs = compiled.module.rhs

    @njit(cache=False)
    def loop(y, p, out, n):
        acc = 0.0
        for i in range(n):
            y[0] += 1e-18  # defeat loop-invariant hoisting
            rhs(0.0, y, p, out)
            acc += out[0]
        return acc

    out = np.empty(compiled.n_state)
    loop(y.copy(), p, out, 10)
    t0 = time.perf_counter()
    loop(y.copy(), p, out, n_calls)
    return n_calls / (time.perf_counter() - t0)


def bench_model(label: str, model, theta: np.ndarray, t: np.ndarray, repeat: int) -> dict:
    import sympy as sp
    from scipy.integrate import solve_ivp

    compiled = model.compile()
    p = np.concatenate([RATES, theta])
    rates = dict(zip(model.rate_names, RATES))
    cparams = dict(zip(model.closure_parameter_names, theta)) if len(theta) else None
    y0 = model.initial_state(INITIAL)
    res: dict = {"model": label, "n_state": len(model.state_names), "n_param": len(p)}

    # right-hand side evaluations per second
    res["rhs_per_s_compiled"] = _rhs_loop_rate(compiled, y0, p, 2_000_000)
    n = 200_000
    t0 = time.perf_counter()
    for _ in range(n):
        compiled.rhs(y0, p)
    res["rhs_per_s_python"] = n / (time.perf_counter() - t0)

    # tight reference
    fun_ref = lambda tt, y: compiled.rhs(y, p)  # noqa: E731
    ref = solve_ivp(fun_ref, (t[0], t[-1]), y0, method="DOP853", t_eval=t, rtol=1e-13, atol=1e-15)
    Y_ref = compiled.full_state(ref.y.T)

    # compiled solve, checked API and raw
    sol = model.solve(t, INITIAL, rates, cparams, rtol=1e-8, atol=1e-10)
    res["steps"] = sol.nsteps
    res["method"] = sol.method
    res["error_compiled"] = float(np.max(np.abs(sol.y - Y_ref)))
    res["ms_solve_api"] = 1e3 * _timeit(lambda: model.solve(t, INITIAL, rates, cparams, rtol=1e-8, atol=1e-10), repeat)[1]
    tt = np.ascontiguousarray(t)
    res["ms_solve_raw"] = 1e3 * _timeit(lambda: compiled.solve_raw(tt, y0, p, 1e-8, 1e-10), repeat)[1]

    # baseline: sympy.lambdify + solve_ivp(LSODA)
    f_np = sp.lambdify([model.state_symbols, model.parameters], list(model.rhs.values()), modules="numpy")
    fun_base = lambda tt, y: f_np(y, p)  # noqa: E731
    base = solve_ivp(fun_base, (t[0], t[-1]), y0, method="LSODA", t_eval=t, rtol=1e-8, atol=1e-10)
    res["error_baseline"] = float(np.max(np.abs(compiled.full_state(base.y.T) - Y_ref)))
    res["ms_baseline"] = 1e3 * _timeit(
        lambda: solve_ivp(fun_base, (t[0], t[-1]), y0, method="LSODA", t_eval=t, rtol=1e-8, atol=1e-10),
        max(3, repeat // 20),
    )[1]
    res["ratio"] = res["ms_baseline"] / res["ms_solve_api"]
    res["ratio_raw"] = res["ms_baseline"] / res["ms_solve_raw"]
    return res


def bench_cache(eqs) -> dict:
    """First compile into an empty cache, then a fresh import of the same model from the cache."""
    with tempfile.TemporaryDirectory() as tmp:
        model = close_equations(eqs, PairClosure())
        first = compile_model(model, tmp)
        again = compile_model(model, tmp, reload=True)
        return {
            "first_s": first.cache_info["seconds"],
            "first_compiled": first.cache_info["compiled"],
            "reload_s": again.cache_info["seconds"],
            "reload_compiled": again.cache_info["compiled"],
            "reload_hits": again.cache_info["cache_hits"],
        }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=200, help="timed repetitions per solve (median reported)")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args(argv)
    repeat = 20 if args.quick else args.repeat

    t_import = time.perf_counter()
    eqs = generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)
    t = np.linspace(0.0, 1.0, 10_000)
    models = []
    pa = close_equations(eqs, PairClosure())
    models.append(("pair approximation", pa, np.array([])))
    pl = close_equations(eqs, PowerLawClosure())
    models.append(("power law (28 symbolic exponents)", pl, _power_law_values(pl, eqs)))
    t_setup = time.perf_counter() - t_import

    t0 = time.perf_counter()
    for _, m, _ in models:
        m.compile()
    t_compile = time.perf_counter() - t0
    print(f"setup {t_setup:.2f} s; compile/load of {len(models)} models {t_compile:.2f} s "
          f"(user cache: {models[0][1].compile().path.parent})")

    rows = [bench_model(label, m, theta, t, repeat) for label, m, theta in models]
    print()
    print("triangular pair window (exclude_closed), 10^4-point grid on [0, 1], rtol 1e-8, atol 1e-10")
    for r in rows:
        print(f"\n{r['model']}: {r['n_state']} state variables, {r['n_param']} parameters")
        print(f"  RHS evaluations/s   compiled loop {r['rhs_per_s_compiled']:.3g}   via Python {r['rhs_per_s_python']:.3g}")
        print(f"  compiled DOPRI5     {r['ms_solve_api']:.3f} ms/solve (model.solve)   "
              f"{r['ms_solve_raw']:.3f} ms/solve (solve_raw)   {r['steps']} {r['method']} steps   "
              f"max error vs reference {r['error_compiled']:.2e}")
        print(f"  lambdify + LSODA    {r['ms_baseline']:.3f} ms/solve   max error {r['error_baseline']:.2e}")
        print(f"  speed-up            {r['ratio']:.1f}x (model.solve)   {r['ratio_raw']:.1f}x (solve_raw)")
    c = bench_cache(eqs)
    print("\ndisk cache (pair model, empty cache directory):")
    print(f"  first compile  {c['first_s']:.2f} s ({c['first_compiled']} functions compiled)")
    print(f"  fresh import   {c['reload_s']:.3f} s ({c['reload_compiled']} compiled, {c['reload_hits']} loaded from cache)")
    target = all(r["ms_solve_api"] < 1.0 for r in rows)
    print(f"\ntarget < 1 ms per solve after compilation: {'met' if target else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
