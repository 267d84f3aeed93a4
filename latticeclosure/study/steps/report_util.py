"""Small Markdown helpers shared by the study steps."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["relative", "image", "with_error", "point_cell", "total_cell"]


def relative(path: Path, out_dir: Path) -> str:
    """``path`` relative to the report's directory (links in the report stay valid when it moves)."""
    return os.path.relpath(path, out_dir)


def image(caption: str, target: str) -> str:
    """A Markdown image."""
    return f"![{caption}]({target})"


def with_error(mean: float, se: float | None) -> str | float:
    """A table cell: the value, or ``value ± standard error`` when there is one."""
    from ...io import format_number

    return mean if se is None else f"{format_number(mean)} ± {format_number(se, 2)}"


def point_cell(errors: Any, i: int) -> str | float:
    """E of a closure at grid point ``i`` (mean ± standard error over seeds)."""
    return with_error(errors.E[i], errors.E_se[i])


def total_cell(errors: Any) -> str | float:
    """Total E of a closure over the grid (mean ± standard error over seeds)."""
    return with_error(errors.total, errors.total_se)
