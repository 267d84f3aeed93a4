"""Running the independent tasks of an inference (multi-start fits, chain segments) deterministically.

Every task gets its random stream from ``numpy.random.SeedSequence(root_seed, spawn_key=key)``
with a stable key (stream, index) — never from the order of submission or completion — so results
are identical for any number of workers (:func:`latticeclosure.parallel.task_seed`). With
``executor=None`` the tasks run on the package's local executor
(:class:`~latticeclosure.parallel.ExecutorSpec` ``("local", workers)``: in the calling process for
one worker, else a :class:`~latticeclosure.parallel.LocalProcessPool` that stops its workers at
once on Ctrl-C); any :class:`concurrent.futures.Executor` can be passed instead (e.g. a Dask
client's executor): tasks are plain module-level functions with picklable arguments.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Executor
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..parallel import ExecutorSpec, InlineExecutor
from ..parallel import task_seed as _keyed_seed

__all__ = ["task_seed", "local_executor", "map_tasks", "STREAM_STARTS", "STREAM_CHAINS", "InlineExecutor"]

#: Stream ids of the seed keys.
STREAM_STARTS = 1
STREAM_CHAINS = 2


def task_seed(root_seed: int, stream: int, index: int) -> np.random.SeedSequence:
    """The seed of task ``index`` of a stream: ``SeedSequence(root_seed, spawn_key=(stream, index))``."""
    return _keyed_seed(root_seed, int(stream), int(index))


@contextlib.contextmanager
def local_executor(executor: Executor | None, workers: int) -> Iterator[Executor]:
    """``executor`` if given; else the local executor of ``workers`` (inline for 1), closed after."""
    if executor is not None:
        yield executor
        return
    # ExecutorSpec checks the number (a positive int); numpy integers are accepted here as before
    with ExecutorSpec("local", int(workers) if isinstance(workers, np.integer) else workers).open() as session:
        yield session.executor


def map_tasks(fn: Callable[..., Any], args: Sequence[tuple], executor: Executor) -> list[Any]:
    """``[fn(*a) for a in args]`` on the executor, results in task order."""
    futures = [executor.submit(fn, *a) for a in args]
    return [f.result() for f in futures]
