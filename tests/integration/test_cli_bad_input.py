"""Bad input through the CLI: one line ``error: ...`` on stderr, exit status 2, never a traceback.

Each case here was a defect (a traceback, a misleading message or a silently wrong answer).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import assert_user_error, run_cli

PAIR_CSV = "time,C++,C--,C+-\n0,0.25,0.25,0.25\n1,0.3,0.3,0.2\n"


CASES = {
    "huge max-size": (["clusters", "--lattice", "triangular", "--max-size", "9" * 20], ["would produce"]),
    "flip spec is a directory": (
        ["equations", "--lattice", "square", "--species", "S", "I", "--dynamics", "flip", "--flip-spec", "adir"],
        ["is a directory"],
    ),
    "flip spec not UTF-8": (
        ["equations", "--lattice", "square", "--species", "S", "I", "--dynamics", "flip", "--flip-spec", "binary.toml"],
        ["cannot read flip spec file"],
    ),
    "custom closure path not a string": (
        ["close", "--lattice", "triangular", "--closure", "custom", "--closure-option", "path=5"],
        ["path must be a file name"],
    ),
    "custom closure names the missing class": (
        ["close", "--lattice", "triangular", "--exclude-closed", "--closure", "custom", "--closure-option", "text=L+++ = C++"],
        ["no expression for class"],
    ),
    "custom closure division by zero": (
        ["close", "--lattice", "triangular", "--exclude-closed", "--closure", "custom", "--closure-option", "path=div0.txt"],
        ["infinite or undefined"],
    ),
    "lattice too large": (["anneal", "-x", "0.5", "-L", "100000", "-o", "a.npz"], ["limit"]),
    "schedule too long": (["anneal", "-x", "0.5", "-L", "6", "--schedule", "1:1e30", "-o", "a.npz"], ["2^62"]),
    "geometric schedule, specific message": (
        ["anneal", "-x", "0.5", "-L", "6", "--schedule", "geometric:2:0.1:0:10", "-o", "a.npz"],
        ["number of levels"],
    ),
    "anneal output is a directory": (
        ["anneal", "-x", "0.5", "-L", "6", "--schedule", "1:1", "-o", "adir.npz", "--overwrite"],
        ["is a directory"],
    ),
    "import output is a directory": (
        ["data", "import", "pairs.csv", "--lattice", "triangular", "--species", "+", "-", "-o", "adir", "--overwrite"],
        ["is a directory"],
    ),
    "fit truncated npz": (["fit", "trunc.npz"], ["truncated or corrupt"]),
    "fit negative seed": (["fit", "trunc.npz", "--seed", "-1"], ["--seed"]),
    "fit zero starts": (["fit", "trunc.npz", "--n-starts", "0"], ["--n-starts"]),
    "fit nan rtol": (["fit", "trunc.npz", "--sparsify", "--rtol", "nan"], ["--rtol"]),
    "fit json is a directory": (["fit", "trunc.npz", "--json", "adir"], ["is a directory"]),
    "fit json in a missing directory": (["fit", "trunc.npz", "--json", "nodir/r.json"], ["does not exist"]),
    "checkpoint interval negative": (["anneal", "-x", "0.5", "--checkpoint-every=-1"], []),
}


#: Cases that anneal the default model (the reference plugin's): skipped when it is disabled.
NEEDS_DEFAULT_MODEL = {name for name, (args, _) in CASES.items() if args[0] == "anneal"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.nmc) if n in NEEDS_DEFAULT_MODEL else n for n in CASES]
)
@pytest.mark.slow
def test_bad_input_is_a_clean_error(results: dict[str, subprocess.CompletedProcess], name: str) -> None:
    proc = results[name]
    if name == "checkpoint interval negative":  # an argparse usage error: usage line + message, status 2
        assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--checkpoint-every" in proc.stderr
        return
    assert_user_error(proc, *CASES[name][1])


def _make_files(tmp_path: Path) -> Path:
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir.npz").mkdir()
    (tmp_path / "trunc.npz").write_bytes(b"PK\x03\x04 truncated")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "pairs.csv").write_text(PAIR_CSV)
    (tmp_path / "div0.txt").write_text("L++- = C++/0\n")
    return tmp_path


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess]:
    """Run every case at once (the commands are independent; this keeps the module fast)."""
    cwd = _make_files(tmp_path_factory.mktemp("bad-input"))
    procs = {
        name: subprocess.Popen([sys.executable, "-m", "latticeclosure", *args], cwd=cwd, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name, (args, _) in CASES.items()
    }
    out = {}
    for name, p in procs.items():
        stdout, stderr = p.communicate(timeout=120)
        out[name] = subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr)
    return out


def test_fit_refuses_a_lattice_or_species_contradicting_the_data(tmp_path: Path) -> None:
    """Fitting triangular data as square-lattice data used to give a silently wrong answer."""
    files = _make_files(tmp_path)
    proc = run_cli("data", "import", "pairs.csv", "--lattice", "triangular", "--species", "+", "-",
                   "--rescale-time", "-o", "pairs.npz", cwd=files)
    assert proc.returncode == 0, proc.stderr
    assert_user_error(run_cli("fit", "pairs.npz", "--lattice", "square", cwd=files), "contradicts", "triangular")
    assert_user_error(run_cli("fit", "pairs.npz", "--species", "+", "-", "n", cwd=files), "contradicts")


@pytest.mark.slow
def test_fit_size_beyond_the_data_and_existing_json(tmp_path):
    """--size larger than the data's classes is refused at once; --json never overwrites silently."""
    from latticeclosure.anneal import AnnealBackend, ClusterEnergy, Schedule
    from latticeclosure.model import Model

    energy = ClusterEnergy.from_function("triangle", 3, ("+", "-"), lambda s: (s.count("+") - 2) ** 2 / 4)
    model = Model("tri-cli-test", "triangular", ("+", "-"), energy=energy, min_size=4)
    data = tmp_path / "x.npz"
    AnnealBackend("test-anneal", model=model).run(x=0.5, L=12, schedule=Schedule([1.0, 0.3], 5)).save(data)
    res = run_cli("fit", str(data), "--size", "9")
    assert res.returncode == 2 and "up to size 3" in res.stderr and "Traceback" not in res.stderr
    out = tmp_path / "fit.json"
    out.write_text("keep")
    res = run_cli("fit", str(data), "--closure", "pair", "--json", str(out))
    assert res.returncode == 2 and "--overwrite" in res.stderr and out.read_text() == "keep"
    res = run_cli("fit", str(data), "--closure", "pair", "--json", str(out), "--overwrite")
    assert res.returncode == 0, res.stderr
    assert out.read_text().lstrip().startswith("{")
