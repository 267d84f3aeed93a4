"""One JSON sanitiser for every document latticeclosure writes.

numpy scalars and arrays become numbers and lists, sympy objects and paths their text, objects
with a ``to_json()`` method its result, and non-finite floats ``null`` (JSON has no NaN or infinity),
so every file is valid JSON that any reader accepts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

__all__ = ["to_jsonable", "dumps"]


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(v) for v in items]
    if isinstance(value, PurePath):
        return str(value)
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_jsonable(to_json())
    module = type(value).__module__.split(".")[0]
    if module == "numpy":
        if hasattr(value, "tolist"):
            return to_jsonable(value.tolist())
        return to_jsonable(value.item())
    return str(value)


def dumps(data: Any, indent: int | None = 2) -> str:
    """JSON text of ``data`` after :func:`to_jsonable` (UTF-8 characters kept)."""
    return json.dumps(to_jsonable(data), indent=indent, ensure_ascii=False, allow_nan=False)
