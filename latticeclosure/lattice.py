"""Lattice geometry: Bravais vectors, basis, bonds.

A lattice is defined by its Bravais vectors (rows of a d×d matrix, Cartesian), the Cartesian positions
of its basis sites and a *bond rule* (:mod:`latticeclosure.bonds`): nearest neighbours (the site
pairs at the minimal distance, the default), neighbour shells, a distance cutoff, or an explicit list of
bonds, optionally with a kind per bond. Everything else (symmetry group, clusters, supercells,
equations) is computed from that definition and follows the bond graph.

A cell that is not primitive (some translation between basis sites maps the sites, their bonds and
their sublattice labels onto themselves) is reduced to a primitive cell with a one-line notice
(:attr:`Lattice.reduction_notice`, also issued as a :class:`PrimitiveCellNotice` warning). To keep a
larger cell on purpose, give ``sublattices``: a supercell matrix or labels on the basis sites.

Sites are addressed by *site keys*: integer tuples ``(n_1, …, n_d, b)`` meaning the basis site ``b`` in
the unit cell ``n`` (Cartesian position ``Σ n_i a_i + basis[b]``).
"""

from __future__ import annotations

import string
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from .bonds import Bond, BondRule, ExplicitBonds, NearestNeighbours, bond_rule, integer_row_basis
from .errors import BondError, GeometryError

if TYPE_CHECKING:  # pragma: no cover
    from .supercell import Supercell
    from .symmetry import SpaceGroup

__all__ = ["Lattice", "Neighbour", "SiteKey", "PrimitiveCellNotice", "check_cell", "MAX_CONDITION", "MAX_SEARCH_CELLS"]

SiteKey = tuple[int, ...]

#: Relative tolerance used for every floating-point geometric comparison.
TOLERANCE = 1e-6
#: Largest accepted condition number of the Bravais vectors (nearly degenerate cells are refused:
#: their neighbour searches would span huge numbers of cells).
MAX_CONDITION = 1e4
#: Most unit cells one neighbour search may visit.
MAX_SEARCH_CELLS = 2_000_000


def _float_array(value: Any, name: str, what: str) -> np.ndarray:
    if isinstance(value, (str, bytes, Mapping)):
        raise GeometryError(f"lattice {name!r}: {what} must be numbers (rows of coordinates), got {type(value).__name__}")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise GeometryError(f"lattice {name!r}: {what} must be numbers (rows of coordinates), got {value!r:.60}") from None


def _check_vectors(name: str, vec: np.ndarray) -> None:
    norms = np.linalg.norm(vec, axis=1)
    if np.any(norms < TOLERANCE) or abs(np.linalg.det(vec)) < TOLERANCE * np.prod(norms):
        raise GeometryError(
            f"lattice {name!r}: Bravais vectors {np.round(vec, 6).tolist()} are degenerate "
            "(zero, collinear or coplanar); they must be linearly independent"
        )
    cond = float(np.linalg.cond(vec))
    if not np.isfinite(cond) or cond > MAX_CONDITION:
        raise GeometryError(
            f"lattice {name!r}: Bravais vectors {np.round(vec, 6).tolist()} are nearly degenerate (condition "
            f"number {cond:.3g} > {MAX_CONDITION:g}); use a reduced (less sheared, similarly long) set of vectors"
        )


def check_cell(name: str, vectors: Any, basis: Any) -> None:
    """Refuse a cell that no :class:`Lattice` accepts: non-finite, degenerate or nearly degenerate
    vectors (condition number above :data:`MAX_CONDITION`), or basis sites that coincide.

    Cheaper than constructing the lattice (no bonds, no symmetry); used to validate records read
    from data files.

    Raises
    ------
    GeometryError
    """
    vec = np.asarray(vectors, dtype=float)
    bas = np.asarray(basis, dtype=float)
    if not (np.all(np.isfinite(vec)) and np.all(np.isfinite(bas))):
        raise GeometryError(f"lattice {name!r}: vectors or basis contain NaN or infinity")
    _check_vectors(name, vec)
    frac = np.linalg.solve(vec.T, bas.T).T
    for i in range(len(frac)):
        for j in range(i):
            diff = frac[i] - frac[j]
            if np.allclose(diff, np.round(diff), atol=TOLERANCE):
                raise GeometryError(f"lattice {name!r}: basis sites {j} and {i} overlap (they differ by a lattice vector)")


