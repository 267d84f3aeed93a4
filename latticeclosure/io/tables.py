"""One table formatter: aligned plain-text tables for the terminal and Markdown tables for reports."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Callable

__all__ = ["format_table", "format_number", "format_duration"]


def format_number(value: Any, digits: int = 3) -> str:
    """A number for a table: ``digits`` significant digits, scientific outside [0.01, 1000).

    ``None`` and non-finite values print as ``–``; strings are returned unchanged; integers in full.
    """
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "–"
    if v == 0:
        return "0"
    if 1e-2 <= abs(v) < 1e3:
        return f"{v:.{digits}g}"
    return f"{v:.{digits - 1}e}"


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    markdown: bool = False,
    rule: bool = False,
    indent: str = "",
    number: Callable[[Any], str] = format_number,
) -> str:
    """A table without a trailing newline.

    Parameters
    ----------
    headers : sequence of str
        Column titles.
    rows : sequence of sequences
        Cells; numbers are formatted with ``number``, strings kept, ``None`` shown as ``–``
        (``-`` in plain tables).
    markdown : bool
        A Markdown (GitHub) table instead of aligned columns.
    rule : bool
        Plain tables only: a line of dashes under the headers.
    indent : str
        Plain tables only: prefix of every line.
    number : callable
        Formatter of non-string cells.
    """
    def cell(value: Any) -> str:
        if value is None:
            return "–" if markdown else "-"
        return value if isinstance(value, str) else number(value)

    body = [[cell(v) for v in row] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    cells = [[str(h) for h in headers]] + body
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for k, row in enumerate(cells):
        padded = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1])] + [row[-1]]
        lines.append((indent + "  ".join(padded)).rstrip())
        if k == 0 and rule:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_duration(seconds: float) -> str:
    """A rough duration for a message: ``"about 40 s"``, ``"about 12 min"``, ``"about 3.5 h"``."""
    if seconds < 120:
        return f"about {seconds:.0f} s"
    if seconds < 7200:
        return f"about {seconds / 60:.0f} min"
    if seconds < 172800:
        return f"about {seconds / 3600:.1f} h"
    return f"about {seconds / 86400:.1f} days"
