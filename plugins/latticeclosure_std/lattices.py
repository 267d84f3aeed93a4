"""The standard lattices: Bravais vectors, basis and bond rule (nearest-neighbour distance 1).

Lattices with another bond rule than nearest neighbours: ``rectangular`` (aspect 1.5, bonds to the
two shells x and y: four neighbours, two bond kinds), ``square-j1j2`` and ``triangular-j1j2`` (first
and second neighbour shells, kinds J1 and J2), ``dice`` (the triangular sites with only the
hub–rim bonds, explicit). ``hcp`` has the ideal c/a = √(8/3), where its 12 nearest neighbours (6 in
the plane, 3 above, 3 below) are all at distance 1.
"""

from __future__ import annotations

import math

from latticeclosure.lattice import Lattice

__all__ = ["standard_lattices"]

_S3 = math.sqrt(3.0)
_R2 = 1.0 / math.sqrt(2.0)
_R3 = 1.0 / math.sqrt(3.0)
#: Ideal hcp axial ratio c/a = √(8/3): the out-of-plane neighbours are as near as the in-plane ones.
HCP_C_OVER_A = math.sqrt(8.0 / 3.0)

# dice: hub (0) at the origin, rims A (1) and B (2); each hub bonds to six rims, each rim to three hubs
_DICE_BONDS = [
    {"from": 0, "to": 1, "offset": [0, 0]},
    {"from": 1, "to": 0, "offset": [0, 1]},
    {"from": 1, "to": 0, "offset": [-1, 1]},
    {"from": 0, "to": 2, "offset": [0, 0]},
    {"from": 2, "to": 0, "offset": [1, -1]},
    {"from": 2, "to": 0, "offset": [0, -1]},
]


def standard_lattices() -> list[Lattice]:
    """Chain, square, triangular, honeycomb, kagome, cubic, fcc; rectangular, J1–J2 square and
    triangular, dice, bcc, hcp."""
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
        Lattice(
            "rectangular",
            [[1.0, 0.0], [0.0, 1.5]],
            bonds={"shells": [1, 2], "kinds": ["x", "y"]},
            description="rectangular lattice (aspect 1.5), 4 neighbours, bond kinds x and y",
        ),
        Lattice(
            "square-j1j2",
            [[1.0, 0.0], [0.0, 1.0]],
            bonds={"shells": [1, 2]},
            description="square lattice with first (J1) and second (J2) neighbours, coordination 8",
        ),
        Lattice(
            "triangular-j1j2",
            [[1.0, 0.0], [0.5, _S3 / 2]],
            bonds={"shells": [1, 2]},
            description="triangular lattice with first (J1) and second (J2) neighbours, coordination 12",
        ),
        Lattice(
            "dice",
            [[_S3, 0.0], [_S3 / 2, 1.5]],
            basis=[[0.0, 0.0], [0.0, 1.0], [0.0, -1.0]],
            bonds={"explicit": _DICE_BONDS},
            description="dice (T3) lattice: hubs of coordination 6, rims of coordination 3",
        ),
        Lattice(
            "bcc",
            [[-_R3, _R3, _R3], [_R3, -_R3, _R3], [_R3, _R3, -_R3]],
            description="body-centred cubic lattice, coordination 8",
        ),
        Lattice(
            "hcp",
            [[1.0, 0.0, 0.0], [0.5, _S3 / 2, 0.0], [0.0, 0.0, HCP_C_OVER_A]],
            basis=[[0.0, 0.0, 0.0], [0.5, _S3 / 6, HCP_C_OVER_A / 2]],
            description="hexagonal close-packed, 2-site basis, ideal c/a = sqrt(8/3), coordination 12",
        ),
    ]
