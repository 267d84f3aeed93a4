"""Lattice files, crystal structures and bond-kind options on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from latticeclosure.cli.main import main
from latticeclosure.latticefile import lattice_to_toml, read_lattice_file
from latticeclosure.registry import get_registry

DATA = Path(__file__).resolve().parents[1] / "data"
CIF = DATA / "li2mno3_like.cif"

# the paper's eq. (5), as printed by `equations --lattice triangular ... --exclude-closed`
EQ5 = [
    "dC₊₊/dt = 4k1 A₊₋₊ + 2k2 L₊₋₊ − 4k3 A₊₊₋ − 2k4 L₊₊₋",
    "dC₋₋/dt = 4k5 A₋₊₋ + 2k6 L₋₊₋ − 4k7 A₋₋₊ − 2k8 L₋₋₊",
    "dC₊₋/dt = 2k3 A₊₊₋ + k4 L₊₊₋ + 2k7 A₋₋₊ + k8 L₋₋₊ − 2k1 A₊₋₊ − k2 L₊₋₊ − 2k5 A₋₊₋ − k6 L₋₊₋",
]


def _run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.nmc  # eq. (5) with the reference plugin's k1..k8 naming
def test_structure_file_gives_the_triangular_layer_and_equation_5(capsys):
    code, out, err = _run(
        capsys, "equations", "--structure", str(CIF), "--sites", "Mn,Li", "--layer", "0.5",
        "--species", "+", "-", "--window-size", "2", "--exclude-closed",
    )
    assert code == 0
    assert out.splitlines() == EQ5
    assert len(err.strip().splitlines()) == 1 and "not primitive" in err  # one-line notice


def test_structure_lithium_layer_is_triangular_too(capsys):
    code, out, _ = _run(capsys, "clusters", "--structure", str(CIF), "--sites", "Li", "--layer", "0",
                        "--max-size", "3")
    assert code == 0
    assert "coordination 6, point group order 12" in out


@pytest.mark.parametrize("name", sorted(get_registry().names("lattices")))
def test_every_shipped_lattice_round_trips_through_a_lattice_file(name, capsys, tmp_path):
    code, out, _ = _run(capsys, "lattices", "--show", name, "--format", "toml")
    assert code == 0
    path = tmp_path / f"{name}.toml"
    path.write_text(out)
    original = get_registry().get("lattices", name)
    again = read_lattice_file(path)
    assert again.geometry_key == original.geometry_key
    assert again.symmetry.point_group_order == original.symmetry.point_group_order
    assert lattice_to_toml(again) == out
    code, direct, _ = _run(capsys, "clusters", "--lattice", name, "--max-size", "3", "--species", "+", "-",
                           "--format", "json")
    code2, via_file, _ = _run(capsys, "clusters", "--lattice-file", str(path), "--max-size", "3",
                              "--species", "+", "-", "--format", "json")
    assert code == code2 == 0
    assert json.loads(direct)["shapes"] == json.loads(via_file)["shapes"]


def test_issue_example_lattice_file(capsys, tmp_path):
    path = tmp_path / "rect.toml"
    path.write_text('name = "rectangular"\nvectors = [[1.0, 0.0], [0.0, 1.5]]\nbasis = [[0.0, 0.0]]\n'
                    "[bonds]\nshells = [1, 2]\n")
    code, out, _ = _run(capsys, "clusters", "--lattice-file", str(path), "--max-size", "2", "--species", "+", "-")
    assert code == 0
    assert "point group order 4" in out and "bond kinds J1, J2" in out
    assert "CJ1+-:2" in out and "CJ2+-:2" in out


def test_lattices_listing_shows_point_group_orders(capsys):
    code, out, _ = _run(capsys, "lattices", "--format", "json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0
    assert rows["rectangular"]["point_group_order"] == 4 and rows["rectangular"]["bond_kinds"] == ["x", "y"]
    assert rows["hcp"]["point_group_order"] == 24 and rows["dice"]["coordination"] == [6, 3, 3]


def test_bond_kind_restriction_on_the_command_line(capsys):
    code, full, _ = _run(capsys, "equations", "--lattice", "square-j1j2", "--window-size", "2")
    code2, j1, _ = _run(capsys, "equations", "--lattice", "square-j1j2", "--window-size", "2", "--bond-kinds", "J1")
    assert code == code2 == 0
    assert full != j1 and "CJ1" in j1


def _bad_file(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return str(path)


BAD = [
    (['name = "x"', "vectors = [[1.0, 0.0], [0.0, 1.0]]", "colour = 3"], "unknown key(s) ['colour']"),
    (['name = "x"', 'vectors = "square"'], "'vectors' must be a list of rows"),
    (['name = 3', "vectors = [[1.0]]"], "'name' must be a non-empty string"),
    (['name = "x"', "vectors = [[1.0, 0.0], [0.0, 1.0]]", "[bonds]", 'shells = "1"'], "bonds.shells must be a list"),
    (['name = "x"', "vectors = [[1.0, 0.0], [0.0, 1.0]]", "[bonds]", "cutoff = 0.5"], "yields no bonds"),
    (['name = "x"', "vectors = [[1.0, 0.0], [0.0, 1.5]]", "[bonds]", "cutoff = 1.2"], "disconnected"),
    (['name = "x"', "vectors = [[1.0, 0.0], [0.0, 1.0]]", "[bonds]", "explicit = [{from = 0, to = 2, offset = [1, 0]}]"],
     "basis site 2 does not exist"),
    (['name = "x"', "vectors = [[1.0, 0.0], [0.0, 1.0]]", "[bonds]", "explicit = [{from = 0, to = 0, offset = [0, 0]}]"],
     "zero bond"),
    (['name = "x"', "vectors = [[1.0, 0.0], [0.0, 1.0]]", "[bonds]",
      'explicit = [{from = 0, to = 0, offset = [1, 0], kind = "a"}, {from = 0, to = 0, offset = [-1, 0], kind = "b"}]'],
     "twice with different kinds"),
    (['name = "x"', "vectors = [[1.0, 0.0], [0.0, 1.0]]", "[bonds]", "radius = 2"], "unknown key(s) ['radius']"),
    (['name = "x"', "vectors = [[1.0, 0.0], [0.0, 1.0]"], "not valid TOML"),
]


@pytest.mark.parametrize("lines,fragment", BAD)
def test_bad_lattice_files_exit_2_with_a_specific_message(lines, fragment, capsys, tmp_path):
    path = _bad_file(tmp_path, "\n".join(lines) + "\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = _run(capsys, "equations", "--lattice-file", path, "--window-size", "2")
    assert code == 2
    assert out == ""
    assert fragment in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_missing_lattice_file_and_structure_errors(capsys, tmp_path):
    code, out, err = _run(capsys, "clusters", "--lattice-file", str(tmp_path / "none.toml"), "--max-size", "2")
    assert code == 2 and out == "" and "does not exist" in err
    code, out, err = _run(capsys, "clusters", "--structure", str(CIF), "--sites", "Co", "--layer", "0.5", "--max-size", "2")
    assert code == 2 and out == "" and "no Co site(s)" in err and "Li, Mn, O" in err
    code, out, err = _run(capsys, "clusters", "--structure", str(CIF), "--sites", "Mn", "--layer", "0.25", "--max-size", "2")
    assert code == 2 and out == "" and "no Mn site within" in err
    code, out, err = _run(capsys, "clusters", "--structure", str(CIF), "--max-size", "2")
    assert code == 2 and "--structure needs --sites" in err
    code, out, err = _run(capsys, "clusters", "--lattice", "square", "--layer", "0.5", "--max-size", "2")
    assert code == 2 and "only apply with --structure" in err
    bad = tmp_path / "junk.cif"
    bad.write_text("this is not a crystal structure\n")
    code, out, err = _run(capsys, "clusters", "--structure", str(bad), "--sites", "Mn", "--max-size", "2")
    assert code == 2 and out == "" and "cannot read structure file" in err


def test_unknown_bond_kind_exit_2(capsys, tmp_path):
    code, out, err = _run(capsys, "equations", "--lattice", "rectangular", "--bond-kinds", "z")
    assert code == 2 and out == ""
    assert "unknown bond kind(s) ['z']" in err and "x, y" in err
    code, out, err = _run(capsys, "close", "--lattice", "square", "--bond-kinds", "J1", "--closure", "pair")
    assert code == 2 and out == "" and "carry no kinds" in err


def test_sublattices_option_keeps_the_sqrt3_cell(capsys):
    code, out, _ = _run(capsys, "clusters", "--lattice", "triangular", "--sublattices", "1,1;-1,2",
                        "--max-size", "2", "--species", "+", "-")
    assert code == 0
    assert "3 basis site(s)" in out and "point group order 6" in out and "sublattices ABC" in out
    assert "CAB+-:1" in out and "CA+:1" in out


def test_data_import_with_a_lattice_file(capsys, tmp_path):
    rows = ["t,CJ1++,CJ1--,CJ1+-,CJ2++,CJ2--,CJ2+-"]
    for k, t in enumerate((0.0, 0.5, 1.0)):
        a, b = 0.25 + 0.05 * k, 0.3 - 0.05 * k
        rows.append(",".join(map(repr, [t, a, a, (1 - 2 * a) / 2, b, b, (1 - 2 * b) / 2])))
    csv = tmp_path / "j1j2.csv"
    csv.write_text("\n".join(rows) + "\n")
    code, toml, _ = _run(capsys, "lattices", "--show", "square-j1j2", "--format", "toml")
    lattice_file = tmp_path / "j1j2.toml"
    lattice_file.write_text(toml)
    code, out, err = _run(capsys, "data", "import", str(csv), "--lattice-file", str(lattice_file),
                          "--species", "+", "-", "--max-size", "2")
    assert code == 0, err
    assert (tmp_path / "j1j2.npz").is_file()
