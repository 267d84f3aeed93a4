"""Which rates and rate combinations the data determine: Fisher information, structure, profiles.

* **Fisher information** at a fit, ``I = JᵀJ / s`` with ``J = ∂r/∂K`` the residual Jacobian from
  the forward sensitivities (``F = ½‖r‖²``, likelihood ∝ exp(−F/s): the Gauss–Newton Hessian of
  F/s). Eigenvalues below ``null_rtol·λ_max`` are *near-null*: moving K along those eigenvectors
  changes the fit by less than ``null_rtol`` of the best-determined direction. The near-null
  space and its complement (the determined combinations) are given in a readable basis (reduced
  row echelon form, coefficients of k1…kN).
* **Structural combinations**: the closed right-hand side is linear in the rates,
  ``f(C; K) = Σ_j k_j g_j(C)``; linear dependencies among the ``g_j`` (found on random states of
  the physical region and confirmed symbolically) make combinations of rates unidentifiable from
  *any* data — for the pair approximation on the triangular pair window, k1 and k2 enter only as
  ``2k1 + k2`` (linear and angled chains close to the same expression).
* **Drift relations** of the equations (the rate relations under which composition is conserved):
  for each, how much of its normal lies in the determined space (1: the data fix it) and its
  residual at the fit.
* **Profile likelihoods**: F minimised over the other rates with one rate held on a grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

__all__ = [
    "FisherAnalysis", "fisher_analysis", "StructuralAnalysis", "structural_combinations", "principal_angles",
    "readable_basis", "name_combination", "drift_comparison", "profile_likelihood", "Profile",
]


def principal_angles(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Principal angles (radians, ascending) between the column spaces of ``A`` and ``B``."""
    qa, _ = np.linalg.qr(np.asarray(A, float))
    qb, _ = np.linalg.qr(np.asarray(B, float))
    s = np.linalg.svd(qa.T @ qb, compute_uv=False)
    return np.arccos(np.clip(s, -1.0, 1.0)) if s.size else np.zeros(0)


