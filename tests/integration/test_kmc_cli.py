"""``latticeclosure kmc``: runs, bit-identical ``--resume``, and bad input (exit 2, nothing written)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latticeclosure.cli.main import build_parser, main
from latticeclosure.data import Trajectory

SIS_TOML = """
[[rule]]
from = "S"
to = "I"
rate = "lam/4"
catalyst = "I"

[[rule]]
from = "I"
to = "S"
rate = "gamma"
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "sis.toml").write_text(SIS_TOML)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sis_args(*extra: str) -> list[str]:
    return ["kmc", "--lattice", "square", "--species", "S", "I", "--flip-spec", "sis.toml",
            "--rate", "lam=2", "--rate", "gamma=1", "--initial", "S=0.9", "--initial", "I=0.1",
            "-L", "16", "--time", "2", "--record-every", "0.5", "--no-progress", *extra]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code)
    out, err = capsys.readouterr()
    return code, out, err


def test_kmc_writes_a_physical_time_dataset(workdir, capsys):
    code, out, err = run(sis_args("-o", "runs/sis.npz"), capsys)
    assert code == 0, err
    traj = Trajectory.load(workdir / "runs" / "sis.npz")
    assert traj.metadata["time_unit"] == "physical time"
    np.testing.assert_allclose(traj.time, [0, 0.5, 1, 1.5, 2])
    assert traj.metadata["rates"] == {"lam": 2.0, "gamma": 1.0}
    assert {"CS", "CI", "CSI", "LSIS", "ASSI"} <= set(traj.class_names)
    assert "final singlet concentrations: CS = " in out and "wrote runs/sis.npz" in out
    assert sorted(p.name for p in (workdir / "runs").iterdir()) == ["sis.npz"]


