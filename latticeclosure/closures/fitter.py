"""The numerical fitter of one class's ansatz: SLSQP from several feasible starts, cutting planes for
data constraints, and the identifiability analysis of the optimum.

:func:`fit_class` minimises J(θ) = ½ Σ_d Σ_records w (g(θ) − C)² for one class over the ansatz's
constraints (box bounds, linear equalities, optional data inequalities) from the pair point, the
log-space least-squares point and random feasible points; at the optimum the Jacobian of the
weighted residuals, restricted to the tangent space of the equalities, gives the non-identifiable and
weakly identified directions, and the canonical point among the equally good ones is returned (see
:mod:`latticeclosure.closures.calibration`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import sympy

from ..errors import ClosureError
from .dataset import Dataset
from .numeric import Ansatz, feasible_interval_check, project_feasible

__all__ = ["ClassFit", "fit_class", "PreparedData", "prepare_class_data", "objective_value"]


# ---------------------------------------------------------------------------------- data plumbing
@dataclass
class PreparedData:
    """One class's records ready for the objective: evaluator inputs, targets and trapezoid weights."""

    name: str
    P: Any
    target: np.ndarray
    w: np.ndarray


def prepare_class_data(ansatz: Ansatz, datasets: Sequence[Dataset]) -> list[PreparedData]:
    """The class's data of every dataset, prepared for ``ansatz`` (one block per dataset)."""
    out = []
    for d in datasets:
        d.require(ansatz.inputs + [ansatz.class_name], f"the closure of {ansatz.class_name}")
        X = {k: d.columns[k] for k in ansatz.inputs}
        out.append(PreparedData(d.name, ansatz.prepare(X), d.columns[ansatz.class_name], d.weights))
    return out


def _stacked(ansatz: Ansatz, datasets: Sequence[Dataset]) -> PreparedData:
    """All datasets' records as one block (every ansatz is evaluated record by record)."""
    for d in datasets:
        d.require(ansatz.inputs + [ansatz.class_name], f"the closure of {ansatz.class_name}")
    X = {k: np.concatenate([d.columns[k] for d in datasets]) for k in ansatz.inputs}
    target = np.concatenate([d.columns[ansatz.class_name] for d in datasets])
    w = np.concatenate([d.weights for d in datasets])
    return PreparedData("+".join(d.name for d in datasets), ansatz.prepare(X), target, w)


def objective_value(ansatz: Ansatz, prepared: Sequence[PreparedData], theta: np.ndarray) -> float:
    """J(θ) = ½ Σ w (g(θ) − C)² summed over the prepared blocks."""
    total = 0.0
    for p in prepared:
        g, _ = ansatz.value(np.asarray(theta, float), p.P)
        total += 0.5 * float(np.sum(p.w * (g - p.target) ** 2))
    return total


def _per_dataset(ansatz: Ansatz, prepared: Sequence[PreparedData], theta: np.ndarray) -> dict[str, float]:
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


# ---------------------------------------------------------------------------------- the fitter
def _slsqp(ansatz: Ansatz, prepared: Sequence[PreparedData], x0: np.ndarray, G: np.ndarray, h: np.ndarray, scale: float, maxiter: int):
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


def _loglinear_start(ansatz: Ansatz, prepared: Sequence[PreparedData]) -> np.ndarray | None:
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


def _inequalities(ansatz: Ansatz, prepared: Sequence[PreparedData]) -> tuple[np.ndarray, np.ndarray]:
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
    per_dataset = prepare_class_data(ansatz, datasets)
    prepared = [_stacked(ansatz, datasets)]
    if ansatz.n == 0:  # nothing to fit (e.g. a custom expression without parameters)
        empty = np.zeros(0)
        J0 = objective_value(ansatz, prepared, empty)
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
        results.append((objective_value(ansatz, prepared, theta), theta, res))
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
                J_c = objective_value(ansatz, prepared, cand)
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
        J_reference=objective_value(ansatz, prepared, ref_point),
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


