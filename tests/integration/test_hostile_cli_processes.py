"""Class 6 of the hostile-input issue: process faults.

SIGTERM behaves like Ctrl-C (one line saying what is saved and how to resume, exit 143, workers
stopped, manifest up to date); a SIGKILLed coordinator leaves no orphaned workers and nothing written
after its death; a second run into a held output directory is refused with the holder's pid while
the first goes on; stale locks are taken over; corrupt checkpoints are set aside and their task
restarts; ``resume`` reruns a finished file written for another task.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest

import hostile_cli
from conftest import TEST_MODEL, assert_user_error

#: Tasks of a few seconds each on two workers (the test model, L = 64).
LONG = ("--model", TEST_MODEL, "-L", "64", "--schedule", "1:150000", "--no-progress", "-j", "2",
        "--checkpoint-every", "0.3")


def _wait_for(condition, timeout: float = 30.0, step: float = 0.05) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting")
        time.sleep(step)


def _kill_all(pids) -> None:
    """Clean up after a failed test: no process of ours may outlive it."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _workers(pid: int) -> list[int]:
    """The pool's worker processes (children of the coordinator that are python processes)."""
    return [c for c in hostile_cli.children(pid) if hostile_cli.alive(c)]


def test_sigterm_is_ctrl_c_and_a_second_run_is_refused_while_the_first_holds_the_directory(tmp_path):
    out = tmp_path / "out"
    first = hostile_cli.start("sweep", "-x", "0.3", "0.5", "0.6", *LONG, "--out", str(out), cwd=tmp_path)
    workers: list[int] = []
    try:
        _wait_for(lambda: (out / ".latticeclosure.lock").exists() and len(_workers(first.pid)) >= 2)
        _wait_for(lambda: any(out.glob("*.checkpoint.npz")))
        checkpoints = list(out.glob("*.checkpoint.npz"))
        second = hostile_cli.run("sweep", "-x", "0.3", "0.5", "0.6", *LONG, "--out", str(out), "--resume",
                                 cwd=tmp_path)
        assert_user_error(second, f"in use by process {first.pid}")
        for ckpt in checkpoints:  # the first run's files are untouched (or became its finished results)
            assert ckpt.exists() or ckpt.with_name(ckpt.name.replace(".checkpoint", "")).exists()
        workers = _workers(first.pid)
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
        _kill_all(workers)
    assert first.returncode == 143, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("terminated: ") and "--resume --out" in lines[-1], err
    assert "Traceback" not in err
    _wait_for(lambda: not any(hostile_cli.alive(w) for w in workers), timeout=10)
    manifest = json.loads((out / "manifest.json").read_text())  # valid JSON, up to date
    done = {t["file"] for t in manifest["tasks"] if t["status"] == "done"}
    assert done == {p.name for p in out.glob("x*_seed0.npz")}
    assert not (out / ".latticeclosure.lock").exists()


