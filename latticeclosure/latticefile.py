"""Lattice files (TOML): lattices without writing a plugin.

Schema (vectors and basis Cartesian, as in ``latticeclosure clusters --format json``)::

    name = "rectangular"
    description = "optional one-line description"
    vectors = [[1.0, 0.0], [0.0, 1.5]]
    basis = [[0.0, 0.0]]                  # optional, default one site at the origin
    sublattices = ["A", "B"]              # optional: one label per basis site, or a supercell matrix
    [bonds]                               # optional, default nearest neighbours
    shells = [1, 2]                       # optional kinds = ["x", "y"]
    # or: cutoff = 1.6
    # or: explicit = [{from = 0, to = 0, offset = [1, 0], kind = "J1"}, ...]
    # or: nearest = true

:func:`read_lattice_file` validates every key and type (:class:`~latticeclosure.errors.LatticeFileError`
for unknown keys and wrong types, :class:`~latticeclosure.errors.BondError` for bad bonds);
:func:`lattice_to_toml` writes a file that reads back to the same lattice (floats in shortest
round-trip form).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .errors import LatticeFileError

if TYPE_CHECKING:  # pragma: no cover
    from .lattice import Lattice

__all__ = ["read_lattice_file", "lattice_from_mapping", "lattice_to_toml", "LATTICE_FILE_KEYS"]

#: Top-level keys of a lattice file.
LATTICE_FILE_KEYS = ("name", "description", "vectors", "basis", "sublattices", "bonds")


def read_lattice_file(path: str | Path) -> "Lattice":
    """Read and validate a TOML lattice file.

    Raises
    ------
    LatticeFileError
        Missing or unreadable file, invalid TOML, unknown keys, values of the wrong type.
    BondError, GeometryError
        A bond rule or geometry the lattice refuses.
    """
    from .io.reading import input_path, parse_toml, read_text

    p = input_path(path, "lattice file", LatticeFileError)
    text = read_text(p, what="lattice file", error=LatticeFileError)
    data = parse_toml(text, f"lattice file {str(p)!r}", LatticeFileError)
    return lattice_from_mapping(data, where=f"lattice file {str(p)!r}")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _matrix(value: Any, key: str, where: str) -> list[list[float]]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(row, list) and row and all(_is_number(x) for x in row) for row in value)
    ):
        raise LatticeFileError(f"{where}: '{key}' must be a list of rows of numbers, e.g. [[1.0, 0.0], [0.0, 1.0]]; got {value!r}")
    return [[float(x) for x in row] for row in value]


def lattice_from_mapping(data: Mapping[str, Any], where: str = "lattice") -> "Lattice":
    """Build a :class:`~latticeclosure.lattice.Lattice` from the parsed lattice-file mapping."""
    from .lattice import Lattice

    if not isinstance(data, Mapping):
        raise LatticeFileError(f"{where}: expected a table of lattice keys, got {type(data).__name__}")
    unknown = sorted(set(data) - set(LATTICE_FILE_KEYS))
    if unknown:
        raise LatticeFileError(f"{where}: unknown key(s) {unknown}; allowed: {', '.join(LATTICE_FILE_KEYS)}")
    for req in ("name", "vectors"):
        if req not in data:
            raise LatticeFileError(f"{where}: missing '{req}'")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise LatticeFileError(f"{where}: 'name' must be a non-empty string, got {name!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise LatticeFileError(f"{where}: 'description' must be a string, got {description!r}")
    vectors = _matrix(data["vectors"], "vectors", where)
    basis = _matrix(data["basis"], "basis", where) if "basis" in data else None
    sublattices = data.get("sublattices")
    if sublattices is not None:
        ok_labels = isinstance(sublattices, list) and sublattices and all(isinstance(x, str) for x in sublattices)
        ok_matrix = (
            isinstance(sublattices, list)
            and sublattices
            and all(isinstance(r, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in r) for r in sublattices)
        )
        if not (ok_labels or ok_matrix):
            raise LatticeFileError(
                f"{where}: 'sublattices' must be a list of labels (one per basis site) or an integer "
                f"supercell matrix; got {sublattices!r}"
            )
    bonds = data.get("bonds")
    if bonds is not None:
        if not isinstance(bonds, Mapping):
            raise LatticeFileError(f"{where}: 'bonds' must be a table ([bonds] with shells, cutoff or explicit); got {bonds!r}")
        _check_bond_table(bonds, where)
    return Lattice(name.strip(), vectors, basis=basis, description=description, bonds=bonds, sublattices=sublattices)


def _check_bond_table(bonds: Mapping[str, Any], where: str) -> None:
    allowed = {"shells", "kinds", "cutoff", "explicit", "nearest"}
    unknown = sorted(set(bonds) - allowed)
    if unknown:
        raise LatticeFileError(f"{where}: unknown key(s) {unknown} in [bonds]; allowed: shells (with kinds), cutoff, explicit, nearest")
    if "shells" in bonds and not (
        isinstance(bonds["shells"], list) and all(isinstance(x, int) and not isinstance(x, bool) for x in bonds["shells"])
    ):
        raise LatticeFileError(f"{where}: bonds.shells must be a list of integers, got {bonds['shells']!r}")
    if "kinds" in bonds and not (isinstance(bonds["kinds"], list) and all(isinstance(x, str) for x in bonds["kinds"])):
        raise LatticeFileError(f"{where}: bonds.kinds must be a list of strings, got {bonds['kinds']!r}")
    if "cutoff" in bonds and not _is_number(bonds["cutoff"]):
        raise LatticeFileError(f"{where}: bonds.cutoff must be a number, got {bonds['cutoff']!r}")
    if "nearest" in bonds and not isinstance(bonds["nearest"], bool):
        raise LatticeFileError(f"{where}: bonds.nearest must be true or false, got {bonds['nearest']!r}")
    if "explicit" in bonds:
        entries = bonds["explicit"]
        if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
            raise LatticeFileError(f"{where}: bonds.explicit must be a list of tables {{from, to, offset, kind}}, got {entries!r}")
        for i, e in enumerate(entries, start=1):
            for key in ("from", "to"):
                if key in e and not (isinstance(e[key], int) and not isinstance(e[key], bool)):
                    raise LatticeFileError(f"{where}: explicit bond {i}: '{key}' must be an integer, got {e[key]!r}")
            if "offset" in e and not (
                isinstance(e["offset"], list) and all(isinstance(x, int) and not isinstance(x, bool) for x in e["offset"])
            ):
                raise LatticeFileError(f"{where}: explicit bond {i}: 'offset' must be a list of integers, got {e['offset']!r}")
            if "kind" in e and not isinstance(e["kind"], str):
                raise LatticeFileError(f"{where}: explicit bond {i}: 'kind' must be a string, got {e['kind']!r}")


# ---------------------------------------------------------------------------------- writing
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")  # pragma: no cover - fixed schema


def lattice_to_toml(lattice: "Lattice") -> str:
    """The lattice as a lattice file (reads back to the same vectors, basis, bonds and labels)."""
    rec = lattice.to_json()
    lines = [f"name = {_toml_value(rec['name'])}"]
    if lattice.description:
        lines.append(f"description = {_toml_value(lattice.description)}")
    lines.append(f"vectors = {_toml_value([[float(x) for x in r] for r in rec['vectors']])}")
    lines.append(f"basis = {_toml_value([[float(x) for x in r] for r in rec['basis']])}")
    if "sublattices" in rec:
        lines.append(f"sublattices = {_toml_value(rec['sublattices'])}")
    bonds = rec.get("bonds")
    if bonds is not None:
        lines.append("")
        lines.append("[bonds]")
        for key, value in bonds.items():
            if key == "explicit":
                lines.append("explicit = [")
                lines.extend(f"    {_toml_value(entry)}," for entry in value)
                lines.append("]")
            else:
                lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
