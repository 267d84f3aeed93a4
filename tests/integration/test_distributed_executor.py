"""Dask distributed as the executor, on the loopback interface: same results as the local executor
and as one worker, bit for bit; a worker killed mid-sweep costs nothing but time; an interrupted
coordinator resumes.

Every Dask client runs in a fresh interpreter (the command line), so that this test process keeps a
single thread (the local executor forks only then). Two clusters with 2 worker processes each are
used: a scheduler and workers started by hand (the recipe of docs/distributed.md), and the
LocalCluster that ``--executor dask-local`` starts.
"""

from __future__ import annotations

import json
import signal
import time

import numpy as np
import pytest

from conftest import TEST_MODEL
from executor_testing import (HandStartedCluster, assert_same_trajectories, pair_model_series,
                              popen_cli_with_test_model, run_cli_with_test_model, trajectory_files)
from latticeclosure.cli.main import main

pytestmark = pytest.mark.slow

# 6 annealing runs of about half a second each (on an idle core)
# twelve runs for two workers: after the first result arrives, at least five task durations remain, so an
# interrupt sent then always finds the sweep unfinished (with six, a cold numba cache let the rest finish
# in the moment between the first result file and the signal)
SWEEP = ["sweep", "--model", TEST_MODEL, "-x", "0.3", "0.5", "0.6", "--seeds", "0", "1", "2", "3", "-L", "48",
         "--schedule", "3:1500,1:1500,0.5:1500", "--no-progress", "--checkpoint-every", "0.2"]
