"""The closed model: ODEs for window-class concentrations, printable, analysable, compilable.

A :class:`ClosedModel` is what :func:`~latticeclosure.closedmodel.close_equations` returns. It keeps

* the *full* closed system (one equation per window class, :attr:`ClosedModel.full_rhs`);
* the *reduced* system over the state variables (:attr:`ClosedModel.rhs`), after the normalisation
  eliminated one class per window shape (:attr:`ClosedModel.eliminated` gives those classes as
  expressions of the state);
* the provenance of every term (:meth:`ClosedModel.explain`).

When the system is linear (affine) in the concentrations, :meth:`ClosedModel.linear_rates` names the
independent rate combinations (the paper's α1, α2) and :meth:`ClosedModel.solve_closed_form` solves it
with sympy's matrix exponential.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from ..errors import ClosureError
from .build import TermProvenance

__all__ = ["ClosedModel", "ClosedForm", "LinearSystem"]


# ------------------------------------------------------------------------------------ printing
def _split_class_name(name: str, states: Sequence[str], symbol: str) -> str:
    pattern = name[len(symbol):]
    if all(len(s) == 1 for s in states):
        return f"{symbol}_{{{pattern}}}"
    return f"{symbol}_{{\\mathrm{{{','.join(states)}}}}}"


# ------------------------------------------------------------------------------------ linear
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
        names = self.model._latex_names() if self.model is not None else {}
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


# ------------------------------------------------------------------------------------ the model
class ClosedModel:
    """A closed mean-cluster model (see the module documentation).

    Built by :func:`~latticeclosure.closedmodel.close_equations`; not meant to be constructed by hand.

    Attributes
    ----------
    equations : RateEquations
        The hierarchy it was closed from.
    window_names : list of str
        Every window class, in enumeration order.
    state_names, state_symbols : list
        The state variables (window classes not eliminated by the normalisation).
    rhs : dict
        State name → right-hand side in the state symbols.
    full_rhs : dict
        Window class name → right-hand side in all window-class symbols (nothing eliminated).
    eliminated : dict
        Eliminated class name → its expression in the state symbols.
    marginals : dict
        Smaller class name (``C+``) → exact marginal in window-class symbols.
    parameters : list of sympy.Symbol
        Rate constants (generator order), then free closure parameters.
    provenance : list of TermProvenance
    """

    def __init__(
        self,
        *,
        equations: Any,
        window_classes: list,
        symbols: dict[str, sp.Symbol],
        full_rhs: dict[str, sp.Expr],
        eliminated: dict[str, sp.Expr],
        marginals: dict[str, sp.Expr],
        rate_symbols: list[sp.Symbol],
        closure_parameters: list[sp.Symbol],
        closure_expressions: dict[str, sp.Expr],
        closure_names: dict[str, str],
        provenance: list[TermProvenance],
        closure_label: str,
    ) -> None:
        self.equations = equations
        self.window_classes = list(window_classes)
        self.window_names = [c.name for c in self.window_classes]
        self.symbols = dict(symbols)
        self.full_rhs = dict(full_rhs)
        self.marginals = dict(marginals)
        self.rate_symbols = list(rate_symbols)
        self.closure_parameters = list(closure_parameters)
        self.closure_expressions = dict(closure_expressions)
        self.closure_names = dict(closure_names)
        self.provenance = list(provenance)
        self.closure_label = closure_label
        self.state_names = [n for n in self.window_names if n not in eliminated]
        self.state_symbols = [self.symbols[n] for n in self.state_names]
        # eliminated classes in the state symbols (they were written in other window classes, all
        # of them state variables since at most one class per shape is eliminated)
        self.eliminated = {k: sp.sympify(v) for k, v in eliminated.items()}
        subs = {self.symbols[k]: v for k, v in self.eliminated.items()}
        self.rhs = {n: _tidy(self.full_rhs[n].xreplace(subs), self.state_symbols) for n in self.state_names}
        self._compiled: dict[Any, Any] = {}

    # ---------------------------------------------------------------- basic views
    @property
    def parameters(self) -> list[sp.Symbol]:
        """Rate constants, then free closure parameters: the order of parameter vectors."""
        return self.rate_symbols + self.closure_parameters

    @property
    def parameter_names(self) -> list[str]:
        return [s.name for s in self.parameters]

    @property
    def rate_names(self) -> list[str]:
        return [s.name for s in self.rate_symbols]

    @property
    def closure_parameter_names(self) -> list[str]:
        return [s.name for s in self.closure_parameters]

    @property
    def window_size(self) -> int:
        return self.window_classes[0].size

    @property
    def multiplicities(self) -> dict[str, int]:
        return {c.name: c.multiplicity for c in self.window_classes}

    def derived_expressions(self) -> dict[str, sp.Expr]:
        """Every window class as an expression of the state (state classes map to themselves)."""
        return {n: self.eliminated.get(n, self.symbols[n]) for n in self.window_names}

    def equations_list(self, full: bool = False) -> list[sp.Eq]:
        """``Eq(d<name>/dt, rhs)`` for the state (or every window class with ``full=True``)."""
        src = self.full_rhs if full else self.rhs
        return [sp.Eq(sp.Symbol(f"d{n}/dt"), e) for n, e in src.items()]

    # ---------------------------------------------------------------- printing
    def _latex_names(self) -> dict[sp.Symbol, str]:
        names: dict[sp.Symbol, str] = {}
        index = self.equations.index
        for c in index.by_name.values():
            names[sp.Symbol(c.name)] = _split_class_name(c.name, c.states, c.shape.symbol)
        for s in self.closure_parameters:
            if not s.name.isidentifier():
                names[s] = _latex_param(s.name)
        return names

    def to_text(self, full: bool = False) -> str:
        """The closed equations as text (sympy's ``sstr``), then the eliminated classes."""
        src = self.full_rhs if full else self.rhs
        lines = [f"d{n}/dt = {sp.sstr(e)}" for n, e in src.items()]
        if not full and self.eliminated:
            lines += [f"{n} = {sp.sstr(e)}" for n, e in self.eliminated.items()]
        return "\n".join(lines)

    def to_latex(self, full: bool = False) -> str:
        """The closed equations as a LaTeX ``aligned`` block (sympy's LaTeX printer)."""
        names = self._latex_names()
        src = self.full_rhs if full else self.rhs
        lines = [
            f"\\frac{{d{names.get(self.symbols[n], n)}}}{{dt}} &= {sp.latex(e, symbol_names=names)}"
            for n, e in src.items()
        ]
        if not full:
            lines += [
                f"{names.get(self.symbols[n], n)} &= {sp.latex(e, symbol_names=names)}"
                for n, e in self.eliminated.items()
            ]
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def explain(self, equation: str | None = None) -> str:
        """Which cluster class produced which term of which equation, and what replaced it."""
        from ..cli.output import format_table

        rows = []
        for p in self.provenance:
            if equation is not None and p.equation != equation:
                continue
            how = {"closure": f"closure {p.closure}", "state": "state variable", "marginal": "exact marginal"}[p.kind]
            rows.append([f"d{p.equation}/dt", sp.sstr(p.term), p.source, how, sp.sstr(p.replacement)])
        return format_table(["EQUATION", "TERM", "FROM CLASS", "REPLACED BY", "EXPRESSION"], rows)

    def provenance_of(self, equation: str) -> list[TermProvenance]:
        """The provenance records of one equation's terms."""
        if equation not in self.full_rhs:
            raise ClosureError(f"no equation for {equation!r}; window classes: {self.window_names}")
        return [p for p in self.provenance if p.equation == equation]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "closure": self.closure_label,
            "window_size": self.window_size,
            "window_classes": [{"name": c.name, "multiplicity": c.multiplicity} for c in self.window_classes],
            "state": self.state_names,
            "rhs": {n: sp.sstr(e) for n, e in self.rhs.items()},
            "full_rhs": {n: sp.sstr(e) for n, e in self.full_rhs.items()},
            "eliminated": {n: sp.sstr(e) for n, e in self.eliminated.items()},
            "marginals": {n: sp.sstr(e) for n, e in self.marginals.items()},
            "rates": self.rate_names,
            "closure_parameters": self.closure_parameter_names,
            "closures": {k: {"closure": self.closure_names[k], "expression": sp.sstr(v)} for k, v in self.closure_expressions.items()},
            "provenance": [p.to_json() for p in self.provenance],
            "linear": self.is_linear(),
        }
        if out["linear"]:
            combos, _ = self._linear_combinations(self._solve_system())
            out["linear_rates"] = {sp.sstr(k): sp.sstr(v) for k, v in combos.items()}
            try:
                cf = self.solve_closed_form()
                out["closed_form"] = {n: sp.sstr(e) for n, e in cf.expressions.items()}
            except ClosureError as exc:  # pragma: no cover - sympy could not exponentiate
                out["closed_form_error"] = str(exc)
        return out

    def __repr__(self) -> str:
        return (
            f"ClosedModel(closure={self.closure_label!r}, state={self.state_names}, "
            f"parameters={self.parameter_names})"
        )

    # ---------------------------------------------------------------- linearity
    def linear_system(self, full: bool = False) -> LinearSystem | None:
        """``dx/dt = A x + b`` if the (full or reduced) system is affine in its variables, else None."""
        key = ("linear", full)
        if key in self._compiled:
            return self._compiled[key]
        names = self.window_names if full else self.state_names
        src = self.full_rhs if full else self.rhs
        xs = [self.symbols[n] for n in names]
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
        self._compiled[key] = result
        return result

    def is_linear(self) -> bool:
        """True when the reduced system is linear (affine: ``A x + b``) in the state."""
        return self.linear_system(full=False) is not None

    def _solve_system(self) -> LinearSystem:
        """The system the closed form uses: the full one when linear (the paper's form), else reduced."""
        lin = self.linear_system(full=True) or self.linear_system(full=False)
        if lin is None:
            raise ClosureError(
                f"the closed model ({self.closure_label}) is not linear in the concentrations; "
                "no closed form (integrate it numerically with solve())"
            )
        return lin

    def _linear_combinations(self, lin: LinearSystem) -> tuple[dict[sp.Symbol, sp.Expr], LinearSystem]:
        """Name the independent rate combinations in ``A`` and ``b`` (α1, α2 …) and rewrite with them.

        Every non-zero entry that is a linear form in the rate constants is split into
        ``content × primitive form``; a basis of the primitive forms is chosen greedily by fewest
        terms (ties: first appearance, equations in window order); the basis is named ``alpha1 …``
        in order of first appearance; entries are rewritten as combinations of the basis.
        Entries that are not linear forms in the rates are left as they are.
        """
        rates = self.rate_symbols
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

    def linear_rates(self) -> dict[sp.Symbol, sp.Expr]:
        """The independent rate combinations of a linear model: ``{alpha1: 2*k1 + k2 - 2*k3 - k4, …}``.

        Raises
        ------
        ClosureError
            If the model is not linear.
        """
        combos, _ = self._linear_combinations(self._solve_system())
        return combos

    def linear_form(self) -> dict[str, sp.Expr]:
        """The linear right-hand sides written with the combinations of :meth:`linear_rates`."""
        _, lin = self._linear_combinations(self._solve_system())
        xs = sp.Matrix([self.symbols[n] for n in lin.variables])
        rhs = lin.A * xs + lin.b
        return {n: sp.collect(sp.expand(e), list(xs)) for n, e in zip(lin.variables, rhs)}

    def solve_closed_form(self, system: str = "auto", use_combinations: bool = True) -> ClosedForm:
        """Solve a linear closed model exactly: ``x(t) = exp(A t) x(0) + ∫ exp(A s) b ds``.

        Parameters
        ----------
        system : {"auto", "full", "reduced"}
            ``full`` solves the equations of every window class (the paper's form, in the initial
            values of all of them); ``reduced`` the state after the normalisation; ``auto`` the full
            system when it is linear, else the reduced one.
        use_combinations : bool
            Write the solution in the combinations of :meth:`linear_rates` (α1, α2 …).

        Raises
        ------
        ClosureError
            If the model is not linear, or sympy cannot exponentiate the matrix.
        """
        if system == "auto":
            lin = self._solve_system()
        elif system in ("full", "reduced"):
            lin = self.linear_system(full=(system == "full"))
            if lin is None:
                raise ClosureError(f"the {system} closed system ({self.closure_label}) is not linear")
        else:
            raise ClosureError(f"system must be 'auto', 'full' or 'reduced', got {system!r}")
        combos: dict[sp.Symbol, sp.Expr] = {}
        if use_combinations:
            combos, lin = self._linear_combinations(lin)
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
        if lin.variables != self.window_names:
            for name, e in self.eliminated.items():
                exprs[name] = e.xreplace({self.symbols[k]: v for k, v in exprs.items()})
            exprs = {n: exprs[n] for n in self.window_names if n in exprs}
        return ClosedForm(exprs, combos, x0, t, "full" if lin.variables == self.window_names else "reduced", self)

    # ---------------------------------------------------------------- numerics
    def parameter_vector(
        self,
        rates: Mapping[str, float] | Sequence[float] | np.ndarray,
        closure_params: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    ) -> np.ndarray:
        """The parameter vector in :attr:`parameters` order from rates and closure parameters.

        ``rates`` may also be one mapping holding rates and closure parameters together.
        """
        from .integrate import _vector_from

        n_k = len(self.rate_symbols)
        n_c = len(self.closure_parameters)
        if isinstance(rates, Mapping) and closure_params is None and n_c:
            merged = dict(rates)
            return _vector_from(merged, self.parameter_names, "parameter")
        kv = _vector_from(rates, self.rate_names, "rate")
        if n_c == 0:
            if closure_params is not None and len(closure_params) != 0:
                raise ClosureError(f"the closed model has no free closure parameters; got {closure_params!r}")
            return kv
        if closure_params is None:
            raise ClosureError(f"closure parameters {self.closure_parameter_names} need values (closure_params=)")
        cv = _vector_from(closure_params, self.closure_parameter_names, "closure parameter")
        assert len(kv) == n_k
        return np.concatenate([kv, cv])

    def initial_state(self, initial: Mapping[str, float] | Sequence[float] | np.ndarray, *, tol: float = 1e-8) -> np.ndarray:
        """The state vector (in :attr:`state_names` order) from a mapping or an array.

        A mapping may hold every window class (the eliminated ones are then checked against the
        normalisation to ``tol``) or only the state variables. An array of length ``len(window_names)``
        is taken as every window class, one of length ``len(state_names)`` as the state.
        """
        from .integrate import _initial_vectors

        return _initial_vectors(self, initial, tol)[0]

    def initial_full_state(self, initial: Mapping[str, float] | Sequence[float] | np.ndarray, *, tol: float = 1e-8) -> np.ndarray:
        """Every window class (in :attr:`window_names` order) from a mapping or an array."""
        from .integrate import _initial_vectors

        return _initial_vectors(self, initial, tol)[1]

    def evaluate_rhs(self, state: Any, rates: Any, closure_params: Any = None) -> np.ndarray:
        """Reference (sympy, slow) evaluation of the reduced right-hand side at a state vector."""
        y = np.asarray(state, dtype=float)
        p = self.parameter_vector(rates, closure_params)
        subs = {s: float(v) for s, v in zip(self.state_symbols, y)}
        subs.update({s: float(v) for s, v in zip(self.parameters, p)})
        return np.array([float(sp.N(e.xreplace(subs), 30)) for e in self.rhs.values()])

    def compile(self, cache_dir: Any = None, *, verbose: bool = False) -> "CompiledModel":  # noqa: F821
        """Compile (or load from the disk cache) the numba right-hand side, Jacobian and integrator."""
        from .compile import compile_model

        key = ("compiled", str(cache_dir))
        if key not in self._compiled:
            self._compiled[key] = compile_model(self, cache_dir=cache_dir, verbose=verbose)
        return self._compiled[key]

    def solve(
        self,
        t_eval: Any,
        initial_state: Any,
        rates: Any,
        closure_params: Any = None,
        method: str = "auto",
        rtol: float = 1e-8,
        atol: float = 1e-10,
        **options: Any,
    ) -> "Solution":  # noqa: F821
        """Integrate the closed model; see :func:`latticeclosure.closedmodel.integrate.solve`."""
        from .integrate import solve

        return solve(self, t_eval, initial_state, rates, closure_params, method=method, rtol=rtol, atol=atol, **options)


