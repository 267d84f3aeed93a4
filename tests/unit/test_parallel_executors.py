"""The executor abstraction: keyed seeds, executor specs, the local pool (start method, Ctrl-C, lost
workers), the result stream, the missing Dask extra, and parallel stages equal to sequential ones."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading

import numpy as np
import pytest

import executor_testing as tasks
from latticeclosure.errors import ConfigurationError, ExecutorError
from latticeclosure.parallel import (ExecutorSpec, InlineExecutor, LocalProcessPool, default_start_method,
                                     open_executor, run_keyed, task_seed)


# ------------------------------------------------------------------------------ seeds
def test_task_seeds_come_from_the_root_seed_and_the_key_only():
    from latticeclosure.inference.parallel import task_seed as inference_seed

    state = task_seed(7, 2, 3).generate_state(4)
    assert np.array_equal(state, np.random.SeedSequence(7, spawn_key=(2, 3)).generate_state(4))
    assert np.array_equal(state, inference_seed(7, 2, 3).generate_state(4))  # the chains keep their streams
    text_key = int.from_bytes(hashlib.sha256(b"ising-square").digest()[:8], "big")
    assert task_seed(7, "ising-square", 1).spawn_key == (text_key, 1)
    states = {tuple(task_seed(7, 2, c).generate_state(2)) for c in range(50)}
    assert len(states) == 50  # one stream per key
    assert not np.array_equal(task_seed(8, 2, 3).generate_state(4), state)
    for bad in ((-1, 2), (1.5, 2), (True, 2), (7, -2), (7, 2.0)):
        with pytest.raises(ConfigurationError):
            task_seed(*bad)


# ------------------------------------------------------------------------------ specs
@pytest.mark.parametrize("kwargs,match", [
    (dict(kind="mpi"), "unknown executor"),
    (dict(kind="dask"), "scheduler"),
    (dict(kind="dask", scheduler="tcp://127.0.0.1:8786", workers=2), "does not apply"),
    (dict(kind="dask", scheduler="no port"), "not a scheduler address"),
    (dict(kind="local", scheduler="tcp://127.0.0.1:8786"), "only for --executor dask"),
    (dict(workers=0), "positive integer"),
    (dict(workers=True), "positive integer"),
    (dict(retries=-1), "non-negative"),
    (dict(start_method="thread"), "start_method"),
    (dict(kind="dask-local", start_method="spawn"), "local executor only"),
])
def test_bad_executor_specs_are_refused(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        ExecutorSpec(**kwargs)


def test_one_local_worker_runs_in_this_process():
    with ExecutorSpec("local", 1).open() as session:
        assert isinstance(session.executor, InlineExecutor) and session.runs_inline
    with ExecutorSpec("local", 4).open(tasks=1) as session:  # never more workers than tasks
        assert session.runs_inline


# ------------------------------------------------------------------------------ local pool
def test_fork_only_while_a_single_thread_runs():
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        assert default_start_method() == "fork"
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert default_start_method() == "spawn"
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("start_method", [None, "spawn"])
def test_keyed_results_do_not_depend_on_the_executor(start_method):
    jobs = [(k, (k,)) for k in range(12)]
    seen = {}
    with ExecutorSpec("local", 2, start_method=start_method).open() as session:
        assert isinstance(session.executor, LocalProcessPool) and len(session.executor.pids) <= 2
        run_keyed(session, tasks.square, jobs, seen.__setitem__)
    inline = {}
    with ExecutorSpec("local", 1).open() as session:
        run_keyed(session, tasks.square, jobs, inline.__setitem__)
    assert seen == inline == {k: k * k for k in range(12)}


def test_an_inline_executor_handles_each_result_before_the_next_task():
    events = []

    def task(k):
        events.append(("run", k))
        return k

    with open_executor(None, workers=1) as session:
        run_keyed(session, task, [(k, (k,)) for k in range(3)], lambda k, v: events.append(("got", k)))
    assert events == [("run", 0), ("got", 0), ("run", 1), ("got", 1), ("run", 2), ("got", 2)]


def test_a_lost_worker_is_replaced_and_its_tasks_run_again(tmp_path, capsys):
    jobs = [(k, (str(tmp_path / f"marker{k}" if k == 2 else tmp_path / "never"), k)) for k in range(5)]
    (tmp_path / "never").write_text("")  # only task 2 kills its worker, once
    results = {}
    with ExecutorSpec("local", 2, retries=1).open() as session:
        run_keyed(session, tasks.die_once, jobs, results.__setitem__)
    assert results == {k: k for k in range(5)}
    assert "a worker process died" in capsys.readouterr().err
    (tmp_path / "marker2").unlink()
    with ExecutorSpec("local", 2, retries=0).open() as session:
        with pytest.raises(ExecutorError, match=r"worker process died .* unfinished \(.*2"):
            run_keyed(session, tasks.die_once, jobs, results.__setitem__)


def test_tasks_refused_by_a_pool_that_broke_during_submission_run_again(capsys):
    # a worker can die of an early task while later tasks are still being submitted: the pool then
    # refuses them, and they are lost tasks like the others (retried after a restart, or reported)
    from concurrent.futures.process import BrokenProcessPool

    results = {}
    with ExecutorSpec("local", 2, retries=1).open() as session:
        pool, submitted = session.executor, []
        submit = pool.submit

        def breaking_submit(fn, *args):
            submitted.append(args[0])
            if len(submitted) == 3:  # every worker dies while the third task is being submitted
                pool.terminate()
                raise BrokenProcessPool("a child process terminated abruptly")
            return submit(fn, *args)

        pool.submit = breaking_submit
        run_keyed(session, tasks.square, [(k, (k,)) for k in range(5)], results.__setitem__)
    assert results == {k: k * k for k in range(5)}
    assert submitted[:3] == [0, 1, 2] and {2, 3, 4} <= set(submitted[3:])  # refused tasks were submitted again
    assert "retry 1 of 1" in capsys.readouterr().err


def test_tasks_refused_by_an_external_executor_are_reported_not_dropped():
    from concurrent.futures import BrokenExecutor, ThreadPoolExecutor

    class BreaksAfterTwo(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            if getattr(self, "count", 0) >= 2:
                raise BrokenExecutor("broken")
            self.count = getattr(self, "count", 0) + 1
            return super().submit(fn, *args, **kwargs)

    results = {}
    with BreaksAfterTwo(2) as pool, open_executor(pool) as session:
        with pytest.raises(ExecutorError, match=r"task\(s\) unfinished") as err:
            run_keyed(session, tasks.square, [(k, (k,)) for k in range(5)], results.__setitem__)
    unfinished = sorted(set(range(5)) - set(results))
    assert results == {k: k * k for k in results} and {2, 3, 4} <= set(unfinished)
    assert f"with {len(unfinished)} task(s) unfinished ({', '.join(map(str, unfinished[:3]))}" in str(err.value)


def test_ctrl_c_stops_every_worker_at_once():
    jobs = [(0, (0, 0.0))] + [(k, (k, 60.0)) for k in range(1, 4)]  # one quick task, three long ones

    def interrupt(key, value):
        raise KeyboardInterrupt

    session = ExecutorSpec("local", 2).open()
    pool = session.executor
    with pytest.raises(KeyboardInterrupt):  # raised when the quick task's result arrives
        run_keyed(session, tasks.sleep_then, jobs, interrupt)
    assert pool.pids == []  # terminated, not waited for
    session.close()


def test_a_worker_reaped_by_another_thread_is_not_reported_running():
    # the pool's manager thread reaps dead workers itself; whichever thread wins that waitpid, the pool
    # must not report the dead worker as running (is_alive() does, for the thread that lost the race)
    session = ExecutorSpec("local", 2).open()
    pool = session.executor
    try:
        run_keyed(session, tasks.square, [(k, (k,)) for k in range(2)], lambda k, v: None)
        pid = pool.pids[0]
        os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # the manager thread was first
        assert pid not in pool.pids
        pool.terminate()
        assert pool.pids == []
    finally:
        session.close()


def test_an_executor_the_caller_made_is_used_and_left_open():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        out = {}
        with open_executor(pool) as session:
            assert session.kind == "external"
            run_keyed(session, tasks.square, [(k, (k,)) for k in range(4)], out.__setitem__)
        assert pool.submit(tasks.square, 3).result() == 9
    assert out == {0: 0, 1: 1, 2: 4, 3: 9}
    with pytest.raises(ConfigurationError, match="executor must be"):
        with open_executor("dask"):
            pass


# ------------------------------------------------------------------------------ the Dask extra
def test_without_the_dask_extra_the_error_says_what_to_install(monkeypatch, capsys, ising_plugin, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed: importing it fails
    with pytest.raises(ExecutorError, match=r"pip install 'latticeclosure\[dask\]'"):
        ExecutorSpec("dask-local", 2).open()
    from latticeclosure.cli.main import main

    out = tmp_path / "never"
    assert main(["sweep", "--model", ising_plugin, "-x", "0.5", "-L", "9", "-o", str(out), "--no-progress",
                 "--executor", "dask", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "latticeclosure[dask]" in err


@pytest.mark.parametrize("options,fragment", [
    (["--executor", "dask"], "--scheduler"),
    (["--scheduler", "tcp://127.0.0.1:8786"], "only for --executor dask"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"], "does not apply"),
    (["--retries", "-1"], "--retries"),
])
def test_executor_options_are_checked_before_anything_is_written(options, fragment, capsys, ising_plugin, tmp_path):
    from latticeclosure.cli.main import main

    out = tmp_path / "never"
    assert main(["sweep", "--model", ising_plugin, "-x", "0.5", "-L", "9", "-o", str(out), "--no-progress", *options]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and fragment in err, err
    assert not out.exists()


# ------------------------------------------------------------------------------ stages
def test_cross_validation_folds_on_two_workers_equal_the_sequential_run():
    from closure_testdata import counted_series, index
    from latticeclosure.closures import cross_validate
    from latticeclosure.closures.dataset import as_dataset

    idx = index("square")
    data = [as_dataset(counted_series("square", n_records=6, seed=k + 1), idx, name=f"p{k}", metadata={"x": 0.1 * k})
            for k in range(3)]
    families = ["pair", "power-law"]
    sequential = cross_validate(families, data, idx, nested=True, n_starts=2)
    parallel = cross_validate(families, data, idx, nested=True, n_starts=2, executor=ExecutorSpec("local", 2))
    assert parallel.to_json() == sequential.to_json()
    assert [[f.to_json() for f in fits] for fits in parallel.fits.values()] == \
        [[f.to_json() for f in fits] for fits in sequential.fits.values()]
