"""Space groups computed from the neighbour vectors of a lattice.

Candidate point operations are never taken from a fixed list of angles: a frame of d linearly
independent short vectors from basis site 0 is mapped onto every frame of vectors with the same Gram
matrix around every basis site; each such map is a candidate rotation ``R = T S⁻¹``. A candidate is kept
when it is orthogonal, maps lattice translations to lattice translations and the basis onto the
lattice. Every kept operation is stored as an integer affine map on site keys,

    n' = M n + k[b],   b' = perm[b],

so that applying it to clusters is exact integer arithmetic.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from .lattice import TOLERANCE

if TYPE_CHECKING:  # pragma: no cover
    from .lattice import Lattice

__all__ = ["SymmetryOperation", "SpaceGroup", "translation_normal_form"]


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
        """Compute the space group of ``lattice`` from its neighbour vectors."""
        d = lattice.dimension
        frames_source, radius = _source_frame(lattice)
        s_mat = np.array(frames_source).T  # columns are the frame vectors
        s_inv = np.linalg.inv(s_mat)
        gram = s_mat.T @ s_mat
        lengths = np.sqrt(np.diag(gram))
        a_t = lattice.vectors.T
        a_t_inv = np.linalg.inv(a_t)
        ops: dict[tuple, SymmetryOperation] = {}
        for target_b in range(lattice.n_basis):
            cand = [vec for _, vec, _ in lattice.sites_within(target_b, radius)]
            per_slot = [
                [v for v in cand if abs(np.linalg.norm(v) - lengths[i]) <= TOLERANCE * max(1.0, lengths[i])]
                for i in range(d)
            ]
            for combo in itertools.product(*per_slot):
                t_mat = np.array(combo).T
                if not np.allclose(t_mat.T @ t_mat, gram, atol=1e-6 * max(1.0, gram.max())):
                    continue
                rot = t_mat @ s_inv
                if not np.allclose(rot.T @ rot, np.eye(d), atol=1e-6):
                    continue
                op = _integer_operation(lattice, rot, lattice.basis[target_b] - rot @ lattice.basis[0], a_t, a_t_inv)
                if op is None:
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


def _source_frame(lattice: "Lattice") -> tuple[list[np.ndarray], float]:
    """d linearly independent shortest vectors from basis site 0, and the radius that holds them.

    The nearest-neighbour shell is used when it spans space; further shells are added only when it
    does not (e.g. a chain-like basis), so operations always come from neighbour vectors.
    """
    d = lattice.dimension
    radius = lattice.nearest_neighbour_distance
    limit = float(np.max(np.linalg.norm(lattice.vectors, axis=1))) * d + 1.0
    while radius <= limit * 4:
        near = lattice.sites_within(0, radius)
        frame: list[np.ndarray] = []
        for _, vec, _ in near:
            trial = frame + [vec]
            if np.linalg.matrix_rank(np.array(trial), tol=1e-8) == len(trial):
                frame = trial
            if len(frame) == d:
                return frame, radius
        # grow to the next shell
        farther = [dist for _, _, dist in lattice.sites_within(0, radius * 2.5) if dist > radius * (1 + TOLERANCE)]
        radius = min(farther)
    raise RuntimeError(f"could not find {d} independent vectors around a site of {lattice.name}")


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
