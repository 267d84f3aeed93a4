"""Space groups of lattices: spglib for the site positions, then the bond-preserving operations.

spglib (`Togo et al. <https://spglib.readthedocs.io>`_) computes the space group of the site positions
(and sublattice labels). 2D lattices are embedded in 3D with a vacuum axis, 1D ones with two; only
the distinct in-plane (in-line) actions are kept, and the input cell is never standardised or rotated:
every operation is expressed on the given vectors and basis. Of those operations the ones that map the
bond set (with its kinds) onto itself form the group G of the lattice. Every kept operation is stored
as an integer affine map on site keys,

    n' = M n + k[b],   b' = perm[b],

normalised so that basis site 0 of cell 0 lands in cell 0, so that applying it to clusters is exact
integer arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from .errors import GeometryError

if TYPE_CHECKING:  # pragma: no cover
    from .lattice import Lattice

__all__ = ["SymmetryOperation", "SpaceGroup", "translation_normal_form", "site_operations", "pure_translations"]

#: spglib's position tolerance, relative to the shortest Bravais vector.
SYMPREC = 1e-5


def site_operations(lattice: "Lattice") -> list[tuple[np.ndarray, np.ndarray]]:
    """Space-group operations of the site positions (and labels), from spglib.

    Returns
    -------
    list of (W, w)
        ``W`` (d×d int) and ``w`` (d,) act on fractional coordinates of the lattice's own vectors,
        ``x ↦ W x + w``; distinct in-plane actions only.
    """
    import spglib

    d = lattice.dimension
    scale = float(np.max(np.linalg.norm(lattice.vectors, axis=1)))
    extent = float(np.max(np.linalg.norm(lattice.basis - lattice.basis[0], axis=1))) if lattice.n_basis > 1 else 0.0
    vacuum = 10.0 * (scale + extent) + 1.0
    cell = np.zeros((3, 3))
    cell[:d, :d] = lattice.vectors
    for i, axis in enumerate(range(d, 3)):
        cell[axis, axis] = vacuum * (1.0 + 0.37 * i)  # two vacuum axes of different lengths (1D)
    frac = np.zeros((lattice.n_basis, 3))
    frac[:, :d] = lattice.fractional(lattice.basis)
    symprec = SYMPREC * float(np.min(np.linalg.norm(lattice.vectors, axis=1)))
    error_module = getattr(spglib, "error", None)
    if error_module is not None and hasattr(error_module, "OLD_ERROR_HANDLING"):
        error_module.OLD_ERROR_HANDLING = False  # errors as exceptions, not a None return
    try:
        data = spglib.get_symmetry((cell, frac, lattice.site_types), symprec=symprec)
    except Exception as exc:  # pragma: no cover - spglib failure on a validated cell
        raise GeometryError(f"lattice {lattice.name!r}: spglib could not find its symmetry: {exc}") from None
    if data is None:  # pragma: no cover - old spglib error convention
        raise GeometryError(f"lattice {lattice.name!r}: spglib could not find its symmetry")
    out: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    for rot, trans in zip(data["rotations"], data["translations"]):
        w_mat = np.asarray(rot[:d, :d], dtype=np.int64)
        if np.any(rot[:d, d:]) or np.any(rot[d:, :d]):
            continue  # mixes the plane with a vacuum axis: not an action on the lattice
        shift = np.asarray(trans[:d], dtype=float)
        shift = shift - np.floor(shift + 1e-9)
        shift[np.abs(shift - 1.0) < 1e-9] = 0.0
        key = (tuple(w_mat.ravel().tolist()), tuple(np.round(shift, 6).tolist()))
        out.setdefault(key, (w_mat, shift))
    return [out[k] for k in sorted(out)]


def pure_translations(lattice: "Lattice") -> list[np.ndarray]:
    """Fractional translations (not lattice vectors) that map the sites and labels onto themselves."""
    d = lattice.dimension
    eye = np.eye(d, dtype=np.int64)
    return [w for w_mat, w in site_operations(lattice) if np.array_equal(w_mat, eye) and np.abs(w).max() > 1e-6]


@dataclass(frozen=True)
class SymmetryOperation:
    """One space-group operation x ↦ R x + t, modulo lattice translations.

    Attributes
    ----------
    rotation : ndarray (d, d)
        Orthogonal matrix acting on Cartesian coordinates.
    translation : ndarray (d,)
        Cartesian translation.
    cell_matrix : ndarray (d, d) of int
        Action on cell indices, ``n' = cell_matrix @ n + cell_shift[b]``.
    cell_shift : ndarray (n_basis, d) of int
    basis_permutation : ndarray (n_basis,) of int
    """

    rotation: np.ndarray
    translation: np.ndarray
    cell_matrix: np.ndarray
    cell_shift: np.ndarray
    basis_permutation: np.ndarray

    def apply(self, keys: np.ndarray) -> np.ndarray:
        """Apply to an (m, d+1) integer array of site keys; returns a new array."""
        b = keys[:, -1]
        out = np.empty_like(keys)
        out[:, :-1] = keys[:, :-1] @ self.cell_matrix.T + self.cell_shift[b]
        out[:, -1] = self.basis_permutation[b]
        return out


def translation_normal_form(keys: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """Sorted site keys translated so that the smallest one lies in cell 0.

    Two site sets are translates of each other exactly when their normal forms are equal.
    """
    order = np.lexsort(keys.T[::-1])
    srt = keys[order]
    shifted = srt.copy()
    shifted[:, :-1] -= srt[0, :-1]
    return tuple(map(tuple, shifted.tolist()))


class SpaceGroup:
    """The operations that map a lattice onto itself (modulo lattice translations)."""

    def __init__(self, lattice: "Lattice", operations: Sequence[SymmetryOperation]) -> None:
        self.lattice = lattice
        self.operations = tuple(operations)

    def __len__(self) -> int:
        return len(self.operations)

    def __iter__(self):
        return iter(self.operations)

    @property
    def point_group(self) -> list[np.ndarray]:
        """The distinct rotation matrices (the point group)."""
        seen: dict[tuple, np.ndarray] = {}
        for op in self.operations:
            seen.setdefault(tuple(np.round(op.rotation, 6).ravel().tolist()), op.rotation)
        return list(seen.values())

    @property
    def point_group_order(self) -> int:
        """Order of the point group."""
        return len(self.point_group)

    @classmethod
    def of(cls, lattice: "Lattice") -> "SpaceGroup":
        """The operations of the site positions (spglib) that preserve the bonds and their kinds."""
        a_t = lattice.vectors.T
        a_t_inv = np.linalg.inv(a_t)
        ops: dict[tuple, SymmetryOperation] = {}
        for w_mat, shift in site_operations(lattice):
            rot = a_t @ w_mat @ a_t_inv
            op = _integer_operation(lattice, rot, a_t @ shift, a_t, a_t_inv)
            if op is None:
                continue
            op = _anchored(lattice, op)
            if not _preserves_bonds(lattice, op):
                continue
            key = (
                tuple(op.cell_matrix.ravel().tolist()),
                tuple(op.cell_shift.ravel().tolist()),
                tuple(op.basis_permutation.tolist()),
            )
            ops.setdefault(key, op)
        ordered = sorted(ops.items(), key=lambda kv: (not _is_identity(kv[1]), kv[0]))
        return cls(lattice, [op for _, op in ordered])

    def orbit_normal_forms(self, keys: np.ndarray) -> Iterable[tuple[SymmetryOperation, tuple]]:
        """Yield (operation, translation normal form of the image) for every operation."""
        for op in self.operations:
            yield op, translation_normal_form(op.apply(keys))

    def canonical_form(self, keys: np.ndarray) -> tuple[tuple[int, ...], ...]:
        """Smallest translation normal form over the orbit of a site set: equal iff G-equivalent."""
        return min(translation_normal_form(op.apply(keys)) for op in self.operations)


def _is_identity(op: SymmetryOperation) -> bool:
    return bool(
        np.array_equal(op.cell_matrix, np.eye(len(op.cell_matrix), dtype=np.int64))
        and not op.cell_shift.any()
        and np.array_equal(op.basis_permutation, np.arange(len(op.basis_permutation)))
    )


def _anchored(lattice: "Lattice", op: SymmetryOperation) -> SymmetryOperation:
    """The same operation modulo lattice translations, with basis site 0 of cell 0 mapped into cell 0."""
    k0 = op.cell_shift[0].copy()
    if not k0.any():
        return op
    return SymmetryOperation(
        rotation=op.rotation,
        translation=op.translation - k0.astype(float) @ lattice.vectors,
        cell_matrix=op.cell_matrix,
        cell_shift=op.cell_shift - k0[None, :],
        basis_permutation=op.basis_permutation,
    )


def _preserves_bonds(lattice: "Lattice", op: SymmetryOperation) -> bool:
    """Whether the operation maps every bond onto a bond of the same kind."""
    lookup = lattice.bond_lookup
    for b, nbs in enumerate(lattice.neighbours):
        pb = int(op.basis_permutation[b])
        for nb in nbs:
            target = op.cell_matrix @ np.asarray(nb.cell_offset, dtype=np.int64) + op.cell_shift[nb.basis]
            rel = tuple(int(v) for v in target - op.cell_shift[b])
            if lookup.get((pb, rel, int(op.basis_permutation[nb.basis])), "missing") != nb.kind:
                return False
    return True


def _integer_operation(
    lattice: "Lattice", rot: np.ndarray, trans: np.ndarray, a_t: np.ndarray, a_t_inv: np.ndarray
) -> SymmetryOperation | None:
    """Express x ↦ R x + t as an integer map on site keys, or None if it is not a lattice symmetry."""
    m_float = a_t_inv @ rot @ a_t
    m_int = np.round(m_float)
    if not np.allclose(m_float, m_int, atol=1e-5):
        return None
    nb = lattice.n_basis
    perm = np.empty(nb, dtype=np.int64)
    shift = np.empty((nb, lattice.dimension), dtype=np.int64)
    for b in range(nb):
        key = lattice.locate(rot @ lattice.basis[b] + trans)
        if key is None:
            return None
        perm[b] = key[-1]
        shift[b] = key[:-1]
    if len(set(perm.tolist())) != nb:
        return None
    return SymmetryOperation(
        rotation=rot,
        translation=trans,
        cell_matrix=m_int.astype(np.int64),
        cell_shift=shift,
        basis_permutation=perm,
    )