class PrimitiveCellNotice(UserWarning):
    """Issued when a lattice given with a non-primitive cell is reduced to its primitive cell."""


@dataclass(frozen=True)
class Neighbour:
    """A bonded neighbour of a basis site: the site ``basis`` in the cell displaced by ``cell_offset``.

    ``kind`` is the kind of the bond (``None`` when the lattice's bonds carry no kinds).
    """

    cell_offset: tuple[int, ...]
    basis: int
    vector: tuple[float, ...]
    kind: str | None = None


class Lattice:
    """A periodic lattice given by Bravais vectors, a basis and a bond rule.

    Parameters
    ----------
    name : str
        Unique name under which the lattice is registered (e.g. ``"triangular"``).
    vectors : array_like, shape (d, d)
        Bravais vectors as rows, Cartesian coordinates; d = 1, 2 or 3.
    basis : array_like, shape (n_basis, d), optional
        Cartesian positions of the basis sites; default a single site at the origin.
    description : str, optional
        One-line description shown by ``latticeclosure lattices``.
    bonds : None, BondRule, mapping or list of bonds, optional
        The bond rule (see :func:`latticeclosure.bonds.bond_rule`): ``None`` for nearest neighbours,
        ``{"shells": [1, 2]}``, ``{"cutoff": 1.6}``, ``{"explicit": [...]}`` or a rule object.
    sublattices : array_like, optional
        Keep a larger cell with distinct sublattices: a d×d integer supercell matrix (rows: the new
        vectors in units of the given ones; e.g. ``[[1, 1], [-1, 2]]`` for the √3×√3 cell of the
        triangular lattice; the sites get labels ``A``, ``B``, …) or one label per basis site (labels
        may repeat, e.g. ``["A", "B", "B"]``). Symmetry operations must preserve the labels.

    Raises
    ------
    GeometryError
        If the vectors are degenerate (collinear/coplanar), the basis has the wrong dimension, or
        two basis sites coincide modulo a lattice vector.
    BondError
        For a bad bond rule (missing basis site, zero or contradictory bond, no bonds, a
        disconnected bond graph).

    Examples
    --------
    >>> tri = Lattice("triangular", [[1, 0], [0.5, 3 ** 0.5 / 2]])
    >>> tri.coordination
    (6,)
    >>> Lattice("j1j2", [[1, 0], [0, 1]], bonds={"shells": [1, 2]}).coordination
    (8,)
    """

    def __init__(
        self,
        name: str,
        vectors: Any,
        basis: Any | None = None,
        description: str = "",
        bonds: Any = None,
        sublattices: Any = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise GeometryError("a lattice needs a non-empty string name")
        self.name = name
        self.description = description
        vec = np.atleast_2d(_float_array(vectors, name, "Bravais vectors"))
        d = vec.shape[0]
        if vec.ndim != 2 or vec.shape != (d, d) or d not in (1, 2, 3):
            raise GeometryError(
                f"lattice {name!r}: Bravais vectors must form a d×d matrix with d in 1..3, "
                f"got shape {np.shape(vectors)}"
            )
        if not np.all(np.isfinite(vec)):
            raise GeometryError(f"lattice {name!r}: Bravais vectors contain NaN or infinity")
        _check_vectors(name, vec)
        if basis is None:
            bas = np.zeros((1, d))
        else:
            bas = np.atleast_2d(_float_array(basis, name, "basis"))
            if d == 1 and bas.shape[0] == 1 and bas.shape[1] != 1:
                bas = bas.reshape(-1, 1)
        if bas.ndim != 2 or bas.shape[1] != d or bas.shape[0] < 1:
            raise GeometryError(
                f"lattice {name!r}: basis must be an (n_basis, {d}) array, got shape {bas.shape}"
            )
        if not np.all(np.isfinite(bas)):
            raise GeometryError(f"lattice {name!r}: basis contains NaN or infinity")
        self.vectors = vec
        self.basis = bas
        self.dimension = d
        self._check_basis_distinct()
        self.bond_rule: BondRule = bond_rule(bonds)
        self.sublattice_labels: tuple[str, ...] | None = None
        self.reduction_notice: str | None = None
        matrix, labels = _parse_sublattices(sublattices, d, self.n_basis, name)
        if matrix is not None:
            self._expand(matrix)
        elif labels is not None:
            self.sublattice_labels = labels
        else:
            self._reduce_to_primitive()
        if not isinstance(self.bond_rule, NearestNeighbours):
            self._check_bonds()

    # ------------------------------------------------------------------ construction helpers
    def _check_basis_distinct(self) -> None:
        frac = self.fractional(self.basis)
        for i in range(len(frac)):
            for j in range(i):
                diff = frac[i] - frac[j]
                if np.allclose(diff, np.round(diff), atol=TOLERANCE):
                    raise GeometryError(
                        f"lattice {self.name!r}: basis sites {j} {self.basis[j].tolist()} and "
                        f"{i} {self.basis[i].tolist()} overlap (they differ by a lattice vector)"
                    )

    @property
    def site_types(self) -> list[int]:
        """Integer type of each basis site: equal for equal sublattice labels (all 0 without labels)."""
        labels = self.sublattice_labels
        if labels is None:
            return [0] * self.n_basis
        order = {lab: i for i, lab in enumerate(dict.fromkeys(labels))}
        return [order[lab] for lab in labels]

    def _candidate_translations(self) -> list[np.ndarray]:
        """Cartesian shifts basis 0 → basis b that map every site onto a site with the same label."""
        types = self.site_types
        out = []
        for b in range(1, self.n_basis):
            if types[b] != types[0]:
                continue
            shift = self.basis[b] - self.basis[0]
            ok = True
            for c in range(self.n_basis):
                key = self.locate(self.basis[c] + shift)
                if key is None or types[key[-1]] != types[c]:
                    ok = False
                    break
            if ok:
                out.append(shift)
        return out

    def _reduce_to_primitive(self) -> None:
        """Replace a non-primitive cell by a primitive one (sites, bonds and labels preserved)."""
        if not self._candidate_translations():
            return
        from .symmetry import pure_translations

        fractional = pure_translations(self)
        if not isinstance(self.bond_rule, NearestNeighbours) and not self.bond_rule.geometric:
            bonds = self.bond_rule.resolve(self)
            fractional = [t for t in fractional if _translation_keeps_bonds(self, t, bonds)]
        if not fractional:
            return
        old_n = self.n_basis
        new_vectors = _primitive_vectors(self.vectors, fractional)
        reduced = _SiteFrame(new_vectors)
        keep: list[int] = []
        seen: list[np.ndarray] = []
        for b in range(old_n):
            f = reduced.fractional(self.basis[b])
            if any(np.allclose(_wrap(f - g), 0, atol=1e-5) for g in seen):
                continue
            seen.append(f)
            keep.append(b)
        old = _SiteFrame(self.vectors, self.basis)
        new_basis = self.basis[keep]
        labels = None if self.sublattice_labels is None else tuple(self.sublattice_labels[b] for b in keep)
        rule = self.bond_rule
        if not rule.geometric:
            rule = _transfer_bonds(rule.resolve(self), old, _SiteFrame(new_vectors, new_basis))
        self.reduction_notice = (
            f"notice: lattice {self.name!r}: the given {old_n}-site cell is not primitive; using its "
            f"primitive cell with {len(keep)} site(s) (pass sublattices=... to keep a larger cell)"
        )
        self.vectors = new_vectors
        self.basis = new_basis
        self.sublattice_labels = labels
        self.bond_rule = rule
        warnings.warn(self.reduction_notice, PrimitiveCellNotice, stacklevel=3)

    def _expand(self, matrix: np.ndarray) -> None:
        """Replace the cell by the supercell ``matrix`` (rows in units of the vectors); label its sites."""
        old = _SiteFrame(self.vectors, self.basis)
        resolved = None if self.bond_rule.geometric else self.bond_rule.resolve(self)
        new_vectors = matrix.astype(float) @ self.vectors
        det = int(round(abs(np.linalg.det(matrix))))
        inv = np.linalg.inv(matrix.astype(float))
        reach = int(np.abs(matrix).sum(axis=0).max()) + 1
        grid = np.array(np.meshgrid(*[np.arange(-reach, reach + 1)] * self.dimension, indexing="ij"))
        cells = grid.reshape(self.dimension, -1).T
        sites = []
        for b in range(self.n_basis):
            frac_old = cells + self.fractional(self.basis[b])
            frac_new = frac_old @ inv
            inside = np.all((frac_new > -1e-9) & (frac_new < 1 - 1e-9), axis=1)
            for n in cells[inside]:
                sites.append((b, tuple(int(v) for v in n)))
        sites.sort()
        if len(sites) != det * self.n_basis:  # pragma: no cover - geometric invariant
            raise GeometryError(f"lattice {self.name!r}: internal error expanding the supercell {matrix.tolist()}")
        new_basis = np.array([np.asarray(n, dtype=float) @ self.vectors + self.basis[b] for b, n in sites])
        if self.bond_rule.geometric:
            rule = self.bond_rule
        else:
            rule = _transfer_bonds(resolved, old, _SiteFrame(new_vectors, new_basis))
        self.vectors = new_vectors
        self.basis = new_basis
        self.bond_rule = rule
        self.sublattice_labels = tuple(_letters(i) for i in range(len(sites)))

    def _check_bonds(self) -> None:
        """Resolve a non-default rule now, so that bad rules fail at construction: bonds must exist
        and connect every site to every other (the infinite bond graph is connected)."""
        bonds = self.bonds
        if not bonds:
            raise BondError(f"lattice {self.name!r}: the bond rule {self.bond_rule!r} yields no bonds")
        if not _connected(self.n_basis, self.dimension, bonds):
            raise BondError(
                f"lattice {self.name!r}: the bond rule {self.bond_rule!r} gives a disconnected bond graph "
                "(some sites cannot reach others through bonds); add bonds or widen the rule"
            )

    def configure(self, **options: Any) -> "Lattice":
        """Return a copy with some of ``name``, ``vectors``, ``basis``, ``description``, ``bonds``,
        ``sublattices`` replaced."""
        allowed = {"name", "vectors", "basis", "description", "bonds", "sublattices"}
        unknown = set(options) - allowed
        if unknown:
            raise GeometryError(
                f"lattice {self.name!r}: unknown option(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        kw: dict[str, Any] = dict(
            name=self.name,
            vectors=self.vectors,
            basis=self.basis,
            description=self.description,
            bonds=self.bond_rule,
            sublattices=self.sublattice_labels,
        )
        kw.update(options)
        return Lattice(**kw)

    # ------------------------------------------------------------------ coordinates
    @property
    def n_basis(self) -> int:
        """Number of basis sites per unit cell."""
        return int(self.basis.shape[0])

    def fractional(self, points: Any) -> np.ndarray:
        """Fractional coordinates (in units of the Bravais vectors) of Cartesian points."""
        pts = np.asarray(points, dtype=float)
        return np.linalg.solve(self.vectors.T, pts.T).T

    def position(self, key: Sequence[int]) -> np.ndarray:
        """Cartesian position of a site key ``(n_1, …, n_d, b)``."""
        cell = np.asarray(key[:-1], dtype=float)
        return cell @ self.vectors + self.basis[int(key[-1])]

    def positions(self, keys: Any) -> np.ndarray:
        """Cartesian positions of an (m, d+1) integer array of site keys."""
        k = np.asarray(keys, dtype=np.int64).reshape(-1, self.dimension + 1)
        return k[:, :-1].astype(float) @ self.vectors + self.basis[k[:, -1]]

    def locate(self, point: Any) -> SiteKey | None:
        """Site key of the lattice site at a Cartesian point, or ``None`` if there is none."""
        p = np.asarray(point, dtype=float)
        for b in range(self.n_basis):
            frac = self.fractional(p - self.basis[b])
            rounded = np.round(frac)
            if np.allclose(frac, rounded, atol=1e-5):
                return tuple(int(v) for v in rounded) + (b,)
        return None

    # ------------------------------------------------------------------ neighbours
    def _search_ranges(self, radius: float) -> list[range]:
        """Cell index ranges that contain every site within ``radius`` of any basis site."""
        extent = radius + 2 * float(np.max(np.linalg.norm(self.basis - self.basis[0], axis=1)))
        dual = np.linalg.inv(self.vectors.T)  # rows: n_i = dual[i] · x
        reach = np.ceil(extent * np.linalg.norm(dual, axis=1)).astype(int) + 1
        return [range(-int(r), int(r) + 1) for r in reach]

    def sites_within(self, b: int, radius: float) -> list[tuple[SiteKey, np.ndarray, float]]:
        """All sites within ``radius`` of basis site ``b`` in cell 0 (excluding itself).

        Returns a list of ``(key, vector, distance)`` sorted by distance, then key.
        """
        ranges = self._search_ranges(radius)
        cells_visited = int(np.prod([len(r) for r in ranges], dtype=float))
        if cells_visited > MAX_SEARCH_CELLS:
            raise GeometryError(
                f"lattice {self.name!r}: finding the sites within distance {radius:.6g} would search "
                f"{cells_visited:.3g} unit cells (limit {MAX_SEARCH_CELLS:g}); the bond rule reaches too far for "
                "this cell, or the basis sites lie far outside it"
            )
        grids = np.meshgrid(*[np.array(r) for r in ranges], indexing="ij")
        cells = np.stack([g.ravel() for g in grids], axis=1)
        out = []
        origin = self.basis[b]
        base = cells.astype(float) @ self.vectors
        for b2 in range(self.n_basis):
            vecs = base + self.basis[b2] - origin
            dist = np.linalg.norm(vecs, axis=1)
            for idx in np.nonzero(dist <= radius * (1 + TOLERANCE))[0]:
                if dist[idx] < TOLERANCE:
                    continue
                key = tuple(int(v) for v in cells[idx]) + (b2,)
                out.append((key, vecs[idx], float(dist[idx])))
        out.sort(key=lambda t: (round(t[2] / TOLERANCE), t[0]))
        return out

    @cached_property
    def nearest_neighbour_distance(self) -> float:
        """The minimal distance between two distinct sites."""
        radius = float(np.min(np.linalg.norm(self.vectors, axis=1)))
        best = radius
        for b in range(self.n_basis):
            near = self.sites_within(b, radius)
            if near:
                best = min(best, near[0][2])
        return best

    @cached_property
    def bonds(self) -> tuple[Bond, ...]:
        """The bonds of the lattice, each once (canonical direction), in a stable order."""
        return tuple(self.bond_rule.resolve(self))

    @cached_property
    def bond_kinds(self) -> tuple[str, ...]:
        """The distinct bond kinds, sorted (empty when the bonds carry no kinds)."""
        return tuple(sorted({b.kind for b in self.bonds if b.kind is not None}))

    @property
    def has_bond_kinds(self) -> bool:
        """True when the bonds fall into two or more kinds (then pair shapes are named by kind)."""
        return len(self.bond_kinds) >= 2

    @cached_property
    def neighbours(self) -> tuple[tuple[Neighbour, ...], ...]:
        """Bonded neighbours of each basis site, as :class:`Neighbour` records (by distance, then key)."""
        if isinstance(self.bond_rule, NearestNeighbours):
            dmin = self.nearest_neighbour_distance
            table = []
            for b in range(self.n_basis):
                near = self.sites_within(b, dmin)
                table.append(
                    tuple(
                        Neighbour(cell_offset=key[:-1], basis=key[-1], vector=tuple(float(x) for x in vec))
                        for key, vec, dist in near
                        if abs(dist - dmin) <= TOLERANCE * dmin
                    )
                )
            return tuple(table)
        per_site: list[list[tuple]] = [[] for _ in range(self.n_basis)]
        for bond in self.bonds:
            for src, tgt, off in ((bond.source, bond.target, bond.offset),
                                  (bond.target, bond.source, tuple(-o for o in bond.offset))):
                key = tuple(off) + (tgt,)
                vec = self.position(key) - self.basis[src]
                dist = float(np.linalg.norm(vec))
                entry = (round(dist / TOLERANCE), key, Neighbour(tuple(off), tgt, tuple(float(x) for x in vec), bond.kind))
                if entry[1] not in {e[1] for e in per_site[src]}:
                    per_site[src].append(entry)
        return tuple(tuple(e[2] for e in sorted(site, key=lambda e: (e[0], e[1]))) for site in per_site)

    @cached_property
    def bond_lookup(self) -> dict[tuple, str | None]:
        """``(basis site, cell offset, basis site) → bond kind`` for every bond (both directions)."""
        return {
            (b, nb.cell_offset, nb.basis): nb.kind for b, nbs in enumerate(self.neighbours) for nb in nbs
        }

    @property
    def coordination(self) -> tuple[int, ...]:
        """Coordination number (number of bonds) of each basis site."""
        return tuple(len(n) for n in self.neighbours)

    def neighbour_keys(self, key: Sequence[int], kinds: Sequence[str] | None = None) -> list[SiteKey]:
        """Site keys of the bonded neighbours of a site key (only bonds of ``kinds`` if given)."""
        cell = key[:-1]
        return [
            tuple(c + o for c, o in zip(cell, nb.cell_offset)) + (nb.basis,)
            for nb in self.neighbours[int(key[-1])]
            if kinds is None or nb.kind in kinds
        ]

    def are_neighbours(self, a: Sequence[int], b: Sequence[int]) -> bool:
        """Whether two site keys are joined by a bond."""
        rel = tuple(int(y) - int(x) for x, y in zip(a[:-1], b[:-1]))
        return (int(a[-1]), rel, int(b[-1])) in self.bond_lookup

    def bond_kind(self, a: Sequence[int], b: Sequence[int]) -> str | None:
        """The kind of the bond between two site keys (``None`` for kindless bonds).

        Raises
        ------
        BondError
            If the sites are not bonded.
        """
        rel = tuple(int(y) - int(x) for x, y in zip(a[:-1], b[:-1]))
        try:
            return self.bond_lookup[(int(a[-1]), rel, int(b[-1]))]
        except KeyError:
            raise BondError(f"sites {tuple(a)} and {tuple(b)} of {self.name!r} are not bonded") from None

    def check_bond_kinds(self, kinds: Sequence[str] | None, where: str = "bond-kind restriction") -> tuple[str, ...] | None:
        """Validate a restriction to bond kinds against this lattice; returns it as a tuple.

        Raises
        ------
        BondError
            If a kind is not a kind of this lattice's bonds.
        """
        if kinds is None:
            return None
        if isinstance(kinds, str):
            kinds = [k for k in kinds.replace(",", " ").split() if k]
        wanted = tuple(dict.fromkeys(str(k) for k in kinds))
        known = self.bond_kinds
        bad = [k for k in wanted if k not in known]
        if bad or not wanted:
            allowed = ", ".join(known) if known else "none (its bonds carry no kinds)"
            raise BondError(f"{where}: unknown bond kind(s) {bad or list(wanted)} on {self.name!r}; its kinds: {allowed}")
        return wanted

    @property
    def geometry_key(self) -> tuple:
        """Hashable identity of the geometry (vectors, basis, bonds, labels): equal keys, equal lattices."""
        return (
            self.vectors.tobytes(),
            self.basis.tobytes(),
            self.bonds if not isinstance(self.bond_rule, NearestNeighbours) else "nearest",
            self.sublattice_labels,
        )

    # ------------------------------------------------------------------ derived objects
    @cached_property
    def symmetry(self) -> "SpaceGroup":
        """The space group of the lattice, computed from the neighbour vectors."""
        from .symmetry import SpaceGroup

        return SpaceGroup.of(self)

    def supercell(self, shape: Sequence[int] | int) -> "Supercell":
        """Periodic L1×…×Ld supercell (an int gives a cubic supercell)."""
        from .supercell import Supercell

        return Supercell(self, shape)

    def to_json(self) -> dict[str, Any]:
        """The ``{"name", "dimension", "vectors", "basis"}`` record of the JSON schemas.

        Lattices with another bond rule add ``"bonds"`` (the rule, e.g. ``{"shells": [1, 2]}``), and
        sublattice-resolved ones ``"sublattices"`` (one label per basis site).
        """
        rec: dict[str, Any] = {
            "name": self.name,
            "dimension": self.dimension,
            "vectors": self.vectors.tolist(),
            "basis": self.basis.tolist(),
        }
        if not isinstance(self.bond_rule, NearestNeighbours):
            rec["bonds"] = self.bond_rule.to_dict()
        if self.sublattice_labels is not None:
            rec["sublattices"] = list(self.sublattice_labels)
        return rec

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> "Lattice":
        """Rebuild a lattice from its :meth:`to_json` record (``bonds``, ``sublattices`` optional)."""
        return cls(
            record["name"],
            record["vectors"],
            record.get("basis"),
            bonds=record.get("bonds"),
            sublattices=record.get("sublattices"),
        )

    def without_sublattices(self) -> "Lattice":
        """The same sites and bonds without sublattice labels (reduced to a primitive cell)."""
        if self.sublattice_labels is None:
            return self
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrimitiveCellNotice)
            return Lattice(self.name, self.vectors, self.basis, self.description, bonds=self.bond_rule)

    def __repr__(self) -> str:
        return (
            f"Lattice({self.name!r}, dimension={self.dimension}, n_basis={self.n_basis}, "
            f"coordination={self.coordination})"
        )

    def describe(self) -> Mapping[str, Any]:
        """Plain-data summary: name, dimension, basis size, coordination, bond kinds, point-group order."""
        return {
            "name": self.name,
            "dimension": self.dimension,
            "n_basis": self.n_basis,
            "coordination": list(self.coordination),
            "bond_kinds": list(self.bond_kinds),
            "sublattices": None if self.sublattice_labels is None else list(self.sublattice_labels),
            "point_group_order": self.symmetry.point_group_order,
            "description": self.description,
        }


