"""Calibration of closures on concentration time series, and their evaluation (eqs. 15, 16, 30).

For a parametric closure (``power-law``, ``pair-corrected``) each class's parameters θ are fitted
by minimising

.. math:: J_i(θ) = \\tfrac12 \\sum_{d} \\int_0^1 \\big(g_i(C_d(t); θ) - C_{i,d}(t)\\big)^2\\,dt

(trapezoid over the recorded points, time = fraction of the run, summed over the datasets d for a
joint fit) under the family's constraints (bounds, degree equality, data inequalities) with SciPy's
SLSQP from several start points: the pair approximation's parameters projected onto the constraints,
the log-space least-squares solution (for log-linear ansätze, ``log g = Σγ log C_p − Σξ log C_s``,
zero concentrations excluded) and ``n_starts`` random feasible points.

**Identifiability.** At the optimum the Jacobian of the weighted residuals is restricted to the
tangent space of the equality constraints; directions with singular value ≤ ``rcond``·σ_max are
reported as *non-identifiable* (e.g. the split ξ₊/ξ₋ at x = 1/2, where C₊ = C₋; any direction when a
class never occurs in the data), those ≤ ``weak``·σ_max as *weakly identified* (near x = 1/2). Instead
of an arbitrary split, the returned point is the *canonical* one among the (numerically) equally good
points: the feasible point of ``θ* + span(null directions)`` closest to the origin
(``canonical="min-norm"``, the default) or to the pair approximation (``canonical="pair"``). Note:
one swap run has constant singlets, so the data see the denominator only through
``Σ_s ξ_s log C_s``; with the degree constraint this fixes the split except at x = 1/2 — the
Jacobian test finds exactly that.

**Evaluation.** :func:`evaluate` gives J_i per class and E = mean_i J_i (eq. 30) per dataset for any
closure; :func:`cross_validate` fits on all datasets but one and evaluates on the held-out one
(leave-one-dataset-out); :func:`exponent_table` is the paper's Table II (fitted exponents per class
for the soft and hard presets beside the pair approximation's).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import sympy

from ..errors import ClosureError, DataError
from .base import ClosureFamily, ParametricClosure, geometry, resolve_class
from .dataset import Dataset, as_datasets
from .numeric import Ansatz, compile_expression, feasible_interval_check, project_feasible

__all__ = [
    "ClassFit",
    "CalibrationResult",
    "Evaluation",
    "CrossValidation",
    "ExponentTable",
    "calibrate",
    "calibrate_each",
    "evaluate",
    "cross_validate",
    "exponent_table",
    "closure_values",
    "resolve_family",
    "target_classes",
]


# ---------------------------------------------------------------------------------- family lookup
def resolve_family(family: Any, **options: Any) -> ClosureFamily:
    """A closure family object from an object or a registered name (closures, then presets).

    Falls back to the families of this package when the plugin registry is unavailable.
    """
    if not isinstance(family, str):
        return family.configure(**options) if options else family
    try:
        from ..registry import get_registry

        reg = get_registry()
        for kind in ("closures", "closure_presets"):
            if family in reg.entries(kind):
                return reg.get(kind, family, **options)
    except ClosureError:
        raise
    except Exception:  # noqa: BLE001 - registry not installed: use the built-in list
        pass
    from . import standard_closures

    known = {c.name: c for c in standard_closures()}
    if family not in known:
        raise ClosureError(f"unknown closure {family!r}; known: {', '.join(sorted(known))}")
    obj = known[family]
    return obj.configure(**options) if options else obj


def target_classes(index: Any, datasets: Sequence[Dataset], classes: Iterable[Any] | None = None) -> list[str]:
    """The classes to fit/evaluate: given ones, or every class of the index's largest size in the data."""
    if classes is not None:
        names = [resolve_class(c, index).name for c in classes]
        for d in datasets:
            d.require(names, "the requested classes")
        return names
    top = index.max_size
    names = [c.name for c in index.classes_of_size(top) if all(c.name in d.columns for d in datasets)]
    if not names:
        raise DataError(
            f"the datasets contain no class of size {top} (the classes to close); "
            f"they have {sorted(datasets[0].columns)}"
        )
    return names


# ---------------------------------------------------------------------------------- data plumbing
@dataclass
class _Prepared:
    name: str
    P: Any
    target: np.ndarray
    w: np.ndarray


def _prepared_class_data(ansatz: Ansatz, datasets: Sequence[Dataset]) -> list[_Prepared]:
    out = []
    for d in datasets:
        d.require(ansatz.inputs + [ansatz.class_name], f"the closure of {ansatz.class_name}")
        X = {k: d.columns[k] for k in ansatz.inputs}
        out.append(_Prepared(d.name, ansatz.prepare(X), d.columns[ansatz.class_name], d.weights))
    return out


