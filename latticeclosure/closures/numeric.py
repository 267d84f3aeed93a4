"""Numerical side of closures: fit-ready ansätze, constraint projections, vectorised evaluation.

An :class:`Ansatz` describes the closure of one class with free parameters θ: the parameter symbols
(with short display keys), box bounds, linear equality constraints ``A θ = b``, the input classes,
the sympy expression, and a vectorised evaluator returning ``g(θ)`` and ``∂g/∂θ`` on arrays of input
concentrations. The generic fitter (:mod:`.calibration`) needs nothing else.

:func:`compile_expression` turns any closure expression (fixed families, custom closures) into a
numpy function of its input classes; :func:`evaluate_closure` applies it to a dataset with the
zero-concentration convention documented there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy

from ..errors import ClosureError

__all__ = [
    "Ansatz",
    "exact_number",
    "project_feasible",
    "feasible_interval_check",
    "compile_expression",
    "safe_log",
]


def exact_number(v: float) -> sympy.Expr:
    """A sympy number for ``v``: an exact Rational when ``v`` is one with denominator ≤ 12, else Float."""
    from fractions import Fraction

    v = float(v)
    frac = Fraction(v).limit_denominator(12)
    if float(frac) == v:
        return sympy.Rational(frac.numerator, frac.denominator)
    return sympy.Float(v)


def safe_log(x: np.ndarray) -> np.ndarray:
    """``log x`` with ``-inf`` at exact zeros and no warnings (negative input is a caller error)."""
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, -np.inf)
    pos = x > 0
    out[pos] = np.log(x[pos])
    return out


@dataclass
class Ansatz:
    """A parametric closure of one class, ready for fitting.

    Attributes
    ----------
    class_name : str
    symbols : list of sympy.Symbol
        Parameters θ in a fixed order.
    keys : list of str
        Short display keys aligned with ``symbols`` (e.g. the input class of each exponent).
    kinds : list of str
        ``"gamma"``/``"xi"``/``"a"`` … aligned with ``symbols``.
    lower, upper : ndarray
        Box bounds (``±inf`` allowed).
    A_eq, b_eq : ndarray
        Linear equality constraints ``A_eq θ = b_eq`` (possibly zero rows).
    inputs : list of str
        Class names the closure reads.
    expression : sympy.Expr
        The closed expression with the parameter symbols free.
    prepare : callable
        ``prepare(X) -> P``: precomputes what the evaluation needs from the inputs ``X`` (a mapping
        input class name → 1-D array of records).
    value : callable
        ``value(theta, P) -> (g, jac)``: closure values on the records and ``∂g/∂θ``
        (n_records, n_params). :meth:`evaluate` chains both.
    reference : ndarray
        The pair approximation's parameters (the family's "no correction" point); used as a start
        point and, with ``canonical="pair"``, to resolve non-identifiable directions.
    linear_design : callable or None
        For log-linear ansätze: ``linear_design(P) -> (M, absent)`` with ``log g = M θ`` (used for a
        log-space least-squares start point).
    inequality : callable or None
        Optional ``inequality(P) -> (G, h)`` giving data-dependent linear constraints ``G θ ≥ h``.
    """

    class_name: str
    symbols: list[sympy.Symbol]
    keys: list[str]
    kinds: list[str]
    lower: np.ndarray
    upper: np.ndarray
    A_eq: np.ndarray
    b_eq: np.ndarray
    inputs: list[str]
    expression: sympy.Expr
    prepare: Callable[[Mapping[str, np.ndarray]], Any]
    value: Callable[[np.ndarray, Any], tuple[np.ndarray, np.ndarray]]
    reference: np.ndarray
    linear_design: Callable[[Any], tuple[np.ndarray, np.ndarray]] | None = None
    inequality: Callable[[Mapping[str, np.ndarray]], tuple[np.ndarray, np.ndarray]] | None = None
    aliases: dict[str, sympy.Symbol] = field(default_factory=dict)

    def evaluate(self, theta: Any, X: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``g`` and ``∂g/∂θ`` on the records of ``X``."""
        return self.value(np.asarray(theta, dtype=float), self.prepare(X))

    @property
    def n(self) -> int:
        return len(self.symbols)

    def default_point(self) -> np.ndarray:
        """The reference point projected onto the constraint set."""
        return project_feasible(self.reference, self.lower, self.upper, self.A_eq, self.b_eq)

    def describe_bounds(self) -> str:
        parts = [f"{k}∈[{lo:g},{hi:g}]" for k, lo, hi in zip(self.labels, self.lower, self.upper)]
        eq = "; ".join(
            " + ".join(f"{c:g}·{k}" for c, k in zip(row, self.labels) if c) + f" = {b:g}"
            for row, b in zip(self.A_eq, self.b_eq)
        )
        return ", ".join(parts) + (f"; {eq}" if eq else "")

    @property
    def labels(self) -> list[str]:
        return [f"{kind}[{key}]" for kind, key in zip(self.kinds, self.keys)]


