"""Dask distributed as the executor of the parallel stages (optional extra ``dask``).

:func:`connect` connects to a running scheduler (``--executor dask --scheduler ADDRESS``) or starts a
:class:`distributed.LocalCluster` of worker processes on the loopback interface (``--executor
dask-local --workers N``), and returns a :class:`DaskConnection` whose ``executor`` is
``client.get_executor(pure=False, retries=R)``:

* ``pure=False``: Dask would otherwise give identical submissions (two chains with the same
  arguments) one key, and so one shared result;
* ``retries``: a task that raises is run again up to R times; a task whose worker died is
  rescheduled by the scheduler up to its ``allowed-failures`` times (set to R for a LocalCluster; a
  scheduler started by hand uses its own configuration, default 3).

Every worker imports the package, its plugins and ArviZ as it joins (:func:`preload_worker`, run
by the worker plugin ``latticeclosure-preload`` that :func:`connect` registers), so that no task
pays for the imports in the middle of a stage: forked local workers inherit them from the
coordinator, spawned Dask workers start empty.

``dask`` and ``distributed`` are imported only here and only when asked for; without them the
error says which extra to install.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError, ExecutorError

__all__ = ["DaskConnection", "connect", "require_distributed", "check_address", "is_worker_loss", "preload_worker",
           "INSTALL_HINT", "PRELOAD_PLUGIN"]

INSTALL_HINT = "pip install 'latticeclosure[dask]'"

#: Name of the worker plugin that preloads the package on every worker.
PRELOAD_PLUGIN = "latticeclosure-preload"

#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT = 20.0


def require_distributed(option: str = "--executor dask") -> Any:
    """The ``distributed`` module, or an :class:`ExecutorError` naming the extra to install."""
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError:
        raise ExecutorError(
            f"{option} needs the optional packages dask and distributed, which are not installed; "
            f"install the 'dask' extra: {INSTALL_HINT}"
        ) from None
    return distributed


@dataclass
class DaskConnection:
    """A Dask client, its ``concurrent.futures`` executor and, for ``dask-local``, its cluster.

    Attributes
    ----------
    client : distributed.Client
    executor : concurrent.futures.Executor
        ``client.get_executor(pure=False, retries=retries)``.
    cluster : distributed.LocalCluster or None
        The cluster this connection started (closed with it).
    address : str
        The scheduler's address.
    startup_seconds : float
        Time to start the cluster (or connect) until every worker answered.
    """

    client: Any
    executor: Any
    cluster: Any
    address: str
    startup_seconds: float
    workers: int | None = None
    _closed: bool = field(default=False, repr=False)

    def worker_pids(self) -> dict[str, int]:
        """Worker address → process id of every connected worker."""
        import os

        return dict(self.client.run(os.getpid))

    def cancel(self) -> None:
        """Cancel every task submitted through the executor that has not finished."""
        try:
            self.executor.shutdown(wait=False)
        except Exception:  # noqa: BLE001 - the scheduler may already be gone; nothing left to cancel
            pass

    def close(self) -> None:
        """Close the client and, for a LocalCluster, stop its workers and scheduler."""
        if self._closed:
            return
        self._closed = True
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def connect(scheduler: str | None = None, *, workers: int | None = None, retries: int = 2) -> DaskConnection:
    """Connect to the scheduler at ``scheduler``, or start a LocalCluster of ``workers`` processes.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); ``None`` starts a LocalCluster on
        127.0.0.1 (one thread per worker process, no dashboard).
    workers : int, optional
        LocalCluster worker processes (default: the CPU cores).
    retries : int
        Retries of a failed task (see the module docstring).

    Raises
    ------
    ExecutorError
        When dask/distributed are not installed, or the scheduler cannot be reached.
    """
    require_distributed("--executor dask" if scheduler is not None else "--executor dask-local")

    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = None
    if scheduler is None:
        import os

        n = workers if workers is not None else (os.cpu_count() or 1)
        try:
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=logging.ERROR,
                                   scheduler_kwargs={"allowed_failures": retries})
        except Exception as exc:  # noqa: BLE001 - reported as one line, whatever Dask raised
            raise ExecutorError(f"cannot start a Dask LocalCluster of {n} worker(s): {_short(exc)}") from None
        client = Client(cluster)
        client.wait_for_workers(n)
        address = cluster.scheduler_address
    else:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
        except (OSError, ValueError, TypeError) as exc:
            raise ExecutorError(f"cannot connect to the Dask scheduler at {scheduler}: {_short(exc)}") from None
        address = scheduler
        n = None
    _register_preload(client)
    executor = client.get_executor(pure=False, retries=retries)
    return DaskConnection(client, executor, cluster, address, time.perf_counter() - t0, n)


def preload_worker() -> list[str]:
    """Import every module of the package, load its plugins, and import ArviZ if it is installed.

    Run on each Dask worker as it joins the cluster. Modules whose kernels have fixed signatures load
    their compiled code from numba's on-disk cache as they are imported; the others load it on
    their first call.

    Returns
    -------
    list of str
        The modules imported, in order (the plugins' modules are those the registry imports).
    """
    import importlib
    import pkgutil
    import warnings

    import latticeclosure
    from ..registry import get_registry

    names = [m.name for m in pkgutil.walk_packages(latticeclosure.__path__, "latticeclosure.")
             if m.name.rsplit(".", 1)[-1] != "__main__"]
    for name in names:
        importlib.import_module(name)
    get_registry()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ArviZ announces its refactor on import
            importlib.import_module("arviz")
        names.append("arviz")
    except ImportError:
        pass
    return names


def _register_preload(client: Any) -> None:
    """Register :func:`preload_worker` as a worker plugin: the workers already up run it now (this
    call waits for them), workers that join later run it as they start."""
    from distributed import WorkerPlugin

    class LatticeclosurePreload(WorkerPlugin):
        name = PRELOAD_PLUGIN

        def setup(self, worker: Any) -> None:
            preload_worker()

    try:
        client.register_plugin(LatticeclosurePreload(), name=PRELOAD_PLUGIN)
    except Exception as exc:  # noqa: BLE001 - a worker that cannot preload still runs tasks, importing then
        logging.getLogger("latticeclosure.parallel").warning(
            "the Dask workers could not preload latticeclosure (%s); tasks import it as they run", _short(exc))


def is_worker_loss(exc: BaseException) -> bool:
    """Whether ``exc`` says a task was given up after its workers kept dying (Dask's ``KilledWorker``)."""
    try:
        from distributed import KilledWorker
    except ImportError:  # pragma: no cover - only called once distributed is in use
        return False
    return isinstance(exc, KilledWorker)


def _short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_address(address: str) -> str:
    """A scheduler address as given (``tcp://host:port``, ``host:port``), or a ConfigurationError."""
    text = address.strip()
    host_port = text.split("://", 1)[-1]
    host, sep, port = host_port.rpartition(":")
    if not text or not sep or not host or not port.isdigit():
        raise ConfigurationError(f"--scheduler {address!r} is not a scheduler address; give tcp://HOST:PORT")
    return text
