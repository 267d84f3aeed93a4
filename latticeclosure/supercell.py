"""Periodic supercells: site indexing, bond-neighbour tables (numpy, for numba) and networkx graphs.

Site index convention: ``index = ravel_multi_index((n_1, …, n_d, b), (L_1, …, L_d, n_basis))``,
i.e. C order with the basis index fastest. A configuration is an integer array of length
``n_sites`` (or of shape ``(L_1, …, L_d)`` / ``(L_1, …, L_d, n_basis)``) of species indices.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .errors import ConfigurationError, GeometryError

if TYPE_CHECKING:  # pragma: no cover
    import networkx

    from .lattice import Lattice

__all__ = ["Supercell"]


class Supercell:
    """An L1×…×Ld periodic supercell of a lattice.

    Parameters
    ----------
    lattice : Lattice
    shape : int or sequence of int
        Number of unit cells along each Bravais vector; an int means the same along all.
    """

    def __init__(self, lattice: "Lattice", shape: Sequence[int] | int) -> None:
        d = lattice.dimension
        if isinstance(shape, (int, np.integer)):
            shape = (int(shape),) * d
        shape = tuple(int(s) for s in shape)
        if len(shape) != d:
            raise GeometryError(
                f"supercell of the {d}D lattice {lattice.name!r} needs {d} side lengths, got {len(shape)}"
            )
        if any(s < 1 for s in shape):
            raise GeometryError(f"supercell side lengths must be positive, got {shape}")
        self.lattice = lattice
        self.shape = shape
        self.n_cells = int(np.prod(shape))
        self.n_sites = self.n_cells * lattice.n_basis

    @property
    def index_shape(self) -> tuple[int, ...]:
        """Shape ``(L_1, …, L_d, n_basis)`` of the site index grid."""
        return self.shape + (self.lattice.n_basis,)

    def site_index(self, keys: Any) -> np.ndarray:
        """Indices of site keys (an (m, d+1) int array), wrapped periodically."""
        k = np.asarray(keys, dtype=np.int64).reshape(-1, self.lattice.dimension + 1)
        cells = np.mod(k[:, :-1], self.shape)
        return np.ravel_multi_index(tuple(cells.T) + (k[:, -1],), self.index_shape)

    @cached_property
    def site_keys(self) -> np.ndarray:
        """(n_sites, d+1) array: the site key of every site index."""
        return np.stack(np.unravel_index(np.arange(self.n_sites), self.index_shape), axis=1).astype(np.int64)

    @cached_property
    def coordinates(self) -> np.ndarray:
        """(n_sites, d) Cartesian coordinates of the sites (unwrapped, in the home supercell)."""
        return self.lattice.positions(self.site_keys)

    @cached_property
    def neighbours(self) -> np.ndarray:
        """(n_sites, z_max) int64 neighbour table, padded with -1 where coordination is smaller.

        Row ``i`` lists the indices of the sites bonded to site ``i`` (every bond kind) in the
        lattice's neighbour order; a neighbour that wraps onto an already listed site (too small a
        supercell) raises instead.
        """
        lat = self.lattice
        zmax = max(lat.coordination)
        table = np.full((self.n_sites, zmax), -1, dtype=np.int64)
        keys = self.site_keys
        for b in range(lat.n_basis):
            rows = np.nonzero(keys[:, -1] == b)[0]
            for j, nb in enumerate(lat.neighbours[b]):
                target = keys[rows].copy()
                target[:, :-1] += np.asarray(nb.cell_offset, dtype=np.int64)
                target[:, -1] = nb.basis
                table[rows, j] = self.site_index(target)
        srt = np.sort(table, axis=1)
        repeated = ((srt[:, 1:] == srt[:, :-1]) & (srt[:, 1:] >= 0)).any()
        onto_self = (table == np.arange(self.n_sites)[:, None]).any()
        if repeated or onto_self:
            raise GeometryError(
                f"supercell {self.shape} of {lat.name!r} is too small: neighbours of a site wrap "
                "onto each other or onto the site itself; use at least 3 cells per direction"
            )
        return table

    @cached_property
    def coordination(self) -> np.ndarray:
        """Coordination number of every site."""
        return (self.neighbours >= 0).sum(axis=1)

    def graph(self) -> "networkx.Graph":
        """The bond graph as a networkx Graph (node attribute ``key``, ``pos``)."""
        import networkx as nx

        g = nx.Graph()
        for i in range(self.n_sites):
            g.add_node(i, key=tuple(self.site_keys[i].tolist()), pos=tuple(self.coordinates[i].tolist()))
        nbr = self.neighbours
        for i in range(self.n_sites):
            for j in nbr[i]:
                if j >= 0:
                    g.add_edge(i, int(j))
        return g

    @cached_property
    def bonds(self) -> np.ndarray:
        """(n_bonds, 2) array of the bonds (every kind), each once with i < j."""
        nbr = self.neighbours
        i = np.repeat(np.arange(self.n_sites), nbr.shape[1])
        j = nbr.ravel()
        keep = (j >= 0) & (i < j)
        return np.stack([i[keep], j[keep]], axis=1)

    def validate_configuration(self, config: Any, n_species: int) -> np.ndarray:
        """Check a configuration and return it as a contiguous flat int8/int64 array.

        Raises
        ------
        ConfigurationError
            On a wrong shape, a non-integer dtype, or state values outside ``0 … n_species-1``.
        """
        arr = np.asarray(config)
        allowed_shapes = {(self.n_sites,), self.index_shape}
        if self.lattice.n_basis == 1:
            allowed_shapes.add(self.shape)
        if arr.shape not in allowed_shapes:
            raise ConfigurationError(
                f"configuration has shape {arr.shape}; a {self.shape} supercell of {self.lattice.name!r} "
                f"needs one of {sorted(allowed_shapes)}"
            )
        if arr.dtype.kind not in "iub":
            raise ConfigurationError(
                f"configuration must hold integer species indices, got dtype {arr.dtype}"
            )
        flat = np.ascontiguousarray(arr.reshape(-1)).astype(np.int64, copy=False)
        if flat.size and (flat.min() < 0 or flat.max() >= n_species):
            bad = flat[(flat < 0) | (flat >= n_species)][0]
            raise ConfigurationError(
                f"configuration holds the state value {int(bad)}; allowed are 0..{n_species - 1} "
                f"({n_species} species)"
            )
        return flat

    def __repr__(self) -> str:
        return f"Supercell({self.lattice.name!r}, shape={self.shape}, n_sites={self.n_sites})"