_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "kappa", "lambda", "mu", "nu", "xi", "rho",
          "sigma", "tau", "phi", "chi", "psi", "omega"}


def _latex_class(name: str) -> str:
    i = 0
    while i < len(name) and name[i].isalnum() and not (name[i] in "+-[" ):
        i += 1
    head, rest = name[:i], name[i:]
    if not rest:
        return name
    if rest.startswith("[") and rest.endswith("]"):
        rest = "\\mathrm{" + rest[1:-1] + "}"
    return f"{head}_{{{rest}}}"


def _latex_param(name: str) -> str:
    """``gamma[L++-;C+-]`` → ``\\gamma^{L_{++-}}_{C_{+-}}``; other names as ``head_{tail}``."""
    if name.endswith("]") and "[" in name:
        kind, inner = name[:-1].split("[", 1)
        head = f"\\{kind}" if kind in _GREEK else f"\\mathrm{{{kind}}}"
        owner, _, key = inner.rpartition(";")
        if owner:
            return f"{head}^{{{_latex_class(owner)}}}_{{{_latex_class(key)}}}"
        return f"{head}_{{{_latex_class(key)}}}"
    head, _, tail = name.partition("_")
    h = f"\\{head}" if head in _GREEK else head
    return f"{h}_{{\\mathrm{{{tail}}}}}" if tail else h


def _tidy(expr: sp.Expr, xs: Sequence[sp.Symbol]) -> sp.Expr:
    """Expand and collect polynomial right-hand sides; leave rational ones as they are."""
    if expr.is_polynomial(*xs):
        return sp.collect(sp.expand(expr), list(xs))
    return expr