# ---------------------------------------------------------------------- helpers
class _SiteFrame:
    """Vectors and basis of a cell, for locating points while a Lattice is being built."""

    def __init__(self, vectors: np.ndarray, basis: np.ndarray | None = None) -> None:
        self.vectors = np.asarray(vectors, dtype=float)
        self.basis = None if basis is None else np.asarray(basis, dtype=float)

    def fractional(self, points: Any) -> np.ndarray:
        return np.linalg.solve(self.vectors.T, np.asarray(points, dtype=float).T).T

    def position(self, key: Sequence[int]) -> np.ndarray:
        return np.asarray(key[:-1], dtype=float) @ self.vectors + self.basis[int(key[-1])]

    def locate(self, point: Any) -> SiteKey | None:
        for b in range(len(self.basis)):
            frac = self.fractional(np.asarray(point, dtype=float) - self.basis[b])
            rounded = np.round(frac)
            if np.allclose(frac, rounded, atol=1e-5):
                return tuple(int(v) for v in rounded) + (b,)
        return None


def _wrap(f: np.ndarray) -> np.ndarray:
    return f - np.round(f)


def _letters(i: int) -> str:
    """Sublattice label of site i: A … Z, then A1 … Z1, …"""
    letter = string.ascii_uppercase[i % 26]
    return letter if i < 26 else f"{letter}{i // 26}"


