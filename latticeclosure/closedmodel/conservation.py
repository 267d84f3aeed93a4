"""Conservation laws of the exact hierarchy, and whether a closed model keeps them.

A composition-conserving dynamics (Kawasaki swaps) conserves every species' concentration, but the
window equations do so only for rate constants that satisfy their *drift relations*
(:attr:`latticeclosure.equations.RateEquations.drift_relations`): with those, the exact hierarchy's
composition drift vanishes on every marginally consistent set of concentrations. A closure replaces
the larger classes by expressions of the window classes, and many closures are not marginally
consistent, so the closed model's composition drift need not vanish even under the drift relations:
solved with such rates, a closed model can move the composition it was meant to keep.

:func:`conservation_report` checks every law symbolically (the closed composition drift under the
drift relations, simplified on the normalised state) and gives the drift of each broken one.
:func:`impose_conservation` returns a closed model that conserves them by construction: the equations
of one window class per conserved quantity are replaced by what the conservation laws (and the
normalisation) imply, which is the same as eliminating those classes through the laws — the
composition is then a constant of the motion, fixed by the initial state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import sympy as sp

from ..errors import ClosureError

if TYPE_CHECKING:  # pragma: no cover
    from .model import ClosedModel

__all__ = ["ConservationLaw", "ConservationReport", "composition_functionals", "conservation_report",
           "impose_conservation", "drift_relation_substitution", "drift_relation_rates", "composition_change"]


@dataclass
class ConservationLaw:
    """One conserved quantity of the exact hierarchy and what the closed model does with it.

    Attributes
    ----------
    quantity : str
        The conserved concentration, e.g. ``"C+"``.
    functional : dict
        Window class name → coefficient, ``quantity = Σ coefficient · C_class``.
    drift : sympy.Expr
        d(quantity)/dt of the closed model under the drift relations, simplified on the normalised
        state (``0`` when conserved).
    conserved : bool
    """

    quantity: str
    functional: dict[str, sp.Expr]
    drift: sp.Expr
    conserved: bool

    def to_json(self) -> dict[str, Any]:
        return {"quantity": self.quantity, "conserved": self.conserved, "drift": sp.sstr(self.drift),
                "functional": {k: sp.sstr(v) for k, v in self.functional.items()}}


@dataclass
class ConservationReport:
    """The conservation laws of a closed model's hierarchy and whether the model keeps each."""

    closure: str
    laws: list[ConservationLaw]
    relations: list[sp.Eq] = field(default_factory=list)

    @property
    def broken(self) -> list[ConservationLaw]:
        return [law for law in self.laws if not law.conserved]

    @property
    def conserved(self) -> bool:
        return not self.broken

    def to_text(self) -> str:
        if not self.laws:
            return f"{self.closure}: the dynamics conserves no composition (nothing to check)"
        lines = [f"{self.closure}: " + ("conserves " if self.conserved else "breaks ")
                 + ", ".join(law.quantity for law in (self.laws if self.conserved else self.broken))
                 + " under the drift relations"]
        lines += [f"  d{law.quantity}/dt = {sp.sstr(law.drift)}" for law in self.broken]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"closure": self.closure, "conserved": self.conserved, "laws": [law.to_json() for law in self.laws],
                "drift_relations": [sp.sstr(r) for r in self.relations]}


def composition_functionals(model: "ClosedModel") -> dict[str, dict[str, sp.Expr]]:
    """The conserved compositions of the model's dynamics: ``{"C+": {window class: coefficient}}``.

    One per species but the last (the normalisation fixes it), computed on the first window shape:
    ``C_s = Σ_c (number of s over all patterns of c) / n · C_c``. Empty for dynamics that do not
    conserve composition (``conserves_composition`` false or absent).
    """
    eqs = model.equations
    if not getattr(eqs.dynamics, "conserves_composition", False):
        return {}
    shape = model.window_classes[0].shape
    n = shape.size
    out: dict[str, dict[str, sp.Expr]] = {}
    for s_index, species in enumerate(eqs.species[:-1]):
        coeffs = {}
        for c in model.window_classes:
            if c.shape is not shape:
                continue
            share = sp.Rational(sum(1 for p in c.patterns for v in p if v == s_index), n)
            if share != 0:
                coeffs[c.name] = share
        out[_singlet_name(eqs, species)] = coeffs
    return out


