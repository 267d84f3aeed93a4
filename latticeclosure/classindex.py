"""Identify the shape and class of any labelled cluster (site keys + states) on a lattice.

:class:`ClassIndex` holds all shapes up to a size with their classes and answers "which class is the
pattern ``p`` on the sites ``keys``?" exactly, through the orientation table of each shape. The rate
equation generator and the closures use it to name context clusters, sub-clusters and bonds.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .clusters import ClusterClass, Shape, class_lookup, enumerate_classes, validate_species
from .errors import GeometryError
from .symmetry import translation_normal_form

if TYPE_CHECKING:  # pragma: no cover
    from .lattice import Lattice

__all__ = ["ClassIndex"]


class ClassIndex:
    """All connected shapes up to ``max_size`` of a lattice, their classes, and a classifier.

    Parameters
    ----------
    lattice : Lattice
    species : sequence of str
    max_size : int
    enumerator : object, optional
        A cluster enumerator (default: the ``connected`` one).
    max_patterns : int, optional
        Refuse (before enumerating) when the classes would need more decorated patterns than this
        (:func:`latticeclosure.clusters.check_class_request`).

    Raises
    ------
    SpeciesError, SizeLimitError
    """

    def __init__(self, lattice: "Lattice", species: Sequence[str], max_size: int, enumerator: Any = None,
                 max_patterns: int | None = None) -> None:
        from .clusters import DEFAULT_MAX_PATTERNS, ConnectedEnumerator, check_class_request

        if isinstance(lattice, str):
            from .registry import get_registry

            lattice = get_registry().resolve("lattices", lattice)
        missing = [a for a in ("name", "dimension", "symmetry", "neighbour_keys") if not hasattr(lattice, a)]
        if missing:
            raise GeometryError(f"a lattice (object or registered name) is needed, got {type(lattice).__name__}")
        self.lattice = lattice
        self.species = validate_species(species)
        self.q = len(self.species)
        self.enumerator = enumerator if enumerator is not None else ConnectedEnumerator()
        check_class_request(self.enumerator, lattice, max_size, self.q,
                            DEFAULT_MAX_PATTERNS if max_patterns is None else max_patterns)
        self.max_size = int(max_size)
        self.shapes: list[Shape] = self.enumerator.enumerate(lattice, self.max_size)
        self.classes_of: dict[str, list[ClusterClass]] = {}
        self._lookup: dict[str, np.ndarray] = {}
        self._forms: dict[tuple, tuple[Shape, np.ndarray]] = {}
        for shape in self.shapes:
            cls = enumerate_classes(shape, self.species)
            self.classes_of[shape.name] = cls
            self._lookup[shape.name] = class_lookup(shape, cls, self.q)
            for orient in shape.orientations:
                form = self._form(orient)
                self._forms.setdefault(form, (shape, orient))
        self.by_name: dict[str, ClusterClass] = {
            c.name: c for cls in self.classes_of.values() for c in cls
        }

    def _form(self, keys: np.ndarray) -> tuple:
        if self.enumerator.path_based:
            return self.enumerator.fixed_form(keys)
        return translation_normal_form(keys)

    def shapes_of_size(self, size: int) -> list[Shape]:
        """Shapes with ``size`` sites, in enumeration order."""
        return [s for s in self.shapes if s.size == size]

    def classes_of_size(self, size: int) -> list[ClusterClass]:
        """All classes of all shapes of a size, in enumeration order."""
        return [c for s in self.shapes_of_size(size) for c in self.classes_of[s.name]]

    def shape_of(self, keys: Any) -> tuple[Shape, list[int]]:
        """The shape of a site set and the alignment ``order`` with ``keys[order[k]]`` ↔ shape site k.

        Raises
        ------
        GeometryError
            If the sites are not a known shape (disconnected, or larger than ``max_size``).
        """
        arr = np.asarray(keys, dtype=np.int64).reshape(-1, self.lattice.dimension + 1)
        form = self._form(arr)
        hit = self._forms.get(form)
        if hit is None:
            raise GeometryError(
                f"sites {arr.tolist()} are not a {self.enumerator.name} cluster of size ≤ {self.max_size} "
                f"on {self.lattice.name!r}"
            )
        shape, orient = hit
        smallest = arr[np.lexsort(arr.T[::-1])[0]]
        local = {tuple((row[:-1] - smallest[:-1]).tolist()) + (int(row[-1]),): i for i, row in enumerate(arr)}
        order = [local[tuple(site.tolist())] for site in orient]
        return shape, order

    def classify(self, keys: Any, pattern: Sequence[int]) -> ClusterClass:
        """The class of the species pattern ``pattern`` (indices) on the sites ``keys``."""
        shape, order = self.shape_of(keys)
        code = 0
        for k in order:
            code = code * self.q + int(pattern[k])
        return self.classes_of[shape.name][int(self._lookup[shape.name][code])]

    @cached_property
    def singlet_classes(self) -> list[ClusterClass]:
        """Classes of the size-1 shapes."""
        return self.classes_of_size(1)
