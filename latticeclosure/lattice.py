"""Lattice geometry: Bravais vectors, basis, nearest neighbours.

A lattice is defined only by its Bravais vectors (rows of a d×d matrix, Cartesian) and the Cartesian
positions of its basis sites. Nearest neighbours are the site pairs at the minimal distance. Everything
else (symmetry group, clusters, supercells) is computed from that definition.

Sites are addressed by *site keys*: integer tuples ``(n_1, …, n_d, b)`` meaning the basis site ``b`` in
the unit cell ``n`` (Cartesian position ``Σ n_i a_i + basis[b]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from .errors import GeometryError

if TYPE_CHECKING:  # pragma: no cover
    from .supercell import Supercell
    from .symmetry import SpaceGroup

__all__ = ["Lattice", "Neighbour", "SiteKey"]

SiteKey = tuple[int, ...]

#: Relative tolerance used for every floating-point geometric comparison.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Neighbour:
    """A nearest neighbour of a basis site: the site ``basis`` in the cell displaced by ``cell_offset``."""

    cell_offset: tuple[int, ...]
    basis: int
    vector: tuple[float, ...]


class Lattice:
    """A periodic lattice given by Bravais vectors and a basis.

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

    Raises
    ------
    GeometryError
        If the vectors are degenerate (collinear/coplanar), the basis has the wrong dimension,
        two basis sites coincide modulo a lattice vector, or the cell is not primitive (a
        translation between basis sites maps the whole lattice onto itself).

    Examples
    --------
    >>> tri = Lattice("triangular", [[1, 0], [0.5, 3 ** 0.5 / 2]])
    >>> tri.coordination
    (6,)
    """

    def __init__(
        self,
        name: str,
        vectors: Any,
        basis: Any | None = None,
        description: str = "",
    ) -> None:
        if not isinstance(name, str) or not name:
            raise GeometryError("a lattice needs a non-empty string name")
        self.name = name
        self.description = description
        vec = np.atleast_2d(np.asarray(vectors, dtype=float))
        d = vec.shape[0]
        if vec.ndim != 2 or vec.shape != (d, d) or d not in (1, 2, 3):
            raise GeometryError(
                f"lattice {name!r}: Bravais vectors must form a d×d matrix with d in 1..3, "
                f"got shape {np.shape(vectors)}"
            )
        if not np.all(np.isfinite(vec)):
            raise GeometryError(f"lattice {name!r}: Bravais vectors contain NaN or infinity")
        norms = np.linalg.norm(vec, axis=1)
        if np.any(norms < TOLERANCE) or abs(np.linalg.det(vec)) < TOLERANCE * np.prod(norms):
            raise GeometryError(
                f"lattice {name!r}: Bravais vectors {vec.tolist()} are degenerate "
                "(zero, collinear or coplanar); they must be linearly independent"
            )
        if basis is None:
            bas = np.zeros((1, d))
        else:
            bas = np.atleast_2d(np.asarray(basis, dtype=float))
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
        self._check_primitive()

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

    def _check_primitive(self) -> None:
        """Refuse non-primitive cells: the symmetry machinery works on keys of a primitive cell.

        A cell is not primitive when moving basis site 0 onto another basis site ``b`` is a
        translation of the whole lattice (every site lands on a site); its symmetry operations need
        not map the given Bravais lattice onto itself and would be missed.
        """
        for b in range(1, self.n_basis):
            shift = self.basis[b] - self.basis[0]
            if all(self.locate(self.basis[c] + shift) is not None for c in range(self.n_basis)):
                raise GeometryError(
                    f"lattice {self.name!r}: the cell is not primitive: the translation "
                    f"{np.round(shift, 9).tolist()} (basis site 0 to basis site {b}) maps the lattice "
                    "onto itself; give a primitive cell (fewer basis sites)"
                )

    def configure(self, **options: Any) -> "Lattice":
        """Return a copy with some of ``name``, ``vectors``, ``basis``, ``description`` replaced."""
        allowed = {"name", "vectors", "basis", "description"}
        unknown = set(options) - allowed
        if unknown:
            raise GeometryError(
                f"lattice {self.name!r}: unknown option(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        kw: dict[str, Any] = dict(
            name=self.name, vectors=self.vectors, basis=self.basis, description=self.description
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
    def neighbours(self) -> tuple[tuple[Neighbour, ...], ...]:
        """Nearest neighbours of each basis site, as :class:`Neighbour` records."""
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

    @property
    def coordination(self) -> tuple[int, ...]:
        """Coordination number of each basis site."""
        return tuple(len(n) for n in self.neighbours)

    def neighbour_keys(self, key: Sequence[int]) -> list[SiteKey]:
        """Site keys of the nearest neighbours of a site key."""
        cell = key[:-1]
        return [
            tuple(c + o for c, o in zip(cell, nb.cell_offset)) + (nb.basis,)
            for nb in self.neighbours[int(key[-1])]
        ]

    def are_neighbours(self, a: Sequence[int], b: Sequence[int]) -> bool:
        """Whether two site keys are nearest neighbours."""
        rel = tuple(int(y) - int(x) for x, y in zip(a[:-1], b[:-1]))
        return any(nb.cell_offset == rel and nb.basis == b[-1] for nb in self.neighbours[int(a[-1])])

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
        """The ``{"name", "dimension", "vectors", "basis"}`` record of the JSON schemas."""
        return {
            "name": self.name,
            "dimension": self.dimension,
            "vectors": self.vectors.tolist(),
            "basis": self.basis.tolist(),
        }

    def __repr__(self) -> str:
        return (
            f"Lattice({self.name!r}, dimension={self.dimension}, n_basis={self.n_basis}, "
            f"coordination={self.coordination})"
        )

    def describe(self) -> Mapping[str, Any]:
        """Plain-data summary: name, dimension, basis size, coordination, point-group order."""
        return {
            "name": self.name,
            "dimension": self.dimension,
            "n_basis": self.n_basis,
            "coordination": list(self.coordination),
            "description": self.description,
        }