def _stacked(ansatz: Ansatz, datasets: Sequence[Dataset]) -> _Prepared:
    """All datasets' records as one block (every ansatz is evaluated record by record)."""
    for d in datasets:
        d.require(ansatz.inputs + [ansatz.class_name], f"the closure of {ansatz.class_name}")
    X = {k: np.concatenate([d.columns[k] for d in datasets]) for k in ansatz.inputs}
    target = np.concatenate([d.columns[ansatz.class_name] for d in datasets])
    w = np.concatenate([d.weights for d in datasets])
    return _Prepared("+".join(d.name for d in datasets), ansatz.prepare(X), target, w)


def _objective_value(ansatz: Ansatz, prepared: Sequence[_Prepared], theta: np.ndarray) -> float:
    total = 0.0
    for p in prepared:
        g, _ = ansatz.value(np.asarray(theta, float), p.P)
        total += 0.5 * float(np.sum(p.w * (g - p.target) ** 2))
    return total


def _per_dataset(ansatz: Ansatz, prepared: Sequence[_Prepared], theta: np.ndarray) -> dict[str, float]:
    out = {}
    for p in prepared:
        g, _ = ansatz.value(np.asarray(theta, float), p.P)
        out[p.name] = 0.5 * float(np.sum(p.w * (g - p.target) ** 2))
    return out


# ---------------------------------------------------------------------------------- result types
@dataclass
class ClassFit:
    """Fit of one class.

    Attributes
    ----------
    class_name : str
    labels : list of str
        ``gamma[C++]``, ``xi[C+]``, ``a[C+-]`` … aligned with ``values``.
    symbols : list of sympy.Symbol
    values : ndarray
        Fitted (canonical) parameters.
    J : float
        Objective at ``values`` (sum over datasets).
    J_by_dataset : dict
    J_reference : float
        Objective of the pair-approximation point of the ansatz (unconstrained by the bounds).
    nonidentifiable : list of dict
        Each ``{"direction": {label: coefficient}, "sigma_ratio": σ/σ_max, "range": [t_min, t_max]}``
        — moving ``values`` by ``t·direction`` within ``range`` stays feasible and leaves J unchanged
        (to the tolerance ``rcond``).
    weak : list of dict
        Directions identified only weakly (σ/σ_max ≤ ``weak``), same format.
    singular_values : list of float
        Of the constrained Jacobian (descending).
    active : list of str
        Labels at a bound.
    n_starts, n_best : int
        Start points tried, and how many reached the best J (relative 1e-6).
    success : bool
    message : str
    canonical : str
    """

    class_name: str
    labels: list[str]
    symbols: list[sympy.Symbol]
    values: np.ndarray
    J: float
    J_by_dataset: dict[str, float]
    J_reference: float
    nonidentifiable: list[dict[str, Any]]
    weak: list[dict[str, Any]]
    singular_values: list[float]
    active: list[str]
    n_starts: int
    n_best: int
    success: bool
    message: str
    canonical: str
    keys: list[str] = field(default_factory=list)

    @property
    def params(self) -> dict[str, float]:
        """Fitted values by label."""
        return dict(zip(self.labels, self.values.tolist()))

    @property
    def by_symbol(self) -> dict[sympy.Symbol, float]:
        return dict(zip(self.symbols, self.values.tolist()))

    @property
    def identified(self) -> bool:
        return not self.nonidentifiable

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.class_name,
            "params": self.params,
            "J": self.J,
            "J_by_dataset": self.J_by_dataset,
            "J_pair_approximation": self.J_reference,
            "nonidentifiable": self.nonidentifiable,
            "weakly_identified": self.weak,
            "singular_values": self.singular_values,
            "active_bounds": self.active,
            "n_starts": self.n_starts,
            "n_best": self.n_best,
            "success": self.success,
            "message": self.message,
            "canonical": self.canonical,
        }


