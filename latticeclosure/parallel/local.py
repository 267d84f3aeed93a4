"""Local executors: a process pool whose workers can be stopped, and an in-process executor.

:class:`LocalProcessPool` is a :class:`concurrent.futures.ProcessPoolExecutor` behind the same
``Executor`` interface, with three additions the parallel stages need:

* :meth:`~LocalProcessPool.terminate` stops every worker at once (Ctrl-C, or an error in another
  task): the pool is built with a multiprocessing context that records the worker processes it
  creates, so no private attribute of the executor is touched;
* :meth:`~LocalProcessPool.restart` replaces a pool broken by a lost worker (killed, out of memory)
  so that the unfinished tasks can be submitted again;
* the start method is chosen safely: ``fork`` on Linux only while the calling process runs a single
  Python thread (a fork copies locks other threads may hold), ``spawn`` otherwise and on other
  platforms. Tasks are module-level functions of picklable arguments, so both give the same results.
  With ``fork`` every worker is started when the pool is made, before the caller starts any thread
  (e.g. a progress bar's monitor).

Workers ignore Ctrl-C: the coordinating process receives it and stops them.

:class:`InlineExecutor` runs each task in the calling process (one worker).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator

from ..errors import ConfigurationError

__all__ = ["LocalProcessPool", "InlineExecutor", "default_start_method", "inside_worker", "START_METHODS"]

#: Start methods a local pool accepts.
START_METHODS = ("fork", "spawn", "forkserver")


_WORKER = {"inside": False}


def inside_worker() -> bool:
    """Whether this process is a worker of a parallel stage (a local pool's, or a daemonic one such as
    a Dask worker): a task running here should run its own sub-tasks in this process."""
    return _WORKER["inside"] or multiprocessing.current_process().daemon


def default_start_method() -> str:
    """``"fork"`` on Linux while only the main thread runs, else ``"spawn"``."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


class InlineExecutor(Executor):
    """Runs each task at submission in the calling process.

    The parallel stages run the tasks of an inline executor one by one, handling each result before
    the next task starts (``runs_inline``), exactly as a single worker would.
    """

    runs_inline = True

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future, as a pool would
            fut.set_exception(exc)
        return fut


class _RecordingContext:
    """A multiprocessing context that remembers the processes it creates (the pool's workers)."""

    def __init__(self, base: Any) -> None:
        self._base = base
        self.processes: list[Any] = []

    def Process(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - the context API's name
        proc = self._base.Process(*args, **kwargs)
        self.processes.append(proc)
        return proc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def _worker_start(coordinator: int, initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    """Initialiser of every worker: Ctrl-C belongs to the coordinator, a worker whose coordinator is
    gone exits (the orphan watchdog of :mod:`latticeclosure.simulation.workers`), then the caller's
    initialiser."""
    from ..simulation.workers import worker_setup

    worker_setup(coordinator)
    _WORKER["inside"] = True
    if initializer is not None:
        initializer(*initargs)


def _noop() -> None:
    return None


def _sentinel(proc: Any) -> Any | None:
    """The handle that becomes ready when ``proc`` exits; ``None`` if it never started (or was closed)."""
    try:
        return proc.sentinel
    except ValueError:
        return None


def _running(proc: Any) -> bool:
    """Whether a started worker process has not exited yet.

    Read from the process's sentinel, not from ``is_alive()``: the pool's manager thread reaps dead
    workers itself, and a ``waitpid`` that loses that race reports a reaped worker as still running.
    """
    sentinel = _sentinel(proc)
    if sentinel is None:
        return False
    try:
        return not multiprocessing.connection.wait([sentinel], timeout=0)
    except (OSError, ValueError):  # the handle was closed: the process object was released
        return False


def _wait_for_exit(procs: list[Any], timeout: float) -> list[Any]:
    """Wait up to ``timeout`` seconds for ``procs`` to exit; return those still running."""
    waiting = {_sentinel(p): p for p in procs if _running(p)}
    deadline = time.monotonic() + timeout
    while waiting and (left := deadline - time.monotonic()) > 0:
        for ready in multiprocessing.connection.wait(list(waiting), timeout=left):
            waiting.pop(ready)
    return list(waiting.values())


class LocalProcessPool(Executor):
    """A pool of local worker processes (see the module docstring).

    Parameters
    ----------
    workers : int
        Number of worker processes (at least 1).
    start_method : {"fork", "spawn", "forkserver"}, optional
        Default :func:`default_start_method`.
    initializer : callable, optional
        Called with ``initargs`` in every worker after it starts (e.g. to set up signal handling).
    initargs : tuple

    Raises
    ------
    ConfigurationError
        For a number of workers that is not a positive integer, or an unknown start method.
    """

    runs_inline = False

    def __init__(self, workers: int, *, start_method: str | None = None,
                 initializer: Callable[..., Any] | None = None, initargs: tuple = ()) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigurationError(f"workers must be a positive integer, got {workers!r}")
        method = start_method or default_start_method()
        if method not in START_METHODS or method not in multiprocessing.get_all_start_methods():
            allowed = [m for m in START_METHODS if m in multiprocessing.get_all_start_methods()]
            raise ConfigurationError(f"unknown process start method {method!r}; allowed here: {', '.join(allowed)}")
        self.workers = workers
        self.start_method = method
        self._initializer = initializer
        self._initargs = tuple(initargs)
        self._context: _RecordingContext | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._open()

    def _open(self) -> None:
        self._context = _RecordingContext(multiprocessing.get_context(self.start_method))
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context,
                                         initializer=_worker_start,
                                         initargs=(os.getpid(), self._initializer, self._initargs))
        if self.start_method == "fork":
            # every worker is forked now (a fork pool starts all of them at the first submission),
            # while the caller has not yet started threads of its own
            self._pool.submit(_noop).result()

    # ------------------------------------------------------------------ Executor interface
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        assert self._pool is not None
        return self._pool.submit(fn, *args, **kwargs)

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int = 1) -> Iterator[Any]:
        assert self._pool is not None
        return self._pool.map(fn, *iterables, timeout=timeout, chunksize=chunksize)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    # ------------------------------------------------------------------ additions
    @property
    def pids(self) -> list[int]:
        """Process ids of the workers that have not exited."""
        ctx = self._context
        return [p.pid for p in (ctx.processes if ctx else []) if _running(p)]

    def terminate(self, timeout: float = 5.0) -> None:
        """Stop every worker now; the futures of unfinished tasks fail (the pool is then broken).

        Workers are terminated before the pool is shut down: the executor's manager thread notices
        the dead workers, fails the pending futures and reaps the processes, and nothing waits for a
        running task. A worker still running ``timeout`` seconds after SIGTERM is killed.
        """
        ctx = self._context
        procs = [p for p in (ctx.processes if ctx else []) if _running(p)]
        for proc in procs:
            proc.terminate()
        left = _wait_for_exit(procs, timeout)
        for proc in left:  # pragma: no cover - a worker that ignores SIGTERM
            proc.kill()
        _wait_for_exit(left, timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    def restart(self) -> None:
        """Replace the pool (after a worker was lost): stop what is left of it and start new workers.

        The old pool's manager thread is joined first, so that new workers are forked (where the
        start method is ``fork``) while no other thread of the pool runs.
        """
        self.terminate()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._open()

    def __repr__(self) -> str:
        return f"LocalProcessPool(workers={self.workers}, start_method={self.start_method!r})"
