"""The one input/output layer: atomic writes that respect the umask, a JSON sanitiser, tables.

Every file latticeclosure writes goes through :func:`atomic_write` (or its two shortcuts), every JSON
document through :func:`to_jsonable`, every aligned or Markdown table through :func:`format_table`.
"""

from .atomic import OutputError, atomic_write, write_bytes_atomic, write_json_atomic, write_text_atomic
from .jsonsafe import dumps, to_jsonable
from .tables import format_number, format_table

__all__ = [
    "OutputError",
    "atomic_write",
    "write_bytes_atomic",
    "write_text_atomic",
    "write_json_atomic",
    "to_jsonable",
    "dumps",
    "format_table",
    "format_number",
]