def _parse_sublattices(spec: Any, d: int, n_basis: int, name: str) -> tuple[np.ndarray | None, tuple[str, ...] | None]:
    if spec is None:
        return None, None
    if isinstance(spec, str):
        spec = [s for s in spec.replace(",", " ").split() if s]
    items = list(spec) if not isinstance(spec, np.ndarray) else spec.tolist()
    if items and all(isinstance(x, str) for x in items):
        if len(items) != n_basis:
            raise GeometryError(
                f"lattice {name!r}: sublattices gives {len(items)} label(s) for {n_basis} basis site(s); "
                "give one label per basis site"
            )
        if any(not lab or any(ch.isspace() for ch in lab) for lab in items):
            raise GeometryError(f"lattice {name!r}: sublattice labels must be non-empty without blanks, got {items}")
        return None, tuple(items)
    try:
        matrix = np.asarray(items, dtype=float)
    except (TypeError, ValueError):
        matrix = None
    if (
        matrix is None
        or matrix.shape != (d, d)
        or not np.allclose(matrix, np.round(matrix))
        or abs(round(np.linalg.det(matrix))) < 1
    ):
        raise GeometryError(
            f"lattice {name!r}: sublattices must be one label per basis site or a non-singular "
            f"{d}×{d} integer supercell matrix, got {spec!r}"
        )
    return np.round(matrix).astype(np.int64), None


