"""Small Markdown helpers shared by the study steps."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["relative", "image"]


def relative(path: Path, out_dir: Path) -> str:
    """``path`` relative to the report's directory (links in the report stay valid when it moves)."""
    return os.path.relpath(path, out_dir)


def image(caption: str, target: str) -> str:
    """A Markdown image."""
    return f"![{caption}]({target})"
