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

__all__ = ["geometry_signature", "same_geometry", "check_lattice_label"]

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


_LABEL_CHECKS: dict[str, bool] = {}


def check_lattice_label(record: Any, where: str, error: Any = None) -> None:
    """Refuse a lattice record (``{"name", "vectors", "basis", ...}`` of a data file) that carries the
    name of a registered lattice but describes another geometry.

    A dataset labelled ``square`` with triangular vectors would otherwise be analysed on the square
    lattice. Rotated, scaled or re-based cells of the registered lattice pass (compared with
    :func:`same_geometry`, sublattice labels aside); names nobody registered are not checked.

    Raises
    ------
    error (default :class:`~latticeclosure.errors.DataError`)
    """
    import json

    from .errors import DataError, LatticeClosureError

    error = error or DataError
    name = record.get("name") if isinstance(record, dict) else None
    if not isinstance(name, str):
        return
    try:
        from .registry import get_registry

        registry = get_registry()
        if name not in registry.names("lattices"):
            return
        registered = registry.get("lattices", name)
    except LatticeClosureError:  # plugins that cannot be loaded: nothing to compare with
        return
    key = json.dumps(record, sort_keys=True, default=str)
    if key not in _LABEL_CHECKS:
        _LABEL_CHECKS[key] = _same_as_registered(record, registered)
    if not _LABEL_CHECKS[key]:
        raise error(
            f"{where}: the lattice is labelled {name!r}, but its vectors, basis or bonds describe another "
            f"lattice than the registered {name!r}; fix the metadata (or name the lattice differently)"
        )


def _same_as_registered(record: dict, registered: "Lattice") -> bool:
    import warnings

    from .errors import LatticeClosureError
    from .lattice import Lattice, PrimitiveCellNotice

    reference = registered.to_json()
    vec = np.asarray(record.get("vectors"), dtype=float)
    bas = np.asarray(record.get("basis"), dtype=float)
    if (record.get("bonds") == reference.get("bonds") and "sublattices" not in record
            and vec.shape == registered.vectors.shape and bas.shape == registered.basis.shape
            and np.allclose(vec, registered.vectors, atol=1e-9) and np.allclose(bas, registered.basis, atol=1e-9)):
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrimitiveCellNotice)
            given = Lattice.from_json(record).without_sublattices()
    except LatticeClosureError:
        return False
    return same_geometry(given, registered.without_sublattices())
