"""Bounded reading of user input files: text, JSON and TOML with size and nesting limits.

Every closure file, flip spec, lattice file, manifest, CSV and JSON data file is read through
:func:`read_text` (and :func:`load_json` / :func:`load_toml`), so that no input can make the package
read forever or recurse without bound:

* a regular file larger than the limit is refused from its size, before it is read; anything else
  (a FIFO, ``/dev/zero``, ``/dev/stdin``) is read up to the limit and refused beyond it;
* text must be UTF-8;
* brackets of JSON and TOML documents may nest at most :data:`MAX_NESTING` levels (checked by a
  linear scan before the parser, whose recursion would otherwise end in ``RecursionError``);
* JSON's non-standard ``NaN``/``Infinity`` and integers longer than Python accepts are refused.

Every failure raises the caller's error class (a :class:`~latticeclosure.errors.LatticeClosureError`)
with a one-line message.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from ..errors import DataError, LatticeClosureError

__all__ = [
    "MAX_TEXT_BYTES",
    "MAX_DATA_BYTES",
    "MAX_NESTING",
    "read_text",
    "read_bytes",
    "check_nesting",
    "parse_json",
    "parse_toml",
    "load_json",
    "load_toml",
    "input_path",
    "data_limit",
    "format_bytes",
]

#: Largest configuration-type input (closure files, flip specs, lattice files, manifests).
MAX_TEXT_BYTES = 16 * 2**20
#: Default largest data input (CSV/JSON data, decompressed ``.npz`` content); the environment
#: variable ``LATTICECLOSURE_MAX_INPUT_BYTES`` changes it.
MAX_DATA_BYTES = 2 * 2**30
#: Deepest accepted nesting of brackets in JSON and TOML documents.
MAX_NESTING = 64

ErrorType = type[LatticeClosureError]


def data_limit() -> int:
    """The data-input limit in bytes: ``$LATTICECLOSURE_MAX_INPUT_BYTES`` or :data:`MAX_DATA_BYTES`."""
    env = os.environ.get("LATTICECLOSURE_MAX_INPUT_BYTES")
    if env:
        try:
            value = int(float(env))
        except ValueError:
            value = -1
        if value <= 0:
            raise LatticeClosureError(
                f"LATTICECLOSURE_MAX_INPUT_BYTES must be a positive number of bytes, got {env!r}"
            )
        return value
    return MAX_DATA_BYTES


def format_bytes(n: int) -> str:
    """``n`` bytes for a message: ``"3 GiB"``, ``"512 KiB"``, ``"300 bytes"``."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def input_path(path: Any, what: str, error: ErrorType = DataError) -> Path:
    """``path`` as a :class:`~pathlib.Path`, refusing what is not a file name.

    Raises
    ------
    error
        ``path`` is not a string or path-like, is empty, or holds a NUL character.
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise error(f"{what} must be a file name, got {type(path).__name__} {path!r:.60}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text or "\x00" in text:
        raise error(f"{what}: invalid file name {text!r:.60}")
    return Path(text)


def read_bytes(path: Any, *, what: str = "file", limit: int = MAX_TEXT_BYTES, error: ErrorType = DataError) -> bytes:
    """The content of ``path``, at most ``limit`` bytes.

    Raises
    ------
    error
        Missing file, a directory, unreadable, or more than ``limit`` bytes.
    """
    p = input_path(path, what, error)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise error(f"cannot read {what} {p}: it does not exist") from None
    except OSError as exc:
        raise error(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"cannot read {what} {p}: it is a directory, not a file")
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        raise error(f"{what} {p} is too large ({format_bytes(st.st_size)}; at most {format_bytes(limit)} is read)")
    try:
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise error(f"{what} {p} is too large (more than {format_bytes(limit)}); is it a device or a stream?")
    return data


def read_text(path: Any, *, what: str = "file", limit: int = MAX_TEXT_BYTES, error: ErrorType = DataError) -> str:
    """The UTF-8 text of ``path``, at most ``limit`` bytes (see :func:`read_bytes`).

    Raises
    ------
    error
        As :func:`read_bytes`, or the content is not UTF-8.
    """
    data = read_bytes(path, what=what, limit=limit, error=error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"cannot read {what} {path}: not UTF-8 text (byte {exc.start})") from None


def check_nesting(text: str, where: str, error: ErrorType = DataError, limit: int = MAX_NESTING,
                  toml: bool = False) -> None:
    """Refuse JSON/TOML text whose brackets nest deeper than ``limit`` (strings and comments skipped).

    A linear scan: the parsers themselves recurse per level.
    """
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "[{":
            depth += 1
            if depth > limit:
                raise error(f"{where}: brackets nested deeper than {limit} levels")
        elif ch in "]}":
            depth -= 1
        elif ch == '"' or (toml and ch == "'"):
            quote = text[i : i + 3] if toml and text[i : i + 3] in ('"""', "'''") else ch
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                i += 2 if text[i] == "\\" and ch == '"' else 1
        elif toml and ch == "#":
            while i < n and text[i] != "\n":
                i += 1
        i += 1


def _no_constant(name: str) -> Any:
    raise ValueError(f"the non-standard JSON constant {name} is not allowed")


def parse_json(text: str, where: str, error: ErrorType = DataError) -> Any:
    """JSON text → data, with the nesting limit; ``NaN``/``Infinity`` refused.

    Raises
    ------
    error
    """
    check_nesting(text, where, error)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise error(f"{where} is not valid JSON (invalid JSON: {exc})") from None
    except (ValueError, RecursionError) as exc:
        raise error(f"{where} is not valid JSON (invalid JSON: {str(exc)[:120]})") from None


def parse_toml(text: str, where: str, error: ErrorType = DataError) -> dict[str, Any]:
    """TOML text → data, with the nesting limit.

    Raises
    ------
    error
    """
    import tomllib

    check_nesting(text, where, error, toml=True)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{where} is not valid TOML ({exc})") from None
    except (ValueError, RecursionError) as exc:
        raise error(f"{where} is not valid TOML ({str(exc)[:120]})") from None


def load_json(path: Any, *, what: str = "JSON file", limit: int = MAX_TEXT_BYTES, error: ErrorType = DataError) -> Any:
    """Read and parse a JSON file with the size and nesting limits."""
    return parse_json(read_text(path, what=what, limit=limit, error=error), f"{what} {path}", error)


def load_toml(path: Any, *, what: str = "TOML file", limit: int = MAX_TEXT_BYTES, error: ErrorType = DataError) -> dict[str, Any]:
    """Read and parse a TOML file with the size and nesting limits."""
    return parse_toml(read_text(path, what=what, limit=limit, error=error), f"{what} {path}", error)
