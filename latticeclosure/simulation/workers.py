"""The signal and orphan policy of runs with worker processes.

Coordinator (the process that runs the command):

* SIGTERM behaves like Ctrl-C: :func:`terminate_as_interrupt` turns it into :class:`Terminated` (a
  :class:`KeyboardInterrupt`), so the same clean-up runs — workers are stopped, every finished result
  and the manifest are already on disk, running tasks keep their last checkpoint — and the command
  prints one line saying what is saved and how to resume, then exits with ``128 + signal`` (143 for
  SIGTERM, 130 for Ctrl-C; :func:`exit_status`).

Worker processes (any executor's workers call these small functions; nothing here depends on the
pool implementation):

* :func:`worker_setup` — the initialiser: Ctrl-C is ignored (the coordinator stops the workers), the
  coordinator's pid is recorded and a watchdog thread starts that ends the worker at once
  (``os._exit``, nothing written) when the coordinator is gone, e.g. after SIGKILL;
* :func:`exit_if_orphaned` — called by the task runner between chunks of work and immediately before a
  result is written, so that a worker whose coordinator died never writes a file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from typing import Any, Iterator

__all__ = [
    "Terminated",
    "terminate_as_interrupt",
    "exit_status",
    "worker_setup",
    "exit_if_orphaned",
    "coordinator_alive",
    "EXIT_ORPHANED",
    "WATCHDOG_INTERVAL",
]

#: Exit status of a worker that stops because its coordinator is gone.
EXIT_ORPHANED = 75
#: Seconds between two checks of the worker watchdog.
WATCHDOG_INTERVAL = 0.2

_state: dict[str, Any] = {"coordinator": None, "parent": None}


class Terminated(KeyboardInterrupt):
    """SIGTERM (or another terminating signal) received by the coordinator; handled like Ctrl-C."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


def exit_status(exc: BaseException) -> int:
    """The exit status of a command stopped by ``exc``: 128 + the signal (SIGTERM 143, Ctrl-C 130)."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


@contextlib.contextmanager
def terminate_as_interrupt(signals: tuple[int, ...] = (signal.SIGTERM,)) -> Iterator[None]:
    """Within the block, the given signals raise :class:`Terminated` in the main thread.

    Outside the main thread (where Python cannot install handlers) the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated(signum)

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but belongs to someone else (cannot happen for our coordinator)
    return True


def coordinator_alive() -> bool:
    """Whether this worker's coordinator still runs (always True outside a worker)."""
    coordinator, parent = _state["coordinator"], _state["parent"]
    if coordinator is None:
        return True
    return os.getppid() == parent and _alive(coordinator)


def exit_if_orphaned() -> None:
    """End this worker at once, writing nothing, when its coordinator is gone (no-op elsewhere)."""
    if not coordinator_alive():
        os._exit(EXIT_ORPHANED)


def _watchdog() -> None:
    while True:
        time.sleep(WATCHDOG_INTERVAL)
        exit_if_orphaned()


def worker_setup(coordinator: int | None = None) -> None:
    """Initialiser of a worker process: ignore Ctrl-C, record the coordinator, start the watchdog.

    Parameters
    ----------
    coordinator : int, optional
        Pid of the coordinating process; default the parent process.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM keeps its default action: the coordinator terminates workers when it stops, and a
    # terminated worker writes nothing (results are only ever written whole, atomically).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _state["parent"] = os.getppid()
    _state["coordinator"] = coordinator if coordinator is not None else _state["parent"]
    exit_if_orphaned()
    threading.Thread(target=_watchdog, name="latticeclosure-orphan-watchdog", daemon=True).start()
