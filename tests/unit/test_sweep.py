"""Sweeps of simulation tasks: parallel runs, manifest, resume, refusal of used directories, interruption.

The model is the non-reference test model of ``conftest.py`` annealed by the generic annealer.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ising_model
from latticeclosure.anneal import AnnealBackend, Schedule
from latticeclosure.data import Trajectory
from latticeclosure.errors import ConfigurationError, LatticeClosureError, OutputDirectoryError
from latticeclosure.simulation import MANIFEST, SimulationTask, run_tasks, sweep_tasks

MODEL = ising_model()
SCHED = Schedule([1.5, 0.4, 0.1], 3)
XS = [0.25, 1 / 3, 0.5]


def backend() -> AnnealBackend:
    return AnnealBackend("test-anneal", model=MODEL)


def sweep(out, values=XS, seeds=(0,), size=9, schedule=SCHED, be=None, **kw):
    tasks = sweep_tasks(MODEL, values, seeds, size=size, settings={"schedule": schedule}, backend="test-anneal")
    kw.setdefault("progress", False)
    return run_tasks(tasks, be or backend(), out_dir=out, **kw)


def test_parallel_sweep_writes_every_result_and_a_manifest(tmp_path):
    out = tmp_path / "s"
    res = sweep(out, seeds=[0, 1], workers=2)
    assert len(res.tasks) == 6 and len(res.ran) == 6 and not res.skipped
    assert sorted(p.name for p in out.glob("*.npz")) == sorted(t.filename for t in res.tasks)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["schema"] == "latticeclosure.sweep-manifest/2"
    assert all(t["status"] == "done" for t in manifest["tasks"])
    assert manifest["parameters"]["size"] == 9 and manifest["parameters"]["model"] == MODEL.name
    trajs = res.trajectories()
    assert [round(t.x, 4) for t in trajs] == [0.2469, 0.2469, 0.3333, 0.3333, 0.5062, 0.5062]
    assert res.trajectory(0.5, seed=1).seed == 1
    serial = sweep(tmp_path / "serial", seeds=[0, 1], workers=1)
    for a, b in zip(trajs, serial.trajectories()):  # parallel == serial, bit for bit
        assert np.array_equal(a.concentrations, b.concentrations)
    assert not list(out.glob("*checkpoint*")) and not list(out.glob(".*tmp"))


def test_every_trajectory_records_its_task(tmp_path):
    res = sweep(tmp_path / "s", values=[0.5])
    traj = res.trajectories()[0]
    assert traj.metadata["task"] == res.tasks[0].to_json()
    assert traj.metadata["task"]["settings"]["schedule"] == SCHED.to_json()


def test_resume_skips_finished_runs_and_redoes_missing_corrupt_or_foreign_ones(tmp_path, caplog):
    out = tmp_path / "s"
    first = sweep(out)
    reference = {p.name: Trajectory.load(p).concentrations for p in first.paths}
    missing, corrupt = first.tasks[0], first.tasks[2]
    (out / missing.filename).unlink()
    (out / corrupt.filename).write_bytes(b"garbage")
    again = sweep(out, resume=True)
    assert {t.filename for t in again.ran} == {missing.filename, corrupt.filename}
    assert [t.filename for t in again.skipped] == [first.tasks[1].filename]
    warnings = [r for r in caplog.records if r.name == "latticeclosure.simulation" and r.levelname == "WARNING"]
    assert any("running " + corrupt.filename + " again" in r.getMessage() for r in warnings)
    caplog.clear()
    for p in again.paths:
        assert np.array_equal(Trajectory.load(p).concentrations, reference[p.name])
    nothing = sweep(out, resume=True)
    assert nothing.ran == [] and len(nothing.skipped) == 3
    # a file of another run (another seed) under the same name is run again, not reused
    foreign = sweep(tmp_path / "other", values=[0.5], seeds=[3]).paths[0]
    foreign.replace(out / first.tasks[2].filename)
    redo = sweep(out, resume=True)
    assert [t.filename for t in redo.ran] == [first.tasks[2].filename]
    assert any("belongs to another run" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def test_used_directory_is_refused(tmp_path):
    out = tmp_path / "s"
    sweep(out, values=[0.5])
    with pytest.raises(OutputDirectoryError, match="not empty"):
        sweep(out, values=[0.5])
    with pytest.raises(OutputDirectoryError, match="other parameters.*settings"):
        sweep(out, values=[0.5], resume=True, schedule=SCHED.scaled(2))
    assert len(sweep(out, values=[0.5], overwrite=True).ran) == 1
    with pytest.raises(ConfigurationError):
        sweep(out, resume=True, overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputDirectoryError, match="not a directory"):
        sweep(tmp_path / "file")


@pytest.mark.parametrize("kw,match", [
    (dict(values=[0.3, 1.2]), "between 0 and 1"),
    (dict(values=[0.001]), "rounds to no"),
    (dict(seeds=[-1]), "seed"),
    (dict(size=2), "too small"),
    (dict(workers=0), "workers"),
    (dict(values=[]), "no grid values"),
    (dict(values=[0.5, 0.5000001]), "same file name"),
])
def test_bad_input_fails_before_any_work(tmp_path, kw, match):
    with pytest.raises(LatticeClosureError, match=match):
        sweep(tmp_path / "bad", **kw)
    assert not (tmp_path / "bad").exists()


def test_backend_refuses_unknown_grid_parameters_and_settings():
    be = backend()
    with pytest.raises(ConfigurationError, match="grid parameter"):
        be.check_task(SimulationTask(MODEL, {"tau": 0.5}))
    with pytest.raises(ConfigurationError, match="unknown setting"):
        be.check_task(SimulationTask(MODEL, {"x": 0.5}, settings={"temperature": 1}))


class _FailingBackend(AnnealBackend):
    """Raises KeyboardInterrupt on the n-th run (simulates Ctrl-C in the middle of a sweep)."""

    def __init__(self, fail_at: int) -> None:
        super().__init__("test-anneal", model=MODEL)
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
        sweep(out, be=_FailingBackend(3), workers=1)
    tasks = sweep_tasks(MODEL, XS, size=9)
    done = sorted(p.name for p in out.glob("x*.npz"))
    assert done == sorted(t.filename for t in tasks[:2])
    for name in done:
        Trajectory.load(out / name)
    manifest = json.loads((out / MANIFEST).read_text())
    assert [t["status"] for t in manifest["tasks"]] == ["done", "done", "pending"]
    res = sweep(out, resume=True)
    assert [t.filename for t in res.ran] == [tasks[2].filename] and len(res.skipped) == 2


def test_cli_sweep(tmp_path, capsys, ising_plugin):
    from latticeclosure.cli.main import main

    out = tmp_path / "cli"
    args = ["sweep", "--model", ising_plugin, "-x", "0.3", "0.5", "-L", "9", "--schedule", "1:2,0.2:2", "-o",
            str(out), "--no-progress", "-j", "2"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "x0.3_seed0.npz" in text and "2 run(s) done" in text
    assert main(args) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert main(args + ["--resume"]) == 0
    assert "0 run(s) done, 2 already finished" in capsys.readouterr().out
    assert main(["sweep", "--model", ising_plugin, "-x", "1.5", "-o", str(tmp_path / "other"), "--no-progress"]) == 2
    assert main(["sweep", "--model", ising_plugin, "-x", "0.5", "-o", str(tmp_path / "nothere"), "--resume",
                 "--no-progress"]) == 2
