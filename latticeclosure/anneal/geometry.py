"""The neighbourhood of a swap: which energy clusters it changes, and the padded layout.

For every *row* ``r = b·Z + d`` (basis site ``b`` of the chosen site ``i``, neighbour direction ``d``
giving ``j``) the energy clusters containing ``i`` or ``j`` are listed once each, as site keys relative
to ``i`` (cell offsets + basis index), with the code change per unit of ``s_j − s_i``: swapping changes
a cluster's pattern code by ``(s_j − s_i)(w_i − w_j)`` with ``w`` the code weight of the position (0 if
absent). Clusters holding both sites whose energy is invariant under exchanging those two positions
are dropped: their energy cannot change (both triangles of a bond for a triangle energy; the bond of an Ising model).

The padded layout adds ``m_a`` ghost cells on both sides of axis ``a`` — the largest cell offset along
``a`` of any site of any row — so that every site of a row is at a constant flat offset from ``i``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..clusters import ConnectedEnumerator, Shape
from ..errors import GeometryError
from .energy import ClusterEnergy, EnergyError, pattern_codes

if TYPE_CHECKING:  # pragma: no cover
    from ..lattice import Lattice
    from ..supercell import Supercell

__all__ = ["SwapGeometry", "Row", "energy_shape"]

Key = tuple[int, ...]


def energy_shape(lattice: "Lattice", energy: ClusterEnergy) -> Shape:
    """The connected shape named ``energy.shape`` on ``lattice``.

    Raises
    ------
    EnergyError
        If the lattice has no connected shape of that name and size.
    """
    shapes = ConnectedEnumerator().enumerate(lattice, energy.size)
    for s in shapes:
        if s.name == energy.shape and s.size == energy.size:
            return s
    known = sorted(s.name for s in shapes if s.size == energy.size)
    raise EnergyError(
        f"lattice {lattice.name!r} has no {energy.size}-site cluster shape {energy.shape!r}; "
        f"known: {', '.join(known) or 'none'}"
    )


@dataclass
class Row:
    """The energy clusters changed by swapping basis site ``b`` with its neighbour ``d``."""

    b: int
    d: int
    j_key: Key                                   # key of the neighbour, relative to i = (0…0, b)
    clusters: list[tuple[np.ndarray, int]] = field(default_factory=list)  # (keys (K, dim+1), coef)

    @property
    def i_key(self) -> Key:
        return (0,) * (len(self.j_key) - 1) + (self.b,)

    def stencil(self) -> list[Key]:
        """Distinct sites of the row: ``i``, ``j``, then the other cluster sites in sorted order."""
        others = set()
        for keys, _ in self.clusters:
            others |= set(map(tuple, keys.tolist()))
        others -= {self.i_key, self.j_key}
        return [self.i_key, self.j_key] + sorted(others)


class SwapGeometry:
    """Rows, margins and flat offsets of one supercell and cluster energy.

    Parameters
    ----------
    supercell : Supercell
    energy : ClusterEnergy

    Raises
    ------
    GeometryError
        If the coordination differs between basis sites, or the supercell is too small: neighbours
        or energy clusters around a swap would wrap onto each other.
    EnergyError
        If the lattice has no cluster shape of the energy's name.
    """

    def __init__(self, supercell: "Supercell", energy: ClusterEnergy) -> None:
        from ..counting import shape_embeddings

        lat = supercell.lattice
        self.supercell = supercell
        self.lattice = lat
        self.energy = energy
        self.dim = lat.dimension
        if len(set(lat.coordination)) != 1:
            raise GeometryError(
                f"the swap annealer needs the same coordination at every basis site; {lat.name!r} has "
                f"{list(lat.coordination)}"
            )
        self.Z = int(lat.coordination[0])
        self.NB = lat.n_basis
        self.q = energy.q
        self.K = energy.size
        self.shape = energy_shape(lat, energy)
        _ = supercell.neighbours  # raises GeometryError if nearest neighbours wrap onto each other
        try:
            self.embeddings = shape_embeddings(supercell, self.shape)
        except GeometryError as exc:
            raise GeometryError(f"{exc} (the energy is defined on that shape)") from exc
        self.weights = self.q ** np.arange(self.K - 1, -1, -1, dtype=np.int64)
        self.rows = self._build_rows()
        self.rev = self._reverse_directions()
        self.margin = np.zeros(3, dtype=np.int64)
        for row in self.rows:
            for key in row.stencil():
                self.margin[: self.dim] = np.maximum(self.margin[: self.dim], np.abs(key[:-1]))
        self.L = np.ones(3, dtype=np.int64)
        self.L[: self.dim] = supercell.shape
        self._check_size()
        self._set_layout(self.margin)

    def _set_layout(self, margin: np.ndarray) -> None:
        self.margin = np.asarray(margin, dtype=np.int64)
        self.P = self.L + 2 * self.margin
        self.padded_size = int(np.prod(self.P) * self.NB)
        self.geo = np.array(
            [*self.L, self.NB, *self.margin, self.P[1], self.P[2], self.Z, self.K], dtype=np.int64
        )

    def neighbour_margin(self) -> np.ndarray:
        """Ghost margin that covers the nearest neighbours only (enough for the mask kernel's reads)."""
        margin = np.zeros(3, dtype=np.int64)
        for row in self.rows:
            margin[: self.dim] = np.maximum(margin[: self.dim], np.abs(row.j_key[:-1]))
        return margin

    def with_margin(self, margin: np.ndarray) -> "SwapGeometry":
        """A copy with another ghost margin (at least the neighbour margin; at most half the side)."""
        import copy

        margin = np.asarray(margin, dtype=np.int64)
        if np.any(self.L[: self.dim] < 2 * margin[: self.dim]):
            raise GeometryError(f"supercell {self.supercell.shape} is too small for a ghost margin {margin.tolist()}")
        other = copy.copy(self)
        other._set_layout(margin)
        return other

    # ------------------------------------------------------------------ construction
    def _build_rows(self) -> list[Row]:
        lat, K = self.lattice, self.K
        codes = pattern_codes(K, self.q)
        through: list[list[np.ndarray]] = [[] for _ in range(self.NB)]
        for orient in self.shape.orientations:
            for k in range(K):
                rel = orient.copy()
                rel[:, :-1] -= orient[k, :-1]
                through[int(orient[k, -1])].append(rel)
        rows = []
        for b in range(self.NB):
            for d, nbr in enumerate(lat.neighbours[b]):
                row = Row(b=b, d=d, j_key=tuple(nbr.cell_offset) + (nbr.basis,))
                found: dict[frozenset, np.ndarray] = {}
                for rel in through[b]:
                    found.setdefault(frozenset(map(tuple, rel.tolist())), rel)
                for rel in through[nbr.basis]:
                    moved = rel.copy()
                    moved[:, :-1] += np.asarray(nbr.cell_offset, dtype=np.int64)
                    found.setdefault(frozenset(map(tuple, moved.tolist())), moved)
                for keys in found.values():
                    tk = [tuple(k) for k in keys.tolist()]
                    pi = tk.index(row.i_key) if row.i_key in tk else -1
                    pj = tk.index(row.j_key) if row.j_key in tk else -1
                    if pi >= 0 and pj >= 0:
                        swapped = codes.copy()
                        swapped[:, [pi, pj]] = swapped[:, [pj, pi]]
                        if np.array_equal(self.energy.table, self.energy.table[swapped @ self.weights]):
                            continue
                    coef = int((self.weights[pi] if pi >= 0 else 0) - (self.weights[pj] if pj >= 0 else 0))
                    row.clusters.append((keys, coef))
                rows.append(row)
        return rows

    def _reverse_directions(self) -> np.ndarray:
        """``rev[b, d]``: the direction, seen from neighbour ``d`` of basis site ``b``, back to it."""
        lat = self.lattice
        rev = np.zeros((self.NB, self.Z), dtype=np.int64)
        for b in range(self.NB):
            for d, nbr in enumerate(lat.neighbours[b]):
                back = tuple(-o for o in nbr.cell_offset)
                rev[b, d] = next(
                    k for k, n2 in enumerate(lat.neighbours[nbr.basis]) if n2.cell_offset == back and n2.basis == b
                )
        return rev

    def _check_size(self) -> None:
        d = self.dim
        L = self.L[:d]
        small = np.any(L < 2 * self.margin[:d])
        for row in self.rows:
            stencil = row.stencil()
            wrapped = {tuple(int(v) % int(n) for v, n in zip(k[:-1], L)) + (k[-1],) for k in stencil}
            small = small or len(wrapped) != len(stencil)
        if small:
            need = self.minimal_side()
            raise GeometryError(
                f"supercell {self.supercell.shape} of {self.lattice.name!r} is too small for swaps with "
                f"the {self.energy.shape!r} energy: the sites around a swap would wrap onto each other; "
                f"use at least {need} cells along every direction"
            )

    def minimal_side(self) -> int:
        """The smallest side length ``L`` for which an ``L×…×L`` supercell passes the size check."""
        d = self.dim
        for side in range(2, 1000):
            if side < 2 * int(self.margin[:d].max()):
                continue
            ok = True
            for row in self.rows:
                stencil = row.stencil()
                wrapped = {tuple(int(v) % side for v in k[:-1]) + (k[-1],) for k in stencil}
                if len(wrapped) != len(stencil):
                    ok = False
                    break
            if ok:
                return side
        return 1000  # pragma: no cover

    # ------------------------------------------------------------------ offsets
    def flat(self, key: Key, b: int) -> int:
        """Flat offset in the padded array of the site ``key`` relative to basis site ``b`` of cell 0."""
        c = np.zeros(3, dtype=np.int64)
        c[: self.dim] = key[:-1]
        return int(((c[0] * self.P[1] + c[1]) * self.P[2] + c[2]) * self.NB + (int(key[-1]) - b))

    def cell_offset3(self, key: Key) -> np.ndarray:
        """The cell offset of a key padded to three components."""
        c = np.zeros(3, dtype=np.int64)
        c[: self.dim] = key[:-1]
        return c

    def neighbour_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``nbr_delta (R,)``, ``nbr_off (R, 3)`` and ``nbr_basis (R,)`` of every row."""
        R = len(self.rows)
        nbr_delta = np.zeros(R, dtype=np.int64)
        nbr_off = np.zeros((R, 3), dtype=np.int64)
        nbr_basis = np.zeros(R, dtype=np.int64)
        for r, row in enumerate(self.rows):
            nbr_delta[r] = self.flat(row.j_key, row.b)
            nbr_off[r] = self.cell_offset3(row.j_key)
            nbr_basis[r] = row.j_key[-1]
        return nbr_delta, nbr_off, nbr_basis

    def row_delta_energy(self, row: Row, keys: list[Key], values: np.ndarray, table: np.ndarray) -> np.ndarray:
        """ΔE of the swap of ``row`` for many assignments of species to ``keys`` (vectorised).

        ``values`` is (n_assignments, len(keys)); ``keys`` must contain every site of the row's
        clusters, with ``i`` and ``j`` among them.
        """
        pos = {k: n for n, k in enumerate(keys)}
        si = values[:, pos[row.i_key]]
        sj = values[:, pos[row.j_key]]
        out = np.zeros(len(values), dtype=table.dtype)
        for cl_keys, coef in row.clusters:
            idx = [pos[tuple(k)] for k in cl_keys.tolist()]
            code = values[:, idx] @ self.weights
            out += table[code + (sj - si) * coef] - table[code]
        return out
