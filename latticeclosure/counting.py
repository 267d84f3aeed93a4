"""Concentrations of cluster classes in a configuration (numba).

``C_c = N_c / (|E_S| · m_c)``: ``N_c`` embeddings of shape S whose pattern lies in class c, ``|E_S|``
all embeddings of S in the supercell, ``m_c`` the class multiplicity — so ``Σ_c m_c C_c = 1`` for every
shape. Embeddings are enumerated as (orientation, unit cell) pairs: every orientation of a shape is
anchored once in every unit cell.

The kernel builds a histogram of pattern codes per orientation; class concentrations follow from a
lookup table. For two species on a one-site basis a faster kernel is used that sums products of
shifted occupancy rows (see :mod:`latticeclosure._count_kernels`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Sequence

import numpy as np

from .clusters import ClusterClass, Shape, class_lookup, enumerate_classes, validate_species
from .errors import ConfigurationError, GeometryError
from .supercell import Supercell

__all__ = ["ClassCounter", "count_concentrations", "shape_embeddings", "check_supercell_holds"]


def check_supercell_holds(supercell: Supercell, shapes: Sequence[Shape]) -> None:
    """Raise :class:`GeometryError` if some shape would wrap onto itself in the supercell.

    A shape spanning ``s`` cells along a direction needs ``L ≥ s + r + 1`` cells there, with ``r`` the
    largest neighbour cell offset, so that no two of its sites become neighbours by wrapping.
    """
    lat = supercell.lattice
    reach = np.zeros(lat.dimension, dtype=np.int64)
    for nbs in lat.neighbours:
        for nb in nbs:
            reach = np.maximum(reach, np.abs(np.asarray(nb.cell_offset, dtype=np.int64)))
    for shape in shapes:
        o = shape.orientations
        span = (o[:, :, :-1].max(axis=1) - o[:, :, :-1].min(axis=1)).max(axis=0)
        need = span + reach + 1
        if np.any(np.asarray(supercell.shape) < need):
            raise GeometryError(
                f"supercell {supercell.shape} of {lat.name!r} is too small for the shape "
                f"{shape.name!r} (size {shape.size}); it needs at least {tuple(int(v) for v in need)} cells"
            )


def shape_embeddings(supercell: Supercell, shape: Shape) -> np.ndarray:
    """All embeddings of a shape as an (n_embeddings, size) array of site indices.

    Rows are ordered orientation-major, then by unit cell; columns follow ``shape.sites`` (aligned
    through the symmetry operation that produced each orientation).
    """
    check_supercell_holds(supercell, [shape])
    d = supercell.lattice.dimension
    cells = supercell.site_keys[supercell.site_keys[:, -1] == 0][:, :-1]
    out = np.empty((shape.n_orientations, len(cells), shape.size), dtype=np.int64)
    for o, orient in enumerate(shape.orientations):
        for k in range(shape.size):
            keys = np.empty((len(cells), d + 1), dtype=np.int64)
            keys[:, :-1] = cells + orient[k, :-1]
            keys[:, -1] = orient[k, -1]
            out[o, :, k] = supercell.site_index(keys)
    return out.reshape(-1, shape.size)


@dataclass
class _ShapePlan:
    shape: Shape
    classes: list[ClusterClass]
    lookup: np.ndarray          # pattern code -> class index within `classes`
    first_orientation: int      # row of this shape's first orientation in the offset table
    multiplicities: np.ndarray


class ClassCounter:
    """Counts class concentrations of many configurations of one supercell quickly.

    Parameters
    ----------
    supercell : Supercell
    shapes : sequence of Shape
        The shapes whose classes are counted (any sizes, any enumerator).
    species : sequence of str
        Species names; configurations hold indices into this list.

    Examples
    --------
    >>> counter = ClassCounter(lattice.supercell(48), shapes, ["+", "-"])   # doctest: +SKIP
    >>> conc = counter.concentrations(config)                               # doctest: +SKIP
    """

    def __init__(self, supercell: Supercell, shapes: Sequence[Shape], species: Sequence[str]) -> None:
        self.supercell = supercell
        self.species = validate_species(species)
        self.shapes = list(shapes)
        check_supercell_holds(supercell, self.shapes)
        q = len(self.species)
        plans = []
        row = 0
        for shape in self.shapes:
            classes = enumerate_classes(shape, self.species)
            plans.append(
                _ShapePlan(
                    shape=shape,
                    classes=classes,
                    lookup=class_lookup(shape, classes, q),
                    first_orientation=row,
                    multiplicities=np.array([c.multiplicity for c in classes], dtype=np.float64),
                )
            )
            row += shape.n_orientations
        self._plans = plans
        self.classes: list[ClusterClass] = [c for p in plans for c in p.classes]
        self.class_names = [c.name for c in self.classes]
        if len(set(self.class_names)) != len(self.class_names):
            raise RuntimeError("internal error: duplicate class names")

    @cached_property
    def _offsets(self) -> np.ndarray:
        """(n_orientations_total, max_size, 4) int64 table of (dn1, dn2, dn3, basis) per site."""
        rows = sum(p.shape.n_orientations for p in self._plans)
        kmax = max(p.shape.size for p in self._plans)
        table = np.zeros((rows, kmax, 4), dtype=np.int64)
        d = self.supercell.lattice.dimension
        for p in self._plans:
            for o, orient in enumerate(p.shape.orientations):
                r = p.first_orientation + o
                table[r, : p.shape.size, :d] = orient[:, :-1]
                table[r, : p.shape.size, 3] = orient[:, -1]
        return table

    @cached_property
    def _sizes(self) -> np.ndarray:
        return np.concatenate([np.full(p.shape.n_orientations, p.shape.size, dtype=np.int64) for p in self._plans])

    def histograms(self, config: Any) -> list[np.ndarray]:
        """Per shape: (n_orientations, q**size) counts of pattern codes."""
        from ._count_kernels import pattern_histograms

        q = len(self.species)
        flat = self.supercell.validate_configuration(config, q)
        dims = list(self.supercell.shape) + [1] * (3 - self.supercell.lattice.dimension)
        kmax = int(self._sizes.max())
        hist = pattern_histograms(
            flat.astype(np.int8) if q <= 127 else flat,
            dims[0], dims[1], dims[2], self.supercell.lattice.n_basis,
            self._offsets, self._sizes, q, q ** kmax,
        )
        out = []
        for p in self._plans:
            n = p.shape.n_orientations
            out.append(hist[p.first_orientation : p.first_orientation + n, : q ** p.shape.size])
        return out

    def counts(self, config: Any) -> np.ndarray:
        """Number of embeddings N_c showing a pattern of each class (aligned with ``classes``)."""
        parts = []
        for p, h in zip(self._plans, self.histograms(config)):
            parts.append(np.bincount(p.lookup, weights=h.sum(axis=0), minlength=len(p.classes)))
        return np.concatenate(parts)

    def concentrations(self, config: Any) -> np.ndarray:
        """Concentrations C_c of every class (aligned with ``classes`` / ``class_names``)."""
        n = self.counts(config)
        parts = []
        start = 0
        n_cells = self.supercell.n_cells
        for p in self._plans:
            k = len(p.classes)
            n_emb = p.shape.n_orientations * n_cells
            parts.append(n[start : start + k] / (n_emb * p.multiplicities))
            start += k
        return np.concatenate(parts)

    def as_dict(self, config: Any) -> dict[str, float]:
        """Concentrations keyed by class name."""
        return dict(zip(self.class_names, self.concentrations(config).tolist()))


def count_concentrations(
    config: Any, supercell: Supercell, shapes: Sequence[Shape], species: Sequence[str]
) -> dict[str, float]:
    """Concentrations of all classes of ``shapes`` in one configuration, keyed by class name.

    Parameters
    ----------
    config : array_like of int
        Species indices, flat ``(n_sites,)`` or shaped ``(L1, …, Ld[, n_basis])``.
    supercell : Supercell
    shapes : sequence of Shape
    species : sequence of str

    Returns
    -------
    dict
        ``{class name: C_c}`` with ``Σ_c m_c C_c = 1`` per shape.

    Raises
    ------
    ConfigurationError
        Wrong shape, dtype or state values of ``config``.
    GeometryError
        Supercell too small for the shapes.
    """
    if not isinstance(supercell, Supercell):
        raise ConfigurationError(f"expected a Supercell, got {type(supercell).__name__}")
    return ClassCounter(supercell, shapes, species).as_dict(config)
