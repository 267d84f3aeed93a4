"""The standard lattices, each defined only by Bravais vectors and basis (NN distance 1)."""

from __future__ import annotations

import math

from latticeclosure.lattice import Lattice

__all__ = ["standard_lattices"]

_S3 = math.sqrt(3.0)
_R2 = 1.0 / math.sqrt(2.0)


def standard_lattices() -> list[Lattice]:
    """Chain, square, triangular, honeycomb, kagome, simple cubic and fcc in DESIGN.md orientations."""
    return [
        Lattice("chain", [[1.0]], description="1D chain, coordination 2"),
        Lattice("square", [[1.0, 0.0], [0.0, 1.0]], description="square lattice, coordination 4"),
        Lattice(
            "triangular",
            [[1.0, 0.0], [0.5, _S3 / 2]],
            description="triangular lattice, coordination 6 (transition-metal layer of NMC)",
        ),
        Lattice(
            "honeycomb",
            [[_S3, 0.0], [_S3 / 2, 1.5]],
            basis=[[0.0, 0.0], [0.0, 1.0]],
            description="honeycomb lattice, 2-site basis, coordination 3",
        ),
        Lattice(
            "kagome",
            [[2.0, 0.0], [1.0, _S3]],
            basis=[[0.0, 0.0], [1.0, 0.0], [0.5, _S3 / 2]],
            description="kagome lattice, 3-site basis, coordination 4",
        ),
        Lattice(
            "cubic",
            [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            description="simple cubic lattice, coordination 6",
        ),
        Lattice(
            "fcc",
            [[0.0, _R2, _R2], [_R2, 0.0, _R2], [_R2, _R2, 0.0]],
            description="face-centred cubic lattice, coordination 12",
        ),
    ]
