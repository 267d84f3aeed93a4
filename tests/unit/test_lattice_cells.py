"""Conventional cells (reduced to primitive with a notice) and sublattice-resolved cells."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from latticeclosure.classindex import ClassIndex
from latticeclosure.clusters import ConnectedEnumerator, enumerate_classes
from latticeclosure.counting import ClassCounter
from latticeclosure.equations import generate_equations
from latticeclosure.equations.formats import to_text
from latticeclosure.errors import GeometryError
from latticeclosure.lattice import Lattice, PrimitiveCellNotice
from latticeclosure.registry import get_lattice
from latticeclosure.sublattices import resolution_map, sublattice_cell, unresolved_concentrations

S3 = math.sqrt(3.0)
FCC_CUBE = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]) / math.sqrt(2)


def _shape_table(lattice, size):
    out = []
    for s in ConnectedEnumerator().enumerate(lattice, size):
        out.append((s.name, s.size, len(s.bonds), round(s.embeddings_per_site, 9),
                    [(c.name, c.multiplicity) for c in enumerate_classes(s, "+-")]))
    return out


def test_conventional_fcc_cube_equals_primitive_fcc():
    with pytest.warns(PrimitiveCellNotice) as record:
        cube = Lattice("fcc", np.eye(3) * math.sqrt(2), basis=FCC_CUBE)
    assert len(record) == 1
    notice = str(record[0].message)
    assert "\n" not in notice and "4-site cell is not primitive" in notice and "1 site" in notice
    assert cube.reduction_notice == notice
    fcc = get_lattice("fcc")
    assert cube.n_basis == 1 and np.allclose(cube.vectors, fcc.vectors)
    assert _shape_table(cube, 4) == _shape_table(fcc, 4)
    for n, exclude in ((1, False), (2, False), (2, True)):
        a = generate_equations(cube, "+-", "swap", n, exclude_closed=exclude, naming=None)
        b = generate_equations(fcc, "+-", "swap", n, exclude_closed=exclude, naming=None)
        assert to_text(a, details=True) == to_text(b, details=True)


def test_conventional_cell_of_another_size_and_orientation_gives_the_same_classes():
    rot = np.linalg.qr(np.array([[1.0, 0.3, 0.1], [0.2, 1.0, 0.4], [0.1, 0.2, 1.0]]))[0]
    with pytest.warns(PrimitiveCellNotice):
        cube = Lattice("fcc-rot", (np.eye(3) * 3.0) @ rot.T, basis=(FCC_CUBE * 3.0 / math.sqrt(2)) @ rot.T)
    assert cube.symmetry.point_group_order == 48
    assert _shape_table(cube, 3) == _shape_table(get_lattice("fcc"), 3)


def test_explicit_bonds_that_break_a_translation_keep_the_cell():
    dice = get_lattice("dice")  # its sites form a triangular lattice; the bonds do not
    assert dice.n_basis == 3 and dice.reduction_notice is None
    # explicit bonds invariant under the centring translation: reduced, bonds carried over
    bonds = [{"from": 0, "to": 1, "offset": [0, 0], "kind": "a"}, {"from": 1, "to": 0, "offset": [1, 0], "kind": "a"},
             {"from": 0, "to": 0, "offset": [0, 1], "kind": "b"}, {"from": 1, "to": 1, "offset": [0, 1], "kind": "b"}]
    with pytest.warns(PrimitiveCellNotice):
        lat = Lattice("sq2", [[2, 0], [0, 1]], basis=[[0, 0], [1, 0]], bonds={"explicit": bonds})
    assert lat.n_basis == 1 and lat.coordination == (4,) and lat.bond_kinds == ("a", "b")
    assert lat.symmetry.point_group_order == 4


def test_sublattice_labels_restrict_the_symmetry():
    hc = get_lattice("honeycomb")
    labelled = hc.configure(sublattices=["A", "B"])
    assert hc.symmetry.point_group_order == 12 and labelled.symmetry.point_group_order == 6
    same = hc.configure(sublattices=["A", "A"])
    assert same.symmetry.point_group_order == 12
    with pytest.raises(GeometryError, match="one label per basis site"):
        hc.configure(sublattices=["A"])
    with pytest.raises(GeometryError, match="supercell matrix"):
        get_lattice("triangular").configure(sublattices=[[1, 0], [2, 0]])


def test_sqrt3_cell_is_kept_with_labelled_sublattices():
    tri = get_lattice("triangular")
    res = sublattice_cell(tri, [[1, 1], [-1, 2]])
    assert res.n_basis == 3 and res.sublattice_labels == ("A", "B", "C")
    assert res.reduction_notice is None and res.coordination == (6, 6, 6)
    assert res.symmetry.point_group_order == 6
    names = [s.name for s in ConnectedEnumerator().enumerate(res, 2)]
    assert names == ["site-A", "site-B", "site-C", "pair-AB", "pair-BC", "pair-CA"]
    assert res.without_sublattices().n_basis == 1


def test_resolution_map_coefficients_are_exact():
    tri = get_lattice("triangular")
    res = sublattice_cell(tri, [[1, 1], [-1, 2]])
    mapping = resolution_map(ClassIndex(res, "+-", 3), ClassIndex(tri, "+-", 3))
    assert mapping["C+"] == {"CA+": Fraction(1, 3), "CB+": Fraction(1, 3), "CC+": Fraction(1, 3)}
    # C+- has multiplicity 2; each resolved pair class +- / -+ has multiplicity 1
    assert sum(mapping["C+-"].values()) == Fraction(1)
    assert set(mapping) == {c.name for s in ClassIndex(tri, "+-", 3).shapes for c in enumerate_classes(s, "+-")}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_resolved_classes_sum_exactly_to_unresolved_ones(seed):
    """Brute force: unresolved concentrations counted directly from positions on the resolved
    supercell equal the resolution map applied to the resolved concentrations."""
    tri = get_lattice("triangular")
    res = sublattice_cell(tri, [[1, 1], [-1, 2]])
    r_index, p_index = ClassIndex(res, "+-", 3), ClassIndex(tri, "+-", 3)
    cell = res.supercell(4)
    rng = np.random.default_rng(seed)
    config = (rng.random(cell.n_sites) < 0.4).astype(np.int64)
    resolved = ClassCounter(cell, r_index.shapes, "+-").as_dict(config)
    predicted = unresolved_concentrations(resolved, resolution_map(r_index, p_index))

    # direct count: every site of the supercell anchors every orientation of every unresolved shape
    anchors = cell.coordinates
    counts: dict[str, float] = {}
    for shape in p_index.shapes:
        total = 0
        for orient in shape.orientations:
            rel = tri.positions(orient) - tri.position(orient[0])
            for a in anchors:
                idx = []
                for r in rel:
                    key = res.locate(a + r)
                    idx.append(int(cell.site_index(np.array([key]))[0]))
                pattern = tuple(int(config[i]) for i in idx)
                cls = p_index.classify(orient, pattern)
                counts[cls.name] = counts.get(cls.name, 0) + 1
                total += 1
        for c in p_index.classes_of[shape.name]:
            counts[c.name] = counts.get(c.name, 0) / (total * c.multiplicity)
    for name, value in counts.items():
        assert predicted[name] == pytest.approx(value, abs=1e-12), name


@pytest.mark.parametrize("seed", range(6))
def test_random_supercells_reduce_back_to_the_primitive_lattice(seed):
    """Any supercell of a lattice, given without labels, reduces to a cell with the same sites,
    bonds, group and shapes (the primitive vectors may be chosen differently)."""
    import warnings

    rng = np.random.default_rng(seed)
    base = [get_lattice("triangular"), get_lattice("kagome"), get_lattice("square-j1j2"),
            get_lattice("fcc"), get_lattice("hcp"), get_lattice("dice")][seed]
    d = base.dimension
    while True:
        matrix = rng.integers(-2, 3, size=(d, d))
        if 2 <= abs(round(np.linalg.det(matrix))) <= 4:
            break
    big = base.configure(sublattices=matrix)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrimitiveCellNotice)
        again = Lattice("again", big.vectors, big.basis, bonds=big.bond_rule)
    assert again.n_basis == base.n_basis
    assert sorted(again.coordination) == sorted(base.coordination)
    assert len(again.symmetry) == len(base.symmetry)
    assert abs(np.linalg.det(again.vectors)) == pytest.approx(abs(np.linalg.det(base.vectors)))
    sig = lambda lat: sorted((s.size, len(s.bonds), round(s.embeddings_per_site, 9))  # noqa: E731
                             for s in ConnectedEnumerator().enumerate(lat, 3))
    assert sig(again) == sig(base)