def _singlet_name(eqs: Any, species: str) -> str:
    singlet = next((c for c in eqs.index.classes_of_size(1) if c.states == (species,)), None)
    return singlet.name if singlet is not None else f"C[{species}]"


def drift_relation_substitution(model: "ClosedModel") -> dict[sp.Symbol, sp.Expr]:
    """The drift relations as a substitution ``{dependent rate: expression in the free rates}``."""
    return {r.lhs: r.rhs for r in model.equations.drift_relations}


def _on_state(model: "ClosedModel", expr: sp.Expr) -> sp.Expr:
    """``expr`` (in window symbols) on the normalised state: eliminated classes substituted."""
    subs = {model.symbols[k]: v for k, v in model.eliminated.items()}
    return expr.xreplace(subs)


def conservation_report(model: "ClosedModel") -> ConservationReport:
    """Check the model's composition drift under the drift relations, law by law (see the module docstring)."""
    laws = []
    relations = list(model.equations.drift_relations) if composition_functionals(model) else []
    subs = drift_relation_substitution(model) if relations else {}
    for quantity, functional in composition_functionals(model).items():
        drift = sp.Add(*[coef * model.full_rhs[name] for name, coef in functional.items()])
        drift = _on_state(model, drift.xreplace(subs))
        drift = sp.expand(drift)
        if drift != 0 and _numerically_nonzero(model, drift):
            # clearly broken: keep the drift as it is (simplifying large non-polynomial drifts is slow)
            laws.append(ConservationLaw(quantity, functional, drift, False))
            continue
        if drift != 0:
            drift = sp.factor(sp.cancel(sp.together(drift)))
        laws.append(ConservationLaw(quantity, functional, drift, bool(drift == 0)))
    return ConservationReport(model.closure_label, laws, relations)


def _numerically_nonzero(model: "ClosedModel", expr: sp.Expr, trials: int = 4) -> bool:
    """Whether ``expr`` is clearly non-zero at random positive states and rates (a cheap first test)."""
    import numpy as np

    rng = np.random.default_rng(2024)
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    state = set(model.state_symbols)
    for _ in range(trials):
        values = {s: sp.Float(rng.uniform(0.05, 0.2) if s in state else rng.uniform(0.5, 1.5), 30) for s in symbols}
        try:
            value = complex(sp.N(expr.xreplace(values), 30))
        except (TypeError, ValueError, ZeroDivisionError):
            return False  # undecided: let the exact test decide
        if abs(value) > 1e-12:
            return True
    return False


