"""Cluster shapes and classes: independent counts, names, multiplicities, embeddings, limits."""

from __future__ import annotations

import itertools
import math

import pytest

from latticeclosure.clusters import ChainEnumerator, ConnectedEnumerator, class_lookup, enumerate_classes
from latticeclosure.errors import SizeLimitError, SpeciesError, UnknownNameError
from latticeclosure.registry import get_cluster_enumerator, get_lattice, get_registry


def shape_counts(lattice_name, max_size, enumerator=None):
    shapes = (enumerator or ConnectedEnumerator()).enumerate(get_lattice(lattice_name), max_size)
    return [sum(1 for s in shapes if s.size == k) for k in range(1, max_size + 1)]


# ------------------------------------------------------------------------- independent counts
def test_free_polyominoes_on_the_square_lattice():
    assert shape_counts("square", 5) == [1, 1, 2, 5, 12]


def test_free_polyhexes_on_the_triangular_lattice():
    # site animals of the triangular lattice = polyhexes
    assert shape_counts("triangular", 5) == [1, 1, 3, 7, 22]


def test_free_polyiamonds_on_the_honeycomb_lattice():
    # site animals of the honeycomb lattice = polyiamonds
    assert shape_counts("honeycomb", 5) == [1, 1, 1, 3, 4]


def test_free_polycubes_with_mirror_images_identified():
    assert shape_counts("cubic", 4) == [1, 1, 2, 7]


def test_three_dimensional_sizes_up_to_four():
    counts = shape_counts("fcc", 4)
    assert counts[:3] == [1, 1, 4]  # trimers: triangle (60°), 90°, 120° and straight chains
    assert counts[3] > counts[2]


def test_chain_lattice_has_one_shape_per_size():
    assert shape_counts("chain", 5) == [1, 1, 1, 1, 1]


def test_enumeration_is_deterministic():
    a = ConnectedEnumerator().enumerate(get_lattice("kagome"), 4)
    b = ConnectedEnumerator().enumerate(get_lattice("kagome"), 4)
    assert [(s.name, s.sites) for s in a] == [(s.name, s.sites) for s in b]
    assert len({s.name for s in a}) == len(a)


# ------------------------------------------------------------------------ triangular, two species
def test_triangular_shapes_names_and_embeddings():
    shapes = ConnectedEnumerator().enumerate(get_lattice("triangular"), 3)
    assert [s.name for s in shapes] == ["site", "pair", "linear", "angled", "triangle"]
    assert [s.embeddings_per_site for s in shapes] == [1, 3, 3, 6, 2]
    assert [len(s.bonds) for s in shapes] == [0, 1, 2, 2, 3]
    assert [s.is_closed for s in shapes] == [False, False, False, False, True]
    linear, angled, triangle = shapes[2:]
    # path-like shapes are ordered along the path: the middle site is position 1
    assert linear.degree_of(1) == angled.degree_of(1) == 2
    assert [s.fraction for s in shapes[2:]] == pytest.approx([3 / 11, 6 / 11, 2 / 11])


def test_triangular_two_species_classes():
    shapes = ConnectedEnumerator().enumerate(get_lattice("triangular"), 3)
    classes = {s.name: enumerate_classes(s, ["+", "-"]) for s in shapes}
    assert [len(classes[n]) for n in ("site", "pair")] == [2, 3]
    assert sum(len(classes[n]) for n in ("linear", "angled", "triangle")) == 16
    assert [len(classes[n]) for n in ("linear", "angled", "triangle")] == [6, 6, 4]
    pairs = {c.name: c.multiplicity for c in classes["pair"]}
    assert pairs == {"C++": 1, "C--": 1, "C+-": 2}
    assert [c.name for c in classes["pair"]] == ["C++", "C--", "C+-"]
    lin = {c.name: c.multiplicity for c in classes["linear"]}
    assert lin == {"L+++": 1, "L---": 1, "L++-": 2, "L--+": 2, "L+-+": 1, "L-+-": 1}
    ang = {c.name: c.multiplicity for c in classes["angled"]}
    assert ang == {"A+++": 1, "A---": 1, "A++-": 2, "A--+": 2, "A+-+": 1, "A-+-": 1}
    tri = {c.name: c.multiplicity for c in classes["triangle"]}
    assert tri == {"T+++": 1, "T---": 1, "T++-": 3, "T--+": 3}
    # states are aligned with the sites; the middle of L++- is "+"
    lpp = next(c for c in classes["linear"] if c.name == "L++-")
    assert lpp.states == ("+", "+", "-") and lpp.to_json() == {
        "name": "L++-", "states": ["+", "+", "-"], "multiplicity": 2}


@pytest.mark.parametrize("name", ["square", "triangular", "honeycomb", "kagome", "cubic"])
@pytest.mark.parametrize("species", [["+", "-"], ["a", "b", "c"]])
def test_multiplicities_partition_the_patterns(name, species):
    q = len(species)
    for shape in ConnectedEnumerator().enumerate(get_lattice(name), 3 if q == 3 else 4):
        classes = enumerate_classes(shape, species)
        assert sum(c.multiplicity for c in classes) == q**shape.size
        seen = [p for c in classes for p in c.patterns]
        assert sorted(seen) == list(itertools.product(range(q), repeat=shape.size))
        table = class_lookup(shape, classes, q)
        assert (table >= 0).all()
        # a class's patterns are one orbit of the shape's stabiliser
        for c in classes:
            orbit = {tuple(c.pattern[perm.index(k)] for k in range(shape.size)) for perm in shape.stabiliser}
            assert orbit == set(c.patterns)