def test_a_killed_coordinator_leaves_no_orphans_and_nothing_written(tmp_path):
    out = tmp_path / "out"
    coordinator = hostile_cli.start("sweep", "-x", "0.3", "0.5", *LONG[:5], "1:200000", *LONG[6:], "--out", str(out),
                                    cwd=tmp_path)
    workers: list[int] = []
    try:
        _wait_for(lambda: len(_workers(coordinator.pid)) >= 2 and (out / "manifest.json").exists())
        time.sleep(0.5)  # the workers are inside their first chunks
        workers = _workers(coordinator.pid)
        coordinator.send_signal(signal.SIGKILL)
        coordinator.wait(timeout=10)
        killed_at = time.monotonic()
        _wait_for(lambda: not any(hostile_cli.alive(w) for w in workers), timeout=5)
        assert time.monotonic() - killed_at < 5
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
        _kill_all(workers)
    assert not list(out.glob("x*_seed0.npz"))  # no result written by an orphan
    # the directory is free again (the lock died with its holders) and the sweep resumes
    proc = hostile_cli.run("sweep", "-x", "0.3", "0.5", "--model", TEST_MODEL, "-L", "64", "--schedule", "1:2",
                           "--no-progress", "--out", str(out), "--overwrite", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------ in this process (API level)
@pytest.fixture
def quick_tasks(ising_plugin):
    from latticeclosure.anneal.schedule import Schedule
    from latticeclosure.registry import get_registry
    from latticeclosure.simulation import sweep_tasks

    backend = get_registry().resolve("data_backends", "ising-anneal")

    def make(size=8, values=(0.3, 0.5)):
        return backend, sweep_tasks(TEST_MODEL, list(values), [0], size=size,
                                    settings={"schedule": Schedule([2.0, 1.0], [3.0, 3.0])}, backend=backend)
    return make


def test_a_held_directory_is_refused_and_a_stale_lock_taken_over(tmp_path, quick_tasks, capsys):
    import subprocess
    import sys

    from latticeclosure.errors import OutputDirectoryError
    from latticeclosure.io.runlock import LOCK_NAME, RunLock
    from latticeclosure.simulation import run_tasks

    backend, tasks = quick_tasks()
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom latticeclosure.io.runlock import RunLock\n"
                               f"lock = RunLock({str(out)!r}, 'sweep').acquire()\nprint('held', flush=True)\n"
                               "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputDirectoryError, match=f"in use by process {holder.pid}"):
            run_tasks(tasks, backend, out_dir=out, resume=True)
    finally:
        holder.kill()
        holder.wait()
    with RunLock(out, "test"):  # re-entrant within one process (a study locking its sweep's directory)
        with RunLock(out, "nested"):
            pass
        assert (out / LOCK_NAME).exists()
    assert not (out / LOCK_NAME).exists()
    # the holder was killed: its lock file is left, but nobody holds the flock any more — stale
    (out / LOCK_NAME).write_text(json.dumps({"pid": holder.pid, "host": "x", "purpose": "sweep"}))
    result = run_tasks(tasks, backend, out_dir=out, resume=True)
    assert len(result.ran) == 2
    assert "taking over the stale lock" in capsys.readouterr().err
    assert not (out / LOCK_NAME).exists()


def test_a_corrupt_checkpoint_is_set_aside_and_its_task_restarts(tmp_path, quick_tasks):
    from latticeclosure.data import Trajectory
    from latticeclosure.simulation import run_tasks

    backend, tasks = quick_tasks()
    fresh = run_tasks(tasks, backend, out_dir=tmp_path / "fresh")
    out = tmp_path / "out"
    out.mkdir()
    (out / tasks[0].checkpoint_name).write_bytes(b"PK\x03\x04 this is not a checkpoint")
    (out / tasks[1].checkpoint_name).write_bytes(b"")
    result = run_tasks(tasks, backend, out_dir=out, resume=True)
    assert len(result.ran) == 2
    for task in tasks:
        assert (out / (task.checkpoint_name + ".corrupt")).exists()
        a, b = Trajectory.load(fresh.path(task)), Trajectory.load(result.path(task))
        assert np.array_equal(a.concentrations, b.concentrations)  # restarted from scratch, bit for bit


def test_resume_reruns_a_finished_file_written_for_another_task(tmp_path, quick_tasks, caplog):
    from latticeclosure.data import Trajectory
    from latticeclosure.simulation import run_tasks

    backend, small = quick_tasks(size=8, values=(0.5,))
    _, larger = quick_tasks(size=10, values=(0.5,))
    done = run_tasks(small, backend, out_dir=tmp_path / "small")
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(done.path(small[0]), out / larger[0].filename)  # same file name, other size
    with caplog.at_level("WARNING", logger="latticeclosure"):
        result = run_tasks(larger, backend, out_dir=out, resume=True)
    assert result.ran == result.tasks and not result.skipped
    assert "belongs to another run" in caplog.text
    assert Trajectory.load(out / larger[0].filename).metadata["supercell"] == [10, 10]
    assert Path(out / "manifest.json").exists()


def test_worker_helpers_exit_orphans_and_map_signals_to_statuses(monkeypatch):
    from latticeclosure.simulation import workers

    assert workers.exit_status(KeyboardInterrupt()) == 130
    assert workers.exit_status(workers.Terminated(signal.SIGTERM)) == 143
    assert workers.coordinator_alive()  # not a worker: always alive
    exits = []
    monkeypatch.setattr(workers.os, "_exit", lambda status: exits.append(status))
    monkeypatch.setitem(workers._state, "parent", os.getppid() + 1)  # as if reparented
    monkeypatch.setitem(workers._state, "coordinator", os.getpid())
    workers.exit_if_orphaned()
    assert exits == [workers.EXIT_ORPHANED]
    with workers.terminate_as_interrupt():
        with pytest.raises(workers.Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)


def test_a_corrupt_chain_checkpoint_of_infer_is_set_aside_and_that_chain_restarts(tmp_path):
    from latticeclosure.closedmodel import close_equations
    from latticeclosure.equations import generate_equations
    from latticeclosure.inference.run import run_inference

    eqs = generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)
    model = close_equations(eqs, "pair")
    t = np.linspace(0, 1, 21)
    sol = model.solve(t, {"C++": 0.40, "C--": 0.15, "C+-": 0.225}, [1.2, 0.7, 0.9, 0.4, 0.8, 0.5, 1.1, 0.6])
    data = {"time": t, **{n: sol[n] for n in model.window_names}}
    settings = {"samples": 60, "chains": 2, "n_starts": 2, "segment": 20}
    fresh = run_inference({"pair": model}, data, settings, out_dir=tmp_path / "a")
    out = tmp_path / "b"
    run_inference({"pair": model}, data, settings, out_dir=out)
    chain0 = out / "chains" / "pair_chain0.npz"
    chain0.write_bytes(chain0.read_bytes()[:100])  # truncated
    resumed = run_inference({"pair": model}, data, settings, out_dir=out, resume=True)
    assert (out / "chains" / "pair_chain0.npz.corrupt").exists()
    assert np.array_equal(resumed["pair"].chains, fresh["pair"].chains)  # chain 0 restarted, bit for bit


def test_a_corrupt_kmc_replica_checkpoint_is_set_aside_and_that_replica_restarts(tmp_path):
    from latticeclosure.kmc.simulate import replica_checkpoint, simulate
    from latticeclosure.kmc.spec import make_spec

    rules = [{"from": "S", "to": "I", "rate": "lam/4", "catalyst": "I"}, {"from": "I", "to": "S", "rate": "gamma"}]
    spec = make_spec(lattice="square", species=["S", "I"], dynamics="flip", flip_spec=rules,
                     rates={"lam": 2.0, "gamma": 1.0}, initial={"S": 0.9, "I": 0.1}, size=12, time=1.0,
                     record_every=0.25)
    fresh = simulate(spec, 3, 1)
    ckpt = tmp_path / "run.checkpoint.npz"
    ckpt.write_bytes(b"not a checkpoint at all")
    resumed = simulate(spec, 3, 1, checkpoint=ckpt)
    assert (tmp_path / "run.checkpoint.npz.corrupt").exists()
    assert np.array_equal(fresh.concentrations, resumed.concentrations)
    assert replica_checkpoint(ckpt, 0, 1) == ckpt