def feasible_interval_check(ansatz: Ansatz, family_name: str) -> None:
    """Raise :class:`ClosureError` when bounds and equality constraints admit no point.

    Exact for one equality row (the degree constraint): ``min A·θ ≤ b ≤ max A·θ`` over the box.
    """
    lo, hi = ansatz.lower, ansatz.upper
    bad = np.nonzero(lo > hi)[0]
    if bad.size:
        k = ansatz.labels[int(bad[0])]
        raise ClosureError(
            f"closure {family_name!r}, class {ansatz.class_name!r}: empty bounds for {k} "
            f"([{lo[bad[0]]:g}, {hi[bad[0]]:g}])"
        )
    for row, b in zip(ansatz.A_eq, ansatz.b_eq):
        mn = np.sum(np.where(row > 0, row * lo, row * hi))
        mx = np.sum(np.where(row > 0, row * hi, row * lo))
        if not (mn - 1e-12 <= b <= mx + 1e-12):
            raise ClosureError(
                f"closure {family_name!r}, class {ansatz.class_name!r}: the constraint set is empty — "
                f"with {ansatz.describe_bounds()} the constrained sum ranges over [{mn:g}, {mx:g}], "
                f"which does not contain {b:g}; widen the bounds (delta, beta1, beta2) or change the degree"
            )


def project_feasible(
    p: np.ndarray, lower: np.ndarray, upper: np.ndarray, A: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Euclidean projection of ``p`` onto ``{lower ≤ θ ≤ upper, A θ = b}``.

    One equality row (the usual case) is solved exactly by bisection on the multiplier λ of
    ``θ(λ) = clip(p + λ a, lower, upper)``; more rows use SLSQP.
    """
    p = np.asarray(p, dtype=float)
    lo, hi = np.asarray(lower, float), np.asarray(upper, float)
    if len(A) == 0:
        return np.clip(p, lo, hi)
    inside = np.all(p >= lo) and np.all(p <= hi)
    if inside and np.all(np.abs(np.asarray(A, float) @ p - np.asarray(b, float)) <= 1e-13):
        return p.copy()
    if len(A) == 1:
        a, target = np.asarray(A[0], float), float(b[0])

        def s(lam: float) -> float:
            return float(a @ np.clip(p + lam * a, lo, hi))

        lam_lo, lam_hi = -1.0, 1.0
        for _ in range(200):
            if s(lam_lo) <= target:
                break
            lam_lo *= 2
        for _ in range(200):
            if s(lam_hi) >= target:
                break
            lam_hi *= 2
        if not (s(lam_lo) <= target + 1e-12 and s(lam_hi) >= target - 1e-12):
            raise ClosureError("constraint set is empty (cannot project onto it)")
        for _ in range(200):
            mid = 0.5 * (lam_lo + lam_hi)
            if s(mid) < target:
                lam_lo = mid
            else:
                lam_hi = mid
            if lam_hi - lam_lo < 1e-15 * max(1.0, abs(mid)):
                break
        theta = np.clip(p + 0.5 * (lam_lo + lam_hi) * a, lo, hi)
        # snap values that are within rounding of a bound or of an integer/half-integer
        for j in range(len(theta)):
            for v in (lo[j], hi[j], round(theta[j] * 2) / 2):
                if np.isfinite(v) and abs(theta[j] - v) < 1e-12:
                    theta[j] = v
        # remove the last rounding error along a free coordinate
        resid = target - a @ theta
        free = (theta > lo + 1e-12) & (theta < hi - 1e-12) & (a != 0)
        if resid and free.any():
            j = int(np.nonzero(free)[0][0])
            theta[j] = np.clip(theta[j] + resid / a[j], lo[j], hi[j])
        return theta
    from scipy.optimize import minimize

    x0 = np.clip(p, np.where(np.isfinite(lo), lo, -1e6), np.where(np.isfinite(hi), hi, 1e6))
    res = minimize(
        lambda t: 0.5 * np.sum((t - p) ** 2),
        x0,
        jac=lambda t: t - p,
        bounds=list(zip(np.where(np.isfinite(lo), lo, None), np.where(np.isfinite(hi), hi, None))),
        constraints=[{"type": "eq", "fun": lambda t: A @ t - b, "jac": lambda t: A}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 500},
    )
    return np.clip(res.x, lo, hi)


# ------------------------------------------------------------------------------- generic lambdify
def compile_expression(expr: sympy.Expr, inputs: Sequence[str]) -> Callable[..., np.ndarray]:
    """A numpy function ``f(*arrays)`` of ``expr`` in the input classes (order of ``inputs``)."""
    dummies = [sympy.Dummy(f"v{k}") for k in range(len(inputs))]
    sub = {sympy.Symbol(n): d for n, d in zip(inputs, dummies)}
    expr = sympy.sympify(expr).xreplace(sub)
    leftover = expr.free_symbols - set(dummies)
    if leftover:
        raise ClosureError(
            f"closure expression {expr} has free symbols {sorted(map(str, leftover))} without values "
            "(unfitted parameters?)"
        )
    return sympy.lambdify(dummies, expr, modules="numpy")


def broadcast_values(value: Any, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    return arr
