"""Where parallel work runs: an executor chosen by name, opened once, closed after.

An :class:`ExecutorSpec` says which executor a run uses — what ``--executor``, ``--workers`` and
``--scheduler`` give on the command line:

``local`` (default)
    ``workers`` local processes (:class:`~latticeclosure.parallel.local.LocalProcessPool`); one
    worker runs the tasks in the calling process.
``dask-local``
    A Dask ``LocalCluster`` of ``workers`` processes on this machine (loopback only).
``dask``
    The workers of a running Dask scheduler at ``scheduler`` (any number of machines).

:meth:`ExecutorSpec.open` (or :func:`open_executor`, which also accepts an open session or any
:class:`concurrent.futures.Executor`) gives an :class:`ExecutorSession`: its ``executor`` is a plain
``concurrent.futures.Executor`` and it knows how to stop its workers at once (Ctrl-C) and how to
replace a local pool that lost a worker. Stages run their tasks through
:func:`latticeclosure.parallel.run_keyed`.
"""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from ..errors import ConfigurationError
from .local import START_METHODS, InlineExecutor, LocalProcessPool

__all__ = ["ExecutorSpec", "ExecutorSession", "open_executor", "EXECUTOR_KINDS", "DEFAULT_RETRIES"]

#: The executors, by the name ``--executor`` takes.
EXECUTOR_KINDS = ("local", "dask", "dask-local")
#: Default number of times a task is run again after its worker was lost (or, with Dask, it raised).
DEFAULT_RETRIES = 2


