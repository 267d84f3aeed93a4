"""Lattice files: round trips of non-default lattices, validation; structure files (ASE)."""

from __future__ import annotations

from pathlib import Path

import pytest

from latticeclosure.errors import LatticeFileError, StructureError
from latticeclosure.latticefile import lattice_from_mapping, lattice_to_toml, read_lattice_file
from latticeclosure.registry import get_lattice
from latticeclosure.structure import lattice_from_structure
from latticeclosure.sublattices import sublattice_cell

CIF = Path(__file__).resolve().parents[1] / "data" / "li2mno3_like.cif"


@pytest.mark.parametrize(
    "lattice",
    [
        sublattice_cell(get_lattice("triangular"), [[1, 1], [-1, 2]]),
        get_lattice("honeycomb").configure(sublattices=["A", "B"]),
        sublattice_cell(get_lattice("dice"), [[2, 0], [0, 1]]),
        get_lattice("rectangular"),
    ],
    ids=["sqrt3", "labels", "explicit-expanded", "shells-kinds"],
)
def test_round_trip(lattice, tmp_path):
    path = tmp_path / "l.toml"
    path.write_text(lattice_to_toml(lattice))
    again = read_lattice_file(path)
    assert again.geometry_key == lattice.geometry_key
    assert again.sublattice_labels == lattice.sublattice_labels
    assert len(again.symmetry) == len(lattice.symmetry)


@pytest.mark.parametrize(
    "data,fragment",
    [
        ({"vectors": [[1.0]]}, "missing 'name'"),
        ({"name": "x"}, "missing 'vectors'"),
        ({"name": "x", "vectors": [[1.0]], "description": 3}, "'description' must be a string"),
        ({"name": "x", "vectors": [[1.0, 0.0], [0.0, 1.0]], "basis": [[0, "a"]]}, "'basis' must be a list of rows"),
        ({"name": "x", "vectors": [[1.0, 0.0], [0.0, 1.0]], "bonds": [1, 2]}, "'bonds' must be a table"),
        ({"name": "x", "vectors": [[1.0, 0.0], [0.0, 1.0]], "sublattices": [1, "A"]}, "'sublattices' must be"),
        ({"name": "x", "vectors": [[1.0, 0.0], [0.0, 1.0]], "bonds": {"cutoff": "far"}}, "bonds.cutoff must be a number"),
        ({"name": "x", "vectors": [[1.0, 0.0], [0.0, 1.0]],
          "bonds": {"explicit": [{"from": 0, "to": 0, "offset": [1, 0], "kind": 7}]}}, "'kind' must be a string"),
    ],
)
def test_wrong_types(data, fragment):
    with pytest.raises(LatticeFileError, match=fragment):
        lattice_from_mapping(data)


def test_structure_layers_and_errors():
    layer = lattice_from_structure(CIF, ["Mn", "Li"], layer=0.5)
    assert layer.dimension == 2 and layer.n_basis == 1 and layer.coordination == (6,)
    assert layer.nearest_neighbour_distance == pytest.approx(4.93 / 3 ** 0.5, rel=1e-9)
    mn_only = lattice_from_structure(CIF, ["Mn"], layer=0.5)  # the honeycomb of Mn in Li2MnO3
    assert mn_only.n_basis == 2 and mn_only.coordination == (3, 3) and mn_only.symmetry.point_group_order == 12
    with pytest.raises(StructureError, match="no Co site"):
        lattice_from_structure(CIF, ["Co"])
    with pytest.raises(StructureError, match="stacking axis"):
        lattice_from_structure(CIF, ["Mn"], layer=0.5, axis="z")
