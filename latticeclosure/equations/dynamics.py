"""Reaction generators (dynamics): Kawasaki swaps and single-site flips.

A dynamics object lists, for a labelled window embedding with a given pattern, every elementary event
that changes the window's pattern, together with its context. The generator
(:mod:`latticeclosure.equations.generator`) turns those events into rate equations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import sympy as sp

from ..errors import LatticeClosureError
from .reactions import ROLE_ACTIVE, ROLE_CATALYST, ROLE_PARTNER, ROLE_WINDOW

__all__ = ["Event", "SwapDynamics", "FlipDynamics", "FlipRule", "load_flip_spec", "FlipSpecError", "rate_expression"]


class FlipSpecError(LatticeClosureError):
    """A flip specification names unknown states, negative rates, or is malformed."""


@dataclass
class Event:
    """One elementary event on a labelled window (see :class:`~latticeclosure.equations.Reaction`)."""

    kind: str
    context_keys: np.ndarray      # (m, d+1) window sites then the outside site, if any
    context_states: tuple[int, ...]
    roles: np.ndarray             # (m,) roles for the orbit key
    active: int
    partner: int | None
    product_window: tuple[int, ...]
    product_context: tuple[int, ...]
    rate: str | None = None       # fixed rate name (flip rules); None = one per orbit (swap)


def _outside_neighbours(
    lattice, window: list[tuple], w: int, exclude_closed: bool, kinds: tuple[str, ...] | None = None
) -> list[tuple]:
    members = set(window)
    out = []
    for o in _neighbours_across(lattice, window[w], kinds):
        if o in members:
            continue
        if exclude_closed and any(lattice.are_neighbours(o, window[v]) for v in range(len(window)) if v != w):
            continue
        out.append(o)
    return out


def _neighbours_across(lattice, key: tuple, kinds: tuple[str, ...] | None) -> list[tuple]:
    """Neighbours of a site across bonds of the allowed kinds (all bonds when ``kinds`` is None)."""
    if kinds is None:
        return lattice.neighbour_keys(key)
    return lattice.neighbour_keys(key, kinds)


def _bond_kinds_option(kinds: Any) -> tuple[str, ...] | None:
    """Normalise a ``bond_kinds`` option: None, a name, a comma/blank separated string or a list."""
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = [k for k in kinds.replace(",", " ").split() if k]
    if isinstance(kinds, (list, tuple)) and kinds and all(isinstance(k, str) for k in kinds):
        return tuple(dict.fromkeys(kinds))
    raise LatticeClosureError(f"bond_kinds must be a non-empty list of bond kind names, got {kinds!r}")


class SwapDynamics:
    """Kawasaki exchange across bonds.

    Parameters
    ----------
    exclude_closed : bool
        Drop outside neighbours ``o`` that are bonded to another window site (the paper's
        "reactions inside a triangle"; any bond counts). Internal swaps are never dropped.
    bond_kinds : sequence of str, optional
        Swap only across bonds of these kinds (checked against the lattice: an unknown kind is a
        :class:`~latticeclosure.errors.BondError`). Default: across every bond.
    """

    name = "swap"
    description = "Kawasaki exchange (swaps of two different states across a bond)"
    conserves_composition = True

    def __init__(self, exclude_closed: bool = False, bond_kinds: Any = None) -> None:
        self.exclude_closed = bool(exclude_closed)
        self.bond_kinds = _bond_kinds_option(bond_kinds)

    def configure(self, **options: Any) -> "SwapDynamics":
        allowed = {"exclude_closed", "bond_kinds"}
        unknown = set(options) - allowed
        if unknown:
            raise LatticeClosureError(
                f"dynamics 'swap': unknown option(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        kw = {"exclude_closed": self.exclude_closed, "bond_kinds": self.bond_kinds}
        kw.update(options)
        return SwapDynamics(**kw)

    def events(self, lattice, window: list[tuple], pattern: tuple[int, ...], q: int, bonds) -> Iterator[Event]:
        n = len(window)
        keys = np.array(window, dtype=np.int64)
        kinds = lattice.check_bond_kinds(self.bond_kinds, "dynamics 'swap' bond_kinds") if self.bond_kinds else None
        # outside swaps: window site w with an outside neighbour o in a different state
        for w in range(n):
            for o in _outside_neighbours(lattice, window, w, self.exclude_closed, kinds):
                ctx = np.vstack([keys, np.array([o], dtype=np.int64)])
                roles = np.full(n + 1, ROLE_WINDOW, dtype=np.int64)
                roles[w], roles[n] = ROLE_ACTIVE, ROLE_PARTNER
                for s_o in range(q):
                    if s_o == pattern[w]:
                        continue
                    before = pattern + (s_o,)
                    after = list(before)
                    after[w], after[n] = before[n], before[w]
                    yield Event("outside", ctx, before, roles, w, n, tuple(after[:n]), tuple(after))
        # internal swaps: two neighbouring window sites in different states
        for a, b in bonds:
            if pattern[a] == pattern[b]:
                continue
            if kinds is not None and lattice.bond_kind(window[a], window[b]) not in kinds:
                continue
            roles = np.full(n, ROLE_WINDOW, dtype=np.int64)
            roles[a] = roles[b] = ROLE_ACTIVE
            after = list(pattern)
            after[a], after[b] = pattern[b], pattern[a]
            yield Event("internal", keys, pattern, roles, a, b, tuple(after), tuple(after))


@dataclass(frozen=True)
class FlipRule:
    """``source → target`` at ``rate``; per neighbour in state ``catalyst`` if given, else spontaneous.

    ``rate`` is the text of a rate expression: a parameter name (``"tau"``), a non-negative number
    (``"1/2"``) or an expression of named parameters and numbers (``"lam/4"``), parsed safely with
    sympy (see :mod:`latticeclosure.expressions`); :func:`load_flip_spec` stores it in sympy's
    canonical form, with decimal numbers as exact rationals.
    """

    source: str
    target: str
    rate: str
    catalyst: str | None = None

    @property
    def rate_expression(self) -> sp.Expr:
        """The rate as a sympy expression of its parameters."""
        return rate_expression(self.rate, f"flip rule {self.source}->{self.target}")

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of the parameters the rate depends on, sorted."""
        return tuple(sorted(str(s) for s in self.rate_expression.free_symbols))

    def rate_value(self, values: Mapping[str, float]) -> float:
        """The numeric rate for parameter values ``values`` (a mapping name → number).

        Raises
        ------
        FlipSpecError
            A parameter without a value, or a rate that comes out negative, complex or not finite.
        """
        expr = self.rate_expression
        missing = [p for p in self.parameters if p not in values]
        if missing:
            raise FlipSpecError(f"flip rule {self.source}->{self.target} (rate {self.rate}) needs a value for {missing}")
        value = complex(expr.evalf(subs={sp.Symbol(p): float(values[p]) for p in self.parameters}))
        if value.imag != 0 or not math.isfinite(value.real) or value.real < 0:
            raise FlipSpecError(
                f"flip rule {self.source}->{self.target}: rate {self.rate} = {value.real if value.imag == 0 else value} "
                "is not a finite non-negative number for the given parameter values"
            )
        return float(value.real)


