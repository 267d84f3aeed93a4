"""Recognise a lattice by its geometry, not by its name.

Plugins that apply to one lattice (rate namings, presets) must recognise it however it was given: as
the registered lattice, from a lattice file, from a crystal structure, rotated, scaled or in another
primitive cell. :func:`geometry_signature` collects invariants of the bond graph up to symmetry and
similarity (rotation, reflection, uniform scale): dimension, basis size, the group and point-group
orders, coordinations, bond-length ratios, the partition of the bonds into kinds, the sublattice
partition, and the connected shapes up to size 3 with their embeddings per site, bond counts and
angles. Equal signatures are what :func:`same_geometry` tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .lattice import Lattice

__all__ = ["geometry_signature", "same_geometry"]

_DIGITS = 6


def geometry_signature(lattice: "Lattice", max_size: int = 3) -> tuple:
    """Invariants of the lattice's bond graph up to symmetry and similarity (hashable)."""
    from .clusters import ConnectedEnumerator

    lengths = [float(np.linalg.norm(nb.vector)) for nbs in lattice.neighbours for nb in nbs]
    if not lengths:
        return (lattice.dimension, lattice.n_basis, "no bonds")
    unit = min(lengths)
    ratios = tuple(sorted(round(x / unit, _DIGITS) for x in lengths))
    kinds: dict[Any, int] = {}
    for nbs in lattice.neighbours:
        for nb in nbs:
            kinds[nb.kind] = kinds.get(nb.kind, 0) + 1
    labels = lattice.sublattice_labels
    label_sizes = () if labels is None else tuple(sorted(labels.count(x) for x in set(labels)))
    shapes = ConnectedEnumerator().enumerate(lattice, max_size)
    shape_sig = []
    for s in shapes:
        pos = np.asarray(s.positions) / unit
        d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
        shape_sig.append(
            (s.size, len(s.bonds), round(s.embeddings_per_site, _DIGITS),
             tuple(sorted(round(float(x), 4) for x in d2.ravel())))
        )
    return (
        lattice.dimension,
        lattice.n_basis,
        len(lattice.symmetry),
        lattice.symmetry.point_group_order,
        tuple(sorted(lattice.coordination)),
        ratios,
        tuple(sorted(kinds.values())),
        label_sizes,
        tuple(sorted(shape_sig)),
    )


def same_geometry(a: "Lattice", b: "Lattice", max_size: int = 3) -> bool:
    """Whether two lattices have the same bond graph up to symmetry and similarity (by signature)."""
    if a is b:
        return True
    if a.dimension != b.dimension or a.n_basis != b.n_basis or sorted(a.coordination) != sorted(b.coordination):
        return False
    return geometry_signature(a, max_size) == geometry_signature(b, max_size)