def readable_basis(V: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Rows spanning the row space of ``V`` (rows = vectors) in reduced row echelon form."""
    M = np.array(V, dtype=float, copy=True)
    if M.size == 0:
        return M.reshape(0, V.shape[1] if V.ndim == 2 else 0)
    rows, cols = M.shape
    r = 0
    for c in range(cols):
        if r >= rows:
            break
        piv = r + int(np.argmax(np.abs(M[r:, c])))
        if abs(M[piv, c]) <= tol * max(1.0, np.abs(M).max()):
            continue
        M[[r, piv]] = M[[piv, r]]
        M[r] /= M[r, c]
        for i in range(rows):
            if i != r:
                M[i] -= M[i, c] * M[r]
        r += 1
    M = M[:r]
    M[np.abs(M) < tol] = 0.0
    return M


def name_combination(vec: Sequence[float], names: Sequence[str], digits: int = 3, integer: bool = True) -> str:
    """``2*k1 + k2`` style text of a coefficient vector (rationalised when close to small fractions)."""
    v = np.asarray(vec, float)
    if not np.any(v):
        return "0"
    v = v / np.abs(v[np.nonzero(v)[0][0]]) if integer else v
    fr = [Fraction(x).limit_denominator(12) for x in v]
    if integer and all(abs(float(f) - x) < 1e-6 for f, x in zip(fr, v)):
        den = 1
        for f in fr:
            den = den * f.denominator // math.gcd(den, f.denominator)
        coeffs: list[Any] = [int(f * den) for f in fr]
    else:
        coeffs = [round(float(x), digits) for x in v]
    parts = []
    for c, n in zip(coeffs, names):
        if c == 0:
            continue
        mag = abs(c)
        term = n if mag == 1 else f"{mag:g}*{n}"
        parts.append(("- " if c < 0 else "+ ") + term)
    text = " ".join(parts)
    return text[2:] if text.startswith("+ ") else "-" + text[1:]


@dataclass
class FisherAnalysis:
    """The Fisher information at a fit and its (near-)null space.

    Attributes
    ----------
    parameter_names : list of str
    x : ndarray
    matrix : ndarray
    eigenvalues : ndarray
        Descending.
    eigenvectors : ndarray
        Columns, matching ``eigenvalues``.
    null_rtol : float
    near_null : list of str
        A readable basis of the near-null space.
    determined : list of str
        A readable basis of its complement (the combinations the data determine).
    relative : dict or None
        The same analysis for relative changes (the Fisher information of ``ln K``,
        ``diag(K) I diag(K)``), where rates spanning orders of magnitude make the absolute one
        dominated by units: ``eigenvalues``, ``near_null`` and ``determined`` in ``ln k1 … ln kN``.
        None unless every component of ``x`` is positive.
    """

    parameter_names: list[str]
    x: np.ndarray
    matrix: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    null_rtol: float
    near_null: list[str] = field(default_factory=list)
    determined: list[str] = field(default_factory=list)
    relative: dict[str, Any] | None = None

    @property
    def null_space(self) -> np.ndarray:
        """Orthonormal columns spanning the near-null space."""
        lam = self.eigenvalues
        cut = self.null_rtol * max(float(lam[0]), 0.0) if lam.size else 0.0
        return self.eigenvectors[:, lam <= cut]

    @property
    def determined_space(self) -> np.ndarray:
        lam = self.eigenvalues
        cut = self.null_rtol * max(float(lam[0]), 0.0) if lam.size else 0.0
        return self.eigenvectors[:, lam > cut]

    def null_fraction(self) -> dict[str, float]:
        """Per rate: the share of its unit vector in the near-null space (0 determined … 1 free)."""
        N = self.null_space
        return {n: float(np.linalg.norm(N[i, :]) ** 2) if N.size else 0.0 for i, n in enumerate(self.parameter_names)}

    def to_json(self) -> dict[str, Any]:
        return {
            "eigenvalues": [float(v) for v in self.eigenvalues],
            "null_rtol": self.null_rtol,
            "near_null_combinations": list(self.near_null),
            "determined_combinations": list(self.determined),
            "null_fraction_per_rate": self.null_fraction(),
            "relative": ({"eigenvalues": [float(v) for v in self.relative["eigenvalues"]],
                          "near_null_combinations": list(self.relative["near_null"]),
                          "determined_combinations": list(self.relative["determined"])}
                         if self.relative is not None else None),
        }


def fisher_analysis(objective: Any, x: Any, *, temperature: float = 1.0, null_rtol: float = 1e-6) -> FisherAnalysis:
    """Fisher information ``JᵀJ/s`` at ``x`` and its near-null combinations (see the module docs)."""
    x = np.asarray(x, dtype=float)
    J = objective.jacobian(x)
    J = np.where(np.isfinite(J), J, 0.0)
    I = (J.T @ J) / float(temperature)
    lam, V = np.linalg.eigh(0.5 * (I + I.T))
    order = np.argsort(lam)[::-1]
    lam, V = lam[order], V[:, order]
    fa = FisherAnalysis(list(objective.parameter_names), x, I, lam, V, float(null_rtol))
    names = fa.parameter_names
    fa.near_null = [name_combination(r, names) for r in readable_basis(fa.null_space.T)]
    fa.determined = [name_combination(r, names) for r in readable_basis(fa.determined_space.T)]
    if np.all(x > 0):
        fa.relative = _split(np.diag(x) @ I @ np.diag(x), [f"ln {n}" for n in names], float(null_rtol))
    return fa


def _split(I: np.ndarray, names: Sequence[str], null_rtol: float) -> dict[str, Any]:
    """Eigenvalues (descending) and readable near-null / determined bases of a symmetric information matrix."""
    lam, V = np.linalg.eigh(0.5 * (I + I.T))
    order = np.argsort(lam)[::-1]
    lam, V = lam[order], V[:, order]
    cut = null_rtol * max(float(lam[0]), 0.0) if lam.size else 0.0
    return {"eigenvalues": lam, "eigenvectors": V,
            "near_null": [name_combination(r, names) for r in readable_basis(V[:, lam <= cut].T)],
            "determined": [name_combination(r, names) for r in readable_basis(V[:, lam > cut].T)]}


@dataclass
class StructuralAnalysis:
    """How the closed equations depend on the rates, whatever the data."""

    parameter_names: list[str]
    rank: int
    combinations: list[str]
    unidentifiable: list[str]
    null_basis: np.ndarray
    verified: bool

    def to_json(self) -> dict[str, Any]:
        return {"rank": self.rank, "n_rates": len(self.parameter_names), "combinations": list(self.combinations),
                "unidentifiable": list(self.unidentifiable), "verified_symbolically": self.verified}


def _random_states(model: Any, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shapes: dict[str, list[Any]] = {}
    for c in model.window_classes:
        shapes.setdefault(c.shape.name, []).append(c)
    states = []
    for _ in range(n):
        full = {}
        for classes in shapes.values():
            w = rng.dirichlet(np.ones(len(classes)))
            for c, wi in zip(classes, w):
                full[c.name] = float(wi) / c.multiplicity
        states.append([full[s] for s in model.state_names])
    return np.array(states)


def structural_combinations(model: Any, closure_values: Sequence[float] | None = None, n_states: int = 24) -> StructuralAnalysis:
    """The rate combinations the closed right-hand side depends on (see the module documentation)."""
    import sympy as sp

    compiled = model.compile()
    names = list(model.rate_names)
    nk = len(names)
    p = np.ones(compiled.n_param)
    if closure_values is not None and len(closure_values):
        p[nk:] = np.asarray(closure_values, float)
    rows = []
    for y in _random_states(model, n_states):
        try:
            S = compiled.sensitivities(y, p)[:, :nk]
        except ArithmeticError:
            continue
        if np.all(np.isfinite(S)):
            rows.append(S)
    G = np.vstack(rows) if rows else np.zeros((1, nk))
    _, sv, Vt = np.linalg.svd(G)
    tol = 1e-10 * (sv[0] if sv.size else 1.0)
    rank = int(np.sum(sv > tol))
    null = Vt[rank:].T
    null_rows = readable_basis(null.T)
    comb_rows = readable_basis(Vt[:rank])
    verified = True
    fixed = {s: float(v) for s, v in zip(model.closure_parameters, p[nk:])}
    for r in null_rows:
        fr = [Fraction(float(c)).limit_denominator(12) for c in r]
        if any(abs(float(f) - c) > 1e-9 for f, c in zip(fr, r)):
            verified = False
            continue
        for e in model.rhs.values():
            expr = sum(sp.Rational(f.numerator, f.denominator) * sp.diff(e, s) for f, s in zip(fr, model.rate_symbols))
            if sp.simplify(expr.xreplace(fixed)) != 0:
                verified = False
    return StructuralAnalysis(names, rank, [name_combination(r, names) for r in comb_rows],
                              [name_combination(r, names) for r in null_rows], null, verified)


def drift_comparison(model: Any, fisher: FisherAnalysis) -> list[dict[str, Any]]:
    """For each drift relation: its share in the determined space and its residual at the fit."""
    import sympy as sp

    if fisher.parameter_names != list(model.rate_names):
        return []
    out = []
    D = fisher.determined_space
    for rel in model.equations.drift_relations:
        e = sp.expand(rel.lhs - rel.rhs)
        a = np.array([float(e.coeff(s)) for s in model.rate_symbols])
        if not np.any(a):
            continue
        share = float(np.linalg.norm(D.T @ a) ** 2 / (a @ a)) if D.size else 0.0
        resid = float(a @ fisher.x)
        scale = float(np.abs(a) @ np.abs(fisher.x)) or 1.0
        out.append({"relation": f"{rel.lhs} = {rel.rhs}", "determined_share": share,
                    "residual_at_fit": resid, "relative_residual": resid / scale})
    return out


@dataclass
class Profile:
    """F minimised over the other rates, one rate held at each grid value."""

    parameter: str
    values: np.ndarray
    F: np.ndarray


def profile_likelihood(objective: Any, x_best: Any, index: int, *, n_points: int = 9, span: float = 4.0,
                       max_nfev: int = 50) -> Profile:
    """Profile of rate ``index`` on ``x_best[index]·[1/span, span]`` (log grid; linear from 0 if it is 0)."""
    from scipy.optimize import least_squares

    x_best = np.asarray(x_best, dtype=float)
    v0 = x_best[index]
    if v0 > 0:
        grid = v0 * np.geomspace(1.0 / span, span, n_points)
    else:
        grid = np.linspace(0.0, max(float(np.max(x_best)), 1e-6) * 0.1, n_points)
    free = [j for j in range(len(x_best)) if j != index]
    lo = objective.lower_bounds[free]
    hi = objective.upper_bounds[free]
    Fs = np.empty(n_points)
    order = np.argsort(np.abs(grid - v0))
    start = {}
    for i in order:
        x = x_best.copy()
        x[index] = grid[i]
        z0 = x_best[free] if not start else start[min(start, key=lambda k: abs(grid[k] - grid[i]))]

        def fun(z: np.ndarray, v: float = grid[i]) -> np.ndarray:
            xx = x.copy()
            xx[free] = z
            r = objective.residuals(xx)
            return r if np.all(np.isfinite(r)) else np.full_like(r, 1e3)

        def jac(z: np.ndarray) -> np.ndarray:
            xx = x.copy()
            xx[free] = z
            J = objective.jacobian(xx)[:, free]
            return np.where(np.isfinite(J), J, 0.0)

        try:
            res = least_squares(fun, np.clip(z0, lo, hi), jac=jac, bounds=(lo, hi), method="trf", max_nfev=max_nfev)
            x[free] = res.x
            Fs[i] = objective.value(x)
            start[i] = res.x
        except (ValueError, np.linalg.LinAlgError):
            Fs[i] = np.inf
    return Profile(objective.parameter_names[index], grid, Fs)
