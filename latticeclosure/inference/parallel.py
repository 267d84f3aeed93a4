"""Running independent tasks (multi-start fits, chain segments) on an executor, deterministically.

Every task gets its random stream from ``numpy.random.SeedSequence(root_seed, spawn_key=key)``
with a stable key (stream, index) — never from the order of submission or completion — so results
are identical for any number of workers. With ``executor=None`` and ``workers > 1`` a local
:class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start method is used (safe with
numba and threads); ``workers == 1`` runs in the calling process. Any
:class:`concurrent.futures.Executor` can be passed instead (e.g. a Dask client's executor): tasks
are plain module-level functions with picklable arguments.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..errors import ConfigurationError

__all__ = ["task_seed", "local_executor", "map_tasks", "STREAM_STARTS", "STREAM_CHAINS", "InlineExecutor"]

#: Stream ids of the seed keys.
STREAM_STARTS = 1
STREAM_CHAINS = 2


def task_seed(root_seed: int, stream: int, index: int) -> np.random.SeedSequence:
    """The seed of task ``index`` of a stream: keyed, independent of scheduling."""
    if isinstance(root_seed, bool) or not isinstance(root_seed, (int, np.integer)) or int(root_seed) < 0:
        raise ConfigurationError(f"the seed must be a non-negative integer, got {root_seed!r}")
    return np.random.SeedSequence(int(root_seed), spawn_key=(int(stream), int(index)))


class InlineExecutor(Executor):
    """Runs each task at submission in the calling process (``workers == 1``)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future like a pool would
            fut.set_exception(exc)
        return fut


@contextlib.contextmanager
def local_executor(executor: Executor | None, workers: int) -> Iterator[Executor]:
    """``executor`` if given; else a spawn process pool of ``workers`` (inline for 1), shut down after."""
    if executor is not None:
        yield executor
        return
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or int(workers) < 1:
        raise ConfigurationError(f"workers must be a positive integer, got {workers!r}")
    if int(workers) == 1:
        yield InlineExecutor()
        return
    from ..simulation.workers import worker_setup

    # the workers follow the package's signal and orphan policy: Ctrl-C goes to the coordinator, and a
    # worker whose coordinator was killed exits at once
    pool = ProcessPoolExecutor(max_workers=int(workers), mp_context=multiprocessing.get_context("spawn"),
                               initializer=worker_setup, initargs=(os.getpid(),))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def map_tasks(fn: Callable[..., Any], args: Sequence[tuple], executor: Executor) -> list[Any]:
    """``[fn(*a) for a in args]`` on the executor, results in task order."""
    futures = [executor.submit(fn, *a) for a in args]
    return [f.result() for f in futures]