def _translation_keeps_bonds(lattice: "Lattice", frac_shift: np.ndarray, bonds: Sequence[Bond]) -> bool:
    """Whether the translation (fractional in the lattice's vectors) maps the explicit bonds onto themselves."""
    shift = np.asarray(frac_shift, dtype=float) @ lattice.vectors
    have = {(b.source, b.offset, b.target): b.kind for b in bonds}
    have.update({(b.target, tuple(-o for o in b.offset), b.source): b.kind for b in bonds})
    for bond in bonds:
        start = lattice.locate(lattice.basis[bond.source] + shift)
        end = lattice.locate(lattice.position(tuple(bond.offset) + (bond.target,)) + shift)
        if start is None or end is None:
            return False
        rel = tuple(e - s for e, s in zip(end[:-1], start[:-1]))
        if have.get((start[-1], rel, end[-1]), "missing") != bond.kind:
            return False
    return True


def _primitive_vectors(vectors: np.ndarray, translations: Sequence[np.ndarray]) -> np.ndarray:
    """Primitive vectors of the lattice generated by ``vectors`` and the fractional ``translations``.

    Preferred choice (so that e.g. the conventional fcc cube gives the usual primitive vectors): the
    centring translations themselves, shortest first, completed by the given vectors; otherwise a
    Hermite basis of the generated lattice.
    """
    d = len(vectors)
    cands = sorted(
        (np.mod(np.asarray(t, dtype=float) + 1e-9, 1.0) - 1e-9 for t in translations),
        key=lambda t: (round(float(np.linalg.norm(t @ vectors)), 6), tuple(np.round(t, 6))),
    )
    cands = [np.where(np.abs(t) < 1e-7, 0.0, t) for t in cands] + [np.eye(d)[i] for i in range(d)]
    target = abs(np.linalg.det(vectors)) / (len(translations) + 1)
    chosen: list[np.ndarray] = []
    for t in cands:
        trial = chosen + [t]
        if np.linalg.matrix_rank(np.array(trial), tol=1e-8) == len(trial):
            chosen = trial
        if len(chosen) == d:
            break
    frac = np.array(chosen)
    if abs(abs(np.linalg.det(frac @ vectors)) - target) > 1e-6 * target:
        denom = 1
        for t in translations:
            for x in np.asarray(t, dtype=float):
                from fractions import Fraction

                denom = np.lcm(denom, Fraction(float(x)).limit_denominator(1000).denominator)
        rows = np.vstack([np.eye(d) * denom] + [np.round(np.asarray(t) * denom) for t in translations])
        frac = integer_row_basis(rows.astype(np.int64)).astype(float) / denom
    out = frac @ vectors
    if np.linalg.det(out) * np.linalg.det(vectors) < 0:
        out[-1] = -out[-1]
    return out


