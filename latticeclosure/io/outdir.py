"""Output directories of runs and sweeps: new time-stamped names, and refusing to clobber results."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, OutputDirectoryError

__all__ = ["default_output_directory", "prepare_output_directory", "check_output_name", "ensure_directory"]

#: Files that do not make a directory "non-empty": the run lock of a run that died before writing.
_IGNORED = {".latticeclosure.lock"}


def default_output_directory(base: str | os.PathLike = ".", prefix: str = "latticeclosure-run") -> Path:
    """A new time-stamped directory name ``<prefix>-YYYYmmdd-HHMMSS[-N]`` under ``base``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(base) / f"{prefix}-{stamp}"
    k = 1
    while path.exists():
        k += 1
        path = Path(base) / f"{prefix}-{stamp}-{k}"
    return path


def check_output_name(value: Any, option: str = "--out") -> Path | None:
    """An output path given by the user as a :class:`~pathlib.Path` (``None`` stays ``None``).

    Raises
    ------
    ConfigurationError
        An empty or blank name (``-o ""`` would otherwise silently mean the current directory or the
        default), a name with a NUL character, or something that is not a path.
    """
    if value is None:
        return None
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise ConfigurationError(f"{option} must be a path, got {type(value).__name__}")
    text = os.fspath(value)
    if not isinstance(text, str) or not text.strip():
        raise ConfigurationError(f"{option} is empty; give a file or directory name")
    if "\x00" in text:
        raise ConfigurationError(f"{option} {text!r:.60} contains a NUL character")
    return Path(text)


def ensure_directory(path: str | os.PathLike) -> Path:
    """Create ``path`` (and its parents) if needed.

    Raises
    ------
    OutputError
        ``cannot write PATH: reason`` when the operating system refuses (or a file is in the way).
    """
    from .atomic import OutputError

    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot write {out}: it exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out


def _has_results(out: Path) -> bool:
    try:
        return any(p.name not in _IGNORED for p in out.iterdir())
    except OSError as exc:
        raise OutputDirectoryError(f"cannot read output directory {str(out)!r}: {exc.strerror or exc}") from None


def prepare_output_directory(path: str | os.PathLike, *, overwrite: bool, resume: bool) -> Path:
    """Create the output directory, refusing a non-empty one unless ``overwrite`` or ``resume``.

    Raises
    ------
    OutputDirectoryError
        If the path is not a directory, or a non-empty directory without ``overwrite``/``resume``.
    OutputError
        If the directory cannot be created.
    """
    out = check_output_name(path, "output directory")
    assert out is not None
    if out.exists() and not out.is_dir():
        raise OutputDirectoryError(f"output path {str(out)!r} exists and is not a directory")
    if out.exists() and not (overwrite or resume) and _has_results(out):
        raise OutputDirectoryError(
            f"output directory {str(out)!r} exists and is not empty; use --overwrite to replace its "
            "results or --resume to continue an interrupted run"
        )
    return ensure_directory(out)
