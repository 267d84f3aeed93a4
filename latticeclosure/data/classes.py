"""Plain-data records of cluster classes and shapes for trajectory metadata.

Class record: ``{"name", "shape", "size", "sites", "states", "multiplicity"}`` — ``sites`` are the
Cartesian positions of the shape's representative sites, ``states`` the representative pattern on
them (aligned). Shape record: ``{"name", "size", "n_classes", "embeddings_per_site", "fraction"}``;
``n_classes`` tells a reader whether all classes of a shape are present (and so must be normalised).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from ..clusters import ClusterClass, Shape, enumerate_classes

__all__ = ["class_record", "shape_record", "records_for"]


def class_record(cls: ClusterClass) -> dict[str, Any]:
    """The metadata record of one class."""
    return {
        "name": cls.name,
        "shape": cls.shape.name,
        "size": int(cls.shape.size),
        "sites": np.asarray(cls.shape.positions, dtype=float).round(12).tolist(),
        "states": list(cls.states),
        "multiplicity": int(cls.multiplicity),
    }


def shape_record(shape: Shape, species: Sequence[str]) -> dict[str, Any]:
    """The metadata record of one shape."""
    return {
        "name": shape.name,
        "size": int(shape.size),
        "n_classes": len(enumerate_classes(shape, species)),
        "embeddings_per_site": float(shape.embeddings_per_site),
        "fraction": float(shape.fraction),
    }


def records_for(classes: Iterable[ClusterClass], species: Sequence[str]) -> tuple[list[dict], list[dict]]:
    """Class records and the records of their shapes (each shape once, in order of appearance)."""
    classes = list(classes)
    shapes: dict[str, Shape] = {}
    for c in classes:
        shapes.setdefault(c.shape.name, c.shape)
    return [class_record(c) for c in classes], [shape_record(s, species) for s in shapes.values()]
