"""Cluster shapes (site-sets up to symmetry) and decorated cluster classes.

Vocabulary (icet/ase style):

* a **shape** is a connected site-set (or, for the ``chains`` enumerator, a self-avoiding path) up to
  the space group G; its *orientations* are the distinct images under G modulo translations, so it
  has ``len(orientations) / n_basis`` embeddings per lattice site;
* a **class** is an orbit of (site-set, species pattern) under G; its multiplicity is the number of
  patterns on one representative site-set that belong to it (Theorem A.1 of Ahmadi et al.).

Concentrations are per-shape normalised: ``Σ_c m_c C_c = 1`` over the classes of one shape.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from .errors import SizeLimitError, SpeciesError
from .symmetry import translation_normal_form

if TYPE_CHECKING:  # pragma: no cover
    from .lattice import Lattice

__all__ = [
    "Shape",
    "ClusterClass",
    "ConnectedEnumerator",
    "ChainEnumerator",
    "enumerate_classes",
    "validate_species",
    "DEFAULT_MAX_SHAPES",
    "DEFAULT_MAX_PATTERNS",
    "estimated_patterns",
    "check_class_request",
]

#: Refuse enumerations expected to produce more shapes than this (configurable per enumerator).
DEFAULT_MAX_SHAPES = 20000
#: Most species (states) a model may have (species indices are stored as int8).
MAX_SPECIES = 100
_RESERVED_SPECIES_CHARACTERS = set("[],{}")
#: Most decorated patterns (Σ over shapes of species^size) listing the classes may examine.
DEFAULT_MAX_PATTERNS = 2_000_000

#: Candidate forms the size estimate may generate while counting small sizes exactly.
_ESTIMATE_WORK = 20000
#: Cache of exact fixed-form counts per (enumerator, lattice), for the estimates.
_FIXED_COUNTS: dict[tuple, list[int]] = {}

Key = tuple[int, ...]


@dataclass(eq=False)
class Shape:
    """A cluster shape: a site-set (or path) up to the lattice's space group.

    Attributes
    ----------
    name : str
        Stable readable name (``site``, ``pair``, ``linear``, ``angled``, ``triangle``, ``tetra-1`` …).
    symbol : str
        Short prefix for variable names (``C``, ``L``, ``A``, ``T`` …).
    size : int
        Number of sites.
    sites : tuple of site keys
        Representative site keys in a fixed order (along the path for path-like shapes).
    bonds : tuple of (int, int)
        Nearest-neighbour bonds among the sites (position pairs ``i < j``), sorted.
    path : bool
        True for shapes of the ``chains`` enumerator (site order is the path order).
    stabiliser : tuple of tuple of int
        Position permutations induced by the operations that map the shape onto itself.
    orientations : ndarray (n_orientations, size, d+1)
        Images of ``sites`` (aligned position by position) under G modulo translations, each
        translated so that its smallest site lies in cell 0.
    embeddings_per_site : float
        ``n_orientations / n_basis``.
    fraction : float
        Share of this shape among the shapes of its size (by embeddings).
    """

    name: str
    symbol: str
    size: int
    sites: tuple[Key, ...]
    bonds: tuple[tuple[int, int], ...]
    path: bool
    stabiliser: tuple[tuple[int, ...], ...]
    orientations: np.ndarray
    n_basis: int
    lattice_name: str
    fraction: float = 1.0
    positions: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    bond_kinds: tuple[str | None, ...] = ()
    sublattices: tuple[str, ...] | None = None

    @property
    def kind(self) -> str | None:
        """The bond kind of a pair shape (``None`` for other sizes or kindless bonds)."""
        return self.bond_kinds[0] if self.size == 2 and self.bond_kinds else None

    @property
    def embeddings_per_site(self) -> float:
        return len(self.orientations) / self.n_basis

    @property
    def n_orientations(self) -> int:
        return len(self.orientations)

    @property
    def is_closed(self) -> bool:
        """True when the shape's bond graph has a cycle (Kirkwood rather than Bethe territory)."""
        return len(self.bonds) >= self.size

    def degree_of(self, position: int) -> int:
        """Number of bonds at a site position."""
        return sum(position in b for b in self.bonds)

    def to_json(self) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "name": self.name,
            "size": self.size,
            "sites": np.asarray(self.positions).tolist(),
            "embeddings_per_site": self.embeddings_per_site,
        }
        if any(k is not None for k in self.bond_kinds):
            rec["bonds"] = [[a, b, k] for (a, b), k in zip(self.bonds, self.bond_kinds)]
        if self.sublattices is not None:
            rec["sublattices"] = list(self.sublattices)
        return rec

    def __repr__(self) -> str:
        return (
            f"Shape({self.name!r}, size={self.size}, bonds={len(self.bonds)}, "
            f"embeddings_per_site={self.embeddings_per_site:g})"
        )


