"""Output helpers shared by CLI commands: ``--format table|json``, aligned tables, JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["FORMATS", "add_format_argument", "format_table", "write_json", "parse_key_value"]

FORMATS: tuple[str, ...] = ("table", "json")


def add_format_argument(parser: argparse.ArgumentParser, default: str = "table") -> None:
    """Add ``--format {table,json}`` to ``parser``."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=default,
        help=f"output format (default: {default})",
    )


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "") -> str:
    """Left-aligned columns separated by two spaces, headers first; the last column is not padded.

    Parameters
    ----------
    headers : sequence of str
        Column titles.
    rows : sequence of sequences
        Cell values, converted with :class:`str`; ``None`` prints as ``-``.
    indent : str
        Prefix of every line.

    Returns
    -------
    str
        The table without a trailing newline.
    """
    cells = [[str(h) for h in headers]] + [
        ["-" if value is None else str(value) for value in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths[:-1])] + [row[-1]]
        lines.append((indent + "  ".join(padded)).rstrip())
    return "\n".join(lines)


def write_json(data: Any, stream: TextIO | None = None) -> None:
    """Write ``data`` as indented JSON followed by a newline."""
    stream = sys.stdout if stream is None else stream
    json.dump(data, stream, indent=2, ensure_ascii=False)
    stream.write("\n")


def parse_key_value(text: str) -> tuple[str, Any]:
    """argparse type for ``KEY=VALUE`` options; VALUE is parsed as JSON when it is valid JSON.

    Raises
    ------
    argparse.ArgumentTypeError
        When there is no ``=``.
    """
    from ..errors import DataError
    from ..io.reading import check_nesting

    if "=" not in text:
        raise argparse.ArgumentTypeError(f"closure option must be KEY=VALUE, got {text!r:.60}")
    key, value = text.split("=", 1)
    try:
        check_nesting(value, f"option {key.strip()!r}", DataError)
    except DataError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    try:
        return key.strip(), json.loads(value)
    except (json.JSONDecodeError, RecursionError):
        return key.strip(), value
    except ValueError as exc:  # e.g. an integer longer than Python reads
        raise argparse.ArgumentTypeError(f"option {key.strip()!r}: {str(exc)[:80]}") from None
