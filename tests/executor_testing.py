"""Helpers of the executor tests: the CLI with the test model in a fresh interpreter, a Dask cluster
started by hand on the loopback interface (scheduler and worker processes, as docs/distributed.md
tells), the comparison of two sweeps' trajectories, and the synthetic data of the inference runs.

Run as a script, this module is the ``latticeclosure`` command line with the test model of
``conftest.py`` registered (a subprocess cannot see a plugin registered in the test process).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def pair_model_series(n_times: int = 21):
    """The pair-closed triangular pair model and its solution on ``n_times`` records of t ∈ [0, 1]
    at fixed rates: ``(model, {"time": t, class: series, ...})``, the data of the inference tests."""
    from latticeclosure.closedmodel import close_equations
    from latticeclosure.equations import generate_equations

    eqs = generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)
    model = close_equations(eqs, "pair")
    t = np.linspace(0, 1, n_times)
    sol = model.solve(t, {"C++": 0.40, "C--": 0.15, "C+-": 0.225}, [1.2, 0.7, 0.9, 0.4, 0.8, 0.5, 1.1, 0.6])
    return model, {"time": t, **{n: np.asarray(sol[n]) for n in model.window_names}}


def cli_command(*args: str) -> list[str]:
    """The argv of ``latticeclosure ARGS`` with the test model, in a fresh interpreter."""
    return [sys.executable, str(Path(__file__).resolve()), *args]


def run_cli_with_test_model(*args: str, cwd: str | os.PathLike | None = None,
                            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args), capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])})


def interruptible() -> None:
    """``preexec_fn`` of a child the tests interrupt: SIGINT at its default, as for a command in the
    foreground. A test run started as a background job of a non-interactive shell (as CI scripts
    may be) inherits SIGINT ignored, and Python keeps an ignored SIGINT: Ctrl-C would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def popen_cli_with_test_model(*args: str, cwd: str | os.PathLike | None = None) -> subprocess.Popen:
    return subprocess.Popen(cli_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])},
                            preexec_fn=interruptible)


def trajectory_files(directory: Path) -> list[str]:
    return sorted(p.name for p in Path(directory).glob("*_seed*.npz") if ".checkpoint" not in p.name)


def assert_same_trajectories(a: Path, b: Path) -> int:
    """Every trajectory of sweep ``a`` equals the one of ``b`` (metadata and every array, dtype and
    value); returns how many were compared. (The .npz bytes differ only by the zip time stamps.)"""
    from latticeclosure.data import Trajectory

    names = trajectory_files(a)
    assert names and names == trajectory_files(b), (names, trajectory_files(b))
    for name in names:
        ta, tb = Trajectory.load(Path(a) / name), Trajectory.load(Path(b) / name)
        assert ta.metadata == tb.metadata, name
        assert sorted(ta.arrays) == sorted(tb.arrays), name
        for key, value in ta.arrays.items():
            other = tb.arrays[key]
            assert value.dtype == other.dtype and np.array_equal(value, other), (name, key)
    return len(names)


class HandStartedCluster:
    """``dask scheduler`` and ``dask worker --nworkers N`` processes on 127.0.0.1 (stopped by :meth:`stop`)."""

    def __init__(self, directory: Path, workers: int = 2, timeout: float = 90) -> None:
        import psutil  # a dependency of distributed

        self._psutil = psutil
        directory.mkdir(parents=True, exist_ok=True)
        self.scheduler_file = directory / "scheduler.json"
        self.log = directory / "workers.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(self.scheduler_file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=directory, env=env, preexec_fn=interruptible)
        self.worker = None
        deadline = time.monotonic() + timeout
        while not self.scheduler_file.exists():
            self._check(deadline, "the scheduler did not start")
        self.address = json.loads(self.scheduler_file.read_text())["address"]
        with open(self.log, "w") as log:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(self.scheduler_file),
                 "--nworkers", str(workers), "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
                stdout=log, stderr=subprocess.STDOUT, cwd=directory, env=env, preexec_fn=interruptible)
        while len(self.worker_pids()) < workers:
            self._check(deadline, "the workers did not start")

    def _check(self, deadline: float, what: str) -> None:
        if time.monotonic() > deadline or self.scheduler.poll() is not None or (
                self.worker is not None and self.worker.poll() is not None):
            self.stop()
            raise RuntimeError(what)
        time.sleep(0.2)

    def worker_pids(self) -> list[int]:
        """Process ids of the worker processes (children of the ``dask worker`` process's nannies)."""
        if self.worker is None:
            return []
        kids = self._psutil.Process(self.worker.pid).children(recursive=True)
        return [k.pid for k in kids if "resource_tracker" not in " ".join(k.cmdline()) and k.is_running()
                and k.status() != self._psutil.STATUS_ZOMBIE]

    def stop(self) -> None:
        for proc in (self.worker, self.scheduler):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in (self.worker, self.scheduler):
            if proc is None:
                continue
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# ------------------------------------------------------------------ tasks for the executor tests
# (module-level in an importable module, so that spawned and forked workers alike can run them)
def square(x: int) -> int:
    return x * x


def worker_pid(_: int = 0) -> int:
    return os.getpid()


def die_once(marker: str, value: int) -> int:
    """Kill this worker process the first time (no marker file yet); return ``value`` afterwards."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died once")
        os._exit(3)
    return value


def sleep_then(value: int, seconds: float) -> int:
    time.sleep(seconds)
    return value


def _main() -> int:
    sys.path.insert(0, str(HERE))
    from conftest import IsingPlugin

    from latticeclosure.cli.main import main
    from latticeclosure.registry import get_registry

    get_registry().register(IsingPlugin(), name="ising-test")
    return main(sys.argv[1:])


if __name__ == "__main__":  # spawned worker processes import this module without running the CLI
    sys.exit(_main())