@dataclass(frozen=True, eq=False)
class ClusterClass:
    """A decorated cluster class: a shape with a species pattern, up to symmetry.

    Attributes
    ----------
    shape : Shape
    pattern : tuple of int
        Representative species indices aligned with ``shape.sites``.
    states : tuple of str
        The representative pattern as species names.
    patterns : tuple of tuple of int
        All patterns on the representative site order that belong to the class.
    name : str
        Variable name, e.g. ``"C+-"``, ``"L++-"``, ``"A[Mn,Li,Li]"``.
    """

    shape: Shape
    pattern: tuple[int, ...]
    states: tuple[str, ...]
    patterns: tuple[tuple[int, ...], ...]
    name: str

    @property
    def multiplicity(self) -> int:
        return len(self.patterns)

    @property
    def size(self) -> int:
        return self.shape.size

    @property
    def bond_kind(self) -> str | None:
        """The bond kind a pair class sits on (``None`` for other sizes or kindless bonds)."""
        return self.shape.kind

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "states": list(self.states), "multiplicity": self.multiplicity}

    def __repr__(self) -> str:
        return f"ClusterClass({self.name!r}, multiplicity={self.multiplicity})"


# ---------------------------------------------------------------------------------- helpers
def validate_species(species: Sequence[str]) -> tuple[str, ...]:
    """Check a species list: at least two distinct non-empty strings.

    A string is read as one species per character (``"+-"``). Names may not contain blanks, control
    characters or the characters ``[ ] , { }`` (they delimit multi-character names in class names
    such as ``C[Mn,Li]`` and in expressions: ``{C+-}``), so that different classes never get the same name.

    Raises
    ------
    SpeciesError
    """
    if isinstance(species, (bytes, bytearray)) or not isinstance(species, (str, Sequence)) and not hasattr(species, "__iter__"):
        raise SpeciesError(f"species must be a list of names, got {type(species).__name__}")
    items = list(species)
    if any(not isinstance(s, str) for s in items):
        bad = next(s for s in items if not isinstance(s, str))
        raise SpeciesError(f"species names must be strings, got {type(bad).__name__} {bad!r:.40}")
    if len(items) > MAX_SPECIES:
        raise SpeciesError(f"at most {MAX_SPECIES} species are supported, got {len(items)}")
    sp = tuple(items)
    if len(sp) < 2:
        raise SpeciesError(f"need at least two species (states), got {list(sp)}")
    dup = sorted({s for s in sp if sp.count(s) > 1})
    if dup:
        raise SpeciesError(f"species must be distinct; {dup} given more than once in {list(sp)}")
    if any(not s or any(ch.isspace() for ch in s) for s in sp):
        raise SpeciesError(f"species names must be non-empty and without blanks, got {list(sp)}")
    for s in sp:
        bad = next((ch for ch in s if ch in _RESERVED_SPECIES_CHARACTERS or not ch.isprintable()), None)
        if bad is not None and not (len(s) == 1 and s in "()"):
            raise SpeciesError(
                f"species name {s!r:.40} contains {bad!r}; names may not contain blanks, control characters "
                "or [ ] , { }"
            )
        if len(s) > 64:
            raise SpeciesError(f"species name {s[:20]!r}… is longer than 64 characters")
    return sp


def pattern_label(states: Sequence[str]) -> str:
    """``"+-+"`` for single-character species, ``"[Mn,Li]"`` otherwise."""
    if all(len(s) == 1 and s not in "[],()" for s in states):
        return "".join(states)
    return "[" + ",".join(states) + "]"


def _representative_key(pattern: tuple[int, ...], bonds: Sequence[tuple[int, int]]) -> tuple:
    """Preferred representative: like-state bonds as early as possible, then lexicographic.

    Along a chain this writes ``++-`` rather than ``-++`` and ``--+`` rather than ``+--``: the end
    that matches the middle comes first (the paper's L₊₊₋, A₋₋₊).
    """
    return (tuple(-(pattern[a] == pattern[b]) for a, b in bonds), pattern)


