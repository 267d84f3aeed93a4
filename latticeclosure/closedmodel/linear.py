"""Linear closed models: detection, the independent rate combinations, and the closed-form solution.

When a closed model is linear (affine) in the concentrations, :func:`linear_rates` names the
independent rate combinations (the paper's α1, α2) and :func:`solve_closed_form` solves it with
sympy's matrix exponential. :class:`~latticeclosure.closedmodel.ClosedModel` offers the same as
methods.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from ..errors import ClosureError

if TYPE_CHECKING:  # pragma: no cover
    from .model import ClosedModel

__all__ = ["LinearSystem", "ClosedForm", "linear_system", "is_linear", "linear_rates", "linear_form",
           "linear_combinations", "solve_closed_form"]

#: Per model: its linear systems (full and reduced), computed once (the models are immutable).
_CACHE: "weakref.WeakKeyDictionary[Any, dict[bool, LinearSystem | None]]" = weakref.WeakKeyDictionary()


@dataclass
class LinearSystem:
    """``dx/dt = A x + b`` over ``variables``; ``A``, ``b`` in rate (and closure-parameter) symbols."""

    variables: list[str]
    A: sp.Matrix
    b: sp.Matrix

    @property
    def is_homogeneous(self) -> bool:
        return all(v == 0 for v in self.b)


def _affine_coefficients(expr: sp.Expr, xs: Sequence[sp.Symbol]) -> tuple[list[sp.Expr], sp.Expr] | None:
    """``(coefficients, constant)`` if ``expr`` is affine in ``xs``, else None."""
    xset = set(xs)
    if not (expr.free_symbols & xset):
        return [sp.Integer(0)] * len(xs), expr
    if not _numerically_affine(expr, xs):
        return None
    candidates = [sp.expand(expr)]
    if not candidates[0].is_polynomial(*xs):
        candidates.append(sp.cancel(sp.together(expr)))
    for cand in candidates:
        num, den = sp.fraction(sp.together(cand)) if cand is not candidates[0] else (cand, sp.Integer(1))
        if den.free_symbols & xset:
            continue
        if not num.is_polynomial(*xs):
            continue
        poly = sp.Poly(num, *xs)
        if poly.total_degree() > 1:
            return None
        coeffs = [sp.expand(poly.coeff_monomial(x) / den) for x in xs]
        const = sp.expand(poly.coeff_monomial(1) / den)
        return coeffs, const
    return None


def _numerically_affine(expr: sp.Expr, xs: Sequence[sp.Symbol]) -> bool:
    """Cheap necessary test: ``f((a+b)/2) == (f(a)+f(b))/2`` at random positive points.

    Saves the exact (``cancel``-based) test on large rational right-hand sides that are plainly
    nonlinear. Returns True when undecided (evaluation failed), so the exact test decides.
    """
    rng = np.random.default_rng(12345)
    others = sorted(expr.free_symbols - set(xs), key=lambda s: s.name)
    try:
        base = {s: sp.Float(rng.uniform(0.5, 1.5), 30) for s in others}
        a = {x: sp.Float(rng.uniform(0.05, 0.3), 30) for x in xs}
        b = {x: sp.Float(rng.uniform(0.05, 0.3), 30) for x in xs}
        m = {x: (a[x] + b[x]) / 2 for x in xs}
        fa, fb, fm = (complex(sp.N(expr.xreplace({**base, **pt}), 30)) for pt in (a, b, m))
    except (TypeError, ValueError, ZeroDivisionError):
        return True
    scale = max(1.0, abs(fa), abs(fb), abs(fm))
    return abs(fm - (fa + fb) / 2) <= 1e-12 * scale


def _linear_form_vector(expr: sp.Expr, rates: Sequence[sp.Symbol]) -> list[sp.Rational] | None:
    """Rational coefficient vector of a linear form in ``rates`` (no constant), else None."""
    expr = sp.expand(expr)
    if expr == 0 or not expr.is_polynomial(*rates):
        return None
    poly = sp.Poly(expr, *rates)
    if poly.total_degree() != 1 or poly.coeff_monomial(1) != 0:
        return None
    vec = [poly.coeff_monomial(r) for r in rates]
    if not all(v.is_Rational for v in vec):
        return None
    return vec


def _primitive(vec: list[sp.Rational]) -> tuple[sp.Rational, tuple[sp.Rational, ...]]:
    """``(content, primitive)`` with integer primitive, first non-zero entry positive."""
    nums = [v.p for v in vec if v != 0]
    dens = [v.q for v in vec if v != 0]
    g = sp.igcd(*nums) if len(nums) > 1 else abs(nums[0])
    lcm = sp.ilcm(*dens) if len(dens) > 1 else dens[0]
    content = sp.Rational(g, lcm)
    first = next(v for v in vec if v != 0)
    if first < 0:
        content = -content
    return content, tuple(v / content for v in vec)


# ------------------------------------------------------------------------------------ closed form
@dataclass
class ClosedForm:
    """The closed-form solution of a linear closed model.

    Attributes
    ----------
    expressions : dict
        Class name → ``sympy.Expr`` in ``t``, the initial values (:attr:`initial_symbols`) and the
        rate combinations (:attr:`combinations`, e.g. α1, α2) or the rates themselves.
    combinations : dict
        Symbol (``alpha1`` …) → its expression in the rate constants.
    initial_symbols : dict
        Class name → symbol standing for its value at ``t = 0`` (``C++(0)`` …).
    t : sympy.Symbol
    system : str
        ``"full"`` (every window class) or ``"reduced"`` (normalisation eliminated).
    """

    expressions: dict[str, sp.Expr]
    combinations: dict[sp.Symbol, sp.Expr]
    initial_symbols: dict[str, sp.Symbol]
    t: sp.Symbol
    system: str
    model: "ClosedModel" = field(repr=False, default=None)  # type: ignore[assignment]

    def in_rates(self) -> dict[str, sp.Expr]:
        """The expressions with the combinations written out in the rate constants."""
        return {k: v.xreplace(self.combinations) for k, v in self.expressions.items()}

    def to_text(self) -> str:
        lines = [f"{name}(t) = {sp.sstr(expr)}" for name, expr in self.expressions.items()]
        if self.combinations:
            lines.append("where")
            lines += [f"  {sp.sstr(k)} = {sp.sstr(v)}" for k, v in self.combinations.items()]
        return "\n".join(lines)

    def to_latex(self) -> str:
        names = self.model.latex_names() if self.model is not None else {}
        for name, s in self.initial_symbols.items():
            names[s] = names.get(sp.Symbol(name), name) + "(0)"
        lines = [
            f"{names.get(sp.Symbol(name), name)}(t) &= {sp.latex(expr, symbol_names=names)}"
            for name, expr in self.expressions.items()
        ]
        lines += [f"{sp.latex(k)} &= {sp.latex(v, symbol_names=names)}" for k, v in self.combinations.items()]
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def evaluate(
        self,
        t: Any,
        initial_state: Mapping[str, float] | Sequence[float],
        rates: Mapping[str, float] | Sequence[float],
        closure_params: Mapping[str, float] | Sequence[float] | None = None,
    ) -> np.ndarray:
        """Numerical values, shape ``(len(t), len(expressions))`` in the order of :attr:`expressions`.

        ``initial_state`` is given like for :meth:`ClosedModel.solve` (all window classes, or the
        state variables); for a ``"full"`` closed form every window class is needed and taken as
        given.
        """
        model = self.model
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        full0 = model.initial_full_state(initial_state)
        p = model.parameter_vector(rates, closure_params)
        subs: dict[sp.Symbol, float] = {s: float(v) for s, v in zip(model.parameters, p)}
        for name, sym in self.initial_symbols.items():
            subs[sym] = float(full0[model.window_names.index(name)])
        out = np.empty((len(tt), len(self.expressions)))
        for j, expr in enumerate(self.in_rates().values()):
            fn = sp.lambdify(self.t, expr.xreplace(subs), modules="numpy")
            out[:, j] = np.broadcast_to(fn(tt), tt.shape)
        return out



# ------------------------------------------------------------------------------------ analysis
def linear_system(model: "ClosedModel", full: bool = False) -> LinearSystem | None:
    """``dx/dt = A x + b`` if the (full or reduced) system is affine in its variables, else None."""
    cache = _CACHE.setdefault(model, {})
    if full in cache:
        return cache[full]
    names = model.window_names if full else model.state_names
    src = model.full_rhs if full else model.rhs
    xs = [model.symbols[n] for n in names]
    rows, consts = [], []
    result: LinearSystem | None = None
    for n in names:
        aff = _affine_coefficients(src[n], xs)
        if aff is None:
            break
        rows.append(aff[0])
        consts.append(aff[1])
    else:
        result = LinearSystem(names, sp.Matrix(rows), sp.Matrix(consts))
    cache[full] = result
    return result

def is_linear(model: "ClosedModel") -> bool:
    """True when the reduced system is linear (affine: ``A x + b``) in the state."""
    return linear_system(model, full=False) is not None

def _solve_system(model: "ClosedModel") -> LinearSystem:
    """The system the closed form uses: the full one when linear (the paper's form), else reduced."""
    lin = linear_system(model, full=True) or linear_system(model, full=False)
    if lin is None:
        raise ClosureError(
            f"the closed model ({model.closure_label}) is not linear in the concentrations; "
            "no closed form (integrate it numerically with solve())"
        )
    return lin

def linear_combinations(model: "ClosedModel", lin: LinearSystem) -> tuple[dict[sp.Symbol, sp.Expr], LinearSystem]:
    """Name the independent rate combinations in ``A`` and ``b`` (α1, α2 …) and rewrite with them.

    Every non-zero entry that is a linear form in the rate constants is split into
    ``content × primitive form``; a basis of the primitive forms is chosen greedily by fewest
    terms (ties: first appearance, equations in window order); the basis is named ``alpha1 …``
    in order of first appearance; entries are rewritten as combinations of the basis.
    Entries that are not linear forms in the rates are left as they are.
    """
    rates = model.rate_symbols
    entries = list(lin.A) + list(lin.b)
    prims: list[tuple] = []
    for e in entries:
        vec = _linear_form_vector(e, rates)
        if vec is None:
            continue
        _, prim = _primitive(vec)
        if prim not in prims:
            prims.append(prim)
    if not prims:
        return {}, lin
    order = sorted(range(len(prims)), key=lambda i: (sum(1 for v in prims[i] if v != 0), i))
    basis: list[int] = []
    for i in order:
        trial = sp.Matrix([prims[j] for j in basis + [i]])
        if trial.rank() == len(basis) + 1:
            basis.append(i)
    basis.sort()
    alphas = [sp.Symbol(f"alpha{j + 1}") for j in range(len(basis))]
    combos = {a: sp.Add(*[c * r for c, r in zip(prims[i], rates)]) for a, i in zip(alphas, basis)}
    B = sp.Matrix([prims[i] for i in basis]).T  # columns: basis vectors

    def rewrite(e: sp.Expr) -> sp.Expr:
        vec = _linear_form_vector(e, rates)
        if vec is None:
            return e
        sol, params = B.gauss_jordan_solve(sp.Matrix(vec))
        return sp.Add(*[c * a for c, a in zip(sol, alphas)])

    A = lin.A.applyfunc(rewrite)
    b = lin.b.applyfunc(rewrite)
    return combos, LinearSystem(lin.variables, A, b)

def linear_rates(model: "ClosedModel") -> dict[sp.Symbol, sp.Expr]:
    """The independent rate combinations of a linear model: ``{alpha1: 2*k1 + k2 - 2*k3 - k4, …}``.

    Raises
    ------
    ClosureError
        If the model is not linear.
    """
    combos, _ = linear_combinations(model, _solve_system(model))
    return combos

def linear_form(model: "ClosedModel") -> dict[str, sp.Expr]:
    """The linear right-hand sides written with the combinations of :func:`linear_rates`."""
    _, lin = linear_combinations(model, _solve_system(model))
    xs = sp.Matrix([model.symbols[n] for n in lin.variables])
    rhs = lin.A * xs + lin.b
    return {n: sp.collect(sp.expand(e), list(xs)) for n, e in zip(lin.variables, rhs)}

def solve_closed_form(model: "ClosedModel", system: str = "auto", use_combinations: bool = True) -> ClosedForm:
    """Solve a linear closed model exactly: ``x(t) = exp(A t) x(0) + ∫ exp(A s) b ds``.

    Parameters
    ----------
    system : {"auto", "full", "reduced"}
        ``full`` solves the equations of every window class (the paper's form, in the initial
        values of all of them); ``reduced`` the state after the normalisation; ``auto`` the full
        system when it is linear, else the reduced one.
    use_combinations : bool
        Write the solution in the combinations of :func:`linear_rates` (α1, α2 …).

    Raises
    ------
    ClosureError
        If the model is not linear, or sympy cannot exponentiate the matrix.
    """
    if system == "auto":
        lin = _solve_system(model)
    elif system in ("full", "reduced"):
        lin = linear_system(model, full=(system == "full"))
        if lin is None:
            raise ClosureError(f"the {system} closed system ({model.closure_label}) is not linear")
    else:
        raise ClosureError(f"system must be 'auto', 'full' or 'reduced', got {system!r}")
    combos: dict[sp.Symbol, sp.Expr] = {}
    if use_combinations:
        combos, lin = linear_combinations(model, lin)
    n = len(lin.variables)
    t = sp.Symbol("t")
    M = sp.zeros(n + 1, n + 1)
    M[:n, :n] = lin.A
    M[:n, n] = lin.b
    try:
        E = (M * t).exp()
    except Exception as exc:  # sympy raises several kinds for hard matrices
        raise ClosureError(f"sympy could not exponentiate the {n}×{n} system matrix: {exc}") from None
    x0 = {name: sp.Symbol(f"{name}(0)") for name in lin.variables}
    z0 = sp.Matrix([x0[nm] for nm in lin.variables] + [1])
    sol = E * z0
    exprs: dict[str, sp.Expr] = {}
    init_syms = list(x0.values())
    for i, name in enumerate(lin.variables):
        e = sp.expand(sol[i], power_exp=False)
        collected = sp.collect(e, init_syms, evaluate=False)
        parts = [sp.factor_terms(sp.expand(c, power_exp=False)) for c in collected.values()]
        exprs[name] = sp.Add(*[k * p for k, p in zip(collected.keys(), parts)])
    if lin.variables != model.window_names:
        for name, e in model.eliminated.items():
            exprs[name] = e.xreplace({model.symbols[k]: v for k, v in exprs.items()})
        exprs = {n: exprs[n] for n in model.window_names if n in exprs}
    return ClosedForm(exprs, combos, x0, t, "full" if lin.variables == model.window_names else "reduced", model)