def test_three_species_class_counts():
    shapes = {s.name: s for s in ConnectedEnumerator().enumerate(get_lattice("triangular"), 3)}
    sp = ["Mn", "Li", "Ni"]
    # Burnside: pairs (27+... ) -- pairs 6, linear (27 + 9)/2 = 18, angled 18, triangle (27+2·3+3·9)/6 = 10
    assert len(enumerate_classes(shapes["pair"], sp)) == 6
    assert len(enumerate_classes(shapes["linear"], sp)) == 18
    assert len(enumerate_classes(shapes["angled"], sp)) == 18
    assert len(enumerate_classes(shapes["triangle"], sp)) == 10
    names = [c.name for c in enumerate_classes(shapes["pair"], sp)]
    assert names[0] == "C[Mn,Mn]" and len(set(names)) == 6


# ------------------------------------------------------------------------------- embeddings
@pytest.mark.parametrize(
    "name,pairs",
    [("chain", 1), ("square", 2), ("triangular", 3), ("honeycomb", 1.5), ("kagome", 2), ("cubic", 3), ("fcc", 6)],
)
def test_pair_embeddings_per_site(name, pairs):
    shapes = ConnectedEnumerator().enumerate(get_lattice(name), 2)
    assert shapes[1].name == "pair"
    assert shapes[1].embeddings_per_site == pytest.approx(pairs)  # z/2 averaged over the basis


# --------------------------------------------------------------------------------------- chains
def test_chain_enumerator_triangular_fractions():
    shapes = ChainEnumerator().enumerate(get_lattice("triangular"), 3)
    three = [s for s in shapes if s.size == 3]
    assert [s.name for s in three] == ["linear", "angled", "triangle"]
    assert [s.embeddings_per_site for s in three] == [3, 6, 6]
    assert [s.fraction for s in three] == pytest.approx([1 / 5, 2 / 5, 2 / 5])
    theta = next(s.fraction for s in three if s.name == "triangle")
    assert theta == pytest.approx(2 / 5)
    assert all(s.path for s in shapes)
    # the closed chain keeps its path order: the middle site is position 1, ends 0 and 2
    tri_chain = three[2]
    assert tri_chain.is_closed and len(tri_chain.stabiliser) == 2  # identity and reversal
    classes = enumerate_classes(tri_chain, "+-")
    assert len(classes) == 6  # a closed chain still has a distinguished middle site
    assert sum(c.multiplicity for c in classes) == 8


def test_chain_enumerator_counts_paths():
    # self-avoiding walks of n sites on the square lattice up to symmetry: 1, 1, 2, 4, 9
    assert shape_counts("square", 5, ChainEnumerator()) == [1, 1, 2, 4, 9]
    assert sum(s.fraction for s in ChainEnumerator().enumerate(get_lattice("square"), 4) if s.size == 4) == pytest.approx(1)


# ------------------------------------------------------------------------------------ json
def test_shape_json_record():
    shape = ConnectedEnumerator().enumerate(get_lattice("honeycomb"), 2)[1]
    rec = shape.to_json()
    assert set(rec) == {"name", "size", "sites", "embeddings_per_site"}
    assert rec["size"] == 2 and rec["embeddings_per_site"] == 1.5
    (x0, y0), (x1, y1) = rec["sites"]
    assert math.hypot(x1 - x0, y1 - y0) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------- bad input
def test_unknown_enumerator_name():
    assert set(get_registry().names("cluster_enumerators")) >= {"connected", "chains"}
    with pytest.raises(UnknownNameError, match="unknown cluster enumerator 'animals'.*chains, connected"):
        get_cluster_enumerator("animals")


def test_size_limit_with_estimate():
    with pytest.raises(SizeLimitError, match=r"size up to 12 on 'triangular' would produce roughly [0-9.e+]+ shapes \(limit 20000\)"):
        ConnectedEnumerator().enumerate(get_lattice("triangular"), 12)
    small = get_cluster_enumerator("connected", max_shapes=3)
    with pytest.raises(SizeLimitError, match=r"roughly .* shapes \(limit 3\).*max_shapes"):
        small.enumerate(get_lattice("square"), 5)
    with pytest.raises(SizeLimitError, match="limit 50"):
        ChainEnumerator(max_shapes=50).enumerate(get_lattice("fcc"), 6)
    # a configured enumerator keeps working below its limit
    assert len(get_cluster_enumerator("chains", max_shapes=100).enumerate(get_lattice("square"), 3)) == 4


def test_estimates_are_the_right_order_of_magnitude():
    tri = get_lattice("triangular")
    for size, exact in [(5, 22), (6, 82), (7, 333)]:
        est = ConnectedEnumerator().estimate(tri, size)
        assert exact / 3 < est < exact * 3


@pytest.mark.parametrize("size", [0, -1, 2.5])
def test_bad_sizes(size):
    with pytest.raises(SizeLimitError, match="positive integer"):
        ConnectedEnumerator().enumerate(get_lattice("square"), size)


def test_bad_enumerator_option():
    with pytest.raises(SizeLimitError, match="unknown option"):
        ConnectedEnumerator().configure(colour="red")


@pytest.mark.parametrize(
    "species,match", [(["+"], "at least two"), (["+", "+"], "distinct"), (["+", ""], "non-empty"), (["a b", "c"], "blanks")]
)
def test_bad_species(species, match):
    shape = ConnectedEnumerator().enumerate(get_lattice("square"), 2)[1]
    with pytest.raises(SpeciesError, match=match):
        enumerate_classes(shape, species)
