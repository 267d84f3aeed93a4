"""Atomic file writes: write a temporary file in the target directory, fsync, then ``os.replace``.

A reader never sees a half-written file, and an interrupted write leaves the previous file intact
(plus, at worst, a stray ``.*.tmp`` file that the next write of the same name does not trip over).
New files get the permissions any other program would give them: ``0666`` minus the process umask
(``0644`` under the usual umask 022, ``0600`` under 077) — :func:`tempfile.mkstemp` alone would make
every file ``0600``.

A failure of the operating system while writing (no permission, read-only or full file system, a
file-size limit) becomes :class:`OutputError` — ``cannot write PATH: reason`` — and leaves no
partial file behind.

What an existing target may be:

* a regular file — replaced (commands ask for ``--overwrite`` first);
* a symbolic link — the *link* is replaced by a regular file; the file it points to is never written
  (writing through links would let a link planted in a shared directory redirect results);
* a directory, a device, a FIFO or a socket — refused (``cannot write PATH: it is a directory`` /
  ``it is not a regular file``), whatever ``--overwrite`` says.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from ..errors import LatticeClosureError

__all__ = [
    "OutputError",
    "atomic_write",
    "write_bytes_atomic",
    "write_text_atomic",
    "write_json_atomic",
    "file_mode",
    "check_writable_target",
]


class OutputError(LatticeClosureError):
    """A result file cannot be written (permission, full or read-only file system, a directory in the way)."""


def file_mode() -> int:
    """Permissions of a new regular file under the current umask (``0o666 & ~umask``)."""
    # os.umask is the only portable way to read the umask: set it and put it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def check_writable_target(path: str | os.PathLike) -> None:
    """Refuse a target that :func:`atomic_write` must never replace (see the module documentation).

    Raises
    ------
    OutputError
        ``path`` is a directory, a device, a FIFO or a socket (symbolic links are not followed).
    """
    target = Path(path)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"cannot write {target}: it is a directory")
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise OutputError(f"cannot write {target}: it is not a regular file (a device, FIFO or socket)")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Context manager yielding a file object whose content replaces ``path`` on success only.

    Parameters
    ----------
    path : path-like
        Destination; its directory must exist.
    mode : {"wb", "w"}
    encoding : str, optional
        For text mode (default UTF-8).

    Raises
    ------
    OutputError
        If ``path`` is a directory or another non-regular file, or the operating system refuses the
        write.
    """
    target = Path(path)
    check_writable_target(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, file_mode())
        kwargs = {} if "b" in mode else {"encoding": encoding or "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: str | os.PathLike, writer: Callable[[IO[bytes]], None]) -> None:
    """Call ``writer(fileobj)`` on a temporary file and move it to ``path`` when it returns."""
    with atomic_write(path, "wb") as fh:
        writer(fh)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Replace ``path`` atomically with ``text`` (UTF-8)."""
    with atomic_write(path, "w") as fh:
        fh.write(text)


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Replace ``path`` atomically with ``data`` as indented JSON (sanitised by :func:`~latticeclosure.io.to_jsonable`)."""
    from .jsonsafe import dumps

    write_text_atomic(path, dumps(data) + "\n")
