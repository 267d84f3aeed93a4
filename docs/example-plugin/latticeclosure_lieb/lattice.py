"""The Lieb lattice: a square Bravais lattice with a corner site and two edge-centre sites."""

from __future__ import annotations

from latticeclosure.lattice import Lattice

__all__ = ["lieb_lattice"]


def lieb_lattice() -> Lattice:
    """The Lieb lattice with nearest-neighbour distance 1.

    Bravais vectors a1 = (2, 0), a2 = (0, 2); basis (0, 0) (corner, 4 neighbours), (1, 0) and
    (0, 1) (edge centres, 2 neighbours each). Only vectors and basis are given: neighbours and the
    symmetry group are computed by latticeclosure.
    """
    return Lattice(
        "lieb",
        vectors=[[2.0, 0.0], [0.0, 2.0]],
        basis=[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]],
        description="Lieb lattice (line-centred square), 3-site basis, coordination 4/2/2",
    )