def impose_conservation(model: "ClosedModel", replace: Sequence[str] | None = None) -> "ClosedModel":
    """A closed model that conserves the composition exactly (see the module docstring).

    Parameters
    ----------
    model : ClosedModel
    replace : sequence of str, optional
        The state classes whose equations the conservation laws replace, one per conserved
        quantity; default: for each law, the state class with the largest coefficient in it (the
        last in window order on ties) not chosen yet.

    Raises
    ------
    ClosureError
        For a model whose dynamics conserves nothing, or a bad ``replace``.
    """
    from .model import ClosedModel

    functionals = composition_functionals(model)
    if not functionals:
        raise ClosureError(f"the dynamics of {model.closure_label!r} conserves no composition; nothing to impose")
    chosen = list(replace) if replace is not None else _default_replacements(model, functionals)
    if len(chosen) != len(functionals) or len(set(chosen)) != len(chosen):
        raise ClosureError(f"conserve: give one distinct state class per conserved quantity "
                           f"({', '.join(functionals)}), got {list(chosen)}")
    bad = [c for c in chosen if c not in model.state_names]
    if bad:
        raise ClosureError(f"conserve: {bad} are not state classes; the state is {model.state_names}")
    # unknown derivatives: the chosen classes and the normalisation-eliminated ones; constraints: the
    # conservation laws and the normalisation of each shape (which the other equations already keep)
    unknown = chosen + list(model.eliminated)
    rows = [functional for functional in functionals.values()]
    for shape_name in dict.fromkeys(c.shape.name for c in model.window_classes):
        rows.append({c.name: sp.Integer(c.multiplicity) for c in model.window_classes if c.shape.name == shape_name})
    # Σ_row coef·dC/dt = 0 for every row: a linear system for the unknown derivatives with rational
    # coefficients and the known right-hand sides as constants (solved without simplifying them)
    A = sp.Matrix([[row.get(name, 0) for name in unknown] for row in rows])
    b = sp.Matrix([-sp.Add(*[coef * model.full_rhs[name] for name, coef in row.items() if name not in unknown])
                   for row in rows])
    if A.rank() != len(unknown):
        raise ClosureError(f"conserve: the laws do not determine the equations of {chosen}; choose other classes")
    solution = (A.T * A).LUsolve(A.T * b)
    full_rhs = dict(model.full_rhs)
    for name, value in zip(unknown, solution):
        full_rhs[name] = sp.expand(value)
    conserved = ClosedModel(
        equations=model.equations, window_classes=model.window_classes, symbols=model.symbols, full_rhs=full_rhs,
        eliminated=model.eliminated, marginals=model.marginals, rate_symbols=model.rate_symbols,
        closure_parameters=model.closure_parameters, closure_expressions=model.closure_expressions,
        closure_names=model.closure_names, provenance=model.provenance,
        closure_label=f"{model.closure_label} (conserving {', '.join(functionals)})",
        conserved_by=dict(zip(functionals, chosen)),
    )
    return conserved


def _default_replacements(model: "ClosedModel", functionals: dict[str, dict[str, sp.Expr]]) -> list[str]:
    chosen: list[str] = []
    for functional in functionals.values():
        candidates = [n for n in model.state_names if n in functional and n not in chosen]
        if not candidates:
            raise ClosureError("conserve: no state class left to replace by a conservation law")
        best = max(abs(functional[n]) for n in candidates)
        chosen.append([n for n in candidates if abs(functional[n]) == best][-1])
    return chosen


def drift_relation_rates(model: "ClosedModel", free: float = 1.0) -> dict[str, float]:
    """Rates on the drift-relation manifold: every free rate ``free``, the dependent ones from the relations."""
    subs = drift_relation_substitution(model)
    values = {s: float(free) for s in model.rate_symbols if s not in subs}
    for sym, expr in subs.items():
        values[sym] = float(expr.xreplace(values))
    return {s.name: values[s] for s in model.rate_symbols}


def composition_change(model: "ClosedModel", initial: Any, rates: Any, t_end: float) -> dict[str, tuple[float, float]]:
    """Every conserved quantity at t = 0 and at ``t_end`` along the model (``{"C+": (start, end)}``).

    A diagnostic: integrated with sympy's numpy code and SciPy's LSODA (no compilation), so it is
    cheap for the few-variable models it is meant for. ``end`` is NaN when the integration fails.
    """
    import numpy as np
    from scipy.integrate import solve_ivp

    functionals = composition_functionals(model)
    y0 = model.initial_state(initial)
    p = model.parameter_vector(rates)
    params = dict(zip(model.parameters, p))
    rhs = [e.xreplace(params) for e in model.rhs.values()]
    f = sp.lambdify([model.state_symbols], rhs, modules="numpy")
    full = {n: sp.sympify(e) for n, e in model.derived_expressions().items()}
    quantity = {q: sp.lambdify([model.state_symbols], sp.Add(*[c * full[n] for n, c in fn.items()]), modules="numpy")
                for q, fn in functionals.items()}
    with np.errstate(all="ignore"):
        sol = solve_ivp(lambda t, y: np.asarray(f(y), dtype=float), (0.0, float(t_end)), y0, method="LSODA",
                        rtol=1e-9, atol=1e-12)
    end_state = sol.y[:, -1] if sol.success else None
    return {q: (float(g(y0)), float(g(end_state)) if end_state is not None else float("nan")) for q, g in quantity.items()}