N = 12


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = HandStartedCluster(tmp_path_factory.mktemp("dask"), workers=2)
    yield c
    c.stop()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The sweep on one worker (in this process) and on the local executor with 2 workers."""
    from latticeclosure.registry import get_registry

    from conftest import IsingPlugin

    base = tmp_path_factory.mktemp("reference")
    registry = get_registry()
    name = registry.register(IsingPlugin(), name="ising-executor-reference")
    try:
        assert main([*SWEEP, "-o", str(base / "one"), "--workers", "1"]) == 0
        assert main([*SWEEP, "-o", str(base / "local2"), "--workers", "2"]) == 0
    finally:
        registry.unregister(name)
    assert assert_same_trajectories(base / "one", base / "local2") == N
    return base / "one"


def _wait_for_results(out, proc, n: int = 1, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while len(trajectory_files(out)) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no result arrived"
        time.sleep(0.05)


def test_sweep_on_dask_equals_local_and_one_worker(cluster, reference, tmp_path):
    out = tmp_path / "dask"
    proc = run_cli_with_test_model(*SWEEP, "-o", str(out), "--executor", "dask", "--scheduler", cluster.address)
    assert proc.returncode == 0, proc.stderr
    assert f"{N} run(s) done" in proc.stdout
    assert assert_same_trajectories(reference, out) == N
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(t["status"] == "done" for t in manifest["tasks"])
    assert not list(out.glob("*checkpoint*")) and not list(out.glob(".*.tmp"))


def test_a_worker_killed_mid_sweep_changes_nothing(cluster, reference, tmp_path):
    out = tmp_path / "killed"
    before = cluster.worker_pids()
    assert len(before) == 2
    proc = popen_cli_with_test_model(*SWEEP, "-o", str(out), "--executor", "dask", "--scheduler", cluster.address)
    _wait_for_results(out, proc)
    victim = before[0]
    import os

    os.kill(victim, signal.SIGKILL)  # its task is in flight (eleven remain for 2 workers)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert f"{N} run(s) done" in stdout
    assert assert_same_trajectories(reference, out) == N
    # the worker was lost and its nanny started a new one
    assert victim not in cluster.worker_pids()
    assert f"Worker process {victim} was killed" in cluster.log.read_text()


def test_an_interrupted_coordinator_resumes_on_a_local_cluster(reference, tmp_path):
    out = tmp_path / "interrupted"
    args = [*SWEEP, "-o", str(out), "--executor", "dask-local", "--workers", "2"]
    proc = popen_cli_with_test_model(*args)
    _wait_for_results(out, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr
    finished = trajectory_files(out)
    assert 1 <= len(finished) < N
    manifest = json.loads((out / "manifest.json").read_text())  # written after each result file
    assert set(t["file"] for t in manifest["tasks"] if t["status"] == "done") <= set(finished)
    # resumed on the local executor: finished work is skipped whatever ran it
    again = run_cli_with_test_model(*SWEEP, "-o", str(out), "--workers", "2", "--resume")
    assert again.returncode == 0, again.stderr
    assert f"{N - len(finished)} run(s) done, {len(finished)} already finished" in again.stdout
    assert assert_same_trajectories(reference, out) == N


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    _, series = pair_model_series(21)
    path = tmp_path_factory.mktemp("mcmc-data") / "synthetic.npz"
    np.savez(path, **series)
    return path


def _chains(out) -> dict[str, np.ndarray]:
    arrays = {}
    for path in sorted((out / "chains").glob("*.npz")):
        with np.load(path, allow_pickle=False) as z:
            arrays.update({f"{path.name}:{k}": z[k] for k in z.files})
    return arrays


@pytest.mark.nmc  # the SA preset comes from the reference plugin
def test_mcmc_on_dask_equals_local_and_one_worker(cluster, data_file, tmp_path):
    # the sparse closure's linear model: DR-MH chains in its two rate combinations (a small corner plot,
    # so that the figures do not dominate the test's time); multi-starts and chains go through the executor
    args = ["infer", str(data_file), "--exclude-closed", "--closure", "SA", "--samples", "300", "--chains", "4",
            "--n-starts", "2", "--seed", "5", "--no-progress"]
    results = {}
    for label, extra in (("one", ["--workers", "1"]), ("local2", ["--workers", "2"])):  # in this process
        assert main([*args, "--out", str(tmp_path / label), *extra]) == 0
    proc = run_cli_with_test_model(*args, "--out", str(tmp_path / "dask"), "--executor", "dask",
                                   "--scheduler", cluster.address)
    assert proc.returncode == 0, proc.stderr
    for label in ("one", "local2", "dask"):
        out = tmp_path / label
        results[label] = (_chains(out), json.loads((out / "summary.json").read_text()))
    one_chains, one_summary = results["one"]
    assert len([k for k in one_chains if k.endswith(":samples")]) >= 4
    for label in ("local2", "dask"):
        chains, summary = results[label]
        assert sorted(chains) == sorted(one_chains)
        for key, value in one_chains.items():
            assert value.dtype == chains[key].dtype and np.array_equal(value, chains[key]), (label, key)
        post, ref = summary["closures"]["SA"], one_summary["closures"]["SA"]
        assert post["best"] == ref["best"] and post["posterior"] == ref["posterior"], label


PRELOAD_CHECK = """
import json, sys
from latticeclosure.parallel import ExecutorSpec

def held(names):
    import sys
    return sorted(n for n in names if n in sys.modules)

import pkgutil, latticeclosure
names = [m.name for m in pkgutil.walk_packages(latticeclosure.__path__, "latticeclosure.")
         if not m.name.endswith("__main__")] + ["arviz"]
with ExecutorSpec("dask-local", 1).open() as session:
    # no task has been sent: what the worker holds, it imported as it joined
    print(json.dumps({"names": sorted(names), "workers": list(session.dask.client.run(held, names).values())}))
"""


def test_dask_workers_preload_the_package_and_arviz_before_any_task():
    # in a fresh interpreter: a Dask client in this process would leave threads behind
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", PRELOAD_CHECK], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(seen["workers"]) == 1
    assert seen["workers"][0] == seen["names"] and "latticeclosure.inference._kernels" in seen["names"]


def test_a_worker_that_cannot_preload_only_costs_a_warning(caplog):
    from latticeclosure.parallel.dask_cluster import PRELOAD_PLUGIN, _register_preload

    class Client:
        def register_plugin(self, plugin, name):
            assert name == PRELOAD_PLUGIN and plugin.name == PRELOAD_PLUGIN
            raise ImportError("No module named 'a_plugin_dependency'")

    _register_preload(Client())
    assert "could not preload latticeclosure (No module named 'a_plugin_dependency')" in caplog.text
