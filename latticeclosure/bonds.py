"""Bond rules: which site pairs of a lattice are bonds, and of which kind.

A lattice is Bravais vectors + basis + a bond rule. The rule decides the bond graph, and everything
downstream (symmetry group, shapes, classes, counting, window method, closures) follows that graph.

Rules
-----
:class:`NearestNeighbours`
    The default: the site pairs at the minimal distance (bonds without a kind).
:class:`Shells`
    Neighbour shells by index, ``Shells((1, 2))``: shell k holds the site pairs at the k-th smallest
    inter-site distance of the lattice (over all basis sites). Bonds of shell k have the kind
    ``"J<k>"`` unless other kind names are given.
:class:`Cutoff`
    Every site pair at distance ≤ ``cutoff``; kinds by shell index as for :class:`Shells`.
:class:`ExplicitBonds`
    A list of :class:`Bond` records ``(source basis site, target basis site, cell offset, kind)``.
    A bond and its reverse are one bond: listing both is allowed, listing one twice with different
    kinds is an error. Either every bond has a kind or none has.

A bond kind is a name of letters and digits starting with a letter so that it can
appear in class names (``CJ1+-``) and in dynamics restrictions (``bond_kinds=("J1",)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from .errors import BondError

if TYPE_CHECKING:  # pragma: no cover
    from .lattice import Lattice

__all__ = [
    "Bond",
    "BondRule",
    "NearestNeighbours",
    "Shells",
    "Cutoff",
    "ExplicitBonds",
    "bond_rule",
    "validate_kind",
    "integer_row_basis",
]

_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")


def validate_kind(kind: Any, where: str = "bond") -> str:
    """Check a bond kind name: letters and digits, starting with a letter (it becomes part of names)."""
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise BondError(
            f"{where}: bond kind {kind!r} is not allowed; use a name of letters and digits "
            "starting with a letter (e.g. J1, x)"
        )
    return kind


@dataclass(frozen=True)
class Bond:
    """A bond from basis site ``source`` in cell 0 to basis site ``target`` in cell ``offset``.

    Attributes
    ----------
    source, target : int
        Basis site indices.
    offset : tuple of int
        Cell offset of the target site.
    kind : str or None
        Bond kind (``None``: the lattice's bonds carry no kinds).
    """

    source: int
    target: int
    offset: tuple[int, ...]
    kind: str | None = None

    def reversed(self) -> "Bond":
        """The same bond seen from its target."""
        return Bond(self.target, self.source, tuple(-o for o in self.offset), self.kind)

    def canonical(self) -> "Bond":
        """The direction with the smaller ``(source, target, offset)``: a bond and its reverse agree."""
        rev = self.reversed()
        return min(self, rev, key=lambda b: (b.source, b.target, b.offset))

    def to_dict(self) -> dict[str, Any]:
        rec: dict[str, Any] = {"from": self.source, "to": self.target, "offset": list(self.offset)}
        if self.kind is not None:
            rec["kind"] = self.kind
        return rec


class BondRule:
    """Base of the bond rules: ``resolve(lattice)`` gives the canonical bonds, each once."""

    name = "rule"
    #: True when bonds follow from distances only (then any cell of the same sites gives the same graph).
    geometric = True

    def resolve(self, lattice: "Lattice") -> list[Bond]:  # pragma: no cover - interface
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self.to_dict())))


class NearestNeighbours(BondRule):
    """Site pairs at the minimal distance (the default rule)."""

    name = "nearest"

    def resolve(self, lattice: "Lattice") -> list[Bond]:
        from .lattice import TOLERANCE

        dmin = lattice.nearest_neighbour_distance
        out = set()
        for b in range(lattice.n_basis):
            for key, _vec, dist in lattice.sites_within(b, dmin):
                if abs(dist - dmin) <= TOLERANCE * dmin:
                    out.add(Bond(b, key[-1], key[:-1]).canonical())
        return sorted(out, key=_bond_order)

    def to_dict(self) -> dict[str, Any]:
        return {"nearest": True}

    def __repr__(self) -> str:
        return "NearestNeighbours()"


def _distance_shells(lattice: "Lattice", count: int | None = None, radius: float | None = None) -> list[float]:
    """Distinct inter-site distances in increasing order: the first ``count``, or all up to ``radius``."""
    from .lattice import TOLERANCE

    r = radius if radius is not None else float(np.max(np.linalg.norm(lattice.vectors, axis=1)))
    while True:
        dists = sorted(dist for b in range(lattice.n_basis) for _, _, dist in lattice.sites_within(b, r))
        shells: list[float] = []
        for d in dists:
            if not shells or d > shells[-1] * (1 + 10 * TOLERANCE):
                shells.append(d)
        if radius is not None or (count is not None and len(shells) >= count):
            return shells if count is None else shells[:count]
        r *= 2.0


def _bonds_at_distances(lattice: "Lattice", shells: Sequence[float], kinds: Sequence[str]) -> list[Bond]:
    from .lattice import TOLERANCE

    out: dict[Bond, str] = {}
    rmax = max(shells)
    for b in range(lattice.n_basis):
        for key, _vec, dist in lattice.sites_within(b, rmax):
            for s, kind in zip(shells, kinds):
                if abs(dist - s) <= 10 * TOLERANCE * s:
                    out[Bond(b, key[-1], key[:-1], kind).canonical()] = kind
    return sorted(out, key=_bond_order)


class Shells(BondRule):
    """Neighbour shells by index: ``Shells((1, 2))`` bonds first and second neighbours.

    Parameters
    ----------
    shells : sequence of int
        Shell indices, 1 = nearest neighbours (distinct, positive).
    kinds : sequence of str, optional
        Kind of the bonds of each listed shell (default ``J<index>``).
    """

    name = "shells"

    def __init__(self, shells: Sequence[int], kinds: Sequence[str] | None = None) -> None:
        if isinstance(shells, (int, np.integer)) and not isinstance(shells, bool):
            shells = [int(shells)]
        if (
            not isinstance(shells, Sequence)
            or isinstance(shells, str)
            or not shells
            or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in shells)
        ):
            raise BondError(f"bond shells must be a non-empty list of positive integers, got {shells!r}")
        if len(set(shells)) != len(shells):
            raise BondError(f"bond shells {list(shells)} list a shell more than once")
        self.shells = tuple(int(s) for s in shells)
        if kinds is None:
            self.kinds = tuple(f"J{s}" for s in self.shells)
        else:
            if isinstance(kinds, str) or len(kinds) != len(self.shells):
                raise BondError(f"bond kinds {kinds!r} must be a list with one name per shell {list(self.shells)}")
            self.kinds = tuple(validate_kind(k, "bond shells") for k in kinds)
        self._default_kinds = kinds is None

    def resolve(self, lattice: "Lattice") -> list[Bond]:
        distances = _distance_shells(lattice, count=max(self.shells))
        return _bonds_at_distances(lattice, [distances[s - 1] for s in self.shells], self.kinds)

    def to_dict(self) -> dict[str, Any]:
        rec: dict[str, Any] = {"shells": list(self.shells)}
        if not self._default_kinds:
            rec["kinds"] = list(self.kinds)
        return rec

    def __repr__(self) -> str:
        return f"Shells({self.shells}, kinds={self.kinds})"


class Cutoff(BondRule):
    """Every site pair at distance ≤ ``cutoff``; shell k within the cutoff has kind ``J<k>``."""

    name = "cutoff"

    def __init__(self, cutoff: float) -> None:
        if isinstance(cutoff, bool) or not isinstance(cutoff, (int, float, np.floating, np.integer)):
            raise BondError(f"bond cutoff must be a positive number, got {cutoff!r}")
        if not np.isfinite(cutoff) or cutoff <= 0:
            raise BondError(f"bond cutoff must be a positive finite distance, got {cutoff!r}")
        self.cutoff = float(cutoff)

    def resolve(self, lattice: "Lattice") -> list[Bond]:
        distances = _distance_shells(lattice, radius=self.cutoff)
        if not distances:
            nn = lattice.nearest_neighbour_distance
            raise BondError(
                f"lattice {lattice.name!r}: bond cutoff {self.cutoff:g} yields no bonds; the nearest "
                f"neighbour distance is {nn:.6g}"
            )
        return _bonds_at_distances(lattice, distances, [f"J{k}" for k in range(1, len(distances) + 1)])

    def to_dict(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff}

    def __repr__(self) -> str:
        return f"Cutoff({self.cutoff:g})"


class ExplicitBonds(BondRule):
    """An explicit list of bonds (see :class:`Bond`); validated against the lattice when resolved."""

    name = "explicit"
    geometric = False

    def __init__(self, bonds: Sequence[Any]) -> None:
        if isinstance(bonds, (str, bytes, Mapping)) or not isinstance(bonds, Sequence) or not bonds:
            raise BondError("explicit bonds must be a non-empty list of {from, to, offset, kind} entries")
        self.bonds = tuple(_as_bond(raw, i) for i, raw in enumerate(bonds, start=1))
        kinded = {b.kind is not None for b in self.bonds}
        if len(kinded) > 1:
            raise BondError("explicit bonds: give a kind to every bond or to none")

    def resolve(self, lattice: "Lattice") -> list[Bond]:
        d, nb = lattice.dimension, lattice.n_basis
        seen: dict[tuple, Bond] = {}
        for i, bond in enumerate(self.bonds, start=1):
            where = f"lattice {lattice.name!r}: explicit bond {i} {bond.to_dict()}"
            if len(bond.offset) != d:
                raise BondError(f"{where}: the offset needs {d} integers for a {d}D lattice")
            for end in (bond.source, bond.target):
                if not 0 <= end < nb:
                    raise BondError(f"{where}: basis site {end} does not exist (basis sites 0..{nb - 1})")
            if bond.source == bond.target and not any(bond.offset):
                raise BondError(f"{where}: a bond from a site to itself (zero bond)")
            canon = bond.canonical()
            key = (canon.source, canon.target, canon.offset)
            prev = seen.get(key)
            if prev is not None and prev.kind != canon.kind:
                raise BondError(f"{where}: this bond is listed twice with different kinds ({prev.kind!r}, {canon.kind!r})")
            seen[key] = canon
        return sorted(seen.values(), key=_bond_order)

    def to_dict(self) -> dict[str, Any]:
        return {"explicit": [b.to_dict() for b in self.bonds]}

    def __repr__(self) -> str:
        return f"ExplicitBonds({len(self.bonds)} bonds)"


def _as_bond(raw: Any, i: int) -> Bond:
    where = f"explicit bond {i}"
    if isinstance(raw, Bond):
        return Bond(raw.source, raw.target, tuple(int(o) for o in raw.offset),
                    None if raw.kind is None else validate_kind(raw.kind, where))
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"from", "to", "offset", "kind"}
        if unknown:
            raise BondError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: from, to, offset, kind")
        missing = [k for k in ("from", "to", "offset") if k not in raw]
        if missing:
            raise BondError(f"{where}: missing {', '.join(missing)}")
        src, tgt, off, kind = raw["from"], raw["to"], raw["offset"], raw.get("kind")
    elif isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) in (3, 4):
        src, tgt, off = raw[0], raw[1], raw[2]
        kind = raw[3] if len(raw) == 4 else None
    else:
        raise BondError(f"{where}: expected {{from, to, offset, kind}} or (from, to, offset[, kind]), got {raw!r}")
    for label, v in (("from", src), ("to", tgt)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise BondError(f"{where}: '{label}' must be a basis site index (integer), got {v!r}")
    if (
        isinstance(off, (str, bytes))
        or not isinstance(off, (Sequence, np.ndarray))
        or any(isinstance(o, bool) or not isinstance(o, (int, np.integer)) for o in off)
    ):
        raise BondError(f"{where}: 'offset' must be a list of integers (cell offset), got {off!r}")
    return Bond(int(src), int(tgt), tuple(int(o) for o in off), None if kind is None else validate_kind(kind, where))


def _bond_order(b: Bond) -> tuple:
    return (b.source, b.target, b.offset, b.kind or "")


def bond_rule(spec: Any) -> BondRule:
    """A bond rule from ``None`` (nearest neighbours), a rule object, or a mapping.

    The mapping takes exactly one of ``shells`` (list of int, optional ``kinds``), ``cutoff``
    (number), ``explicit`` (list of bonds) or ``nearest = true`` — the ``[bonds]`` table of a lattice
    file.
    """
    if spec is None:
        return NearestNeighbours()
    if isinstance(spec, BondRule):
        return spec
    if isinstance(spec, Mapping):
        keys = set(spec)
        rules = keys & {"shells", "cutoff", "explicit", "nearest"}
        if len(rules) != 1:
            raise BondError(
                f"bonds: give exactly one of shells, cutoff, explicit, nearest; got {sorted(keys) or 'none'}"
            )
        rule = rules.pop()
        allowed = {"shells": {"shells", "kinds"}}.get(rule, {rule})
        unknown = keys - allowed
        if unknown:
            raise BondError(f"bonds: unknown key(s) {sorted(unknown)} with '{rule}'; allowed: {sorted(allowed)}")
        if rule == "shells":
            return Shells(spec["shells"], spec.get("kinds"))
        if rule == "cutoff":
            return Cutoff(spec["cutoff"])
        if rule == "explicit":
            return ExplicitBonds(spec["explicit"])
        if spec["nearest"] is not True:
            raise BondError(f"bonds: 'nearest' must be true, got {spec['nearest']!r}")
        return NearestNeighbours()
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        return ExplicitBonds(spec)
    raise BondError(f"bonds: expected a bond rule, a mapping or a list of bonds, got {spec!r}")


def integer_row_basis(rows: np.ndarray) -> np.ndarray:
    """Hermite-normal-form row basis of the integer lattice spanned by ``rows`` (zero rows dropped)."""
    m = [list(map(int, r)) for r in np.asarray(rows, dtype=np.int64)]
    n_cols = len(m[0]) if m else 0
    basis: list[list[int]] = []
    col = 0
    while m and col < n_cols:
        nonzero = [r for r in m if r[col] != 0]
        zero = [r for r in m if r[col] == 0]
        if not nonzero:
            col += 1
            continue
        # Euclid on column `col` until one row holds the gcd
        while len(nonzero) > 1:
            nonzero.sort(key=lambda r: abs(r[col]))
            pivot = nonzero[0]
            rest = []
            for r in nonzero[1:]:
                f = r[col] // pivot[col]
                r = [a - f * b for a, b in zip(r, pivot)]
                (rest if r[col] != 0 else zero).append(r)
            nonzero = [pivot] + rest
        pivot = nonzero[0]
        if pivot[col] < 0:
            pivot = [-a for a in pivot]
        basis.append(pivot)
        m = [r for r in zero if any(r)]
        col += 1
    return np.array(basis, dtype=np.int64).reshape(-1, n_cols)
