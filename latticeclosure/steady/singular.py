"""Limits of a closed right-hand side at states where a closure is 0/0.

At an absorbing state every class containing a non-absorbing species vanishes. Closures divide
by pair or singlet concentrations (the pair approximation's ``C_xy C_yz / C_y``, Kirkwood's
``C_xy C_yz C_zx / (C_x C_y C_z)``); when such a denominator is one of the vanishing classes the
compiled right-hand side raises ``ZeroDivisionError`` there, and the Jacobian may not exist at
all: ``C_01² C_11 / C_1²`` is continuous at 0 but not differentiable.

What does exist is the limit along an approach direction ``v``::

    F1(v) = lim_{t→0+} f(x* + t v) / t,

positively homogeneous of degree one in ``v`` (linear, ``F1(v) = J v``, exactly when ``f`` is
differentiable at ``x*``). :func:`directional_limit` computes it symbolically: the right-hand side
is expanded into terms, every factor of a term is a polynomial base ``B`` raised to a numeric
power ``e``, ``B(x* + t v) = t^r (b_r(v) + b_{r+1}(v) t + …)``, so every term is
``t^q (c0(v) + c1(v) t + O(t²))`` with ``q = Σ r·e``. The coefficient of ``t¹`` in the sum is
``F1``; the coefficients of lower powers must cancel (checked), otherwise the limit does not exist
(``x*`` is not a fixed point of the closed model, or ``f`` is not Lipschitz there) and
:class:`SingularLimitError` says so.

:func:`regularised_limit` is the independent numerical check: ``f(x* + ε v)/ε`` from the compiled
code at decreasing ``ε``, whose difference from ``F1(v)`` must vanish linearly in ``ε``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp

from ..errors import SteadyStateError

__all__ = ["DirectionalLimit", "SingularLimitError", "directional_limit", "regularised_limit"]


class SingularLimitError(SteadyStateError):
    """The limit of the closed right-hand side along a direction does not exist or cannot be taken."""


@dataclass
class DirectionalLimit:
    """``F1(v) = lim f(x* + t v)/t`` of a reduced closed model at a state ``x*``.

    Attributes
    ----------
    state : ndarray
        ``x*`` (reduced coordinates).
    direction_symbols : list of sympy.Symbol
        ``v_1 … v_d``, one per state variable.
    parameter_symbols : list of sympy.Symbol
        The model's parameters (rates, closure parameters), in ``model.parameters`` order.
    expressions : list of sympy.Expr
        ``F1`` component by component, in ``v`` and the parameters.
    linear : bool
        ``F1`` is linear in ``v``: the right-hand side is differentiable at ``x*`` and ``F1(v) = J v``.
    """

    state: np.ndarray
    direction_symbols: list[sp.Symbol]
    parameter_symbols: list[sp.Symbol]
    expressions: list[sp.Expr]
    linear: bool
    _f: Callable = field(repr=False, default=None)  # type: ignore[assignment]
    _dv: Callable = field(repr=False, default=None)  # type: ignore[assignment]
    _dp: Callable = field(repr=False, default=None)  # type: ignore[assignment]

    def _eval(self, fn: Callable, v: np.ndarray, p: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        # F1 is itself 0/0 on faces of the cone where a closure's denominators vanish to first
        # order too: NaN there, reported by the callers, never a warning per evaluation
        with np.errstate(all="ignore"):
            out = fn(np.asarray(v, dtype=float), np.asarray(p, dtype=float))
        return np.asarray(out, dtype=float).reshape(shape)

    def __call__(self, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``F1(v)`` at the parameter vector ``p`` (NaN where ``F1`` itself is 0/0)."""
        return self._eval(self._f, v, p, (-1,))

    def jacobian(self, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``∂F1/∂v`` (the Jacobian of ``f`` at ``x*`` when :attr:`linear`)."""
        d = len(self.direction_symbols)
        return self._eval(self._dv, v, p, (d, d))

    def parameter_derivative(self, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``∂F1/∂p``, shape (d, number of parameters)."""
        d = len(self.direction_symbols)
        return self._eval(self._dp, v, p, (d, len(self.parameter_symbols)))


def _is_zero(expr: sp.Expr, rng: random.Random, trials: int = 2) -> bool:
    """Whether ``expr`` vanishes identically, tested at random positive rational points.

    Rational functions evaluate exactly at rational points; other expressions (fractional powers)
    with 50 significant digits against the size of their terms. A non-zero rational function
    vanishes at a random point with negligible probability.
    """
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    for _ in range(trials):
        point = {s: sp.Rational(rng.randint(1, 10**9), 10**9) + rng.randint(0, 2) for s in free}
        value = expr.xreplace(point)
        if value.is_Rational:
            if value != 0:
                return False
            continue
        parts = [sp.N(a.xreplace(point), 50) for a in sp.Add.make_args(expr)]
        scale = max((abs(complex(v)) for v in parts), default=0.0)
        if abs(complex(sp.N(value, 50))) > 1e-35 * max(scale, 1e-300):
            return False
    return True


class _Series:
    """A truncated Puiseux series ``Σ_k c_k t^k`` in the approach parameter ``t``.

    ``terms`` maps exponents (rationals) to coefficients that are not identically zero; the series
    is exact for every exponent below ``prec``.
    """

    __slots__ = ("terms", "prec")

    def __init__(self, terms: dict, prec: Any) -> None:
        self.terms = terms
        self.prec = prec

    @property
    def lead(self) -> Any:
        return min(self.terms) if self.terms else self.prec


class _Expander:
    """Series of sub-expressions of the right-hand side at ``x* + t v``, memoised."""

    def __init__(self, xs: Sequence[sp.Symbol], x0: Sequence[sp.Expr], vs: Sequence[sp.Symbol],
                 depth: int, rng: random.Random) -> None:
        self.at = {x: (a, v) for x, a, v in zip(xs, x0, vs)}
        self.depth = depth
        self.rng = rng
        self.memo: dict = {}

    def _trim(self, terms: dict, prec: Any, check_lead: bool) -> _Series:
        terms = {k: c for k, c in terms.items() if k < prec}
        if check_lead:
            # cancellation: drop leading coefficients that vanish identically
            for k in sorted(terms):
                if _is_zero(terms[k], self.rng):
                    del terms[k]
                else:
                    break
        if terms:
            prec = min(prec, min(terms) + self.depth)
            terms = {k: c for k, c in terms.items() if k < prec}
        return _Series(terms, prec)

    def series(self, expr: sp.Expr) -> _Series:
        hit = self.memo.get(expr)
        if hit is not None:
            return hit
        out = self._series(expr)
        self.memo[expr] = out
        return out

    def _series(self, expr: sp.Expr) -> _Series:
        if expr in self.at:
            a, v = self.at[expr]
            return _Series({0: a, 1: v} if a != 0 else {1: v}, sp.oo)
        if not (expr.free_symbols & self.at.keys()):
            return _Series({0: expr} if expr != 0 else {}, sp.oo)
        if expr.is_Add:
            parts = [self.series(a) for a in expr.args]
            prec = min(p.prec for p in parts)
            terms: dict = {}
            for p in parts:
                for k, c in p.terms.items():
                    terms[k] = terms.get(k, 0) + c
            return self._trim(terms, prec, check_lead=True)
        if expr.is_Mul:
            acc = _Series({0: sp.Integer(1)}, sp.oo)
            for a in expr.args:
                acc = self._product(acc, self.series(a))
            return acc
        if expr.is_Pow:
            base, exp = expr.args
            if not exp.is_number or (exp.free_symbols & self.at.keys()):
                raise SingularLimitError(
                    f"cannot take the limit of {expr}: its exponent is not a number "
                    "(give the closure parameters numeric values first)"
                )
            return self._power(self.series(base), sp.Rational(exp) if exp.is_Float else exp, expr)
        raise SingularLimitError(f"cannot take the limit of {expr}: only sums, products and powers are supported")

    def _product(self, a: _Series, b: _Series) -> _Series:
        prec = min(a.prec + b.lead, b.prec + a.lead)
        terms: dict = {}
        for ka, ca in a.terms.items():
            for kb, cb in b.terms.items():
                k = ka + kb
                if k < prec:
                    terms[k] = terms.get(k, 0) + ca * cb
        return self._trim(terms, prec, check_lead=False)

    def _power(self, a: _Series, e: sp.Expr, expr: sp.Expr) -> _Series:
        if not a.terms:
            raise SingularLimitError(f"cannot take the limit of {expr}: its base vanishes to every computed order")
        la = a.lead
        a0 = a.terms[la]
        rel_prec = a.prec - la
        # (a0 t^la (1 + u))^e with u = Σ (a_k / a0) t^(k - la)
        u = _Series({k - la: c / a0 for k, c in a.terms.items() if k != la}, rel_prec)
        limit = min(rel_prec, self.depth)
        acc = _Series({0: sp.Integer(1)}, limit)
        if u.terms:
            step = min(u.terms)
            power = _Series({0: sp.Integer(1)}, limit)
            j = 0
            while True:
                j += 1
                power = self._product(power, u)
                if not power.terms or min(power.terms) >= limit or j * step >= limit:
                    break
                coef = sp.binomial(e, j)
                for k, c in power.terms.items():
                    if k < limit:
                        acc.terms[k] = acc.terms.get(k, 0) + coef * c
        shift = la * e
        lead = a0**e
        return _Series({k + shift: lead * c for k, c in acc.terms.items()}, limit + shift)


def directional_limit(model: Any, state: Sequence[Any], *, seed: int = 0, depth: int = 3) -> DirectionalLimit:
    """The first-order limit ``F1(v) = lim_{t→0+} f(x* + t v)/t`` of a closed model at ``x*``.

    Parameters
    ----------
    model : ClosedModel
        Its reduced right-hand side ``model.rhs`` (in ``model.state_symbols`` and
        ``model.parameters``) must be built of sums, products and numeric powers (true of every
        closure with numeric exponents).
    state : sequence
        ``x*`` in reduced coordinates; exact numbers (0, 1, rationals) keep the limit exact.
    seed : int
        Seed of the random points at which coefficients are tested for vanishing identically.
    depth : int
        Orders kept beyond the leading one in every sub-expression (raised automatically when
        cancellations use them up).

    Returns
    -------
    DirectionalLimit

    Raises
    ------
    SingularLimitError
        An expression the expansion cannot handle (symbolic exponent, a function), or lower-order
        coefficients that do not cancel: ``x*`` is not a fixed point of the closed model along every
        direction (a closure that stays finite there), or ``f`` is not Lipschitz at ``x*``.
    """
    xs = list(model.state_symbols)
    if len(state) != len(xs):
        raise SteadyStateError(f"state has {len(state)} entries; the model has {len(xs)} state variables")
    x0 = [s if isinstance(s, sp.Basic) else sp.nsimplify(s) for s in state]
    vs = [sp.Symbol(f"v{i}") for i in range(len(xs))]
    rng = random.Random(seed)
    components = []
    for name, expr in model.rhs.items():
        for d in (depth, depth + 2, depth + 4):
            series = _Expander(xs, x0, vs, d, rng).series(sp.sympify(expr))
            if series.prec > 1:
                break
        else:
            raise SingularLimitError(f"d{name}/dt: cancellations too deep to resolve the first-order limit")
        low = sorted(k for k in series.terms if k < 1)
        if low:
            k = low[0]
            what = "a non-zero value" if k == 0 else f"a term of order t^{k}"
            raise SingularLimitError(
                f"d{name}/dt has {what} at the state along some directions: the closed model does not "
                f"vanish there (a closure stays finite as the state is approached)"
            )
        components.append(series.terms.get(sp.Integer(1), sp.Integer(0)))
    params = list(model.parameters)
    return _build(np.array([float(a) for a in x0]), vs, params, components, rng)


def _build(state: np.ndarray, vs: list[sp.Symbol], params: list[sp.Symbol], components: list[sp.Expr],
           rng: random.Random) -> DirectionalLimit:
    # parameters may carry names that are not identifiers (a rate called "1"): lambdify placeholders
    pd = [sp.Dummy(f"p{i}") for i in range(len(params))]
    vd = [sp.Dummy(f"v{i}") for i in range(len(vs))]
    sub = dict(zip(params, pd)) | dict(zip(vs, vd))
    comp = [c.xreplace(sub) for c in components]
    dv = [[sp.diff(c, v) for v in vd] for c in comp]
    dp = [[sp.diff(c, p) for p in pd] for c in comp]
    f = sp.lambdify([vd, pd], comp, "numpy", cse=True)
    fdv = sp.lambdify([vd, pd], dv, "numpy", cse=True)
    fdp = sp.lambdify([vd, pd], dp, "numpy", cse=True)
    linear = _is_linear(f, len(vs), len(params), rng)
    return DirectionalLimit(state, vs, params, components, linear, f, fdv, fdp)


def _is_linear(f: Callable, d: int, n_params: int, rng: random.Random, trials: int = 3) -> bool:
    """``F1`` is positively homogeneous of degree one; additivity on random points makes it linear."""
    for _ in range(trials):
        p = np.array([rng.uniform(0.2, 2.0) for _ in range(n_params)])
        v1 = np.array([rng.uniform(0.1, 1.0) for _ in range(d)])
        v2 = np.array([rng.uniform(0.1, 1.0) for _ in range(d)])
        with np.errstate(all="ignore"):
            a = np.asarray(f(v1 + v2, p), dtype=float)
            b = np.asarray(f(v1, p), dtype=float) + np.asarray(f(v2, p), dtype=float)
        scale = np.max(np.abs(b)) + np.max(np.abs(a)) + 1e-300
        if np.max(np.abs(a - b)) > 1e-9 * scale:
            return False
    return True


def regularised_limit(problem: Any, state: np.ndarray, direction: np.ndarray, value: float | None = None,
                      epsilons: Sequence[float] = (1e-3, 1e-4, 1e-5, 1e-6)) -> tuple[np.ndarray, np.ndarray]:
    """``f(x* + ε v)/ε`` from the compiled right-hand side at decreasing ``ε`` (the ε-regularisation).

    Parameters
    ----------
    problem : SteadyProblem
    state, direction : ndarray
        ``x*`` and ``v`` in reduced coordinates.
    value : float, optional
        The free rate.
    epsilons : sequence of float

    Returns
    -------
    eps : ndarray
    quotients : ndarray, shape (len(eps), d)
        Their difference from :class:`DirectionalLimit` ``F1(v)`` is O(ε) when the limit exists.
    """
    eps = np.asarray(epsilons, dtype=float)
    x = np.asarray(state, dtype=float)
    v = np.asarray(direction, dtype=float)
    return eps, np.array([problem.rhs(x + e * v, value) / e for e in eps])
