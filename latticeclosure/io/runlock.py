"""One run per output directory: a lock file holding the holder's process id.

:class:`RunLock` creates ``DIR/.latticeclosure.lock`` and holds an exclusive ``flock`` on it for as
long as the run lasts; the file records the holder's pid, host and start time. A second run into the
same directory is refused with the holder named, instead of deleting the first run's temporary and
checkpoint files under it. The operating system releases a ``flock`` when its holder dies, even by
SIGKILL, so a lock left behind by a killed run is recognised as *stale* and taken over (with a
notice) — no manual clean-up is ever needed. On file systems without ``flock`` (some network file
systems) the pid in the file is checked instead.

Worker processes forked by a run share its lock (the lock belongs to the open file, which they
inherit), so the directory stays locked until the last of them has exited. Within one process the
lock is re-entrant: a study that locks its directory may call a sweep that locks it again.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from ..errors import OutputDirectoryError
from .atomic import OutputError

__all__ = ["RunLock", "LOCK_NAME", "run_lock", "lock_holder"]

#: Name of the lock file inside a locked directory.
LOCK_NAME = ".latticeclosure.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def lock_holder(directory: str | os.PathLike) -> dict[str, Any] | None:
    """What the lock file of ``directory`` says about its holder (pid, host, started), or None."""
    path = Path(directory) / LOCK_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8")[:4096])
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class RunLock:
    """An exclusive lock on an output directory (a context manager).

    Parameters
    ----------
    directory : path-like
        The output directory; it must exist.
    purpose : str
        What holds the lock, for the message a second run gets (e.g. ``"sweep"``).
    name : str, optional
        Name of the lock file (default :data:`LOCK_NAME`); a run writing one file locks that file
        with ``".<file name>.lock"`` instead of the whole directory.

    Raises
    ------
    OutputDirectoryError
        When another live process holds the directory.
    OutputError
        When the lock file cannot be created.
    """

    def __init__(self, directory: str | os.PathLike, purpose: str = "run", name: str = LOCK_NAME) -> None:
        self.directory = Path(directory)
        self.path = self.directory / name
        self.purpose = purpose
        self._fd: int | None = None
        self._nested = False
        self.took_over: dict[str, Any] | None = None

    #: Locks this process holds: lock-file path → (pid, count); re-entrant within the process.
    _held: dict[str, list[int]] = {}

    def _key(self) -> str:
        return os.path.realpath(self.path)

    def acquire(self) -> "RunLock":
        held = RunLock._held.get(self._key())
        if held is not None and held[0] == os.getpid():
            held[1] += 1
            self._nested = True
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        try:
            locked = self._flock(fd)
            previous = self._read(fd)
            if locked is False or (locked is None and previous and previous.get("pid") != os.getpid()
                                   and _pid_alive(int(previous.get("pid", -1)))):
                raise OutputDirectoryError(self._held_message(previous))
            if previous and previous.get("pid") not in (None, os.getpid()):
                self.took_over = previous
            record = {"pid": os.getpid(), "host": socket.gethostname(), "purpose": self.purpose,
                      "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        RunLock._held[self._key()] = [os.getpid(), 1]
        if self.took_over:
            print(f"notice: {self.directory}: taking over the stale lock of process {self.took_over.get('pid')} "
                  "(it is no longer running)", file=sys.stderr)
        return self

    @staticmethod
    def _flock(fd: int) -> bool | None:
        """True: locked; False: held by another process; None: no flock on this file system."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            return None
        return True

    @staticmethod
    def _read(fd: int) -> dict[str, Any] | None:
        try:
            data = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace") or "null")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _held_message(self, holder: dict[str, Any] | None) -> str:
        who = "another process"
        if holder:
            who = f"process {holder.get('pid')}"
            if holder.get("host") and holder.get("host") != socket.gethostname():
                who += f" on {holder.get('host')}"
            if holder.get("purpose"):
                who += f" ({holder.get('purpose')}, started {holder.get('started', '?')})"
        what = (f"output directory {str(self.directory)!r}" if self.path.name == LOCK_NAME
                else f"output {str(self.directory / self.path.name[1:-5])!r}")
        return f"{what} is in use by {who}; wait for it to finish or stop it, or write elsewhere"

    def release(self) -> None:
        """Remove the lock file and release the lock (idempotent)."""
        if self._nested:
            self._nested = False
            held = RunLock._held.get(self._key())
            if held is not None:
                held[1] -= 1
            return
        if self._fd is None:
            return
        RunLock._held.pop(self._key(), None)
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            if self._read(fd) and self._read(fd).get("pid") == os.getpid():  # type: ignore[union-attr]
                os.unlink(self.path)
        os.close(fd)

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


@contextlib.contextmanager
def run_lock(directory: str | os.PathLike, purpose: str = "run") -> Iterator[RunLock]:
    """``with run_lock(out): ...`` — hold :class:`RunLock` on ``out`` for the block."""
    lock = RunLock(directory, purpose)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
