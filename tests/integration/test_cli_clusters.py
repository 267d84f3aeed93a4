"""``latticeclosure clusters``: JSON schema, table output, species parsing, errors, start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import run_cli

from latticeclosure.cli.main import build_parser, main


def run_json(capsys, *args):
    assert main(["clusters", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_schema_triangular_two_species(capsys):
    doc = run_json(capsys, "--lattice", "triangular", "--max-size", "3", "--species", "+", "-")
    assert list(doc) == ["schema", "lattice", "enumerator", "species", "shapes"]
    assert doc["schema"] == "latticeclosure.clusters/1"
    assert doc["enumerator"] == "connected"
    assert doc["species"] == ["+", "-"]
    lat = doc["lattice"]
    assert set(lat) == {"name", "dimension", "vectors", "basis"}
    assert lat["name"] == "triangular" and lat["dimension"] == 2
    assert sum(lat["vectors"], []) == pytest.approx([1, 0, 0.5, 3**0.5 / 2])
    assert lat["basis"] == [[0.0, 0.0]]
    shapes = doc["shapes"]
    assert [s["name"] for s in shapes] == ["site", "pair", "linear", "angled", "triangle"]
    for s in shapes:
        assert set(s) == {"name", "size", "sites", "embeddings_per_site", "classes"}
        assert len(s["sites"]) == s["size"] and all(len(x) == 2 for x in s["sites"])
        assert isinstance(s["embeddings_per_site"], (int, float))
        for c in s["classes"]:
            assert set(c) == {"name", "states", "multiplicity"}
            assert len(c["states"]) == s["size"]  # aligned with the sites
            assert set(c["states"]) <= {"+", "-"}
            assert isinstance(c["multiplicity"], int)
        assert sum(c["multiplicity"] for c in s["classes"]) == 2 ** s["size"]
    assert [len(s["classes"]) for s in shapes] == [2, 3, 6, 6, 4]
    assert [s["embeddings_per_site"] for s in shapes] == [1, 3, 3, 6, 2]
    pair = {c["name"]: (c["states"], c["multiplicity"]) for c in shapes[1]["classes"]}
    assert pair == {"C++": (["+", "+"], 1), "C--": (["-", "-"], 1), "C+-": (["+", "-"], 2)}
    # the linear shape's sites are collinear, the middle one between the ends
    (a, b, c) = shapes[2]["sites"]
    assert b == pytest.approx([(a[0] + c[0]) / 2, (a[1] + c[1]) / 2])
    assert [c["name"] for c in shapes[2]["classes"]] == ["L+++", "L---", "L++-", "L--+", "L+-+", "L-+-"]


def test_json_without_species_has_null_and_empty_classes(capsys):
    doc = run_json(capsys, "--lattice", "honeycomb", "--max-size", "2")
    assert doc["species"] is None
    assert all(s["classes"] == [] for s in doc["shapes"])
    assert doc["shapes"][1]["embeddings_per_site"] == 1.5
    assert len(doc["lattice"]["basis"]) == 2


def test_json_chains_and_three_dimensions(capsys):
    doc = run_json(capsys, "--lattice", "triangular", "--max-size", "3", "--enumerator", "chains")
    assert doc["enumerator"] == "chains"
    assert [s["embeddings_per_site"] for s in doc["shapes"] if s["size"] == 3] == [3, 6, 6]
    doc = run_json(capsys, "--lattice", "cubic", "--max-size", "2", "--species", "A", "B", "C")
    assert all(len(x) == 3 for s in doc["shapes"] for x in s["sites"])
    assert [len(s["classes"]) for s in doc["shapes"]] == [3, 6]


@pytest.mark.parametrize("order", [["+", "-"], ["-", "+"]])
def test_dash_and_plus_are_species_values(capsys, order):
    ns = build_parser().parse_args(["clusters", "--lattice", "square", "--max-size", "2", "--species", *order])
    assert ns.species == order
    doc = run_json(capsys, "--lattice", "square", "--max-size", "2", "--species", *order)
    assert doc["species"] == order
    assert doc["shapes"][0]["classes"][0]["states"] == [order[0]]


def test_table_output(capsys):
    assert main(["clusters", "--lattice", "triangular", "--max-size", "3", "--species", "+", "-"]) == 0
    out = capsys.readouterr().out
    assert "point group order 12" in out
    for word in ("SHAPE", "EMB/SITE", "FRACTION", "CLASSES", "linear", "angled", "triangle",
                 "C+-:2", "T++-:3", "L+-+:1"):
        assert word in out
    row = next(line for line in out.splitlines() if line.startswith("angled"))
    assert row.split()[:6] == ["angled", "3", "2", "6", "0.545455", "6"]


def test_table_chains_fractions(capsys):
    assert main(["clusters", "--lattice", "triangular", "--max-size", "3", "--enumerator", "chains"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1].isalpha()}
    assert rows["linear"][4] == "0.2" and rows["angled"][4] == "0.4" and rows["triangle"][4] == "0.4"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--lattice", "hexagonal", "--max-size", "2"], "unknown lattice 'hexagonal'; known lattices: "),
        (["--lattice", "square", "--max-size", "2", "--enumerator", "animals"], "unknown cluster enumerator 'animals'"),
        (["--lattice", "square", "--max-size", "0"], "positive integer"),
        (["--lattice", "square", "--max-size", "14"], "would produce roughly"),
        (["--lattice", "square", "--max-size", "5", "--max-shapes", "3"], "(limit 3)"),
        (["--lattice", "square", "--max-size", "2", "--species", "+"], "at least two species"),
        (["--lattice", "square", "--max-size", "2", "--species", "+", "+"], "distinct"),
    ],
)
def test_errors_exit_2_without_traceback(capsys, args, message):
    assert main(["clusters", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["clusters", "--lattice", "square"])  # --max-size missing
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["clusters", "--lattice", "square", "--max-size", "two"])
    assert info.value.code == 2


def test_subprocess_error_and_no_numba_on_start_up():
    code = (
        "import sys\n"
        "from latticeclosure.cli.main import main\n"
        "status = main(['clusters', '--lattice', 'kagome', '--max-size', '3', '--species', '+', '-'])\n"
        "assert status == 0, status\n"
        "assert 'numba' not in sys.modules, 'clusters imported numba'\n"
        "print('OK')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("OK")
    bad = run_cli("clusters", "--lattice", "nope", "--max-size", "2")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: unknown lattice 'nope'") and "Traceback" not in bad.stderr