@dataclass
class CalibrationResult:
    """Fitted parameters of a closure family on one or several datasets (jointly)."""

    family: ParametricClosure
    index: Any
    datasets: list[Dataset]
    classes: dict[str, ClassFit]
    options: dict[str, Any]

    def closure(self, name: str | None = None) -> ParametricClosure:
        """The family with every fitted class pinned (no free parameters left for those classes)."""
        table = {c: {str(s): v for s, v in f.by_symbol.items()} for c, f in self.classes.items()}
        fam = self.family.configure(exponents=table)
        if name:
            fam = fam.renamed(name)
        return fam

    def values(self) -> dict[sympy.Symbol, float]:
        """All fitted parameters by symbol (for sensitivities of an unpinned closed model)."""
        out: dict[sympy.Symbol, float] = {}
        for f in self.classes.values():
            out.update(f.by_symbol)
        return out

    @property
    def J(self) -> dict[str, float]:
        return {c: f.J for c, f in self.classes.items()}

    @property
    def E(self) -> float:
        """Mean J over the fitted classes (summed over the datasets of a joint fit)."""
        return float(np.mean([f.J for f in self.classes.values()])) if self.classes else float("nan")

    def nonidentifiable(self) -> dict[str, list[dict[str, Any]]]:
        return {c: f.nonidentifiable for c, f in self.classes.items() if f.nonidentifiable}

    def table(self) -> list[dict[str, Any]]:
        """One row per (class, parameter): value, pair-approximation value, flags, J."""
        rows = []
        for c, f in self.classes.items():
            ans = self.family.ansatz(c, self.index)
            flagged = {lab for d in f.nonidentifiable for lab, v in d["direction"].items() if abs(v) > 1e-9}
            weak = {lab for d in f.weak for lab, v in d["direction"].items() if abs(v) > 1e-9}
            for lab, v, ref in zip(f.labels, f.values.tolist(), ans.reference.tolist()):
                rows.append(
                    {
                        "class": c,
                        "parameter": lab,
                        "value": v,
                        "pair_approximation": ref,
                        "identified": "no" if lab in flagged else ("weak" if lab in weak else "yes"),
                        "J": f.J,
                        "J_pair_approximation": f.J_reference,
                    }
                )
        return rows

    def to_json(self) -> dict[str, Any]:
        return {
            "closure": self.family.name,
            "options": {k: v for k, v in self.family.options.items() if k != "exponents"},
            "datasets": [d.name for d in self.datasets],
            "fit_options": self.options,
            "E": self.E,
            "classes": [f.to_json() for f in self.classes.values()],
            "exponents": {c: f.params for c, f in self.classes.items()},
        }

    def format(self) -> str:
        return format_rows(
            self.table(), ["class", "parameter", "value", "pair_approximation", "identified", "J", "J_pair_approximation"]
        )


# ---------------------------------------------------------------------------------- the fitter
def _slsqp(ansatz: Ansatz, prepared: Sequence[_Prepared], x0: np.ndarray, G: np.ndarray, h: np.ndarray, scale: float, maxiter: int):
    from scipy.optimize import minimize

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        f = 0.0
        grad = np.zeros(len(theta))
        for p in prepared:
            g, jac = ansatz.value(theta, p.P)
            r = g - p.target
            f += 0.5 * float(np.sum(p.w * r * r))
            grad += jac.T @ (p.w * r)
        return f / scale, grad / scale

    bounds = [
        (None if not np.isfinite(lo) else lo, None if not np.isfinite(hi) else hi)
        for lo, hi in zip(ansatz.lower, ansatz.upper)
    ]
    cons = []
    if len(ansatz.A_eq):
        A, b = ansatz.A_eq, ansatz.b_eq
        cons.append({"type": "eq", "fun": lambda t: A @ t - b, "jac": lambda t: A})
    if len(G):
        cons.append({"type": "ineq", "fun": lambda t: G @ t - h, "jac": lambda t: G})
    res = minimize(
        fun, x0, jac=True, method="SLSQP", bounds=bounds, constraints=cons,
        options={"ftol": 1e-16, "maxiter": maxiter},
    )
    return res


def _random_start(ansatz: Ansatz, rng: np.random.Generator) -> np.ndarray:
    lo = np.where(np.isfinite(ansatz.lower), ansatz.lower, ansatz.reference - 3.0)
    hi = np.where(np.isfinite(ansatz.upper), ansatz.upper, ansatz.reference + 3.0)
    hi = np.maximum(hi, lo)
    p = rng.uniform(lo, hi)
    return project_feasible(p, ansatz.lower, ansatz.upper, ansatz.A_eq, ansatz.b_eq)


def _loglinear_start(ansatz: Ansatz, prepared: Sequence[_Prepared]) -> np.ndarray | None:
    """Constrained least squares of ``log C ≈ M θ`` on records where everything is positive."""
    if ansatz.linear_design is None:
        return None
    rows, rhs, wts = [], [], []
    for p in prepared:
        M, absent = ansatz.linear_design(p.P)
        ok = (~absent) & np.all(np.isfinite(M), axis=1) & (p.target > 0) & (p.w > 0)
        if ok.any():
            rows.append(M[ok])
            rhs.append(np.log(p.target[ok]))
            wts.append(p.w[ok])
    if not rows:
        return None
    M = np.vstack(rows)
    y = np.concatenate(rhs)
    sw = np.sqrt(np.concatenate(wts))
    Mw, yw = M * sw[:, None], y * sw
    from scipy.optimize import minimize

    bounds = [
        (None if not np.isfinite(lo) else lo, None if not np.isfinite(hi) else hi)
        for lo, hi in zip(ansatz.lower, ansatz.upper)
    ]
    H = Mw.T @ Mw
    c = Mw.T @ yw
    s = max(float(np.trace(H)), 1e-300)
    A, b = ansatz.A_eq, ansatz.b_eq
    x0 = ansatz.default_point()
    res = minimize(
        lambda t: (0.5 * t @ H @ t - c @ t) / s,
        x0,
        jac=lambda t: (H @ t - c) / s,
        method="SLSQP",
        bounds=bounds,
        constraints=[{"type": "eq", "fun": lambda t: A @ t - b, "jac": lambda t: A}] if len(A) else [],
        options={"ftol": 1e-16, "maxiter": 500},
    )
    return project_feasible(res.x, ansatz.lower, ansatz.upper, A, b)


