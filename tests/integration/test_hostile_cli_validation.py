"""Class 4 of the hostile-input issue: every input is checked before anything is created or started.

``sweep``, ``run`` and ``anneal`` with duplicates, negative seeds, empty output names, colliding file
names, bad sizes or workers exit with one ``error:`` line and status 2 and leave no output directory
or file behind. The commands run with the non-NMC test model, in this process through
:func:`latticeclosure.cli.main.main` (fast), and once in a fresh interpreter (``tests/hostile_cli.py``).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import hostile_cli
from conftest import TEST_MODEL, assert_user_error


@pytest.fixture
def cli(ising_plugin, capsys, monkeypatch):
    """``cli(*args, cwd=...)`` runs ``latticeclosure ARGS`` in this process; returns status and output."""
    from latticeclosure.cli.main import main

    def call(*args: str, cwd=None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        status = main(list(args))
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=status, stdout=out, stderr=err)

    return call

QUICK = ("--model", TEST_MODEL, "-L", "8", "--schedule", "1:2", "--no-progress")


@pytest.mark.parametrize("args, fragment", [
    (("sweep", "-x", "0.3", "0.3"), "given twice"),
    (("sweep", "-x", "0.3", "--seeds", "1", "1"), "given twice"),
    (("sweep", "-x", "0.3", "--seeds", "-1"), "non-negative"),
    (("sweep", "-x", "0.1234561", "0.1234564"), "same file name"),
    (("sweep", "-x", "0.3", "--workers", "0"), "--workers"),
    (("sweep", "-x", "1.5"), "x"),
    (("sweep", "-x", "0.3", "--schedule-scale", "-1"), "scale"),
    (("run", "--grid", "0.3", "0.3"), "given twice"),
    (("run", "--seed", "-1"), "non-negative"),
    (("run", "--size", "0"), "--size"),
    (("run", "--workers", "0"), "--workers"),
    (("anneal", "-x", "0.3", "--seed", "-1"), "non-negative"),
    (("anneal", "-x", "7"), "x"),
])
def test_bad_input_leaves_no_output_behind(cli, tmp_path, args, fragment):
    command, *rest = args
    out = tmp_path / ("result.npz" if command == "anneal" else "out")
    model_args = ("--model", TEST_MODEL) if command == "run" else QUICK
    if command == "run" and "--schedule" in rest:
        model_args = ()
    proc = cli(command, *rest, *model_args, "--out", str(out), cwd=tmp_path)
    assert_user_error(proc, fragment)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["sweep", "run", "anneal"])
def test_an_empty_output_name_is_refused_not_replaced_by_the_default(cli, tmp_path, command):
    extra = ("-x", "0.3", *QUICK) if command != "run" else ("--model", TEST_MODEL)
    proc = cli(command, *extra, "--out", "", cwd=tmp_path)
    assert_user_error(proc, "empty")
    assert list(tmp_path.iterdir()) == []


def test_resume_of_a_sweep_with_other_parameters_is_refused_before_work(tmp_path):
    """In a fresh interpreter: the real command line, exit status and stderr."""
    out = tmp_path / "out"
    assert hostile_cli.run("sweep", "-x", "0.3", *QUICK, "--out", str(out), cwd=tmp_path).returncode == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    proc = hostile_cli.run("sweep", "-x", "0.3", *QUICK[:2], "-L", "10", *QUICK[4:], "--out", str(out), "--resume",
                           cwd=tmp_path)
    assert_user_error(proc, "other parameters", "size")
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


# ------------------------------------------------------------------ the README's promise, every command
EVERY_COMMAND = [
    ["lattices", "--show", "nope"],
    ["clusters", "--lattice", "square", "--max-size", "6", "--species", *"abcdefghij"],
    ["clusters", "--lattice-file", "deep.toml", "--max-size", "2"],
    ["clusters", "--lattice-file", "/dev/zero", "--max-size", "2"],
    ["clusters", "--lattice", "square", "--max-size", "2", "--species", "a,b", "c"],
    ["equations", "--lattice", "square", "--window-size", "0"],
    ["equations", "--lattice", "square", "--dynamics", "flip", "--flip-spec", "deep.json"],
    ["equations", "--lattice", "square", "--dynamics", "flip", "--flip-spec", "list.json"],
    ["equations", "--lattice", "square", "--species", "S", "I", "--dynamics", "flip", "--flip-spec", "class-rate.toml"],
    ["close", "--lattice", "square", "--closure", "custom", "--closure-option", "text=5"],
    ["close", "--lattice", "square", "--closure", "custom", "--closure-option", "path=/dev/zero"],
    ["close", "--lattice", "square", "--closure", "custom", "--closure-option", "text=L+++ = sqrt(-1)*C++"],
    ["close", "--lattice", "square", "--closure", "custom", "--closure-option",
     "text=L+++ = Symbol.__new__.__globals__"],
    ["close", "--lattice", "square", "--closure", "power-law", "--closure-option", "preset=[1]"],
    ["close", "--lattice", "square", "--closure", "pair", "--closure-option", "loop=[1]"],
    ["fit", "list.json"],
    ["fit", "deep.json"],
    ["fit", "empty.npz"],
    ["fit", "/dev/zero"],
    ["fit", "list.json", "--json", ""],
    ["data", "show", "empty.npz"],
    ["data", "validate", "huge.npz"],
    ["data", "export", "empty.npz", "-o", ""],
    ["data", "import", "list.json"],
    ["anneal", "-x", "0.5", "--model", TEST_MODEL, "--model-option", "species=5"],
    ["anneal", "-x", "0.5", "--model", TEST_MODEL, "--record-every", "-1"],
    ["anneal", "-x", "nan", "--model", TEST_MODEL],
    ["sweep", "-x", "0.5", "--model", TEST_MODEL, "--backend", "nope"],
    ["run", "--model", "nope"],
    ["kmc", "--lattice", "square", "--species", "S", "I", "--flip-spec", "class-rate.toml", "-o", "k.npz"],
    ["kmc", "--lattice", "square", "--species", "S", "I", "--flip-spec", "deep.json", "-o", "k.npz"],
    ["kmc", "--lattice", "square", "--species", "S", "I", "--flip-spec", "sis.toml", "--rate", "lam=1", "-o", ""],
    ["threshold", "--lattice", "square", "--species", "S", "I", "--flip-spec", "deep.json", "--rate", "lam"],
    ["infer", "data.npz", "--closure", "pair", "pair", "--out", "o"],
    ["infer", "data.npz", "--closure", "pair", "--out", ""],
    ["infer", "data.npz", "--closure", "pair", "--seed", "-1", "--out", "o"],
    ["infer", "data.npz", "--closure", "pair", "--variables", "C++", "C++", "--out", "o"],
    ["infer", "list.json", "--closure", "pair", "--out", "o"],
    ["infer", "data.npz", "data.npz", "--closure", "pair", "--out", "o"],
]


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=[" ".join(a)[:60] for a in EVERY_COMMAND])
def test_every_command_turns_bad_input_into_one_error_line(cli, tmp_path, args):
    import io
    import zipfile

    import numpy as np

    (tmp_path / "deep.json").write_text("[" * 5000 + "]" * 5000)
    (tmp_path / "deep.toml").write_text("vectors = " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "class-rate.toml").write_text('[[rule]]\nfrom = "S"\nto = "I"\nrate = "CSI"\n')
    (tmp_path / "sis.toml").write_text('[[rule]]\nfrom = "S"\nto = "I"\nrate = "lam"\ncatalyst = "I"\n'
                                      '[[rule]]\nfrom = "I"\nto = "S"\nrate = 1\n')
    t = np.linspace(0, 1, 5)
    np.savez(tmp_path / "data.npz", time=t, **{"C++": 0.4 + 0 * t, "C--": 0.1 + 0 * t, "C+-": 0.25 + 0 * t})
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**50,)})
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as z:
        z.writestr("metadata.npy", header.getvalue())
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_user_error(cli(*args, cwd=tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