@lru_cache(maxsize=1024)
def rate_expression(text: str, where: str = "flip rule") -> sp.Expr:
    """Parse a rate expression (names, numbers, + - * / ^, the whitelisted functions) exactly.

    Decimal numbers become exact rationals. A rate that is a number must be finite and non-negative.

    Raises
    ------
    FlipSpecError
    """
    from ..expressions import parse_expression

    expr = parse_expression(str(text), parameters=None, rational=True, where=f"{where}: rate", error=FlipSpecError)
    if expr.is_number and not (expr.is_real and expr.is_finite and expr >= 0):
        raise FlipSpecError(f"{where}: rate must be non-negative and finite, got {text!r}")
    return expr


def _rate_text(value: Any, where: str) -> str:
    """Canonical text of a rate given as a number or an expression."""
    if isinstance(value, bool):
        raise FlipSpecError(f"{where}: rate must be a name, a non-negative number or an expression, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise FlipSpecError(f"{where}: rate must be non-negative and finite, got {value!r}")
        exact = sp.Integer(value) if isinstance(value, int) else sp.Rational(repr(float(value)))
        return sp.sstr(exact)
    if isinstance(value, str) and value.strip():
        return sp.sstr(rate_expression(value.strip(), where))
    raise FlipSpecError(f"{where}: rate must be a name, a non-negative number or an expression, got {value!r}")


def load_flip_spec(source: str | Path | Mapping[str, Any] | Sequence[Mapping[str, Any]], species: Sequence[str]) -> list[FlipRule]:
    """Read a flip specification (TOML or JSON file, mapping, or list of rules) and validate it.

    Format (TOML)::

        [[rule]]
        from = "S"
        to = "I"
        rate = "tau"        # a name, a non-negative number, or an expression ("lam/4")
        catalyst = "I"      # optional: the rate applies per neighbour in this state

        [[rule]]
        from = "I"
        to = "S"
        rate = "gamma"

    Raises
    ------
    FlipSpecError
        Unknown states, negative rates, missing keys, unreadable file.
    """
    if isinstance(source, (str, Path)):
        from ..io.reading import parse_json, parse_toml, read_text

        path = Path(source)
        text = read_text(path, what="flip spec file", error=FlipSpecError)
        where = f"flip spec {str(path)!r}"
        data: Any = parse_json(text, where, FlipSpecError) if path.suffix.lower() == ".json" else parse_toml(
            text, where, FlipSpecError)
    elif isinstance(source, (Mapping, list, tuple)):
        data = source
    else:
        raise FlipSpecError(f"a flip spec must be a file name, a mapping or a list of rules, got {type(source).__name__}")
    rules_raw = data.get("rule", data.get("rules")) if isinstance(data, Mapping) else data
    if not isinstance(rules_raw, Sequence) or isinstance(rules_raw, (str, bytes)) or not rules_raw:
        raise FlipSpecError("flip spec must contain a non-empty list of rules under 'rule' (TOML) or 'rules'")
    sp = list(species)
    rules = []
    for i, raw in enumerate(rules_raw, start=1):
        where = f"flip rule {i}"
        if not isinstance(raw, Mapping):
            raise FlipSpecError(f"{where}: expected a table with from/to/rate, got {raw!r}")
        unknown = set(raw) - {"from", "to", "rate", "catalyst"}
        if unknown:
            raise FlipSpecError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: from, to, rate, catalyst")
        for req in ("from", "to", "rate"):
            if req not in raw:
                raise FlipSpecError(f"{where}: missing '{req}'")
        for key in ("from", "to", "catalyst"):
            if key in raw and raw[key] is not None and not isinstance(raw[key], str):
                raise FlipSpecError(f"{where}: '{key}' must be a state name (a string), got {raw[key]!r:.40}")
        src, tgt, cat = raw["from"], raw["to"], raw.get("catalyst")
        for label, state in (("from", src), ("to", tgt)) + ((("catalyst", str(cat)),) if cat is not None else ()):
            if state not in sp:
                raise FlipSpecError(f"{where}: {label} state {state!r} is not one of the species {sp}")
        if src == tgt:
            raise FlipSpecError(f"{where}: 'from' and 'to' are the same state {src!r}")
        rules.append(FlipRule(src, tgt, _rate_text(raw["rate"], where), None if cat is None else str(cat)))
    return rules


class FlipDynamics:
    """Single-site state changes: spontaneous, or catalysed by each neighbour in a given state.

    Parameters
    ----------
    rules : list of FlipRule, mapping, or path
        The declarative spec (see :func:`load_flip_spec`); validated against the species when the
        equations are generated.
    exclude_closed : bool
        Drop outside catalysts bonded to another window site (as for swaps).
    bond_kinds : sequence of str, optional
        Catalysis only across bonds of these kinds (default: every bond).
    """

    name = "flip"
    description = "single-site flips, spontaneous or catalysed per neighbour (SIS, contact process, Glauber)"
    conserves_composition = False

    def __init__(self, rules: Any = None, exclude_closed: bool = False, bond_kinds: Any = None) -> None:
        self.rules_source = rules
        self.exclude_closed = bool(exclude_closed)
        self.bond_kinds = _bond_kinds_option(bond_kinds)

    def configure(self, **options: Any) -> "FlipDynamics":
        allowed = {"rules", "exclude_closed", "spec", "bond_kinds"}
        unknown = set(options) - allowed
        if unknown:
            raise LatticeClosureError(
                f"dynamics 'flip': unknown option(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        rules = options.get("rules", options.get("spec", self.rules_source))
        return FlipDynamics(
            rules=rules,
            exclude_closed=options.get("exclude_closed", self.exclude_closed),
            bond_kinds=options.get("bond_kinds", self.bond_kinds),
        )

    def rules(self, species: Sequence[str]) -> list[FlipRule]:
        if self.rules_source is None:
            raise FlipSpecError("flip dynamics needs a spec (--flip-spec FILE): which state flips to which, at what rate")
        if isinstance(self.rules_source, list) and all(isinstance(r, FlipRule) for r in self.rules_source):
            sp = set(species)
            for r in self.rules_source:
                for st in (r.source, r.target, r.catalyst):
                    if st is not None and st not in sp:
                        raise FlipSpecError(f"flip rule {r}: state {st!r} is not one of the species {list(species)}")
            return list(self.rules_source)
        return load_flip_spec(self.rules_source, species)

    def events_for(self, rules: list[FlipRule], species, lattice, window, pattern, q, bonds) -> Iterator[Event]:
        index = {s: i for i, s in enumerate(species)}
        n = len(window)
        keys = np.array(window, dtype=np.int64)
        kinds = lattice.check_bond_kinds(self.bond_kinds, "dynamics 'flip' bond_kinds") if self.bond_kinds else None
        for rule in rules:
            src, tgt = index[rule.source], index[rule.target]
            for w in range(n):
                if pattern[w] != src:
                    continue
                after = list(pattern)
                after[w] = tgt
                if rule.catalyst is None:
                    roles = np.full(n, ROLE_WINDOW, dtype=np.int64)
                    roles[w] = ROLE_ACTIVE
                    yield Event("spontaneous", keys, pattern, roles, w, None, tuple(after), tuple(after), rule.rate)
                    continue
                cat = index[rule.catalyst]
                members = {k: i for i, k in enumerate(window)}
                for j in _neighbours_across(lattice, window[w], kinds):
                    if j in members:
                        if pattern[members[j]] != cat:
                            continue
                        roles = np.full(n, ROLE_WINDOW, dtype=np.int64)
                        roles[w], roles[members[j]] = ROLE_ACTIVE, ROLE_CATALYST
                        yield Event("catalysed", keys, pattern, roles, w, members[j], tuple(after), tuple(after), rule.rate)
                    else:
                        if self.exclude_closed and any(
                            lattice.are_neighbours(j, window[v]) for v in range(n) if v != w
                        ):
                            continue
                        ctx = np.vstack([keys, np.array([j], dtype=np.int64)])
                        roles = np.full(n + 1, ROLE_WINDOW, dtype=np.int64)
                        roles[w], roles[n] = ROLE_ACTIVE, ROLE_CATALYST
                        yield Event(
                            "catalysed", ctx, pattern + (cat,), roles, w, n, tuple(after), tuple(after) + (cat,), rule.rate
                        )
