"""Sublattice-resolved lattices: summing resolved classes back to unresolved ones.

A lattice built with ``sublattices=`` (a supercell matrix, or labels on the basis sites) keeps its
cell and restricts the symmetry to the operations that preserve the labels, so its shapes and classes
carry sublattice labels (``pair-AB``, ``CAB+-``). The unresolved lattice (same sites and bonds, no
labels; :meth:`~latticeclosure.lattice.Lattice.without_sublattices`) has coarser classes. Each
unresolved class c of shape S is an exact linear combination of resolved classes c' ⊂ c:

    C_c = Σ_{c' ⊂ c}  (m_{c'} / m_c) · (e_{S'} / e_S) · C_{c'}

with m the multiplicities and e the embeddings per site of the resolved shape S' of c' and of S
(``N_c = Σ N_{c'}``, ``|E_S| = Σ_{S' ⊂ S} |E_{S'}|``). :func:`resolution_map` gives these
coefficients as exact fractions.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Mapping

import numpy as np

from .errors import GeometryError

if TYPE_CHECKING:  # pragma: no cover
    from .classindex import ClassIndex

__all__ = ["resolution_map", "unresolved_concentrations", "sublattice_cell"]


def sublattice_cell(lattice, matrix, name: str | None = None):
    """``lattice`` with its cell replaced by the supercell ``matrix`` and the sites labelled A, B, …"""
    return lattice.configure(name=name or f"{lattice.name}-resolved", sublattices=matrix)


def _fraction(x: float) -> Fraction:
    return Fraction(x).limit_denominator(100000)


def resolution_map(resolved: "ClassIndex", parent: "ClassIndex") -> dict[str, dict[str, Fraction]]:
    """Coefficients expressing each unresolved class through resolved classes.

    Parameters
    ----------
    resolved : ClassIndex
        Classes of the sublattice-resolved lattice.
    parent : ClassIndex
        Classes of the same sites and bonds without labels (same species, max size ≥ resolved's).

    Returns
    -------
    dict
        ``{unresolved class name: {resolved class name: coefficient}}`` for every unresolved class
        up to the resolved index's max size.

    Raises
    ------
    GeometryError
        If the two lattices do not hold the same sites and bonds.
    """
    if tuple(resolved.species) != tuple(parent.species):
        raise GeometryError("resolution_map needs the same species on both indices")
    rl, pl = resolved.lattice, parent.lattice
    out: dict[str, dict[str, Fraction]] = {}
    for shape in resolved.shapes:
        pos = rl.positions(np.asarray(shape.sites, dtype=np.int64))
        keys = []
        for p in pos:
            key = pl.locate(p)
            if key is None:
                raise GeometryError(
                    f"site {p.tolist()} of {rl.name!r} is not a site of {pl.name!r}: not the same lattice"
                )
            keys.append(key)
        parent_shape, _ = parent.shape_of(np.array(keys, dtype=np.int64))
        ratio = _fraction(shape.embeddings_per_site) / _fraction(parent_shape.embeddings_per_site)
        for cls in resolved.classes_of[shape.name]:
            pcls = parent.classify(np.array(keys, dtype=np.int64), cls.pattern)
            coeff = Fraction(cls.multiplicity, pcls.multiplicity) * ratio
            row = out.setdefault(pcls.name, {})
            row[cls.name] = row.get(cls.name, Fraction(0)) + coeff
    return out


def unresolved_concentrations(
    resolved_values: Mapping[str, float], mapping: Mapping[str, Mapping[str, Fraction]]
) -> dict[str, float]:
    """Unresolved concentrations from resolved ones through a :func:`resolution_map`."""
    return {
        name: float(sum(float(c) * resolved_values[r] for r, c in row.items()))
        for name, row in mapping.items()
    }