def test_swap_table_prints_the_window_rates_it_implies(workdir, capsys):
    argv = ["kmc", "--lattice", "triangular", "--species", "A", "B", "C", "--rate", "A,B=1", "--rate", "B,C=2",
            "--rate", "C,A=0.5", "--initial", "A=0.5", "--initial", "B=0.25", "--initial", "C=0.25", "-L", "6",
            "--time", "0.5", "--no-progress"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    line = out.splitlines()[0]
    assert line.startswith("window rate constants the table implies (pair hierarchy): ")
    assert line.count("= 1;") + line.endswith("= 1") >= 1 and "= 2" in line and "= 0.5" in line
    assert Path("kmc-seed0.npz").exists()


@pytest.mark.parametrize("replicas", [1, 2])
def test_resume_is_bit_identical_to_an_uninterrupted_run(workdir, capsys, replicas):
    from latticeclosure.cli.kmc import COMMAND
    from latticeclosure.kmc import KMCRun, replica_checkpoint

    argv = sis_args("--replicas", str(replicas), "--seed", "7")
    assert run(argv + ["-o", "whole.npz"], capsys)[0] == 0
    spec = COMMAND._spec(build_parser().parse_args(argv))
    for r in range(replicas):  # an interrupted run: every replica stopped part-way
        part = KMCRun(spec, seed=7, replica=r)
        part.advance(100 + 50 * r)
        part.save_checkpoint(replica_checkpoint(Path("resumed.checkpoint.npz"), r, replicas))
    code, _, err = run(argv + ["-o", "resumed.npz"], capsys)
    assert code == 2 and "use --resume" in err and not Path("resumed.npz").exists()
    assert run(argv + ["-o", "resumed.npz", "--resume"], capsys)[0] == 0
    whole, resumed = Trajectory.load("whole.npz"), Trajectory.load("resumed.npz")
    assert set(whole.arrays) == set(resumed.arrays)
    for key, arr in whole.arrays.items():
        np.testing.assert_array_equal(arr, resumed.arrays[key], err_msg=key)
    assert not list(workdir.glob("*.checkpoint*"))


BAD = {
    "missing rate": (["--rate", "lam=2"], "no value for rate(s) ['gamma']"),
    "unknown rate": (["--rate", "lam=2", "--rate", "gamma=1", "--rate", "beta=3"], "unknown rate name(s) ['beta']"),
    "negative rate": (["--rate", "lam=-2", "--rate", "gamma=1"], "'lam' = -2.0 must be finite and non-negative"),
    "infinite rate": (["--rate", "lam=inf", "--rate", "gamma=1"], "must be finite and non-negative"),
    "nan rate": (["--rate", "lam=nan", "--rate", "gamma=1"], "must be finite and non-negative"),
    "rate twice": (["--rate", "lam=2", "--rate", "lam=3", "--rate", "gamma=1"], "--rate lam is given twice"),
    "initial sum": (["--initial", "S=0.5", "--initial", "I=0.4"], "sum to 0.9; they must sum to 1"),
    "initial unknown species": (["--initial", "S=0.5", "--initial", "R=0.5"], "unknown species ['R']"),
    "initial out of range": (["--initial", "S=1.5", "--initial", "I=-0.5"], "must lie in [0, 1]"),
    "record interval zero": (["--record-every", "0"], "record interval (--record-every) must be a positive"),
    "record interval negative": (["--record-every", "-1"], "record interval (--record-every) must be a positive"),
    "time not positive": (["--time", "0"], "simulated time (--time) must be a positive"),
    "replicas zero": (["--replicas", "0"], "--replicas must be a positive integer"),
    "lattice too small": (["-L", "2"], "too small"),
    "lattice too small for triplets": (["-L", "3"], "it needs at least (4, 4) cells"),
    "class size": (["--max-class-size", "9"], "largest recorded class size must be an integer in 1..5"),
}


def _base_without(option_values: list[str]) -> list[str]:
    """The SIS command with the options named in ``option_values`` replaced by those given."""
    base = sis_args()
    names = {v for v in option_values if v.startswith("-")}
    out, skip = [], False
    for tok in base:
        if skip:
            skip = False
            continue
        if tok in names:
            skip = True
            continue
        out.append(tok)
    return out + option_values


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_with_exit_2_and_nothing_written(workdir, capsys, case):
    values, fragment = BAD[case]
    code, out, err = run(_base_without(values) + ["-o", "out/x.npz"], capsys)
    assert code == 2, (code, err)
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert fragment in err, err
    assert not (workdir / "out").exists()


OTHER_BAD = {
    "flip spec species are not the model's": (
        ["kmc", "--lattice", "square", "--species", "A", "B", "--flip-spec", "sis.toml", "--rate", "lam=1",
         "--rate", "gamma=1", "--initial", "A=1"], "is not one of the species ['A', 'B']"),
    "swap without a rate table": (
        ["kmc", "--lattice", "square", "--initial", "+=0.5", "--initial=-=0.5"], "swap dynamics need a rate table"),
    "swap table missing a pair": (
        ["kmc", "--lattice", "square", "--species", "A", "B", "C", "--rate", "A,B=1", "--initial", "A=1"],
        "no swap rate for the pair(s)"),
    "k vector no table realises": (
        ["kmc", "--model", "nmc", "-L", "12", "--initial", "+=0.5", "--initial=-=0.5"]
        + [f"--rate=k{i}={1 + (i == 5)}" for i in range(1, 13)], "relation k1 = k5 must hold"),
    "metropolis without an energy": (
        ["kmc", "--lattice", "square", "--rate", "temperature=1", "--initial", "+=1"], "need a model with an energy"),
    "unknown model": (["kmc", "--model", "nope", "--initial", "+=1"], "nope"),
    "no lattice": (["kmc", "--initial", "+=1"], "give --model NAME, or --lattice"),
    "rate not a number": (["kmc", "--lattice", "square", "--rate", "A,B=fast"], "must be a number"),
    "flip spec with swap": (
        ["kmc", "--lattice", "square", "--species", "S", "I", "--dynamics", "swap", "--flip-spec", "sis.toml",
         "--initial", "S=1"], "only applies to flip dynamics"),
}


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.nmc) if c == "k vector no table realises" else c
                                  for c in sorted(OTHER_BAD)])  # that case uses the reference model
def test_other_bad_input(workdir, capsys, case):
    argv, fragment = OTHER_BAD[case]
    code, out, err = run(argv + ["-o", "out/x.npz", "--no-progress"], capsys)
    assert code == 2, (code, err)
    assert "Traceback" not in err and fragment in err, err
    assert not (workdir / "out").exists()


def test_existing_output_is_not_overwritten(workdir, capsys):
    assert run(sis_args("-o", "a.npz"), capsys)[0] == 0
    before = Path("a.npz").read_bytes()
    code, _, err = run(sis_args("-o", "a.npz", "--seed", "3"), capsys)
    assert code == 2 and "use --overwrite" in err and Path("a.npz").read_bytes() == before
    assert run(sis_args("-o", "a.npz", "--seed", "3", "--overwrite"), capsys)[0] == 0
    assert Path("a.npz").read_bytes() != before
