"""The closed model: ODEs for window-class concentrations, printable, analysable, compilable.

A :class:`ClosedModel` is what :func:`~latticeclosure.closedmodel.close_equations` returns. It keeps

* the *full* closed system (one equation per window class, :attr:`ClosedModel.full_rhs`);
* the *reduced* system over the state variables (:attr:`ClosedModel.rhs`), after the normalisation
  eliminated one class per window shape (:attr:`ClosedModel.eliminated` gives those classes as
  expressions of the state);
* the provenance of every term (:meth:`ClosedModel.explain`).

A closed model is data: analysis (linearity and closed forms,
:mod:`latticeclosure.closedmodel.linear`), compilation (:mod:`.compile`) and integration
(:mod:`.integrate`) are functions of their own modules; the methods of :class:`ClosedModel` are
conveniences that call them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from ..equations.formats import latex_name, latex_text
from ..errors import ClosureError
from .build import TermProvenance

if TYPE_CHECKING:  # pragma: no cover
    from .compile import CompiledModel
    from .integrate import Solution
    from .conservation import ConservationReport
    from .linear import ClosedForm, LinearSystem

__all__ = ["ClosedModel"]


# ------------------------------------------------------------------------------------ printing
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
        conserved_by: dict[str, str] | None = None,
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
        #: Conserved quantity → the class whose equation the conservation law replaced (``conserve=True``).
        self.conserved_by = dict(conserved_by or {})
        self.state_names = [n for n in self.window_names if n not in eliminated]
        self.state_symbols = [self.symbols[n] for n in self.state_names]
        # eliminated classes in the state symbols (they were written in other window classes, all
        # of them state variables since at most one class per shape is eliminated)
        self.eliminated = {k: sp.sympify(v) for k, v in eliminated.items()}
        subs = {self.symbols[k]: v for k, v in self.eliminated.items()}
        self.rhs = {n: _tidy(self.full_rhs[n].xreplace(subs), self.state_symbols) for n in self.state_names}

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
    def latex_names(self) -> dict[sp.Symbol, str]:
        names: dict[sp.Symbol, str] = {}
        index = self.equations.index
        for c in index.by_name.values():
            names[sp.Symbol(c.name)] = latex_name(c)
        classes = {c.name: latex_name(c) for c in index.by_name.values()}
        for s in self.closure_parameters:
            if not s.name.isidentifier():
                names[s] = _latex_param(s.name, classes)
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
        names = self.latex_names()
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

    # ---------------------------------------------------------------- conservation (see .conservation)
    def conservation_report(self) -> "ConservationReport":
        """Which composition laws of the exact hierarchy the model keeps under the drift relations."""
        from .conservation import conservation_report

        return conservation_report(self)

    # ---------------------------------------------------------------- linearity (see .linear)
    def linear_system(self, full: bool = False) -> "LinearSystem | None":
        """``dx/dt = A x + b`` if the (full or reduced) system is affine, else None (:func:`.linear.linear_system`)."""
        from .linear import linear_system

        return linear_system(self, full)

    def is_linear(self) -> bool:
        """True when the reduced system is linear (affine: ``A x + b``) in the state."""
        from .linear import is_linear

        return is_linear(self)

    def linear_rates(self) -> dict[sp.Symbol, sp.Expr]:
        """The independent rate combinations of a linear model: ``{alpha1: 2*k1 + k2 - 2*k3 - k4, …}``.

        See :func:`.linear.linear_rates`.
        """
        from .linear import linear_rates

        return linear_rates(self)

    def linear_form(self) -> dict[str, sp.Expr]:
        """The linear right-hand sides written with the combinations of :meth:`linear_rates`."""
        from .linear import linear_form

        return linear_form(self)

    def solve_closed_form(self, system: str = "auto", use_combinations: bool = True) -> "ClosedForm":
        """Solve a linear closed model exactly (:func:`.linear.solve_closed_form`)."""
        from .linear import solve_closed_form

        return solve_closed_form(self, system, use_combinations)

    # ---------------------------------------------------------------- numerics
    def parameter_vector(
        self,
        rates: Mapping[str, float] | Sequence[float] | np.ndarray,
        closure_params: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    ) -> np.ndarray:
        """The parameter vector in :attr:`parameters` order from rates and closure parameters.

        ``rates`` may also be one mapping holding rates and closure parameters together.
        """
        from .vectors import vector_from as _vector_from

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
        from .vectors import initial_vectors

        return initial_vectors(self, initial, tol)[0]

    def initial_full_state(self, initial: Mapping[str, float] | Sequence[float] | np.ndarray, *, tol: float = 1e-8) -> np.ndarray:
        """Every window class (in :attr:`window_names` order) from a mapping or an array."""
        from .vectors import initial_vectors

        return initial_vectors(self, initial, tol)[1]

    def evaluate_rhs(self, state: Any, rates: Any, closure_params: Any = None) -> np.ndarray:
        """Reference (sympy, slow) evaluation of the reduced right-hand side at a state vector."""
        y = np.asarray(state, dtype=float)
        p = self.parameter_vector(rates, closure_params)
        subs = {s: float(v) for s, v in zip(self.state_symbols, y)}
        subs.update({s: float(v) for s, v in zip(self.parameters, p)})
        return np.array([float(sp.N(e.xreplace(subs), 30)) for e in self.rhs.values()])

    def compile(self, cache_dir: Any = None, *, verbose: bool = False) -> "CompiledModel":
        """Compile (or load from the disk cache) the numba right-hand side, Jacobian and integrator.

        See :func:`latticeclosure.closedmodel.compile.compile_model` (compiled once per model and cache).
        """
        from .compile import compile_model

        return compile_model(self, cache_dir=cache_dir, verbose=verbose)

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
    ) -> "Solution":
        """Integrate the closed model; see :func:`latticeclosure.closedmodel.integrate.solve`."""
        from .integrate import solve

        return solve(self, t_eval, initial_state, rates, closure_params, method=method, rtol=rtol, atol=atol, **options)


_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "kappa", "lambda", "mu", "nu", "xi", "rho",
          "sigma", "tau", "phi", "chi", "psi", "omega"}


def _latex_class(name: str, classes: dict[str, str]) -> str:
    return classes.get(name) or latex_text(name)


def _latex_param(name: str, classes: dict[str, str]) -> str:
    """``gamma[L++-;C+-]`` → ``\\gamma^{L_{++-}}_{C_{+-}}``; other names as ``head_{tail}``."""
    if name.endswith("]") and "[" in name:
        kind, inner = name[:-1].split("[", 1)
        head = f"\\{kind}" if kind in _GREEK else latex_text(kind)
        owner, _, key = inner.rpartition(";")
        if owner:
            return f"{head}^{{{_latex_class(owner, classes)}}}_{{{_latex_class(key, classes)}}}"
        return f"{head}_{{{_latex_class(key, classes)}}}"
    head, _, tail = name.partition("_")
    h = f"\\{head}" if head in _GREEK else latex_text(head)
    return f"{h}_{{{latex_text(tail)}}}" if tail else h


def _tidy(expr: sp.Expr, xs: Sequence[sp.Symbol]) -> sp.Expr:
    """Expand and collect polynomial right-hand sides; leave rational ones as they are."""
    if expr.is_polynomial(*xs):
        return sp.collect(sp.expand(expr), list(xs))
    return expr