def _inequalities(ansatz: Ansatz, prepared: Sequence[_Prepared]) -> tuple[np.ndarray, np.ndarray]:
    if ansatz.inequality is None:
        return np.zeros((0, ansatz.n)), np.zeros(0)
    Gs, hs = [], []
    for p in prepared:
        G, h = ansatz.inequality(p.P)
        Gs.append(G)
        hs.append(h)
    return np.vstack(Gs), np.concatenate(hs)


def _null_space(A: np.ndarray, n: int) -> np.ndarray:
    if len(A) == 0:
        return np.eye(n)
    from scipy.linalg import null_space

    return null_space(A)


def _feasible_range(theta: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
    tmin, tmax = -math.inf, math.inf
    for t, dj, l, u in zip(theta, d, lo, hi):
        if abs(dj) < 1e-12:
            continue
        a, b = (l - t) / dj, (u - t) / dj
        if a > b:
            a, b = b, a
        tmin, tmax = max(tmin, a), min(tmax, b)
    return float(tmin), float(tmax)


def _canonical(theta: np.ndarray, D: np.ndarray, ref: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Closest point to ``ref`` on ``theta + span(D)`` within the box."""
    z = D.T @ (ref - theta)
    cand = theta + D @ z
    if np.all(cand >= lo - 1e-12) and np.all(cand <= hi + 1e-12):
        return np.clip(cand, lo, hi)
    from scipy.optimize import minimize

    fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
    cons = []
    if fin_lo.any():
        cons.append({"type": "ineq", "fun": lambda z: (theta + D @ z - lo)[fin_lo], "jac": lambda z: D[fin_lo]})
    if fin_hi.any():
        cons.append({"type": "ineq", "fun": lambda z: (hi - theta - D @ z)[fin_hi], "jac": lambda z: -D[fin_hi]})
    res = minimize(
        lambda z: 0.5 * float(np.sum((theta + D @ z - ref) ** 2)),
        np.zeros(D.shape[1]),
        jac=lambda z: D.T @ (theta + D @ z - ref),
        method="SLSQP",
        constraints=cons,
        options={"ftol": 1e-16, "maxiter": 500},
    )
    out = theta + D @ res.x
    if np.all(out >= lo - 1e-9) and np.all(out <= hi + 1e-9):
        return np.clip(out, lo, hi)
    return theta


def _direction_dict(labels: Sequence[str], d: np.ndarray) -> dict[str, float]:
    d = d / (np.abs(d).max() or 1.0)
    j = int(np.argmax(np.abs(d)))
    if d[j] < 0:
        d = -d
    return {lab: float(round(v, 12)) for lab, v in zip(labels, d) if abs(v) > 1e-10}


def fit_class(
    ansatz: Ansatz,
    datasets: Sequence[Dataset],
    *,
    n_starts: int = 8,
    seed: int = 0,
    rcond: float = 1e-7,
    weak: float = 1e-3,
    canonical: str = "min-norm",
    maxiter: int = 1000,
    family_name: str = "closure",
) -> ClassFit:
    """Fit one class's ansatz on the datasets (jointly). See the module docstring."""
    if canonical not in ("min-norm", "pair"):
        raise ClosureError(f"canonical must be 'min-norm' or 'pair', got {canonical!r}")
    feasible_interval_check(ansatz, family_name)
    per_dataset = _prepared_class_data(ansatz, datasets)
    prepared = [_stacked(ansatz, datasets)]
    if ansatz.n == 0:  # nothing to fit (e.g. a custom expression without parameters)
        empty = np.zeros(0)
        J0 = _objective_value(ansatz, prepared, empty)
        return ClassFit(
            ansatz.class_name, [], [], empty, J0, _per_dataset(ansatz, per_dataset, empty), J0, [], [], [], [],
            0, 0, True, "no parameters", canonical, [],
        )
    G_all, h_all = _inequalities(ansatz, prepared)
    G, h = G_all[:0], h_all[:0]
    scale = sum(0.5 * float(np.sum(p.w * p.target**2)) for p in prepared)
    scale = scale if scale > 0 else 1.0
    rng = np.random.default_rng(seed)
    starts = [ansatz.default_point()]
    ll = _loglinear_start(ansatz, prepared)
    if ll is not None:
        starts.append(ll)
    starts += [_random_start(ansatz, rng) for _ in range(max(0, int(n_starts)))]
    lo, hi = ansatz.lower, ansatz.upper
    results = []
    for x0 in starts:
        # cutting planes: solve, add the most violated data inequalities, repeat
        for _ in range(50):
            res = _slsqp(ansatz, prepared, x0, G, h, scale, maxiter)
            theta = project_feasible(res.x, lo, hi, ansatz.A_eq, ansatz.b_eq)
            if not len(G_all):
                break
            viol = h_all - G_all @ theta
            bad = np.nonzero(viol > 1e-10)[0]
            if not len(bad):
                break
            worst = bad[np.argsort(viol[bad])[::-1][:20]]
            G, h = np.vstack([G, G_all[worst]]), np.concatenate([h, h_all[worst]])
            x0 = theta
        if len(G_all) and np.any(G_all @ theta < h_all - 1e-9):
            continue  # infeasible start that never recovered
        results.append((_objective_value(ansatz, prepared, theta), theta, res))
    if not results:
        raise ClosureError(
            f"closure {family_name!r}, class {ansatz.class_name!r}: no start point reached a point "
            "satisfying the data constraints"
        )
    results.sort(key=lambda r: r[0])
    J_best, theta, res = results[0]
    n_best = sum(1 for r in results if r[0] <= J_best * (1 + 1e-6) + 1e-300)
    # identifiability in the tangent space of the equality constraints
    rows = []
    for p in prepared:
        g, jac = ansatz.value(theta, p.P)
        rows.append(jac * np.sqrt(p.w)[:, None])
    Jr = np.vstack(rows) if rows else np.zeros((0, ansatz.n))
    N = _null_space(ansatz.A_eq, ansatz.n)
    labels = ansatz.labels
    nonid, weak_dirs, svals = [], [], []
    if N.shape[1]:
        JN = Jr @ N
        _, s, Vt = np.linalg.svd(JN, full_matrices=JN.shape[0] < JN.shape[1])
        svals = s.tolist()
        smax = float(s.max()) if s.size else 0.0
        full = np.zeros(N.shape[1])
        full[: len(s)] = s
        null_dirs = []
        for k in range(N.shape[1]):
            ratio = full[k] / smax if smax > 0 else 0.0
            d = N @ Vt[k]
            if ratio <= rcond:
                null_dirs.append(d)
                nonid.append({"direction": _direction_dict(labels, d), "sigma_ratio": float(ratio)})
            elif ratio <= weak:
                weak_dirs.append({"direction": _direction_dict(labels, d), "sigma_ratio": float(ratio)})
        if null_dirs:
            D = np.column_stack(null_dirs)
            ref = np.zeros(ansatz.n) if canonical == "min-norm" else ansatz.reference
            cand = _canonical(theta, D, ref, lo, hi)
            if not len(G_all) or np.all(G_all @ cand >= h_all - 1e-9):
                J_c = _objective_value(ansatz, prepared, cand)
                if J_c <= J_best * (1 + 1e-6) + 1e-14 * scale:
                    theta, J_best = cand, J_c
            for entry, d in zip(nonid, null_dirs):
                dd = d / (np.abs(d).max() or 1.0)
                j = int(np.argmax(np.abs(dd)))
                if dd[j] < 0:
                    dd = -dd
                entry["range"] = list(_feasible_range(theta, dd, lo, hi))
        for entry in weak_dirs:
            d = np.array([entry["direction"].get(lab, 0.0) for lab in labels])
            entry["range"] = list(_feasible_range(theta, d, lo, hi))
    active = [lab for lab, v, l, u in zip(labels, theta, lo, hi) if abs(v - l) < 1e-9 or abs(v - u) < 1e-9]
    ref_point = ansatz.reference
    return ClassFit(
        class_name=ansatz.class_name,
        labels=labels,
        symbols=list(ansatz.symbols),
        values=np.asarray(theta, float),
        J=float(J_best),
        J_by_dataset=_per_dataset(ansatz, per_dataset, theta),
        J_reference=_objective_value(ansatz, prepared, ref_point),
        nonidentifiable=nonid,
        weak=weak_dirs,
        singular_values=[float(v) for v in svals],
        active=active,
        n_starts=len(starts),
        n_best=n_best,
        success=bool(res.success),
        message=str(res.message),
        canonical=canonical,
        keys=list(ansatz.keys),
    )


def calibrate(
    family: Any,
    data: Any,
    index: Any,
    classes: Iterable[Any] | None = None,
    *,
    n_starts: int = 8,
    seed: int = 0,
    rcond: float = 1e-7,
    weak: float = 1e-3,
    canonical: str = "min-norm",
    maxiter: int = 1000,
    normalisation: str = "all",
    rescale_time: bool = True,
    extra: str = "error",
    **family_options: Any,
) -> CalibrationResult:
    """Fit a parametric closure per class on one dataset or jointly on several.

    Parameters
    ----------
    family : ParametricClosure or str
        E.g. ``"power-law"`` (options such as ``preset="soft"``, ``degree="paper"`` go in
        ``family_options``) or ``"pair-corrected"``.
    data : dataset or list of datasets
        Anything :func:`~latticeclosure.closures.dataset.as_dataset` accepts; a list is fitted jointly.
    index : ClassIndex
        Up to the size of the classes to close.
    classes : iterable, optional
        Classes to fit (default: every class of the index's largest size present in the data).
    n_starts, seed : int
        Random feasible start points (besides the pair point and the log-space LS point) and seed.
    rcond, weak : float
        Relative singular-value thresholds for non-identifiable / weakly identified directions.
    canonical : {"min-norm", "pair"}
        Choice among equally good points along non-identifiable directions.
    normalisation, rescale_time, extra
        Passed to :func:`~latticeclosure.closures.dataset.as_dataset` (``extra="ignore"`` drops
        columns that are not classes of ``index``, e.g. larger clusters of a trajectory).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    ClosureError
        Non-parametric family, empty constraint set.
    DataError
        Invalid data, missing classes.
    """
    fam = resolve_family(family, **family_options)
    if not isinstance(fam, ParametricClosure):
        raise ClosureError(f"closure {fam.name!r} has no parameters to fit; use evaluate() instead")
    fam = fam.configure(exponents=None) if fam.options.get("exponents") else fam
    datasets = as_datasets(data, index, normalisation=normalisation, rescale_time=rescale_time, extra=extra)
    names = target_classes(index, datasets, classes)
    fits = {}
    for c in names:
        fam.check(c, index)
        fits[c] = fit_class(
            fam.ansatz(c, index), datasets, n_starts=n_starts, seed=seed, rcond=rcond, weak=weak,
            canonical=canonical, maxiter=maxiter, family_name=fam.name,
        )
    opts = {"n_starts": n_starts, "seed": seed, "rcond": rcond, "weak": weak, "canonical": canonical, "joint": len(datasets) > 1}
    return CalibrationResult(fam, index, datasets, fits, opts)


def calibrate_each(family: Any, data: Any, index: Any, classes: Iterable[Any] | None = None, **kwargs: Any) -> list[CalibrationResult]:
    """One separate fit per dataset."""
    datasets = as_datasets(data, index, normalisation=kwargs.pop("normalisation", "all"), rescale_time=kwargs.pop("rescale_time", True))
    return [calibrate(family, d, index, classes, **kwargs) for d in datasets]


# ---------------------------------------------------------------------------------- evaluation
def closure_values(closure: ClosureFamily, cls: Any, index: Any, dataset: Dataset, params: Mapping[Any, float] | None = None) -> np.ndarray:
    """The closure of ``cls`` evaluated on the records of a dataset.

    Records where a singlet of the class vanishes (the class cannot occur) give 0; any other
    non-finite value is a :class:`ClosureError`.
    """
    cls = resolve_class(cls, index)
    if isinstance(closure, ParametricClosure):
        ans = closure.ansatz(cls, index)
        pinned = closure.pinned(cls, index) or {}
        vals = dict(zip(ans.symbols, ans.reference.tolist()))
        missing = [s for s in ans.symbols if s not in pinned]
        given = closure._match_params(cls, index, ans.symbols, params) if params else {}
        missing = [s for s in missing if s not in given]
        if missing:
            raise ClosureError(
                f"closure {closure.name!r}, class {cls.name!r}: parameters {[str(s) for s in missing]} have "
                "no values (fit the closure first, or pass params=...)"
            )
        vals.update(pinned)
        vals.update(given)
        dataset.require(ans.inputs, f"closure {closure.name!r} of {cls.name}")
        g, _ = ans.evaluate(np.array([vals[s] for s in ans.symbols]), {k: dataset.columns[k] for k in ans.inputs})
        return g
    expr = closure.expression(cls, index, params)
    inputs = sorted(str(s) for s in expr.free_symbols)
    dataset.require(inputs, f"closure {closure.name!r} of {cls.name}")
    f = compile_expression(expr, inputs)
    with np.errstate(all="ignore"):
        g = np.asarray(f(*[dataset.columns[k] for k in inputs]), dtype=float)
    g = np.broadcast_to(g, dataset.time.shape).astype(float)
    bad = ~np.isfinite(g)
    if bad.any():
        absent = np.zeros_like(bad)
        try:
            for s in geometry(cls, index).singlet_classes:
                if s in dataset.columns:
                    absent |= ~(dataset.columns[s] > 0)
        except ClosureError:
            pass
        if np.any(bad & ~absent):
            j = int(np.nonzero(bad & ~absent)[0][0])
            raise ClosureError(
                f"closure {closure.name!r} of class {cls.name!r} is not finite on dataset {dataset.name!r} at "
                f"record {j} (t = {dataset.time[j]:g}): {expr}"
            )
        g = np.where(bad, 0.0, g)
    return g


@dataclass
class Evaluation:
    """J_i per class and E per dataset for one closure (eq. 30)."""

    closure: str
    J: dict[str, dict[str, float]]          # dataset → class → J
    metadata: dict[str, dict[str, Any]]

    @property
    def E(self) -> dict[str, float]:
        return {d: float(np.mean(list(js.values()))) for d, js in self.J.items()}

    @property
    def E_mean(self) -> float:
        """Mean of E over the datasets (the robustness figure of the paper's Fig. 11–12)."""
        return float(np.mean(list(self.E.values())))

    @property
    def E_total(self) -> float:
        return float(np.sum(list(self.E.values())))

    def per_class(self) -> dict[str, float]:
        """J of each class averaged over the datasets."""
        classes = next(iter(self.J.values())).keys()
        return {c: float(np.mean([js[c] for js in self.J.values()])) for c in classes}

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for d, js in self.J.items():
            row = {"dataset": d, "x": self.metadata.get(d, {}).get("x"), "E": float(np.mean(list(js.values())))}
            row.update(js)
            rows.append(row)
        return rows

    def to_json(self) -> dict[str, Any]:
        return {"closure": self.closure, "E": self.E, "E_mean": self.E_mean, "J": self.J}


def evaluate(
    closure: Any,
    data: Any,
    index: Any,
    classes: Iterable[Any] | None = None,
    params: Mapping[Any, float] | None = None,
    *,
    normalisation: str = "all",
    rescale_time: bool = True,
    extra: str = "error",
) -> Evaluation:
    """J_i = ½∫(g_i − C_i)² dt per class and E = mean_i J_i per dataset, for any closure.

    ``closure`` may be a family object, a registered name, or a :class:`CalibrationResult` (its
    pinned closure). Parametric closures need fitted (pinned) parameters or ``params``.
    """
    if isinstance(closure, CalibrationResult):
        closure = closure.closure()
    fam = resolve_family(closure)
    datasets = as_datasets(data, index, normalisation=normalisation, rescale_time=rescale_time, extra=extra)
    names = target_classes(index, datasets, classes)
    out: dict[str, dict[str, float]] = {}
    meta = {}
    for d in datasets:
        js = {}
        for c in names:
            g = closure_values(fam, c, index, d, params)
            js[c] = 0.5 * float(np.sum(d.weights * (g - d.columns[c]) ** 2))
        out[d.name] = js
        meta[d.name] = {"x": d.x}
    return Evaluation(fam.name, out, meta)


# ---------------------------------------------------------------------------------- cross-validation
@dataclass
class CrossValidation:
    """Leave-one-dataset-out errors: E on each held-out dataset for each closure."""

    closures: list[str]
    folds: list[dict[str, Any]]       # {"held_out": name, "x": x, "E": {closure: E}, "J": {closure: {class: J}}}
    fits: dict[str, list[Any]]

    def mean(self) -> dict[str, float]:
        return {c: float(np.mean([f["E"][c] for f in self.folds])) for c in self.closures}

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for f in self.folds:
            row = {"held_out": f["held_out"], "x": f["x"]}
            row.update({c: f["E"][c] for c in self.closures})
            rows.append(row)
        mean = {"held_out": "mean", "x": None}
        mean.update(self.mean())
        rows.append(mean)
        return rows

    def to_json(self) -> dict[str, Any]:
        return {"closures": self.closures, "folds": self.folds, "mean_E": self.mean()}

    def format(self) -> str:
        return format_rows(self.table(), ["held_out", "x"] + self.closures)


def cross_validate(
    families: Any,
    data: Any,
    index: Any,
    classes: Iterable[Any] | None = None,
    *,
    normalisation: str = "all",
    rescale_time: bool = True,
    extra: str = "error",
    **fit_kwargs: Any,
) -> CrossValidation:
    """Leave-one-dataset-out: fit each parametric closure on the other datasets jointly, evaluate E
    on the held-out one; fixed closures (e.g. ``pair``, ``SA``) are just evaluated.

    Parameters
    ----------
    families : closure, name, or list of them
        Compare several at once, e.g. ``["pair", "power-law", "pair-corrected"]``.
    data : list of datasets (at least two)
    """
    fams = [resolve_family(f) for f in (families if isinstance(families, (list, tuple)) else [families])]
    names = [f.name for f in fams]
    if len(set(names)) != len(names):
        raise ClosureError(f"closures to compare must have distinct names, got {names}")
    datasets = as_datasets(data, index, normalisation=normalisation, rescale_time=rescale_time, extra=extra)
    if len(datasets) < 2:
        raise DataError("leave-one-dataset-out cross-validation needs at least two datasets")
    cls_names = target_classes(index, datasets, classes)
    folds, fits = [], {n: [] for n in names}
    for k, held in enumerate(datasets):
        train = [d for j, d in enumerate(datasets) if j != k]
        E, J = {}, {}
        for fam in fams:
            if isinstance(fam, ParametricClosure) and not _fully_pinned(fam, cls_names, index):
                res = calibrate(fam, train, index, cls_names, **fit_kwargs)
                closure = res.closure()
                fits[fam.name].append(res)
            else:
                closure = fam
            ev = evaluate(closure, held, index, cls_names)
            J[fam.name] = ev.J[held.name]
            E[fam.name] = ev.E[held.name]
        folds.append({"held_out": held.name, "x": held.x, "E": E, "J": J})
    return CrossValidation(names, folds, fits)


def _fully_pinned(fam: ParametricClosure, classes: Sequence[str], index: Any) -> bool:
    return all(fam.pinned(c, index) is not None for c in classes)


# ---------------------------------------------------------------------------------- Table II
@dataclass
class ExponentTable:
    """Fitted exponents per class for several presets beside the pair approximation (Table II)."""

    presets: list[str]
    rows: list[dict[str, Any]]
    J: dict[str, dict[str, float]]            # class → {"PA": J, preset: J}
    fits: dict[str, CalibrationResult]

    def format(self) -> str:
        cols = ["class", "parameter", "PA"] + self.presets
        out = format_rows(self.rows, cols)
        jrows = [{"class": c, **v} for c, v in self.J.items()]
        return out + "\n\n" + format_rows(jrows, ["class", "PA"] + self.presets)

    def to_json(self) -> dict[str, Any]:
        return {"presets": self.presets, "rows": self.rows, "J": self.J, "fits": {k: v.to_json() for k, v in self.fits.items()}}


def exponent_table(
    data: Any,
    index: Any,
    classes: Iterable[Any] | None = None,
    presets: Sequence[str] = ("soft", "hard"),
    degree: Any = "pair",
    family: Any = "power-law",
    **fit_kwargs: Any,
) -> ExponentTable:
    """The paper's Table II: power-law exponents per class fitted with each preset, PA beside them.

    Non-identifiable parameters are marked with ``*`` after the value.
    """
    fits = {}
    for preset in presets:
        fits[preset] = calibrate(family, data, index, classes, preset=preset, degree=degree, **fit_kwargs)
    first = fits[presets[0]]
    rows = []
    J: dict[str, dict[str, float]] = {}
    for c, f in first.classes.items():
        ans = first.family.ansatz(c, index)
        J[c] = {"PA": f.J_reference}
        for preset in presets:
            J[c][preset] = fits[preset].classes[c].J
        for k, lab in enumerate(f.labels):
            row = {"class": c, "parameter": lab, "PA": float(ans.reference[k])}
            for preset in presets:
                cf = fits[preset].classes[c]
                flagged = any(abs(d["direction"].get(lab, 0.0)) > 1e-9 for d in cf.nonidentifiable)
                v = float(cf.values[k])
                row[preset] = f"{v:.4g}*" if flagged else v
            rows.append(row)
    return ExponentTable(list(presets), rows, J, fits)


# ---------------------------------------------------------------------------------- formatting
def format_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Plain aligned text table."""

    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            if v == 0 or (1e-3 <= abs(v) < 1e5):
                return f"{v:.4f}".rstrip("0").rstrip(".") if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"
            return f"{v:.3e}"
        return str(v)

    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[k]) for row in cells]) for k, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths)))
    return "\n".join(lines)


def dumps(obj: Any) -> str:
    """JSON with numpy/sympy values converted."""

    def default(o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, (np.floating, np.integer)):
            return o.item()
        if isinstance(o, sympy.Basic):
            return str(o)
        return str(o)

    def clean(o: Any) -> Any:
        if isinstance(o, float) and not math.isfinite(o):
            return None if math.isnan(o) else ("inf" if o > 0 else "-inf")
        if isinstance(o, dict):
            return {str(k): clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        return o

    return json.dumps(clean(obj), indent=2, default=default)
