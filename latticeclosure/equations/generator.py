"""The window method, done symbolically: mean-cluster rate equations for any lattice and dynamics.

For a window class ``c`` of size n with representative embedding ``e`` (sites in the shape's order),

    dC_c/dt = (1/m_c) Σ_events Σ_{patterns p on the event's context} k · C_{class(p)} · ([p' ∈ c] − [p ∈ c])

where the sum runs over every elementary event touching ``e`` (a swap of a window site with an outside
neighbour: context ``e ∪ {o}``, size n+1; an internal swap or flip: context ``e``, size n; a catalysed
flip with an outside catalyst: size n+1) and every pattern of its context. ``P(p on a labelled
context) = C_{class(p)}`` by the per-shape normalisation, so this is exact on translation- and
symmetry-averaged concentrations — in particular on the *measured* concentrations of any periodic
configuration, which the tests check against brute-force recounting.

Rate constants (swap): one per orbit of (window, active site, partner, pattern on the context) under
the space group; the reverse reaction is the same swap applied to the swapped pattern.

Default rate names are ``k1 … kN`` in this documented order: window shape (enumeration order), then
outside before internal events, then reactant window class, context shape, context class, product
window class (each in enumeration order), then the canonical orbit key. A rate naming plugin (hook
``latticeclosure_rate_namings``) may replace them, e.g. the paper's k1…k8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp

from ..classindex import ClassIndex
from ..clusters import ClusterClass, Shape, validate_species
from ..errors import LatticeClosureError, SizeLimitError
from ..protocols import RuleDynamics, conforms
from .dynamics import Event, rate_expression
from .reactions import Reaction, orbit_key

__all__ = [
    "RateEquations",
    "Rate",
    "EquilibriumConstant",
    "generate_equations",
    "DEFAULT_MAX_WINDOW_SIZE",
    "DEFAULT_MAX_CLASSES",
    "FIXED_RATE",
    "split_rate",
]

#: Largest window size generated unless the caller raises the limit.
DEFAULT_MAX_WINDOW_SIZE = 4
#: Refuse hierarchies expected to involve more context classes than this.
DEFAULT_MAX_CLASSES = 20000

_KIND_ORDER = {"outside": 0, "internal": 1, "spontaneous": 2, "catalysed": 3}


@dataclass(frozen=True)
class Rate:
    """A rate constant: its name, sympy symbol, reverse rate name (swap) and the reactions it drives."""

    name: str
    symbol: sp.Symbol
    reverse: str | None
    reactions: tuple[Reaction, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "reverse": self.reverse}


@dataclass(frozen=True)
class EquilibriumConstant:
    """``Q = k_forward / k_reverse = C_product-context / C_reactant-context`` (the paper's eq. 7)."""

    name: str
    forward: str
    reverse: str
    rate_ratio: sp.Expr
    concentration_ratio: sp.Expr

    def as_equation(self) -> sp.Eq:
        return sp.Eq(sp.Symbol(self.name), self.rate_ratio)


def _natural_key(name: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


@dataclass
class RateEquations:
    """The generated hierarchy: dC_c/dt for every window class, in terms of size-n and size-(n+1) classes.

    Attributes
    ----------
    lattice, species, dynamics, window_size, exclude_closed
        The setting.
    index : ClassIndex
        All connected shapes/classes up to size n+1 of the lattice.
    window_classes : list of ClusterClass
        Left-hand sides: every class of every size-n shape, in enumeration order.
    context_classes : list of ClusterClass
        Size-(n+1) classes that occur on right-hand sides.
    symbols : dict
        Class name → ``sympy.Symbol(class name)`` for every variable.
    rhs : dict
        Window class name → right-hand side (sum of coefficient × rate × variable).
    rates : list of Rate
    reactions : list of Reaction
        One representative per reaction orbit that changes some window class.
    """

    lattice: Any
    species: tuple[str, ...]
    dynamics: Any
    window_size: int
    exclude_closed: bool
    index: ClassIndex
    window_classes: list[ClusterClass]
    context_classes: list[ClusterClass]
    symbols: dict[str, sp.Symbol]
    rhs: dict[str, sp.Expr]
    rates: list[Rate]
    reactions: list[Reaction]
    terms: dict[str, list[tuple[Fraction, str, str]]] = field(repr=False, default_factory=dict)

    # ------------------------------------------------------------------ convenience views
    @property
    def dynamics_name(self) -> str:
        return self.dynamics.name

    @property
    def variables(self) -> list[ClusterClass]:
        """Window classes, then the context classes (the order of the JSON ``variables``)."""
        return list(self.window_classes) + list(self.context_classes)

    @property
    def rate_symbols(self) -> list[sp.Symbol]:
        return [r.symbol for r in self.rates]

    def symbol(self, name: str) -> sp.Symbol:
        """The sympy symbol of a class name."""
        return self.symbols[name]

    @staticmethod
    def derivative_symbol(name: str) -> sp.Symbol:
        """Symbol standing for dC/dt of a class (used in printed equations and conservation laws)."""
        return sp.Symbol(f"d{name}/dt")

    @property
    def equations(self) -> list[sp.Eq]:
        """``Eq(dC_c/dt, rhs_c)`` for every window class, in order."""
        return [sp.Eq(self.derivative_symbol(c.name), self.rhs[c.name]) for c in self.window_classes]

    def window_shapes(self) -> list[Shape]:
        seen: dict[str, Shape] = {}
        for c in self.window_classes:
            seen.setdefault(c.shape.name, c.shape)
        return list(seen.values())

    # ------------------------------------------------------------------ identities
    @cached_property
    def conservation_laws(self) -> list[sp.Eq]:
        """``Σ_c m_c dC_c/dt = 0`` for every window shape, each verified symbolically.

        Raises
        ------
        RuntimeError
            If a law does not hold (it always must: that would be a generator bug).
        """
        laws = []
        for shape in self.window_shapes():
            classes = [c for c in self.window_classes if c.shape is shape]
            total = sp.expand(sum(c.multiplicity * self.rhs[c.name] for c in classes))
            if total != 0:
                raise RuntimeError(f"internal error: conservation law of {shape.name} fails: {total}")
            laws.append(sp.Eq(sp.Add(*[c.multiplicity * self.derivative_symbol(c.name) for c in classes]), 0))
        return laws

    def singlet_drift(self, species: str | None = None, shape: Shape | None = None) -> sp.Expr:
        """d C_s / dt with ``C_s`` the window-averaged concentration of a species (first by default).

        ``C_s = Σ_c m_c C_c · (number of s in c)/n`` over the classes of one window shape (the first by
        default); for the pair window ``C₊ = C₊₊ + C₊₋``.
        """
        s_index = 0 if species is None else self.species.index(species)
        shape = shape or self.window_shapes()[0]
        n = shape.size
        total = 0
        for c in self.window_classes:
            if c.shape is not shape:
                continue
            share = sp.Rational(sum(1 for p in c.patterns for v in p if v == s_index), n)
            total += share * self.rhs[c.name]
        return sp.expand(total)

    @cached_property
    def composition_drift(self) -> dict[str, sp.Expr]:
        """Drift of every species' concentration (swap dynamics: zero only for related rate constants)."""
        return {s: self.singlet_drift(s) for s in self.species}

    @cached_property
    def drift_relations(self) -> list[sp.Eq]:
        """Relations among rate constants under which the composition drift vanishes identically.

        "Identically" means for every set of concentrations that is marginally consistent (summing
        a size-(k+1) class over the state of a removable site gives the size-k class, for all sizes up
        to n+1). Computed exactly: the drift's coefficient vector must lie in the span of those
        linear relations. An empty list means the drift vanishes for independent rate constants.
        """
        from .analysis import drift_relations

        return drift_relations(self)

    @cached_property
    def equilibrium_constants(self) -> list[EquilibriumConstant]:
        """Q_i = k_forward/k_reverse = C_product-context/C_reactant-context for each reverse pair."""
        out = []
        by_name = {r.name: r for r in self.rates}
        done = set()
        for rate in self.rates:
            if rate.reverse is None or rate.reverse == rate.name or rate.name in done:
                continue
            rev = by_name[rate.reverse]
            done |= {rate.name, rev.name}
            fwd_reaction = rate.reactions[0]
            out.append(
                EquilibriumConstant(
                    name=f"Q{len(out) + 1}",
                    forward=rate.name,
                    reverse=rev.name,
                    rate_ratio=rate.symbol / rev.symbol,
                    concentration_ratio=self._sym(fwd_reaction.product_context) / self._sym(fwd_reaction.context),
                )
            )
        return out

    def _sym(self, cls: ClusterClass) -> sp.Symbol:
        return self.symbols.get(cls.name, sp.Symbol(cls.name))

    def term_rate(self, label: str) -> sp.Expr:
        """The rate factor of a term as an expression of the rate constants.

        A term's rate label (the middle entry of :attr:`terms`) is a rate name, an expression of
        rate parameters (flip specs such as ``rate = "lam*mu"``; numeric factors are folded into the
        coefficient), or :data:`FIXED_RATE` (``"1"``) for a rate that is a fixed number.
        """
        names = {r.name: r.symbol for r in self.rates}
        if label in names:
            return names[label]
        return _label_expression(label)

    def numeric_rhs(self, concentrations: Mapping[str, float], rates: Mapping[str, float] | float = 1.0) -> dict[str, float]:
        """Evaluate the right-hand sides numerically (exact rational coefficients, float data).

        ``rates`` maps rate names to values, or is one number used for every rate constant.
        """
        names = {r.name for r in self.rates}
        values: dict[str, float] = {}

        def value(label: str) -> float:
            if label not in values:
                if label in names:
                    values[label] = float(rates if isinstance(rates, (int, float)) else rates[label])
                else:
                    expr = self.term_rate(label)
                    subs = {
                        s: float(rates if isinstance(rates, (int, float)) else rates[s.name]) for s in expr.free_symbols
                    }
                    values[label] = float(expr.evalf(subs=subs))
            return values[label]

        out = {}
        for lhs, terms in self.terms.items():
            total = 0.0
            for coeff, rate, var in terms:
                total += float(coeff) * value(rate) * float(concentrations[var])
            out[lhs] = total
        return out


# ---------------------------------------------------------------------- generation
def _resolve_dynamics(dynamics: Any, exclude_closed: bool, flip_spec: Any) -> Any:
    """The dynamics object: a registered name configured with the options, or an object as given."""
    from ..registry import get_registry

    if not isinstance(dynamics, str):
        return get_registry().resolve("dynamics", dynamics)
    options: dict[str, Any] = {"exclude_closed": exclude_closed}
    if flip_spec is not None:
        options["rules"] = flip_spec
    return get_registry().resolve("dynamics", dynamics, **options)


def _resolve_naming(naming: Any, lattice: Any, species: tuple[str, ...], dynamics: Any, window_size: int) -> Any:
    """The rate naming: ``None``, the first registered naming that applies (``"auto"``), or a resolved one."""
    if naming is None:
        return None
    from ..registry import get_registry

    registry = get_registry()
    if naming == "auto":
        for candidate in registry.all("rate_namings").values():
            if candidate.applies(lattice=lattice, species=species, dynamics=dynamics, window_size=window_size):
                return candidate
        return None
    return registry.resolve("rate_namings", naming)


def estimated_classes(lattice: Any, q: int, size: int) -> float:
    """Rough number of decorated classes of connected size-``size`` shapes with ``q`` species."""
    from ..clusters import ConnectedEnumerator

    return ConnectedEnumerator().estimate(lattice, size) * q**size / 2


def _check_request(lattice: Any, q: int, window_size: Any, max_window_size: int, max_classes: int) -> int:
    """The window size as an int, refusing requests beyond the limits (with an estimate)."""
    if isinstance(window_size, bool) or not isinstance(window_size, (int, np.integer)) or window_size < 1:
        raise SizeLimitError(f"window size must be a positive integer, got {window_size!r:.40}")
    n = int(window_size)
    if n > max_window_size:
        est = estimated_classes(lattice, q, n + 1)
        raise SizeLimitError(
            f"window size {n} exceeds the limit {max_window_size}; it would involve roughly {est:.3g} "
            f"size-{n + 1} classes on {lattice.name!r}; raise max_window_size to proceed"
        )
    pattern_budget = estimated_classes(lattice, q, n + 1)
    if pattern_budget > 50 * max_classes:
        raise SizeLimitError(
            f"window size {n} on {lattice.name!r} with {q} species would involve roughly "
            f"{pattern_budget:.3g} size-{n + 1} classes (limit {max_classes}); raise max_classes to proceed"
        )
    return n


def generate_equations(
    lattice: Any,
    species: Sequence[str],
    dynamics: Any = "swap",
    window_size: int = 2,
    exclude_closed: bool = False,
    flip_spec: Any = None,
    naming: Any = "auto",
    max_window_size: int = DEFAULT_MAX_WINDOW_SIZE,
    max_classes: int = DEFAULT_MAX_CLASSES,
) -> RateEquations:
    """Generate the mean-cluster rate equations of window size ``window_size``.

    Parameters
    ----------
    lattice : Lattice or str
        The lattice object, or a registered lattice name.
    species : sequence of str
        The states, e.g. ``["+", "-"]``.
    dynamics : str or dynamics object
        A registered dynamics name — ``"swap"`` (Kawasaki exchange), ``"flip"`` (needs
        ``flip_spec``) or a plugin's — configured with ``exclude_closed`` (and ``rules=flip_spec``),
        or a dynamics object (:data:`latticeclosure.protocols.Dynamics`), used as it is.
    window_size : int
        n: equations for size-n classes in terms of size-n and size-(n+1) classes.
    exclude_closed : bool
        Drop outside partners adjacent to another window site (swap and flip).
    flip_spec : path, mapping or list, optional
        Flip rules (see :func:`latticeclosure.equations.dynamics.load_flip_spec`).
    naming : "auto", None, str or naming object
        Rate naming: ``"auto"`` uses a registered naming that applies (a plugin may name the rates
        of a setting it knows), ``None`` the generic ``k1 … kN``.
    max_window_size, max_classes : int
        Limits; larger requests raise :class:`SizeLimitError` with an estimate.

    Returns
    -------
    RateEquations

    Raises
    ------
    SpeciesError, SizeLimitError, FlipSpecError, UnknownNameError
    """
    from ..registry import get_registry

    lattice = get_registry().resolve("lattices", lattice)
    sp_names = validate_species(species)
    n = _check_request(lattice, len(sp_names), window_size, max_window_size, max_classes)
    dyn = _resolve_dynamics(dynamics, exclude_closed, flip_spec)
    exclude_closed = bool(getattr(dyn, "exclude_closed", exclude_closed))
    flip_rules = dyn.rules(sp_names) if conforms(dyn, RuleDynamics) else None
    naming_obj = _resolve_naming(naming, lattice, sp_names, dyn, n)

    index = ClassIndex(lattice, sp_names, n + 1)
    n_context = len(index.classes_of_size(n + 1))
    if n_context > max_classes:
        raise SizeLimitError(
            f"window size {n} on {lattice.name!r} with {len(sp_names)} species involves {n_context} size-{n + 1} "
            f"classes (limit {max_classes}); raise max_classes to proceed"
        )
    contrib, orbits = _contributions(index, lattice, dyn, flip_rules, sp_names, n)
    used = {rid for (_, rid, _) in contrib}
    reactions = sorted((orbits[rid] for rid in used), key=lambda r: r.sort_key)
    _assign_rate_names(reactions, flip_rules is not None, naming_obj)
    rates = _rates(reactions, rules=flip_rules is not None)
    _check_rate_names(rates, index)
    rid_to_name = {rid: orbits[rid].rate for rid in used}
    window_classes = index.classes_of_size(n)
    var_names = {var for (_, _, var) in contrib}
    context_classes = [c for c in index.classes_of_size(n + 1) if c.name in var_names]
    all_vars = window_classes + context_classes
    symbols = {c.name: sp.Symbol(c.name) for c in all_vars}
    terms = _terms(contrib, rid_to_name, window_classes, all_vars, rules=flip_rules is not None)
    rate_syms = {r.name: r.symbol for r in rates}
    labels = {r for tl in terms.values() for _, r, _ in tl}
    label_expr = {r: rate_syms[r] if r in rate_syms else _label_expression(r) for r in labels}
    rhs = {
        lhs: sp.Add(*[sp.Rational(c.numerator, c.denominator) * label_expr[r] * symbols[v] for c, r, v in tl])
        for lhs, tl in terms.items()
    }
    return RateEquations(
        lattice=lattice,
        species=sp_names,
        dynamics=dyn,
        window_size=n,
        exclude_closed=exclude_closed,
        index=index,
        window_classes=window_classes,
        context_classes=context_classes,
        symbols=symbols,
        rhs=rhs,
        rates=rates,
        reactions=reactions,
        terms=terms,
    )


def _check_rate_names(rates: Sequence[Rate], index: ClassIndex) -> None:
    """Refuse rate names that are class names (rate and class would become one symbol)."""
    from .dynamics import FlipSpecError

    clash = sorted({r.name for r in rates} & set(index.by_name))
    if clash:
        raise FlipSpecError(f"rate name(s) {clash} are also class names on this lattice; rename the rates")


def _contributions(index: ClassIndex, lattice: Any, dyn: Any, flip_rules: Any, species: tuple[str, ...], n: int):
    """Every event on every labelled window pattern: ``{(lhs, reaction id, variable): coefficient}``.

    Returns the non-vanishing contributions and the representative reaction of every orbit.
    """
    q = len(species)
    group = lattice.symmetry
    window_shapes = index.shapes_of_size(n)
    class_pos = {c.name: i for i, c in enumerate(index.classes_of_size(n) + index.classes_of_size(n + 1))}
    shape_pos = {s.name: i for i, s in enumerate(index.shapes)}
    contrib: dict[tuple[str, Any, str], Fraction] = {}
    orbits: dict[Any, Reaction] = {}
    for w_idx, shape in enumerate(window_shapes):
        window = [tuple(k) for k in shape.sites]
        for pattern in np.ndindex(*([q] * n)):
            pattern = tuple(int(v) for v in pattern)
            reactant = index.classify(np.array(window), pattern)
            if flip_rules is not None:
                events = dyn.events_for(flip_rules, species, lattice, window, pattern, q, shape.bonds)
            else:
                events = dyn.events(lattice, window, pattern, q, shape.bonds)
            for ev in events:
                _accumulate(ev, index, group, shape, w_idx, pattern, reactant, species, class_pos, shape_pos, contrib, orbits)
    return {k: v for k, v in contrib.items() if v != 0}, orbits


def _rates(reactions: list[Reaction], rules: bool) -> list[Rate]:
    """One :class:`Rate` per rate constant (in natural order), with its reverse rate for orbit rates.

    Orbit rates (swap) are named per reaction orbit; rule rates (flip) are expressions whose free
    symbols are the rate constants (``"lam/4"`` has the constant ``lam``).
    """
    key_to_rate = {r.key: r.rate for r in reactions}
    by_name: dict[str, list[Reaction]] = {}
    for r in reactions:
        if rules:
            for param in sorted(str(v) for v in rate_expression(r.rate).free_symbols):
                by_name.setdefault(param, []).append(r)
        else:
            by_name.setdefault(r.rate, []).append(r)
    rates = []
    for name in sorted(by_name, key=_natural_key):
        rs = by_name[name]
        rev = None if rules else key_to_rate.get(rs[0].reverse_key)
        rates.append(Rate(name=name, symbol=sp.Symbol(name), reverse=rev, reactions=tuple(rs)))
    return rates


def _terms(contrib, rid_to_name, window_classes, all_vars, rules: bool) -> dict[str, list[tuple[Fraction, str, str]]]:
    """Right-hand-side terms ``(coefficient, rate label, variable)`` per window class, merged by label.

    A rule's numeric rate factor goes into the coefficient (``"lam/4"`` → ``1/4``, label ``lam``; a
    plain number gets the label :data:`FIXED_RATE`).
    """
    terms: dict[str, list[tuple[Fraction, str, str]]] = {c.name: [] for c in window_classes}
    merged: dict[tuple[str, str, str], Fraction] = {}
    for (lhs, rid, var), coeff in contrib.items():
        label = rid_to_name[rid]
        if rules:
            factor, label = split_rate(label)
            coeff = coeff * factor
        key = (lhs, label, var)
        merged[key] = merged.get(key, Fraction(0)) + coeff
    var_order = {c.name: i for i, c in enumerate(all_vars)}
    for (lhs, rate, var), coeff in sorted(
        merged.items(), key=lambda kv: (_natural_key(kv[0][1]), var_order[kv[0][2]])
    ):
        if coeff != 0:
            terms[lhs].append((coeff, rate, var))
    return terms


#: Rate label of a term whose rate is a fixed number (folded into the coefficient).
FIXED_RATE = "1"


def split_rate(text: str) -> tuple[Fraction, str]:
    """Split a flip rate expression into its numeric factor and the rest.

    ``"lam/4"`` → ``(1/4, "lam")``; ``"1/2"`` → ``(1/2, "1")`` (a fixed number, :data:`FIXED_RATE`);
    ``"tau"`` → ``(1, "tau")``; ``"2*(a + b)"`` → ``(2, "a + b")``.
    """
    factor, rest = rate_expression(text).as_coeff_Mul()
    if isinstance(rest, sp.Add):  # 2*a + 2*b -> 2, a + b
        common, rest = rest.primitive()
        factor = factor * common
    factor = sp.Rational(factor)
    return Fraction(int(factor.p), int(factor.q)), sp.sstr(rest)


def _label_expression(label: str) -> sp.Expr:
    return sp.Integer(1) if label == FIXED_RATE else rate_expression(label)


def _accumulate(ev: Event, index, group, shape, w_idx, pattern, reactant, species, class_pos, shape_pos, contrib, orbits):
    context = index.classify(ev.context_keys, ev.context_states)
    product = index.classify(ev.context_keys[: shape.size], ev.product_window)
    states = np.asarray(ev.context_states, dtype=np.int64)
    if ev.rate is None:
        rid = ("orbit", orbit_key(group, ev.context_keys, ev.roles, states))
    else:
        rid = ("named", ev.rate, ev.kind, orbit_key(group, ev.context_keys, ev.roles, states))
    if rid not in orbits:
        product_context = index.classify(ev.context_keys, ev.product_context)
        reverse_key = None
        if ev.rate is None:
            reverse_key = ("orbit", orbit_key(group, ev.context_keys, ev.roles, np.asarray(ev.product_context, dtype=np.int64)))
        orbits[rid] = Reaction(
            kind=ev.kind,
            window_shape=shape,
            sites=tuple(tuple(int(v) for v in k) for k in ev.context_keys.tolist()),
            states=tuple(ev.context_states),
            active=ev.active,
            partner=ev.partner,
            context=context,
            product_context=product_context,
            reactant=reactant,
            product=product,
            key=rid,
            reverse_key=reverse_key,
            species=species,
            rate=ev.rate or "",
            sort_key=(
                w_idx,
                _KIND_ORDER[ev.kind],
                class_pos[reactant.name],
                shape_pos[context.shape.name],
                class_pos.get(context.name, -1),
                class_pos[product.name],
                rid,
            ),
        )
    gain = Fraction(1, product.multiplicity)
    loss = Fraction(1, reactant.multiplicity)
    k_gain = (product.name, rid, context.name)
    k_loss = (reactant.name, rid, context.name)
    contrib[k_gain] = contrib.get(k_gain, Fraction(0)) + gain
    contrib[k_loss] = contrib.get(k_loss, Fraction(0)) - loss


def _assign_rate_names(reactions: list[Reaction], fixed: bool, naming: Any) -> list[str]:
    if fixed:
        return [r.rate for r in reactions]
    if naming is not None:
        names = [naming.rate_name(r) for r in reactions]
        if all(names) and len(set(names)) == len(names):
            for r, nm in zip(reactions, names):
                r.rate = nm
            return names
        missing = [r.describe() for r, nm in zip(reactions, names) if not nm]
        raise LatticeClosureError(
            f"rate naming {getattr(naming, 'name', naming)!r} does not name every reaction uniquely; "
            f"unnamed: {missing[:3]}"
        )
    for i, r in enumerate(reactions, start=1):
        r.rate = f"k{i}"
    return [r.rate for r in reactions]
