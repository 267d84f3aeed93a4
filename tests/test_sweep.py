"""Stoichiometry sweeps: parallel runs, manifest, resume, refusal of used directories, interruption."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latticeclosure.anneal import AnnealBackend, Schedule
from latticeclosure.data import Trajectory
from latticeclosure.errors import ConfigurationError
from latticeclosure.registry import get_model
from latticeclosure.sweep import MANIFEST, OutputDirectoryError, SweepJob, run_sweep

NMC = get_model("nmc")
SCHED = Schedule([1.5, 0.4, 0.1], 3)
XS = [0.25, 1 / 3, 0.5]


def sweep(out, **kw):
    args = dict(stoichiometries=XS, seeds=[0], L=9, schedule=SCHED, out_dir=out, progress=False)
    args.update(kw)
    return run_sweep(NMC, **args)


def test_parallel_sweep_writes_every_result_and_a_manifest(tmp_path):
    out = tmp_path / "s"
    res = sweep(out, seeds=[0, 1], workers=2)
    assert len(res.jobs) == 6 and len(res.ran) == 6 and not res.skipped
    files = sorted(p.name for p in out.glob("*.npz"))
    assert files == sorted(j.filename for j in res.jobs)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["schema"] == "latticeclosure.sweep-manifest/1"
    assert all(j["status"] == "done" for j in manifest["jobs"])
    assert manifest["parameters"]["L"] == 9 and manifest["parameters"]["model"] == "nmc"
    trajs = res.trajectories()
    assert [round(t.x, 4) for t in trajs] == [0.2469, 0.2469, 0.3333, 0.3333, 0.5062, 0.5062]
    assert res.trajectory(0.5, seed=1).seed == 1
    serial = sweep(tmp_path / "serial", seeds=[0, 1], workers=1)
    for a, b in zip(trajs, serial.trajectories()):  # parallel == serial, bit for bit
        assert np.array_equal(a.concentrations, b.concentrations)
    assert not list(out.glob("*checkpoint*")) and not list(out.glob(".*tmp"))


def test_resume_skips_finished_runs_and_redoes_missing_or_corrupt_ones(tmp_path, capsys):
    out = tmp_path / "s"
    first = sweep(out)
    reference = {p.name: Trajectory.load(p).concentrations for p in first.paths}
    job_missing, job_corrupt = first.jobs[0], first.jobs[2]
    (out / job_missing.filename).unlink()
    (out / job_corrupt.filename).write_bytes(b"garbage")
    again = sweep(out, resume=True)
    assert sorted(again.ran) == sorted([job_missing, job_corrupt]) and again.skipped == [first.jobs[1]]
    assert "running " + job_corrupt.filename + " again" in capsys.readouterr().err
    for p in again.paths:
        assert np.array_equal(Trajectory.load(p).concentrations, reference[p.name])
    nothing = sweep(out, resume=True)
    assert nothing.ran == [] and len(nothing.skipped) == 3
    assert set(nothing.summaries) == {j.filename for j in nothing.jobs}


def test_used_directory_is_refused(tmp_path):
    out = tmp_path / "s"
    sweep(out, stoichiometries=[0.5])
    with pytest.raises(OutputDirectoryError, match="not empty"):
        sweep(out, stoichiometries=[0.5])
    with pytest.raises(OutputDirectoryError, match="other parameters.*schedule"):
        sweep(out, stoichiometries=[0.5], resume=True, schedule=SCHED.scaled(2))
    res = sweep(out, stoichiometries=[0.5], overwrite=True)
    assert len(res.ran) == 1
    with pytest.raises(ConfigurationError):
        sweep(out, resume=True, overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputDirectoryError, match="not a directory"):
        sweep(tmp_path / "file")


def test_bad_input_fails_before_any_work(tmp_path):
    for kw, match in ((dict(stoichiometries=[0.3, 1.2]), "between 0 and 1"),
                      (dict(stoichiometries=[0.001]), "rounds to no"),
                      (dict(seeds=[-1]), "seed"),
                      (dict(L=2), "too small"),
                      (dict(workers=0), "workers"),
                      (dict(stoichiometries=[]), "no stoichiometries")):
        with pytest.raises(Exception, match=match):
            sweep(tmp_path / "bad", **kw)
    assert not (tmp_path / "bad").exists()


class _FailingBackend(AnnealBackend):
    """Raises KeyboardInterrupt on the n-th run (simulates Ctrl-C in the middle of a sweep)."""

    def __init__(self, fail_at: int) -> None:
        super().__init__("nmc-anneal", model=NMC)
        self.fail_at = fail_at
        self.calls = 0

    def run(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.fail_at:
            raise KeyboardInterrupt
        return super().run(*args, **kwargs)


def test_interrupted_sweep_loses_no_finished_result(tmp_path):
    out = tmp_path / "s"
    with pytest.raises(KeyboardInterrupt):
        sweep(out, backend=_FailingBackend(3), workers=1)
    done = sorted(p.name for p in out.glob("x*.npz"))
    assert done == sorted(j.filename for j in (SweepJob(0.25, 0), SweepJob(1 / 3, 0)))
    for name in done:
        Trajectory.load(out / name)
    manifest = json.loads((out / MANIFEST).read_text())
    assert [j["status"] for j in manifest["jobs"]] == ["done", "done", "pending"]
    res = sweep(out, resume=True)
    assert res.ran == [SweepJob(0.5, 0)] and len(res.skipped) == 2


def test_cli_sweep(tmp_path, capsys):
    from latticeclosure.cli.main import main

    out = tmp_path / "cli"
    args = ["sweep", "-x", "0.3", "0.5", "-L", "9", "--schedule", "1:2,0.2:2", "-o", str(out), "--no-progress", "-j", "2"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "x0.3_seed0.npz" in text and "2 run(s) done" in text
    assert main(args) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert main(args + ["--resume"]) == 0
    assert "0 run(s) done, 2 already finished" in capsys.readouterr().out
    assert main(["sweep", "-x", "1.5", "-o", str(tmp_path / "other"), "--no-progress"]) == 2
    assert main(["sweep", "-x", "0.5", "-o", str(tmp_path / "nothere"), "--resume", "--no-progress"]) == 2
