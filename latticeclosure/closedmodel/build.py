"""Close generated rate equations: substitute a closure, take exact marginals, use the normalisation.

:func:`close_equations` turns a :class:`~latticeclosure.equations.RateEquations` hierarchy (window
classes of size n, right-hand sides in size-n and size-(n+1) classes) into a
:class:`~latticeclosure.closedmodel.model.ClosedModel` whose right-hand sides only involve the window
classes, in four documented steps:

1. **Closure.** Every size-(n+1) context class ``c`` is replaced by the closure's expression
   ``closure.expression(c, index, params)`` (a different closure per class through ``per_class``).
2. **Marginals.** Every class smaller than the window that appears (in a closure expression — the
   singlets ``C+``, ``C-`` of the pair approximation — or on a right-hand side) is not a state variable;
   it is replaced by its *exact marginal* of the window classes, computed from the
   :class:`~latticeclosure.classindex.ClassIndex` for any lattice, window size and species count::

       C_s = (1/m_s) Σ_c C_c · #{p ∈ c : p restricted to a sub-embedding of s's shape lies in s}

   averaged over all sub-embeddings of the small shape inside the first window shape (enumeration
   order) that contains one. On the triangular pair window ``C+ = C++ + C+-``, ``C- = C-- + C+-``.
   Measured concentrations satisfy every such identity exactly, so the choice of sub-embedding and
   of window shape only matters for data that are not marginally consistent.
3. **Normalisation.** Per window shape ``Σ_c m_c C_c = 1``. By default one class per window shape is
   eliminated — the *first* class in enumeration order (the uniform class of the first species:
   ``C++`` on the pair window, ``CS`` for species S, I) — through
   ``C_e = (1 − Σ_{c≠e} m_c C_c) / m_e``. ``eliminate=None`` keeps all window classes as state
   variables; ``"last"`` or an explicit list of class names choose differently. Elimination is exact
   because every generated hierarchy conserves ``Σ m_c dC_c/dt = 0`` identically (checked here).
4. **Provenance.** Every term of every equation is recorded with the class that produced it and the
   expression that replaced it (:class:`TermProvenance`); :meth:`ClosedModel.explain` prints it.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from ..errors import ClosureError, GeometryError

if TYPE_CHECKING:  # pragma: no cover
    from .model import ClosedModel

__all__ = [
    "close_equations",
    "TermProvenance",
    "marginal_expressions",
    "normalisation_eliminations",
]


@dataclass(frozen=True)
class TermProvenance:
    """Where one term of one closed equation came from.

    Attributes
    ----------
    equation : str
        The window class whose equation holds the term (the left-hand side ``dC/dt``).
    term : sympy.Expr
        The term of the generated (unclosed) right-hand side, e.g. ``4*k1*A+-+``.
    source : str
        The class that produced it (a size-(n+1) context class, a window class, or a smaller class).
    kind : str
        ``"closure"`` (size-(n+1) class replaced by a closure), ``"state"`` (a window class, kept),
        ``"marginal"`` (a smaller class replaced by its exact marginal).
    closure : str or None
        Name of the closure family (or preset) that replaced ``source``; None unless ``kind == "closure"``.
    closure_expression : sympy.Expr
        The closure's expression for ``source`` as the closure returned it (singlets included);
        ``source`` itself for kept window classes.
    replacement : sympy.Expr
        What ``source`` was finally replaced by, in window-class symbols (marginals substituted).
    closed_term : sympy.Expr
        The term after substitution, before the normalisation elimination.
    """

    equation: str
    term: sp.Expr
    source: str
    kind: str
    closure: str | None
    closure_expression: sp.Expr
    replacement: sp.Expr
    closed_term: sp.Expr

    def to_json(self) -> dict[str, Any]:
        return {
            "equation": self.equation,
            "term": sp.sstr(self.term),
            "source": self.source,
            "kind": self.kind,
            "closure": self.closure,
            "closure_expression": sp.sstr(self.closure_expression),
            "replacement": sp.sstr(self.replacement),
            "closed_term": sp.sstr(self.closed_term),
        }


# ------------------------------------------------------------------------------------ marginals
def marginal_expressions(index: Any, window_classes: list, symbols: Mapping[str, sp.Symbol] | None = None) -> dict[str, sp.Expr]:
    """Exact marginals of every class smaller than the window, as linear forms in window classes.

    Parameters
    ----------
    index : ClassIndex
        Holds all shapes up to at least the window size.
    window_classes : list of ClusterClass
        All classes of the window shapes (size n).
    symbols : mapping, optional
        Class name → symbol for the window classes (default ``Symbol(name)``).

    Returns
    -------
    dict
        Small class name → ``sympy.Expr`` in the window-class symbols. Each is averaged over every
        sub-embedding of the small shape inside the first window shape that contains one.
    """
    if not window_classes:
        return {}
    n = window_classes[0].size
    sym = dict(symbols or {})
    shapes: list[Any] = []
    for c in window_classes:
        if c.shape not in shapes:
            shapes.append(c.shape)
    out: dict[str, sp.Expr] = {}
    for size in range(1, n):
        for small in index.shapes_of_size(size):
            small_classes = index.classes_of[small.name]
            for shape in shapes:
                keys = np.asarray(shape.sites, dtype=np.int64)
                subsets = []
                for sub in itertools.combinations(range(shape.size), size):
                    try:
                        found, _ = index.shape_of(keys[list(sub)])
                    except GeometryError:
                        continue  # disconnected sub-set
                    if found.name == small.name:
                        subsets.append(sub)
                if not subsets:
                    continue
                counts: dict[str, dict[str, int]] = {s.name: {} for s in small_classes}
                for sub in subsets:
                    sub_keys = keys[list(sub)]
                    for c in (w for w in window_classes if w.shape is shape):
                        for p in c.patterns:
                            s_name = index.classify(sub_keys, [p[i] for i in sub]).name
                            counts[s_name][c.name] = counts[s_name].get(c.name, 0) + 1
                for s in small_classes:
                    expr = sp.Add(
                        *[
                            sp.Rational(k, s.multiplicity * len(subsets)) * sym.get(cn, sp.Symbol(cn))
                            for cn, k in counts[s.name].items()
                        ]
                    )
                    out[s.name] = expr
                break
    return out


def normalisation_eliminations(
    window_classes: list, eliminate: Any = "first", symbols: Mapping[str, sp.Symbol] | None = None
) -> dict[str, sp.Expr]:
    """Class name → its expression through the per-shape normalisation ``Σ_c m_c C_c = 1``.

    Parameters
    ----------
    window_classes : list of ClusterClass
    eliminate : "first", "last", None/False, or iterable of class names
        Which class of each window shape to eliminate (at most one per shape).
    """
    if eliminate is None or eliminate is False:
        return {}
    sym = dict(symbols or {})
    by_shape: dict[str, list] = {}
    for c in window_classes:
        by_shape.setdefault(c.shape.name, []).append(c)
    chosen: dict[str, Any] = {}
    if eliminate == "first":
        chosen = {k: v[0] for k, v in by_shape.items()}
    elif eliminate == "last":
        chosen = {k: v[-1] for k, v in by_shape.items()}
    elif isinstance(eliminate, str) or not isinstance(eliminate, (list, tuple, set, frozenset)):
        raise ClosureError(f"eliminate must be 'first', 'last', None or a list of class names, got {eliminate!r:.40}")
    else:
        names = list(eliminate)
        known = {c.name: c for c in window_classes}
        for name in names:
            if name not in known:
                raise ClosureError(f"cannot eliminate {name!r}: not a window class; window classes: {sorted(known)}")
            shape = known[name].shape.name
            if shape in chosen:
                raise ClosureError(
                    f"cannot eliminate both {chosen[shape].name!r} and {name!r}: the normalisation gives "
                    f"one relation per window shape ({shape!r})"
                )
            chosen[shape] = known[name]
    out: dict[str, sp.Expr] = {}
    for shape, e in chosen.items():
        rest = sp.Add(*[c.multiplicity * sym.get(c.name, sp.Symbol(c.name)) for c in by_shape[shape] if c is not e])
        out[e.name] = (1 - rest) / e.multiplicity
    return out


# ------------------------------------------------------------------------------------ closures
def _resolve_closure(closure: Any) -> Any:
    """A closure object from a registered closure/preset name, a fit result, a mapping or an object."""
    if closure is None:
        return None
    from ..closures.calibration import CalibrationResult
    from ..registry import get_registry

    if isinstance(closure, CalibrationResult):
        return closure.closure()
    if isinstance(closure, Mapping):
        return ExplicitClosure(closure)
    return get_registry().resolve("closures", closure)


def _closure_name(family: Any) -> str:
    return str(getattr(family, "name", type(family).__name__))


class ExplicitClosure:
    """A closure given directly as a mapping class name → expression (string, number or sympy).

    Strings are parsed by the package's one restricted parser
    (:func:`latticeclosure.expressions.parse_expression`): class names of the index (``C++``-style
    names are written as they are, or in braces ``{C+-}``), numbers, arithmetic, the whitelisted
    functions, and names of rate constants; nothing of the text is evaluated by Python. Mostly a
    convenience for tests and notebooks; the ``custom`` closure family is the file-based variant with
    declared parameters.
    """

    name = "explicit"
    description = "closure expressions given directly, class by class"

    def __init__(self, mapping: Mapping[str, Any]) -> None:
        self.mapping = dict(mapping)
        for key, value in self.mapping.items():
            if not isinstance(key, str):
                raise ClosureError(f"explicit closure: class names must be strings, got {key!r:.40}")
            if isinstance(value, bool) or not isinstance(value, (str, int, float, sp.Basic)):
                raise ClosureError(
                    f"explicit closure for {key!r}: expected an expression (string, number or sympy), got "
                    f"{type(value).__name__}"
                )

    def configure(self, **options: Any) -> "ExplicitClosure":
        if options:
            raise ClosureError(f"the explicit closure takes no options, got {sorted(options)}")
        return self

    def can_close(self, cls: Any, index: Any) -> bool:
        return cls.name in self.mapping

    def parameters(self, cls: Any, index: Any) -> list[sp.Symbol]:
        return []

    def expression(self, cls: Any, index: Any, params: Any = None) -> sp.Expr:
        from ..expressions import as_expression, check_real, parse_expression

        if cls.name not in self.mapping:
            raise ClosureError(f"explicit closure has no expression for {cls.name!r}")
        value = self.mapping[cls.name]
        where = f"explicit closure for {cls.name!r}"
        if isinstance(value, sp.Basic):
            if not isinstance(value, sp.Expr):
                raise ClosureError(f"{where}: {type(value).__name__} is not an arithmetic expression")
            if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
                raise ClosureError(f"{where}: the expression is infinite or undefined")
            check_real(value, where, ClosureError)
            return value
        if isinstance(value, (int, float)):
            return as_expression(value, where, ClosureError)
        # other identifiers become symbols: close_equations accepts rate constants and refuses the rest
        return parse_expression(value, class_names=list(index.by_name), parameters=None, where=where,
                                error=ClosureError)


def _closure_params_for(params: Any, cls: Any) -> Any:
    """Per-class parameters: ``params[cls.name]`` when ``params`` is keyed by class names."""
    if isinstance(params, Mapping) and cls.name in params:
        return params[cls.name]
    return params


# ------------------------------------------------------------------------------------ main
def close_equations(
    equations: Any,
    closure: Any,
    params: Any = None,
    *,
    per_class: Mapping[str, Any] | None = None,
    eliminate: Any = "first",
    check_conservation: bool = True,
    conserve: bool | Sequence[str] = False,
) -> "ClosedModel":
    """Close a generated hierarchy with a closure and return the closed model.

    Parameters
    ----------
    equations : RateEquations
        From :func:`latticeclosure.equations.generate_equations` (or any object with ``index``,
        ``window_classes``, ``context_classes``, ``symbols``, ``rhs`` and ``rates``).
    closure : closure family, str or mapping
        A configured closure family (``expression(cls, index, params)``), a registered closure or
        closure-preset name, or a mapping class name → expression. May be None when ``per_class``
        covers every context class.
    params : optional
        Closure parameters handed to ``closure.expression(cls, index, params)``. A mapping keyed by
        class names gives each class its own parameters. None keeps the closure's free parameters
        (exponents) symbolic: they become parameters of the closed model.
    per_class : mapping, optional
        Class name → closure (object, name or expression) overriding ``closure`` for that class.
    eliminate : "first" (default), "last", None, or list of class names
        Which window class per window shape the normalisation eliminates (see the module docs).
    check_conservation : bool
        Verify ``Σ_c m_c rhs_c = 0`` per window shape before eliminating (a shape that fails keeps
        all its classes, with a warning).
    conserve : bool or sequence of str
        Impose the composition laws of a composition-conserving dynamics exactly (see
        :func:`latticeclosure.closedmodel.conservation.impose_conservation`; a sequence names the
        state classes whose equations the laws replace). :meth:`ClosedModel.conservation_report`
        tells which laws a closed model breaks.

    Returns
    -------
    ClosedModel

    Raises
    ------
    ClosureError
        A context class no closure can express, a closure expression using symbols that are neither
        classes of size ≤ n nor declared closure parameters, or a bad ``eliminate``.
    """
    from .model import ClosedModel

    missing = [a for a in ("index", "window_classes", "context_classes", "rhs", "rates") if not hasattr(equations, a)]
    if missing:
        raise ClosureError(
            f"close_equations needs rate equations (from generate_equations), got {type(equations).__name__} "
            f"without {', '.join(missing)}"
        )
    if per_class is not None and not isinstance(per_class, Mapping):
        raise ClosureError(f"per_class must map class names to closures, got {type(per_class).__name__}")
    window_classes = list(equations.window_classes)
    if not window_classes:
        raise ClosureError("the equations have no window classes")
    window = _Window(equations, window_classes)
    default = _resolve_closure(closure)
    overrides = {name: _resolve_closure(c) for name, c in (per_class or {}).items()}
    unknown = sorted(set(overrides) - {c.name for c in equations.context_classes})
    if unknown:
        raise ClosureError(
            f"per_class names {unknown} that are not context classes of these equations; "
            f"context classes: {[c.name for c in equations.context_classes]}"
        )
    closure_of, closure_params = _closed_context_classes(equations, window, default, overrides, params)
    full_rhs, provenance = _substitute(equations, window, closure_of)
    eliminated = normalisation_eliminations(window_classes, eliminate, window.symbols)
    if eliminated and check_conservation:
        _keep_unconserved(equations, window, eliminated)
    model = ClosedModel(
        equations=equations,
        window_classes=window_classes,
        symbols=window.symbols,
        full_rhs=full_rhs,
        eliminated=eliminated,
        marginals=window.marginals,
        rate_symbols=window.rate_symbols,
        closure_parameters=closure_params,
        closure_expressions={k: v[1] for k, v in closure_of.items()},
        closure_names={k: v[0] for k, v in closure_of.items()},
        provenance=provenance,
        closure_label=_closure_name(default) if default is not None else "per-class",
    )
    if conserve:
        from .conservation import impose_conservation

        model = impose_conservation(model, None if conserve is True else list(conserve))
    return model


class _Window:
    """What closing needs to know about the window: its symbols, the marginals of smaller classes, the rates."""

    def __init__(self, equations: Any, window_classes: list) -> None:
        self.index = equations.index
        self.n = window_classes[0].size
        names = [c.name for c in window_classes]
        self.names = names
        self.symbols: dict[str, sp.Symbol] = {name: sp.Symbol(name) for name in names}
        self.symbols.update({k: v for k, v in getattr(equations, "symbols", {}).items() if k in self.symbols})
        self.by_name = dict(self.index.by_name)
        self.rate_symbols = [r.symbol for r in equations.rates]
        self.rate_names = {s.name for s in self.rate_symbols}
        self.marginals = marginal_expressions(self.index, window_classes, self.symbols)

    def to_window(self, expr: sp.Expr, allowed_params: set[sp.Symbol], where: str) -> sp.Expr:
        """Canonical class symbols, smaller classes → their marginals; refuse foreign symbols."""
        repl: dict[sp.Symbol, sp.Expr] = {}
        for s in expr.free_symbols:
            name = s.name
            if name in self.symbols:
                repl[s] = self.symbols[name]
            elif name in self.marginals:
                repl[s] = self.marginals[name]
            elif name in self.by_name and self.by_name[name].size < self.n:
                raise ClosureError(f"{where}: no marginal for {name!r} within the window shapes")
            elif name in self.by_name:
                raise ClosureError(
                    f"{where}: uses {name!r}, a class of size {self.by_name[name].size} — a closure may only "
                    f"use classes up to the window size {self.n}"
                )
            elif s in allowed_params or name in self.rate_names:
                continue
            else:
                raise ClosureError(
                    f"{where}: unknown symbol {name!r} (neither a class of size ≤ {self.n} nor a declared "
                    "closure parameter)"
                )
        return expr.xreplace(repl)


def _closed_context_classes(equations: Any, window: _Window, default: Any, overrides: Mapping[str, Any],
                            params: Any) -> tuple[dict[str, tuple[str, sp.Expr, sp.Expr]], list[sp.Symbol]]:
    """Every context class's closure: ``{class: (closure name, its expression, in window symbols)}``
    and the closures' free parameters in order of appearance."""
    from ..expressions import as_expression, check_real

    index = window.index
    closure_of: dict[str, tuple[str, sp.Expr, sp.Expr]] = {}
    closure_params: list[sp.Symbol] = []
    for c in equations.context_classes:
        family = overrides.get(c.name, default)
        if family is None:
            raise ClosureError(f"no closure given for the context class {c.name!r}")
        fname = _closure_name(family)
        if not family.can_close(c, index):
            check = getattr(family, "check", None)
            if check is not None:
                check(c, index)  # raises the family's own, more specific ClosureError
            raise ClosureError(f"closure {fname!r} cannot express the class {c.name!r} (shape {c.shape.name})")
        raw = as_expression(family.expression(c, index, _closure_params_for(params, c)),
                            f"closure {fname!r} for {c.name!r}", ClosureError)
        check_real(raw, f"closure {fname!r} for {c.name!r}", ClosureError)
        declared = list(family.parameters(c, index))
        final = window.to_window(raw, set(declared), f"closure {fname!r} for {c.name!r}")
        for s in declared:
            if s in raw.free_symbols and s not in closure_params:
                closure_params.append(s)
        closure_of[c.name] = (fname, raw, final)
    return closure_of, closure_params