def _transfer_bonds(bonds: Sequence[Bond], old: _SiteFrame, new: _SiteFrame) -> ExplicitBonds:
    """The same physical bonds expressed in another cell of the same sites (every copy in the new cell)."""
    out: dict[tuple, Bond] = {}
    # every new basis site is some old site; bonds are translation invariant in the old cell
    for b_new, pos in enumerate(new.basis):
        old_key = old.locate(pos)
        for bond in bonds:
            for src, tgt, off in ((bond.source, bond.target, bond.offset),
                                  (bond.target, bond.source, tuple(-o for o in bond.offset))):
                if src != old_key[-1]:
                    continue
                end_old = tuple(c + o for c, o in zip(old_key[:-1], off)) + (tgt,)
                end_new = new.locate(old.position(end_old))
                if end_new is None:  # pragma: no cover - both cells hold the same sites
                    raise GeometryError("internal error: a bond end is not a site of the new cell")
                cb = Bond(b_new, end_new[-1], end_new[:-1], bond.kind).canonical()
                out[(cb.source, cb.target, cb.offset)] = cb
    return ExplicitBonds(sorted(out.values(), key=lambda b: (b.source, b.target, b.offset)))


def _connected(n_basis: int, d: int, bonds: Sequence[Bond]) -> bool:
    """Whether the infinite periodic bond graph is connected.

    The quotient graph on the basis sites must be connected and the cell offsets of its cycles must
    generate all of Z^d (otherwise the bonds join only a sublattice of the cells).
    """
    potential: dict[int, np.ndarray] = {0: np.zeros(d, dtype=np.int64)}
    adj: dict[int, list[tuple[int, np.ndarray]]] = {b: [] for b in range(n_basis)}
    for bond in bonds:
        off = np.asarray(bond.offset, dtype=np.int64)
        adj[bond.source].append((bond.target, off))
        adj[bond.target].append((bond.source, -off))
    stack = [0]
    while stack:
        u = stack.pop()
        for v, off in adj[u]:
            if v not in potential:
                potential[v] = potential[u] + off
                stack.append(v)
    if len(potential) != n_basis:
        return False
    cycles = [potential[b.source] + np.asarray(b.offset) - potential[b.target] for b in bonds]
    basis = integer_row_basis(np.array(cycles, dtype=np.int64).reshape(-1, d))
    return len(basis) == d and abs(round(np.linalg.det(basis.astype(float)))) == 1
