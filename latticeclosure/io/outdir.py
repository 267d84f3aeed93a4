"""Output directories of runs and sweeps: new time-stamped names, and refusing to clobber results."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from ..errors import OutputDirectoryError

__all__ = ["default_output_directory", "prepare_output_directory"]


def default_output_directory(base: str | os.PathLike = ".", prefix: str = "latticeclosure-run") -> Path:
    """A new time-stamped directory name ``<prefix>-YYYYmmdd-HHMMSS[-N]`` under ``base``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(base) / f"{prefix}-{stamp}"
    k = 1
    while path.exists():
        k += 1
        path = Path(base) / f"{prefix}-{stamp}-{k}"
    return path


def prepare_output_directory(path: str | os.PathLike, *, overwrite: bool, resume: bool) -> Path:
    """Create the output directory, refusing a non-empty one unless ``overwrite`` or ``resume``.

    Raises
    ------
    OutputDirectoryError
        If the path is not a directory, or a non-empty directory without ``overwrite``/``resume``.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputDirectoryError(f"output path {str(out)!r} exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not (overwrite or resume):
        raise OutputDirectoryError(
            f"output directory {str(out)!r} exists and is not empty; use --overwrite to replace its "
            "results or --resume to continue an interrupted run"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from .atomic import OutputError

        raise OutputError(f"cannot create {out}: {exc.strerror or exc}") from None
    return out