def _positive(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{what} must be a positive integer, got {value!r}")
    return value


@dataclass(frozen=True)
class ExecutorSpec:
    """Which executor runs a stage's tasks (see the module docstring).

    Parameters
    ----------
    kind : {"local", "dask", "dask-local"}
    workers : int, optional
        Local processes or LocalCluster workers (default: the CPU cores; a stage never starts more
        than it has tasks). Not used by ``dask``: the scheduler's workers run the tasks.
    scheduler : str, optional
        Address of the Dask scheduler (``dask`` only, required there).
    retries : int, default 2
        Times a task is run again after its worker was lost.
    start_method : {"fork", "spawn", "forkserver"}, optional
        Start method of local processes (default: ``fork`` on Linux in a single-threaded process,
        else ``spawn``).

    Raises
    ------
    ConfigurationError
        An unknown kind, a missing or superfluous scheduler address, workers with ``dask``, or a
        value of the wrong type.
    """

    kind: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    retries: int = DEFAULT_RETRIES
    start_method: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in EXECUTOR_KINDS:
            raise ConfigurationError(f"unknown executor {self.kind!r}; known: {', '.join(EXECUTOR_KINDS)}")
        if self.workers is not None:
            _positive(self.workers, "workers")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigurationError(f"retries must be a non-negative integer, got {self.retries!r}")
        if self.kind == "dask":
            if not self.scheduler:
                raise ConfigurationError("the dask executor needs the scheduler's address (--scheduler tcp://HOST:PORT); "
                                         "or use --executor dask-local for a cluster on this machine")
            if self.workers is not None:
                raise ConfigurationError("--workers does not apply to --executor dask: the scheduler's workers run the "
                                         "tasks (start as many as you need); it sets the size of local and dask-local")
            from .dask_cluster import check_address

            object.__setattr__(self, "scheduler", check_address(self.scheduler))
        elif self.scheduler is not None:
            raise ConfigurationError(f"--scheduler is only for --executor dask, not {self.kind}")
        if self.start_method is not None and (self.kind != "local" or self.start_method not in START_METHODS):
            raise ConfigurationError(f"start_method is one of {', '.join(START_METHODS)}, for the local executor only")

    @property
    def is_distributed(self) -> bool:
        """Whether tasks may run on other machines (results come back over the network)."""
        return self.kind != "local"

    def open(self, *, tasks: int | None = None, before_fork: Callable[[], None] | None = None) -> "ExecutorSession":
        """Start the executor.

        Parameters
        ----------
        tasks : int, optional
            How many tasks the stage has: a local executor starts no more processes than that.
        before_fork : callable, optional
            Called once before local workers are forked (e.g. to load compiled kernels they inherit).

        Returns
        -------
        ExecutorSession
            Close it (or use it as a context manager) when the stage is done.

        Raises
        ------
        ExecutorError
            Dask not installed, a scheduler that cannot be reached, a cluster that cannot start.
        """
        if self.kind == "local":
            n = self.workers if self.workers is not None else (os.cpu_count() or 1)
            if tasks is not None:
                n = max(1, min(n, int(tasks)))
            if n == 1:
                return ExecutorSession("local", InlineExecutor(), 1, "in this process", retries=self.retries)
            t0 = time.perf_counter()
            from .local import default_start_method

            method = self.start_method or default_start_method()
            if method == "fork" and before_fork is not None:
                before_fork()
            pool = LocalProcessPool(n, start_method=method)
            return ExecutorSession("local", pool, n, f"{n} local worker processes ({method})", owned=True,
                                   retries=self.retries, startup_seconds=time.perf_counter() - t0)
        from .dask_cluster import connect

        conn = connect(self.scheduler, workers=self.workers, retries=self.retries)
        if self.kind == "dask-local":
            what = f"a Dask LocalCluster of {conn.workers} worker(s) at {conn.address}"
        else:
            count = len(conn.client.scheduler_info().get("workers", {}))
            what = f"the Dask scheduler at {conn.address} ({count} worker(s) now)"
        return ExecutorSession(self.kind, conn.executor, conn.workers, what, owned=True, retries=self.retries,
                               startup_seconds=conn.startup_seconds, dask=conn)


class ExecutorSession:
    """An open executor: what runs the tasks, and how to stop or repair it.

    Attributes
    ----------
    kind : str
        ``local``, ``dask``, ``dask-local`` or ``external`` (an executor the caller made).
    executor : concurrent.futures.Executor
    workers : int or None
        Worker processes, when known.
    description : str
        E.g. ``"2 local worker processes (fork)"``.
    retries : int
    startup_seconds : float
        Time it took to start (a LocalCluster's start-up, a pool's fork).
    dask : DaskConnection or None
        The client (and cluster) of a Dask session.
    """

    def __init__(self, kind: str, executor: Executor, workers: int | None, description: str, *,
                 owned: bool = False, retries: int = DEFAULT_RETRIES, startup_seconds: float = 0.0,
                 dask: Any = None) -> None:
        self.kind = kind
        self.executor = executor
        self.workers = workers
        self.description = description
        self.retries = retries
        self.startup_seconds = startup_seconds
        self.dask = dask
        self._owned = owned
        self._closed = False

    @property
    def runs_inline(self) -> bool:
        """Whether tasks run in the calling process, one after the other."""
        return bool(getattr(self.executor, "runs_inline", False))

    def interrupt(self, futures: Sequence[Future] = ()) -> None:
        """Stop the work in flight now (Ctrl-C, or a failed task).

        Local workers are terminated (their futures then fail; they are not cancelled first, which
        would race with the pool's own clean-up); other executors' ``futures`` are cancelled, and a
        Dask session cancels everything it submitted (a LocalCluster's workers stop when it closes).
        """
        if isinstance(self.executor, LocalProcessPool):
            self.executor.terminate()
            return
        for fut in futures:
            fut.cancel()
        if self.dask is not None:
            self.dask.cancel()

    def recover(self) -> bool:
        """Replace a local pool broken by a lost worker; ``False`` when this executor cannot be repaired
        here (Dask reschedules lost tasks itself; an executor the caller made is the caller's)."""
        if isinstance(self.executor, LocalProcessPool) and self._owned:
            self.executor.restart()
            return True
        return False

    def close(self) -> None:
        """Shut the executor down if this session started it."""
        if self._closed:
            return
        self._closed = True
        if not self._owned:
            return
        if self.dask is not None:
            self.dask.close()
        else:
            self.executor.shutdown(wait=True)

    def __enter__(self) -> "ExecutorSession":
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None and not self.runs_inline:
            self.interrupt()
        self.close()

    def __repr__(self) -> str:
        return f"ExecutorSession({self.kind!r}, {self.description!r})"


@contextlib.contextmanager
def open_executor(executor: "ExecutorSpec | ExecutorSession | Executor | None" = None, *, workers: int = 1,
                  start_method: str | None = None, tasks: int | None = None,
                  before_fork: Callable[[], None] | None = None) -> Iterator[ExecutorSession]:
    """An :class:`ExecutorSession` for whatever a stage was given, closed after if opened here.

    Parameters
    ----------
    executor : ExecutorSpec, ExecutorSession, concurrent.futures.Executor or None
        A spec is opened (and closed after); a session is used as it is; any other executor (e.g.
        a Dask client's ``get_executor(pure=False)``) is used and left open; ``None`` means
        ``ExecutorSpec("local", workers, start_method=start_method)``.
    workers, start_method
        The local executor's size and start method when ``executor`` is None.
    tasks, before_fork
        See :meth:`ExecutorSpec.open`.
    """
    if isinstance(executor, ExecutorSession):
        yield executor
        return
    if executor is not None and not isinstance(executor, ExecutorSpec):
        if not isinstance(executor, Executor) and not callable(getattr(executor, "submit", None)):
            raise ConfigurationError(
                f"executor must be an ExecutorSpec or a concurrent.futures.Executor, got {type(executor).__name__}"
            )
        yield ExecutorSession("external", executor, None, f"the given {type(executor).__name__}")
        return
    spec = executor if executor is not None else ExecutorSpec("local", _positive(workers, "workers"),
                                                              start_method=start_method)
    session = spec.open(tasks=tasks, before_fork=before_fork)
    with session:
        yield session
