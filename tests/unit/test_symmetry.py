"""Space groups computed from neighbour vectors: orders, consistency, basis independence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latticeclosure.clusters import ConnectedEnumerator, enumerate_classes
from latticeclosure.lattice import Lattice
from latticeclosure.registry import get_lattice
from latticeclosure.symmetry import translation_normal_form

S3 = math.sqrt(3.0)

ORDERS = {"chain": 2, "square": 8, "triangular": 12, "honeycomb": 12, "kagome": 12, "cubic": 48, "fcc": 48}


@pytest.mark.parametrize("name,order", sorted(ORDERS.items()))
def test_point_group_orders(name, order):
    lat = get_lattice(name)
    group = lat.symmetry
    assert group.point_group_order == order
    # G/T is isomorphic to the point group for a primitive cell
    assert len(group) == order
    assert any(np.allclose(op.rotation, np.eye(lat.dimension)) for op in group)


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_operations_are_isometries_of_the_lattice(name):
    lat = get_lattice(name)
    rng = np.random.default_rng(0)
    keys = np.concatenate(
        [rng.integers(-3, 4, size=(6, lat.dimension)), rng.integers(0, lat.n_basis, size=(6, 1))], axis=1
    )
    pos = lat.positions(keys)
    for op in lat.symmetry:
        assert np.allclose(op.rotation.T @ op.rotation, np.eye(lat.dimension))
        image = op.apply(keys)
        # the integer action on keys is the Cartesian map x -> R x + t
        assert np.allclose(lat.positions(image), pos @ op.rotation.T + op.translation)
        # neighbours stay neighbours
        for b in range(lat.n_basis):
            origin = np.array([(0,) * lat.dimension + (b,)])
            for nb in lat.neighbour_keys(origin[0]):
                pair = op.apply(np.array([origin[0], nb]))
                assert lat.are_neighbours(tuple(pair[0]), tuple(pair[1]))


@pytest.mark.parametrize("name", ["square", "triangular", "honeycomb", "kagome", "cubic"])
def test_group_is_closed_under_composition(name):
    lat = get_lattice(name)
    ops = list(lat.symmetry)
    probe = np.array([(0,) * lat.dimension + (b,) for b in range(lat.n_basis)]
                     + [(1,) + (2,) * (lat.dimension - 1) + (0,)], dtype=np.int64)
    forms = {translation_normal_form(op.apply(probe)) for op in ops}
    rng = np.random.default_rng(1)
    for i, j in rng.integers(0, len(ops), size=(40, 2)):
        composed = ops[i].apply(ops[j].apply(probe))
        assert translation_normal_form(composed) in forms


def test_translation_normal_form():
    a = np.array([[2, 3, 0], [2, 4, 0], [3, 3, 0]])
    b = a.copy()
    b[:, :2] += [5, -7]
    assert translation_normal_form(a) == translation_normal_form(b)
    assert translation_normal_form(a)[0] == (0, 0, 0)


# -------------------------------------------------------------------- basis (in)dependence
def _rotation(deg):
    th = math.radians(deg)
    return np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])


def _shape_and_class_counts(lattice, max_size, species="+-"):
    shapes = ConnectedEnumerator().enumerate(lattice, max_size)
    per_size = [sum(1 for s in shapes if s.size == k) for k in range(1, max_size + 1)]
    classes = [len(enumerate_classes(s, species)) for s in shapes]
    embeddings = sorted(round(s.embeddings_per_site, 9) for s in shapes)
    return per_size, sorted(classes), embeddings


EQUIVALENT_BASES = [
    # (reference name, vectors, basis, max size)
    ("triangular", (_rotation(17) @ np.array([[1, 0], [-0.5, S3 / 2]]).T).T, None, 4),
    ("triangular", [[2.5, 0], [1.25, 2.5 * S3 / 2]], None, 4),             # scaled
    ("triangular", [[1, 0], [1.5, S3 / 2]], None, 4),                       # sheared: a2 + a1
    ("square", [[1, 0], [1, 1]], None, 5),                                  # sheared
    ("square", (_rotation(33) @ np.array([[1, 0], [3, 1]]).T).T, None, 4),  # rotated and sheared
    ("honeycomb", (_rotation(-41) @ np.array([[S3, 0], [-S3 / 2, 1.5]]).T).T,
     (_rotation(-41) @ np.array([[0, 0], [0, 1]]).T).T, 4),
    ("kagome", [[2, 0], [3, S3]], [[0, 0], [1, 0], [0.5, S3 / 2]], 3),      # sheared
    ("cubic", [[1, 0, 0], [1, 1, 0], [1, 1, 1]], None, 3),                  # sheared
    ("fcc", [[0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]], None, 3),        # other primitive cell
]


@pytest.mark.parametrize("ref,vectors,basis,max_size", EQUIVALENT_BASES)
def test_rotated_or_sheared_basis_gives_same_group_and_classes(ref, vectors, basis, max_size):
    reference = get_lattice(ref)
    other = Lattice(f"{ref}-alt", vectors, basis=basis)
    assert other.coordination == reference.coordination
    assert other.symmetry.point_group_order == reference.symmetry.point_group_order
    assert len(other.symmetry) == len(reference.symmetry)
    assert _shape_and_class_counts(other, max_size) == _shape_and_class_counts(reference, max_size)


def test_rotated_triangular_keeps_the_paper_names():
    tri = Lattice("t17", (_rotation(17) @ np.array([[1, 0], [-0.5, S3 / 2]]).T).T)
    shapes = ConnectedEnumerator().enumerate(tri, 3)
    assert [s.name for s in shapes] == ["site", "pair", "linear", "angled", "triangle"]
    assert [s.embeddings_per_site for s in shapes] == pytest.approx([1, 3, 3, 6, 2])


def test_non_primitive_cell_is_reduced_with_a_notice():
    """A square lattice given with a 2-site cell is reduced to its primitive cell (one-line notice);
    the result has the full square symmetry. (Before bond rules existed such cells were refused.)"""
    from latticeclosure.lattice import PrimitiveCellNotice

    with pytest.warns(PrimitiveCellNotice, match="not primitive"):
        sq2 = Lattice("sq2", [[2, 0], [0, 1]], basis=[[0, 0], [1, 0]])
    assert sq2.n_basis == 1 and sq2.symmetry.point_group_order == 8
    assert "\n" not in sq2.reduction_notice
    with pytest.warns(PrimitiveCellNotice):
        fcc = Lattice("fcc-conventional", np.eye(3) * 2 ** 0.5,
                      basis=np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]) / 2 ** 0.5)
    assert fcc.n_basis == 1 and fcc.coordination == (12,) and fcc.symmetry.point_group_order == 48
    # primitive multi-site cells are fine (Lieb: corner and two edge centres)
    lieb = Lattice("lieb", [[2, 0], [0, 2]], basis=[[0, 0], [1, 0], [0, 1]])
    assert lieb.coordination == (4, 2, 2) and lieb.symmetry.point_group_order == 8


def test_lower_symmetry_lattices():
    rect = Lattice("rect", [[1, 0], [0, 2]])
    assert rect.coordination == (2,)
    assert rect.symmetry.point_group_order == 4
    oblique = Lattice("oblique", [[1, 0], [0.3, 1.7]])
    assert oblique.symmetry.point_group_order == 2
    # a centred rectangular lattice whose shortest vectors do not span the plane alone
    assert Lattice("crect", [[1, 0], [0.5, 2.0]]).symmetry.point_group_order == 4
    assert Lattice("chain3", [[1.0]], basis=[[0.0]]).symmetry.point_group_order == 2