def _substitute(equations: Any, window: _Window, closure_of: Mapping[str, tuple[str, sp.Expr, sp.Expr]]
                ) -> tuple[dict[str, sp.Expr], list[TermProvenance]]:
    """The closed right-hand sides, substituted term by term, and the provenance of every term."""
    from ..expressions import as_expression

    provenance: list[TermProvenance] = []
    full_rhs: dict[str, sp.Expr] = {}
    for lhs in window.names:
        closed_terms = []
        for term in sp.Add.make_args(sp.expand(as_expression(equations.rhs[lhs], f"equation d{lhs}/dt", ClosureError))):
            if term == 0:
                continue
            repl: dict[sp.Symbol, sp.Expr] = {}
            records = []
            for s in sorted((s for s in term.free_symbols if s.name in window.by_name), key=lambda x: x.name):
                name = s.name
                if name in closure_of:
                    fname, raw, final = closure_of[name]
                    kind, cname, craw, cfinal = "closure", fname, raw, final
                elif name in window.symbols:
                    kind, cname, craw, cfinal = "state", None, window.symbols[name], window.symbols[name]
                elif name in window.marginals:
                    kind, cname, craw, cfinal = "marginal", None, s, window.marginals[name]
                else:
                    raise ClosureError(
                        f"equation d{lhs}/dt: the class {name!r} (size {window.by_name[name].size}) is neither a "
                        "window class, a smaller class, nor a listed context class"
                    )
                repl[s] = cfinal
                records.append((lhs, term, name, kind, cname, craw, cfinal))
            closed = term.xreplace(repl)
            closed_terms.append(closed)
            provenance.extend(TermProvenance(*r, closed) for r in records)
        full_rhs[lhs] = sp.Add(*closed_terms)
    return full_rhs, provenance


def _keep_unconserved(equations: Any, window: _Window, eliminated: dict[str, sp.Expr]) -> None:
    """Keep as state variables the classes of shapes whose normalisation the equations do not conserve."""
    from ..expressions import as_expression

    classes = list(equations.window_classes)
    for name in list(eliminated):
        shape = window.by_name[name].shape
        total = sp.expand(sp.Add(*[c.multiplicity * as_expression(equations.rhs[c.name], f"equation d{c.name}/dt", ClosureError)
                                   for c in classes if c.shape is shape]))
        if total != 0:
            warnings.warn(
                f"the equations do not conserve the normalisation of shape {shape.name!r} "
                f"(Σ m_c dC_c/dt = {total}); keeping {name!r} as a state variable",
                stacklevel=3,
            )
            del eliminated[name]
