"""Bond rules: nearest neighbours, shells, cutoffs, explicit bonds with kinds; the symmetry they allow."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latticeclosure.bonds import Bond, Cutoff, ExplicitBonds, Shells, integer_row_basis
from latticeclosure.clusters import ConnectedEnumerator, enumerate_classes
from latticeclosure.equations import generate_equations
from latticeclosure.equations.dynamics import SwapDynamics
from latticeclosure.errors import BondError
from latticeclosure.lattice import Lattice
from latticeclosure.registry import get_lattice

S3 = math.sqrt(3.0)

# point-group orders: the seven lattices of before bond rules (unchanged) and the new ones
ORDERS = {
    "chain": 2, "square": 8, "triangular": 12, "honeycomb": 12, "kagome": 12, "cubic": 48, "fcc": 48,
    "rectangular": 4, "square-j1j2": 8, "triangular-j1j2": 12, "dice": 12, "bcc": 48, "hcp": 24,
}
COORDINATION = {
    "rectangular": (4,), "square-j1j2": (8,), "triangular-j1j2": (12,), "dice": (6, 3, 3),
    "bcc": (8,), "hcp": (12, 12),
}


@pytest.mark.parametrize("name,order", sorted(ORDERS.items()))
def test_shipped_point_group_orders(name, order):
    lat = get_lattice(name)
    assert lat.symmetry.point_group_order == order
    assert len(lat.symmetry) == order  # primitive cells: G/T is the point group


@pytest.mark.parametrize("name,z", sorted(COORDINATION.items()))
def test_new_lattices_coordination_and_bonds_are_symmetric(name, z):
    lat = get_lattice(name)
    assert lat.coordination == z
    for b, nbs in enumerate(lat.neighbours):
        for nb in nbs:
            back = tuple(-o for o in nb.cell_offset) + (b,)
            site = tuple(nb.cell_offset) + (nb.basis,)
            assert lat.are_neighbours(site, (0,) * lat.dimension + (b,))
            assert lat.bond_kind(site, (0,) * lat.dimension + (b,)) == nb.kind
            assert lat.are_neighbours((0,) * lat.dimension + (nb.basis,), back[:-1] + (b,))


def test_operations_preserve_bonds_and_kinds():
    for name in ("rectangular", "square-j1j2", "dice", "hcp"):
        lat = get_lattice(name)
        for op in lat.symmetry:
            for b, nbs in enumerate(lat.neighbours):
                origin = (0,) * lat.dimension + (b,)
                for nb in nbs:
                    key = tuple(nb.cell_offset) + (nb.basis,)
                    img = op.apply(np.array([origin, key], dtype=np.int64))
                    a, c = tuple(img[0]), tuple(img[1])
                    assert lat.bond_kind(a, c) == nb.kind


def test_hcp_has_twelve_equal_neighbours_at_ideal_axial_ratio():
    lat = get_lattice("hcp")
    assert lat.vectors[2, 2] / np.linalg.norm(lat.vectors[0]) == pytest.approx(math.sqrt(8 / 3))
    for nbs in lat.neighbours:
        assert sorted(round(float(np.linalg.norm(nb.vector)), 9) for nb in nbs) == [1.0] * 12


def test_rectangular_pairs_split_by_bond_kind():
    lat = get_lattice("rectangular")
    assert lat.symmetry.point_group_order == 4
    assert lat.bond_kinds == ("x", "y")
    pairs = [s for s in ConnectedEnumerator().enumerate(lat, 2) if s.size == 2]
    assert sorted(s.kind for s in pairs) == ["x", "y"]
    assert sorted(s.name for s in pairs) == ["pair-x", "pair-y"]
    classes = {c.name: c for s in pairs for c in enumerate_classes(s, "+-")}
    assert set(classes) == {"Cx++", "Cx--", "Cx+-", "Cy++", "Cy--", "Cy+-"}
    assert classes["Cx+-"].bond_kind == "x" and classes["Cx+-"].multiplicity == 2


def test_kinds_split_shapes_that_geometry_alone_would_merge():
    # a square lattice whose x and y bonds have different kinds: the 90° rotation is lost
    bonds = [{"from": 0, "to": 0, "offset": [1, 0], "kind": "h"}, {"from": 0, "to": 0, "offset": [0, 1], "kind": "v"}]
    lat = Lattice("sq-hv", [[1, 0], [0, 1]], bonds={"explicit": bonds})
    assert lat.coordination == (4,) and lat.symmetry.point_group_order == 4
    assert [s.name for s in ConnectedEnumerator().enumerate(lat, 2) if s.size == 2] == ["pair-h", "pair-v"]
    same = Lattice("sq-same", [[1, 0], [0, 1]], bonds={"explicit": [dict(b, kind="J") for b in bonds]})
    assert same.symmetry.point_group_order == 8


def test_rules_agree_where_they_should():
    sq = get_lattice("square")
    by_shell = Lattice("s1", sq.vectors, bonds=Shells([1]))
    by_cutoff = Lattice("s2", sq.vectors, bonds=Cutoff(1.2))
    explicit = Lattice("s3", sq.vectors, bonds=[(0, 0, (1, 0)), (0, 0, (0, 1)), (0, 0, (-1, 0))])  # reverse listed too
    for lat in (by_shell, by_cutoff, explicit):
        assert lat.coordination == (4,)
        assert {tuple(nb.cell_offset) for nb in lat.neighbours[0]} == {tuple(nb.cell_offset) for nb in sq.neighbours[0]}
    assert Lattice("c", sq.vectors, bonds={"cutoff": 1.5}).coordination == (8,)
    j1j2 = get_lattice("square-j1j2")
    assert {nb.kind for nb in j1j2.neighbours[0]} == {"J1", "J2"}


def test_default_rule_results_are_unchanged():
    """Shells([1]) has the same graph as nearest neighbours and gives the same equations."""
    tri = get_lattice("triangular")
    shell = Lattice("triangular", tri.vectors, bonds={"shells": [1]})
    a = generate_equations(tri, "+-", "swap", 2, naming=None)
    b = generate_equations(shell, "+-", "swap", 2, naming=None)
    assert {k: str(v) for k, v in a.rhs.items()} == {k: str(v) for k, v in b.rhs.items()}


BAD_BONDS = [
    ({"explicit": [{"from": 0, "to": 3, "offset": [1, 0]}]}, "basis site 3 does not exist"),
    ({"explicit": [{"from": 0, "to": 0, "offset": [0, 0]}]}, "zero bond"),
    ({"explicit": [{"from": 0, "to": 0, "offset": [1, 0], "kind": "a"},
                   {"from": 0, "to": 0, "offset": [-1, 0], "kind": "b"}]}, "twice with different kinds"),
    ({"explicit": [{"from": 0, "to": 0, "offset": [1, 0], "kind": "a"},
                   {"from": 0, "to": 0, "offset": [0, 1]}]}, "every bond or to none"),
    ({"explicit": [{"from": 0, "to": 0, "offset": [1, 0]}]}, "disconnected"),
    ({"explicit": [{"from": 0, "to": 0, "offset": [2, 0]}, {"from": 0, "to": 0, "offset": [0, 1]}]}, "disconnected"),
    ({"explicit": [{"from": 0, "to": 0, "offset": [1]}]}, "needs 2 integers"),
    ({"explicit": [{"from": 0, "to": 0, "offset": [1, 0], "kind": "J 1"}]}, "bond kind"),
    ({"explicit": [{"from": 0, "to": 0, "offset": [1, 0], "weight": 2}]}, "unknown key"),
    ({"cutoff": 0.5}, "yields no bonds"),
    ({"cutoff": -1}, "positive"),
    ({"shells": [0]}, "positive integers"),
    ({"shells": [1, 1]}, "more than once"),
    ({"shells": [1, 2], "kinds": ["a"]}, "one name per shell"),
    ({"shells": [1], "cutoff": 2}, "exactly one of"),
    ({"radius": 2}, "exactly one of"),
]


@pytest.mark.parametrize("bonds,fragment", BAD_BONDS)
def test_bad_bond_rules_are_specific_errors(bonds, fragment):
    with pytest.raises(BondError, match=fragment) as info:
        Lattice("bad", [[1, 0], [0, 1.5]], bonds=bonds)
    assert len(str(info.value)) <= 400 and str(info.value).count("\n") < 5


def test_rectangular_with_x_bonds_only_is_disconnected():
    with pytest.raises(BondError, match="disconnected"):
        Lattice("chains", [[1, 0], [0, 1.5]], bonds={"shells": [1]})


def test_unknown_bond_kind_in_dynamics_restriction():
    lat = get_lattice("square-j1j2")
    with pytest.raises(BondError, match=r"unknown bond kind\(s\) \['J3'\].*J1, J2"):
        generate_equations(lat, "+-", SwapDynamics(bond_kinds=["J3"]), 2, naming=None)
    with pytest.raises(BondError, match="carry no kinds"):
        generate_equations(get_lattice("square"), "+-", SwapDynamics(bond_kinds=["J1"]), 2, naming=None)


def test_bond_canonical_direction_and_integer_basis():
    b = Bond(1, 0, (0, -1), "x")
    assert b.canonical() == Bond(0, 1, (0, 1), "x") and b.reversed().reversed() == b
    basis = integer_row_basis(np.array([[2, 0], [0, 2], [1, 1]]))
    assert abs(round(np.linalg.det(basis))) == 2
    assert ExplicitBonds([(0, 0, (1, 0))]).to_dict() == {"explicit": [{"from": 0, "to": 0, "offset": [1, 0]}]}
