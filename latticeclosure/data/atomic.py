"""Atomic file writes: write a temporary file in the target directory, fsync, then ``os.replace``.

A reader never sees a half-written file, and an interrupted write leaves the previous file intact
(plus, at worst, a stray ``.*.tmp`` file that the next write of the same name does not trip over).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator

from ..errors import DataError

__all__ = ["atomic_write", "write_bytes_atomic", "write_text_atomic"]


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
    """
    target = Path(path)
    if target.is_dir():
        raise DataError(f"output file {target} is a directory")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding or "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
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
