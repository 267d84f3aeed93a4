"""Lattice geometry: registered lattices, neighbours, supercells, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latticeclosure.errors import GeometryError, UnknownNameError
from latticeclosure.lattice import Lattice
from latticeclosure.registry import get_lattice, get_registry

S3 = math.sqrt(3.0)

COORDINATION = {
    "chain": (2,),
    "square": (4,),
    "triangular": (6,),
    "honeycomb": (3, 3),
    "kagome": (4, 4, 4),
    "cubic": (6,),
    "fcc": (12,),
}
DIMENSION = {"chain": 1, "square": 2, "triangular": 2, "honeycomb": 2, "kagome": 2, "cubic": 3, "fcc": 3}


def test_standard_lattices_are_registered():
    names = set(get_registry().names("lattices"))
    assert set(COORDINATION) <= names
    src = get_registry().source("lattices", "triangular")
    assert "latticeclosure_std" in str(src)


@pytest.mark.parametrize("name", sorted(COORDINATION))
def test_coordination_dimension_and_nn_distance(name):
    lat = get_lattice(name)
    assert lat.coordination == COORDINATION[name]
    assert lat.dimension == DIMENSION[name]
    assert lat.nearest_neighbour_distance == pytest.approx(1.0)
    for b, nbs in enumerate(lat.neighbours):
        for nb in nbs:
            assert np.linalg.norm(nb.vector) == pytest.approx(1.0)
            # the recorded vector is the geometric displacement
            key = tuple(nb.cell_offset) + (nb.basis,)
            origin = lat.position((0,) * lat.dimension + (b,))
            assert np.allclose(lat.position(key) - origin, nb.vector)
            # neighbourhood is symmetric
            assert lat.are_neighbours(key, (0,) * lat.dimension + (b,))


def test_design_orientations():
    tri = get_lattice("triangular")
    assert np.allclose(tri.vectors, [[1, 0], [0.5, S3 / 2]])
    hc = get_lattice("honeycomb")
    assert np.allclose(hc.vectors, [[S3, 0], [S3 / 2, 1.5]]) and np.allclose(hc.basis, [[0, 0], [0, 1]])
    kg = get_lattice("kagome")
    assert np.allclose(kg.basis, [[0, 0], [1, 0], [0.5, S3 / 2]])
    fcc = get_lattice("fcc")
    assert np.allclose(fcc.vectors * math.sqrt(2), [[0, 1, 1], [1, 0, 1], [1, 1, 0]])


def test_locate_and_positions_round_trip():
    kg = get_lattice("kagome")
    keys = np.array([[0, 0, 0], [1, -2, 1], [-3, 4, 2]])
    for key, pos in zip(keys, kg.positions(keys)):
        assert kg.locate(pos) == tuple(key.tolist())
    assert kg.locate([0.25, 0.1]) is None


def test_lattice_json_record():
    rec = get_lattice("honeycomb").to_json()
    assert set(rec) == {"name", "dimension", "vectors", "basis"}
    assert rec["dimension"] == 2 and len(rec["basis"]) == 2


def test_configure_returns_a_modified_copy():
    sq = get_lattice("square")
    big = sq.configure(name="square2", vectors=[[2, 0], [0, 2]])
    assert big.name == "square2" and big.nearest_neighbour_distance == pytest.approx(2)
    assert sq.nearest_neighbour_distance == pytest.approx(1)
    with pytest.raises(GeometryError, match="unknown option"):
        sq.configure(colour="red")


# ------------------------------------------------------------------------------------- supercells
@pytest.mark.parametrize("name,L", [("square", 4), ("triangular", 5), ("honeycomb", 4), ("kagome", 3),
                                    ("cubic", 3), ("fcc", 3), ("chain", 5)])
def test_supercell_tables_and_graph(name, L):
    lat = get_lattice(name)
    sc = lat.supercell(L)
    assert sc.n_sites == L ** lat.dimension * lat.n_basis
    nbr = sc.neighbours
    assert nbr.dtype == np.int64 and nbr.shape == (sc.n_sites, max(lat.coordination))
    assert np.array_equal(sc.coordination, [lat.coordination[k[-1]] for k in sc.site_keys])
    graph = sc.graph()
    assert graph.number_of_nodes() == sc.n_sites
    assert graph.number_of_edges() == len(sc.bonds) == sum(sc.coordination) // 2
    # neighbour table and graph agree, and the relation is symmetric
    for i in range(sc.n_sites):
        assert set(nbr[i][nbr[i] >= 0].tolist()) == set(graph.neighbors(i))
    # site_index wraps periodically and inverts site_keys
    keys = sc.site_keys
    assert np.array_equal(sc.site_index(keys), np.arange(sc.n_sites))
    shifted = keys.copy()
    shifted[:, 0] += L
    assert np.array_equal(sc.site_index(shifted), np.arange(sc.n_sites))


def test_supercell_bad_input():
    tri = get_lattice("triangular")
    with pytest.raises(GeometryError, match="needs 2 side lengths"):
        tri.supercell((4, 4, 4))
    with pytest.raises(GeometryError, match="positive"):
        tri.supercell((4, 0))
    with pytest.raises(GeometryError, match="too small"):
        tri.supercell(2).neighbours
    sc = tri.supercell((5, 6))
    assert sc.shape == (5, 6) and sc.n_sites == 30


# -------------------------------------------------------------------------------------- bad input
def test_unknown_lattice_name_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="unknown lattice 'hexagonal'.*known lattices: .*triangular"):
        get_lattice("hexagonal")


@pytest.mark.parametrize(
    "vectors,match",
    [
        ([[1, 0], [2, 0]], "degenerate"),                       # collinear
        ([[1, 1], [-2, -2]], "degenerate"),                     # antiparallel
        ([[0, 0], [0, 1]], "degenerate"),                       # zero vector
        ([[1, 0, 0], [0, 1, 0], [1, 1, 0]], "degenerate"),      # coplanar
        ([[1, 0], [0.5, 1e-9]], "degenerate"),                  # numerically collinear
        ([[1, 0, 0], [0, 1, 0]], "d×d matrix"),                 # not square
        ([[1, 0], [np.nan, 1]], "NaN"),
        ([[1, 0, 0, 0]] * 4, "d×d"),                            # 4D
    ],
)
def test_degenerate_bravais_vectors(vectors, match):
    with pytest.raises(GeometryError, match=match):
        Lattice("bad", vectors)


@pytest.mark.parametrize(
    "basis,match",
    [
        ([[0, 0], [0, 0]], "overlap"),
        ([[0, 0], [1, 0]], "overlap"),            # differs by a lattice vector
        ([[0.1, 0.2], [1.1, 1.2]], "overlap"),
        ([[0, 0, 0]], "basis must be"),
    ],
)
def test_bad_basis(basis, match):
    with pytest.raises(GeometryError, match=match):
        Lattice("bad", [[1, 0], [0, 1]], basis=basis)


def test_lattice_needs_a_name():
    with pytest.raises(GeometryError, match="name"):
        Lattice("", [[1.0]])