# ---------------------------------------------------------------------------------- enumeration
class _EnumeratorBase:
    """Shared machinery of the shape enumerators (growth, canonical forms, orientations)."""

    name = "base"
    description = ""
    path_based = False

    def __init__(self, max_shapes: int = DEFAULT_MAX_SHAPES) -> None:
        self.max_shapes = int(max_shapes)

    def configure(self, **options: Any) -> "_EnumeratorBase":
        allowed = {"max_shapes"}
        unknown = set(options) - allowed
        if unknown:
            raise SizeLimitError(
                f"enumerator {self.name!r}: unknown option(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        return type(self)(**options)

    # -- normal forms of a candidate (site-set or path) modulo translation
    def fixed_form(self, keys: np.ndarray) -> tuple:
        """The form of a site set up to translations (shapes are orbits of these under the point group)."""
        raise NotImplementedError

    def _grow(self, lattice: "Lattice", fixed: set[tuple]) -> set[tuple]:
        raise NotImplementedError

    def _initial(self, lattice: "Lattice") -> set[tuple]:
        d = lattice.dimension
        return {self.fixed_form(np.array([(0,) * d + (b,)], dtype=np.int64)) for b in range(lattice.n_basis)}

    def estimate(self, lattice: "Lattice", max_size: int) -> float:
        """Rough number of shapes of size ``max_size``.

        The fixed (translation-distinct) forms of small sizes are counted exactly — as long as
        growing them stays cheap — and extrapolated geometrically with the last growth ratio; every
        shape has at most |G| fixed forms, so shapes ≈ fixed forms / |G| (exact counts of fixed forms
        make this a slight underestimate only through shapes with symmetry).
        """
        counts = self._fixed_counts(lattice, max_size)
        m = len(counts)
        if m >= max_size:
            fixed = float(counts[max_size - 1])
        else:
            ratio = counts[-1] / counts[-2] if m >= 2 else float(max(lattice.coordination))
            try:
                fixed = counts[-1] * ratio ** (max_size - m)
            except OverflowError:  # an absurd max_size: the estimate is simply "too many"
                fixed = float("inf")
        return max(1.0, fixed / max(1, len(lattice.symmetry)))

    def _fixed_counts(self, lattice: "Lattice", max_size: int) -> list[int]:
        """Exact numbers of fixed forms of sizes 1, 2, … while growing them costs little (cached)."""
        key = (type(self).__name__, lattice.name, lattice.geometry_key)
        counts = _FIXED_COUNTS.get(key)
        if counts is not None and (len(counts) >= max_size or counts[-1] < 0):
            return [c for c in counts if c >= 0]
        z = max(lattice.coordination)
        fixed = self._initial(lattice)
        counts = [len(fixed)]
        while len(counts) < max_size:
            if len(fixed) * len(counts) * z > _ESTIMATE_WORK:
                counts.append(-1)  # marks "stopped here: extrapolate beyond"
                break
            fixed = self._grow(lattice, fixed)
            counts.append(len(fixed))
        _FIXED_COUNTS[key] = counts
        return [c for c in counts if c >= 0]

    def enumerate(self, lattice: "Lattice", max_size: int) -> list[Shape]:
        """All shapes of size 1 … ``max_size``, sorted by size and then a stable geometric key.

        Raises
        ------
        SizeLimitError
            When the expected number of shapes exceeds ``max_shapes``.
        """
        if int(max_size) != max_size or max_size < 1:
            raise SizeLimitError(f"cluster size must be a positive integer, got {max_size!r}")
        max_size = int(max_size)
        estimate = self.estimate(lattice, max_size)
        if estimate > self.max_shapes:
            raise SizeLimitError(
                f"enumerating {self.name} clusters of size up to {max_size} on {lattice.name!r} would "
                f"produce roughly {estimate:.3g} shapes (limit {self.max_shapes}); ask for a smaller "
                "size or raise the limit with the enumerator option max_shapes"
            )
        group = lattice.symmetry
        shapes: list[Shape] = []
        fixed = self._initial(lattice)
        for size in range(1, max_size + 1):
            if size > 1:
                fixed = self._grow(lattice, fixed)
            shapes.extend(self._shapes_of_size(lattice, group, fixed, size))
        return shapes

    def _orbit_canonical(self, group, keys: np.ndarray) -> tuple:
        return min(self.fixed_form(op.apply(keys)) for op in group.operations)

    def _shapes_of_size(self, lattice, group, fixed: set[tuple], size: int) -> list[Shape]:
        orbits: dict[tuple, list[tuple]] = {}
        for form in fixed:
            keys = np.array(self._form_keys(form), dtype=np.int64)
            orbits.setdefault(self._orbit_canonical(group, keys), []).append(form)
        drafts = []
        for canon, members in orbits.items():
            rep = self._ordered_representative(lattice, np.array(self._form_keys(canon), dtype=np.int64))
            drafts.append(self._build_shape(lattice, group, rep, len(members)))
        drafts.sort(key=lambda s: _shape_sort_key(lattice, s))
        _assign_names(drafts, size, self.path_based, lattice)
        total = sum(s.n_orientations for s in drafts)
        for s in drafts:
            s.fraction = s.n_orientations / total
        return drafts

    def _form_keys(self, form: tuple) -> list[Key]:
        return list(form)

    def _ordered_representative(self, lattice, keys: np.ndarray) -> np.ndarray:
        return keys

    def _build_shape(self, lattice, group, rep: np.ndarray, n_members: int) -> Shape:
        size = len(rep)
        keys_t = [tuple(k) for k in rep.tolist()]
        bonds = tuple(
            (i, j) for i in range(size) for j in range(i + 1, size) if lattice.are_neighbours(keys_t[i], keys_t[j])
        )
        ref_form = self.fixed_form(rep)
        orient: dict[tuple, np.ndarray] = {}
        stab: set[tuple[int, ...]] = set()
        pos_of = {k: i for i, k in enumerate(keys_t)}
        for op in group.operations:
            img = op.apply(rep)
            form = self.fixed_form(img)
            if form not in orient:
                aligned = img.copy()
                smallest = img[np.lexsort(img.T[::-1])[0]]
                aligned[:, :-1] -= smallest[:-1]
                orient[form] = aligned
            if form == ref_form:
                # the image is the shape itself up to a translation: record the position permutation
                smallest = img[np.lexsort(img.T[::-1])[0]]
                rsmall = rep[np.lexsort(rep.T[::-1])[0]]
                shifted = img.copy()
                shifted[:, :-1] += rsmall[:-1] - smallest[:-1]
                perm = tuple(pos_of[tuple(k)] for k in shifted.tolist())
                stab.add(perm)
        if len(orient) != n_members:
            raise RuntimeError("internal error: orbit size mismatch in shape enumeration")
        orientations = np.array([orient[f] for f in sorted(orient)], dtype=np.int64)
        return Shape(
            name="",
            symbol="",
            size=size,
            sites=tuple(keys_t),
            bonds=bonds,
            path=self.path_based,
            stabiliser=tuple(sorted(stab)),
            orientations=orientations,
            n_basis=lattice.n_basis,
            lattice_name=lattice.name,
            positions=lattice.positions(rep),
            bond_kinds=tuple(lattice.bond_kind(keys_t[i], keys_t[j]) for i, j in bonds),
            sublattices=None
            if lattice.sublattice_labels is None
            else tuple(lattice.sublattice_labels[k[-1]] for k in keys_t),
        )


class ConnectedEnumerator(_EnumeratorBase):
    """All connected site-sets (lattice animals) up to symmetry."""

    name = "connected"
    description = "connected site-sets (lattice animals) up to the space group"
    path_based = False

    def fixed_form(self, keys: np.ndarray) -> tuple:
        return translation_normal_form(keys)

    def _grow(self, lattice, fixed):
        out = set()
        for form in fixed:
            members = set(form)
            for site in form:
                for nb in lattice.neighbour_keys(site):
                    if nb not in members:
                        out.add(self.fixed_form(np.array(list(form) + [nb], dtype=np.int64)))
        return out

    def _ordered_representative(self, lattice, keys):
        # order path-like sets along the path, starting from the end that gives the smaller sequence
        keys_t = [tuple(k) for k in keys.tolist()]
        n = len(keys_t)
        adj = {i: [j for j in range(n) if j != i and lattice.are_neighbours(keys_t[i], keys_t[j])] for i in range(n)}
        n_edges = sum(len(v) for v in adj.values()) // 2
        ends = [i for i in range(n) if len(adj[i]) == 1]
        if n >= 3 and n_edges == n - 1 and len(ends) == 2:
            walks = []
            for start in ends:
                order, prev = [start], None
                while len(order) < n:
                    nxt = [j for j in adj[order[-1]] if j != prev][0]
                    prev = order[-1]
                    order.append(nxt)
                walks.append([keys_t[i] for i in order])
            return np.array(min(walks), dtype=np.int64)
        return keys


class ChainEnumerator(_EnumeratorBase):
    """Self-avoiding nearest-neighbour paths up to symmetry (a path and its reverse are one chain)."""

    name = "chains"
    description = "self-avoiding nearest-neighbour paths up to the space group (chain closures)"
    path_based = True

    def fixed_form(self, keys: np.ndarray) -> tuple:
        forward = keys.copy()
        smallest = keys[np.lexsort(keys.T[::-1])[0]]
        forward[:, :-1] -= smallest[:-1]
        fw = tuple(map(tuple, forward.tolist()))
        return min(fw, fw[::-1])

    def _grow(self, lattice, fixed):
        out = set()
        for form in fixed:
            members = set(form)
            for end, seq in ((form[-1], list(form)), (form[0], list(form[::-1]))):
                for nb in lattice.neighbour_keys(end):
                    if nb not in members:
                        out.add(self.fixed_form(np.array(seq + [nb], dtype=np.int64)))
        return out


def _shape_sort_key(lattice, shape: Shape) -> tuple:
    pos = np.asarray(shape.positions)
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    extent = round(float(d2.sum()) / 2, 6)
    return (
        len(shape.bonds),
        tuple(sorted(k or "" for k in shape.bond_kinds)),
        -extent,
        tuple(sorted(round(float(x), 6) for x in d2.ravel())),
        shape.sublattices or (),
        shape.sites,
    )


def _middle_angle(shape: Shape) -> float:
    pos = np.asarray(shape.positions)
    a, b, c = pos[0], pos[1], pos[2]
    u, v = a - b, c - b
    cosang = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
    return math.degrees(math.acos(max(-1.0, min(1.0, cosang))))


def _decoration(lattice: Any, shape: Shape) -> str:
    """What tells shapes of one geometry apart in names: a pair's bond kind (on lattices with two
    or more kinds) and the sublattice labels of the sites (on sublattice-resolved lattices)."""
    if lattice is None:
        return ""
    parts = []
    if shape.size == 2 and shape.bond_kinds and lattice.has_bond_kinds:
        parts.append(str(shape.bond_kinds[0]))
    labels = lattice.sublattice_labels
    if labels is not None and len(set(labels)) > 1 and shape.sublattices is not None:
        parts.append("".join(shape.sublattices))
    return "".join(parts)


def _assign_names(shapes: list[Shape], size: int, path_based: bool, lattice: Any = None) -> None:
    base: list[str] = []
    for s in shapes:
        if size == 1:
            base.append("site")
        elif size == 2:
            base.append("pair")
        elif size == 3:
            # chains keep the path order; connected 3-site paths are ordered along the path too
            if len(s.bonds) == 3 and not path_based:
                base.append("triangle")
            elif path_based and len(s.bonds) == 3:
                base.append("triangle")
            else:
                angle = _middle_angle(s)
                base.append("linear" if abs(angle - 180) < 1e-3 else f"angled{round(angle)}")
        else:
            prefix = {4: "tetra", 5: "penta", 6: "hexa"}.get(size, f"n{size}")
            base.append(("chain-" if path_based else "") + prefix)
    decos = [_decoration(lattice, s) for s in shapes]
    bent = [n for n in base if n.startswith("angled")]
    bent_decos = [d for n, d in zip(base, decos) if n.startswith("angled")]
    # a single bent 3-site shape is just "angled" (also when decorations alone tell several apart)
    if len(bent) == 1 or (len(set(bent)) == 1 and all(bent_decos) and len(set(bent_decos)) == len(bent)):
        base = ["angled" if n.startswith("angled") else n for n in base]
    full = [b + (f"-{d}" if d else "") for b, d in zip(base, decos)]
    counts: dict[str, int] = {}
    for n in full:
        counts[n] = counts.get(n, 0) + 1
    seen: dict[str, int] = {}
    for s, b, deco, n in zip(shapes, base, decos, full):
        if size >= 4:
            seen[n] = seen.get(n, 0) + 1
            s.name = f"{n}-{seen[n]}"
            s.symbol = _symbol_for(f"{b}-{seen[n]}", size, deco)
        elif counts[n] > 1:
            seen[n] = seen.get(n, 0) + 1
            letter = chr(ord("a") + seen[n] - 1)
            s.name = f"{n}-{letter}"
            s.symbol = _symbol_for(f"{b}-{letter}", size, deco)
        else:
            s.name = n
            s.symbol = _symbol_for(b, size, deco)


def _symbol_for(name: str, size: int, deco: str = "") -> str:
    """Variable prefix of a shape: ``C``, ``Ca``, ``L``, ``A90b``, ``K4_1`` (decoration after the head)."""
    if size <= 2:
        return "C" + deco + ("" if "-" not in name else name.split("-")[1])
    if name.startswith(("linear", "angled", "triangle")):
        head = name[0].upper()
        rest = name.replace("linear", "").replace("angled", "").replace("triangle", "").replace("-", "")
        digits = "".join(ch for ch in rest if ch.isdigit())
        return head + digits + deco + rest[len(digits):]
    old = "K" + name.replace("chain-", "P").replace("tetra", "4").replace("penta", "5").replace("hexa", "6").replace("-", "_")
    if not deco:
        return old
    stem, _, number = old.rpartition("_")
    return f"{stem}{deco}_{number}"


# ---------------------------------------------------------------------------------- classes
def estimated_patterns(enumerator: Any, lattice: "Lattice", max_size: int, q: int) -> float:
    """Rough number of decorated patterns (shapes × q^size, sizes 1 … ``max_size``) behind the classes."""
    total = 0.0
    for size in range(1, int(max_size) + 1):
        try:
            total += enumerator.estimate(lattice, size) * float(q) ** size
        except OverflowError:
            return float("inf")
    return total


def check_class_request(enumerator: Any, lattice: "Lattice", max_size: Any, q: int,
                        limit: int = DEFAULT_MAX_PATTERNS) -> None:
    """Refuse, before any enumeration, a class listing whose size grows past the limit with the species.

    The number of classes grows like q^size: ten species at size 6 would examine ~10^8 patterns
    (gigabytes of memory); the shape limit alone does not see the species.

    Raises
    ------
    SizeLimitError
    """
    if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 1:
        raise SizeLimitError(f"cluster size must be a positive integer, got {max_size!r}")
    estimate = getattr(enumerator, "estimate", None)
    if not callable(estimate):
        return  # a plugin enumerator without an estimate: its own limits apply
    patterns = estimated_patterns(enumerator, lattice, int(max_size), q)
    if patterns > limit:
        raise SizeLimitError(
            f"the classes of {q} species on {getattr(enumerator, 'name', 'the')} shapes up to size {max_size} on "
            f"{lattice.name!r} would need roughly {patterns:.3g} decorated patterns (limit {limit:g}); ask for a "
            "smaller size or fewer species"
        )


def enumerate_classes(shape: Shape, species: Sequence[str]) -> list[ClusterClass]:
    """The decorated classes of a shape for the given species, in a stable order.

    Order: fewest unlike bonds first, then the representative pattern lexicographically (species
    in the given order). For a pair of ``+``/``-`` this is ``++``, ``--``, ``+-``.
    """
    sp = validate_species(species)
    q = len(sp)
    seen: set[tuple[int, ...]] = set()
    out = []
    for pattern in itertools.product(range(q), repeat=shape.size):
        if pattern in seen:
            continue
        orbit = set()
        for perm in shape.stabiliser:
            image = [0] * shape.size
            for k, target in enumerate(perm):
                image[target] = pattern[k]
            orbit.add(tuple(image))
        seen |= orbit
        rep = min(orbit, key=lambda p: _representative_key(p, shape.bonds))
        states = tuple(sp[i] for i in rep)
        out.append(
            ClusterClass(
                shape=shape,
                pattern=rep,
                states=states,
                patterns=tuple(sorted(orbit)),
                name=shape.symbol + pattern_label(states),
            )
        )
    out.sort(key=lambda c: (sum(c.pattern[a] != c.pattern[b] for a, b in shape.bonds), c.pattern))
    return out


def class_lookup(shape: Shape, classes: Sequence[ClusterClass], q: int) -> np.ndarray:
    """Table mapping a pattern code ``Σ_k p_k q^(size-1-k)`` to its class index within ``classes``."""
    table = np.full(q ** shape.size, -1, dtype=np.int64)
    for ci, c in enumerate(classes):
        for p in c.patterns:
            code = 0
            for v in p:
                code = code * q + v
            table[code] = ci
    if (table < 0).any():
        raise RuntimeError("internal error: class lookup table incomplete")
    return table


def iter_patterns(size: int, q: int) -> Iterable[tuple[int, ...]]:
    return itertools.product(range(q), repeat=size)
