"""CSV export and import of trajectories (for spreadsheets, MATLAB and other simulators).

Export layout: a plain CSV (one header row, then one row per record) that any CSV reader takes as it
is — ``pandas.read_csv("x.csv")`` — and the metadata in a JSON file beside it (:func:`sidecar_path`,
``x.metadata.json``)::

    step,time,temperature,energy_per_site,acceptance,C+,C-,C++,C--,C+-,L+++,...
    0,0.0,2.0,0.75,0.0,0.6666666666666666,...

    {"schema": "latticeclosure.trajectory-csv/1", "csv": "x.csv", "columns": "...",
     "metadata": {"schema": "latticeclosure.trajectory/1", ...}}

Columns: step, time (fraction of the run), temperature, energy_per_site, acceptance (those present),
then the concentration of every class. Numbers are written with 17 significant digits, so export →
import is exact. Configurations are not exported (use the ``.npz``).

Import reads such files (with their sidecar), files of earlier versions that carried the metadata as
``# metadata: {...}`` comment lines, and CSVs of other simulators with one column per class named
like this package names classes (``C++``, ``L+-+``, ``A++-``, ``T--+`` …) plus optional ``step``,
``time``, ``temperature``, ``energy_per_site`` (or ``energy``) and ``acceptance`` columns. Without
metadata the lattice and species must be given; everything is validated exactly like an ``.npz``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import DataError, LatticeClosureError
from ..io.atomic import atomic_write, write_text_atomic
from .trajectory import ANNEALING_METADATA, PHYSICAL_TIME, SCHEMA, Trajectory

__all__ = ["write_csv", "read_csv", "sidecar_path", "ARRAY_COLUMNS", "SIDECAR_SCHEMA"]

#: Schema of the metadata file beside an exported CSV.
SIDECAR_SCHEMA = "latticeclosure.trajectory-csv/1"

#: Non-class columns, in export order.
ARRAY_COLUMNS = ("step", "time", "temperature", "energy_per_site", "acceptance")
_ALIASES = {"energy": "energy_per_site", "t": "time", "T": "temperature"}


def sidecar_path(path: str | os.PathLike) -> Path:
    """The metadata file of an exported CSV: ``x.csv`` → ``x.metadata.json`` (same directory)."""
    path = Path(path)
    return path.with_name(path.stem + ".metadata.json")


def write_csv(traj: Trajectory, path: str | os.PathLike) -> Path:
    """Write a trajectory as a plain CSV and its metadata beside it (:func:`sidecar_path`), both atomically.

    Parameters
    ----------
    traj : Trajectory
    path : path-like
        The CSV file.

    Returns
    -------
    pathlib.Path
        The CSV file.
    """
    path = Path(path)
    cols = [c for c in ARRAY_COLUMNS if traj.arrays.get(c) is not None]
    header = cols + traj.class_names
    sidecar = {
        "schema": SIDECAR_SCHEMA,
        "csv": path.name,
        "columns": "one row per record; columns: " + ", ".join(cols)
        + " (time = fraction of the run), then the concentration C_c of every class",
        "metadata": traj.metadata,
    }
    write_text_atomic(sidecar_path(path), json.dumps(sidecar, sort_keys=True, ensure_ascii=False, indent=1) + "\n")
    with atomic_write(path, "w") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        arrays = [traj.arrays[c] for c in cols]
        conc = traj.concentrations
        for r in range(traj.n_records):
            row = [_fmt(a[r]) for a in arrays] + [_fmt(v) for v in conc[r]]
            writer.writerow(row)
    return path


def _fmt(v: Any) -> str:
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    return repr(float(v))


def read_csv(
    path: str | os.PathLike,
    lattice: Any = None,
    species: Sequence[str] | None = None,
    *,
    metadata: Mapping[str, Any] | None = None,
    max_size: int = 3,
    rescale_time: bool = False,
    delimiter: str | None = None,
) -> Trajectory:
    """Import a trajectory from CSV.

    Parameters
    ----------
    path : path-like
    lattice : Lattice, str or mapping, optional
        Lattice object, registered lattice name, or ``{"name", "vectors", "basis"}`` record. Needed
        when the file has no metadata (neither a sidecar file nor ``# metadata:`` lines).
    species : sequence of str, optional
        Species names (needed without metadata).
    metadata : mapping, optional
        Extra metadata merged in (e.g. ``{"x_realised": 0.5, "model": "my-sim"}``).
    max_size : int, default 3
        Largest cluster size to look for when matching class column names.
    rescale_time : bool, default False
        Map the ``time`` column (or ``step``) linearly onto [0, 1] instead of requiring fractions.
    delimiter : str, optional
        Field separator; default ``","`` (``"\\t"`` for ``.tsv``).

    Raises
    ------
    DataError
        Unreadable file, malformed rows, non-numeric values, unknown columns, missing lattice or
        species, or a trajectory that fails validation.
    """
    from ..io.reading import data_limit, input_path, parse_json, read_text

    path = input_path(path, "CSV file", DataError)
    where = f"CSV file {path}"
    if not path.exists():
        raise DataError(f"{where} does not exist")
    text = read_text(path, what="CSV file", limit=data_limit(), error=DataError)
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise DataError(f"the CSV delimiter must be one character, got {delimiter!r}")
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    header_meta: dict[str, Any] | None = None
    body: list[tuple[int, str]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            content = stripped[1:].strip()
            if content.startswith("metadata:"):
                header_meta = parse_json(content[len("metadata:"):], f"{where}, line {lineno}: metadata header",
                                         DataError)
                if not isinstance(header_meta, dict):
                    raise DataError(
                        f"{where}, line {lineno}: the metadata header must be a JSON object, got a "
                        f"{type(header_meta).__name__}"
                    )
            continue
        body.append((lineno, line))
    if header_meta is None and sidecar_path(path).is_file():
        header_meta = _read_sidecar(sidecar_path(path), path)
    if not body:
        raise DataError(f"{where} has no header row")
    rows = list(csv.reader(io.StringIO("\n".join(l for _, l in body)), delimiter=delimiter))
    header = [h.strip() for h in rows[0]]
    data_rows = rows[1:]
    if not data_rows:
        raise DataError(f"{where} has a header but no data rows")
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise DataError(f"{where}: duplicate column(s) {dup}")
    values = np.empty((len(data_rows), len(header)), dtype=float)
    for r, row in enumerate(data_rows):
        lineno = body[r + 1][0]
        if len(row) != len(header):
            raise DataError(f"{where}, line {lineno}: {len(row)} fields, but the header has {len(header)}")
        for c, cell in enumerate(row):
            try:
                values[r, c] = float(cell)
            except ValueError:
                raise DataError(
                    f"{where}, line {lineno}, column {header[c]!r}: {cell.strip()!r} is not a number"
                ) from None

    columns = {_ALIASES.get(h, h): values[:, k] for k, h in enumerate(header)}
    array_cols = {k: v for k, v in columns.items() if k in ARRAY_COLUMNS}
    class_cols = {k: v for k, v in columns.items() if k not in ARRAY_COLUMNS}
    if not class_cols:
        raise DataError(f"{where} has no class columns (named like C++, C+-, L+-+, T---)")

    if header_meta is not None:
        meta = dict(header_meta)
        if species is not None and list(species) != meta.get("species"):
            raise DataError(f"{where}: species {list(species)} differ from the file's {meta.get('species')!r:.60}")
        records = meta.get("classes")
        if not isinstance(records, list) or not all(isinstance(c, dict) and isinstance(c.get("name"), str)
                                                    for c in records):
            raise DataError(f"{where}: the metadata header's 'classes' must be a list of class records with names")
        known = [c["name"] for c in records]
        unknown = [c for c in class_cols if c not in known]
        if unknown:
            raise DataError(f"{where}: column(s) {unknown} are not classes of its metadata ({', '.join(known)})")
        missing = [c for c in known if c not in class_cols]
        if missing:
            raise DataError(f"{where}: metadata lists class(es) {missing} but the file has no column for them")
        order = known
    else:
        meta, order = _metadata_for(where, class_cols, lattice, species, max_size)
    if metadata:
        meta.update(dict(metadata))

    n = values.shape[0]
    arrays: dict[str, np.ndarray] = {}
    if "step" in array_cols:
        step = array_cols["step"]
        if not np.all(np.isfinite(step)) or np.any(step != np.round(step)):
            raise DataError(f"{where}: column 'step' must hold whole numbers")
        arrays["step"] = step.astype(np.int64)
    else:
        arrays["step"] = np.arange(n, dtype=np.int64)
    if "time" in array_cols:
        t = array_cols["time"]
    else:
        t = arrays["step"].astype(float)
        rescale_time = True
    physical = meta.get("time_unit") == PHYSICAL_TIME
    if rescale_time:
        span = float(t[-1] - t[0]) if n > 1 else 0.0
        t = (t - t[0]) / span if span > 0 else np.zeros_like(t)
        if physical:  # no longer physical time: the fraction of the run
            meta["time_unit"] = "physical time, rescaled to the fraction of the run"
            for key in ANNEALING_METADATA:
                meta.setdefault(key, None)
    elif not physical and (np.any(t < -1e-12) or np.any(t > 1 + 1e-12)):
        raise DataError(
            f"{where}: column 'time' must be the fraction of the run in [0, 1]; pass rescale_time=True "
            "(CLI: --rescale-time) to map it onto [0, 1]"
        )
    arrays["time"] = t
    for name in ("temperature", "energy_per_site", "acceptance"):
        if name in array_cols:
            arrays[name] = array_cols[name]
    arrays["concentrations"] = np.stack([class_cols[c] for c in order], axis=1)
    return Trajectory(meta, arrays, validate=True, source=str(path))


def _read_sidecar(sidecar: Path, csv_path: Path) -> dict[str, Any]:
    """The trajectory metadata recorded beside ``csv_path``."""
    where = f"metadata file {sidecar}"
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read {where}: {exc}") from None
    if not isinstance(record, dict) or record.get("schema") != SIDECAR_SCHEMA or not isinstance(record.get("metadata"), dict):
        raise DataError(f"{where}: expected a JSON object with schema {SIDECAR_SCHEMA!r} and a 'metadata' object")
    return dict(record["metadata"])


def _metadata_for(
    where: str, class_cols: Mapping[str, Any], lattice: Any, species: Sequence[str] | None, max_size: int
) -> tuple[dict[str, Any], list[str]]:
    """Metadata for a header-less CSV: classes matched by name on the given lattice and species."""
    from ..classindex import ClassIndex
    from ..lattice import Lattice
    from .classes import records_for

    if lattice is None or species is None:
        raise DataError(
            f"{where} has no '# metadata:' header; give the lattice and the species "
            "(CLI: --lattice NAME --species + -) so that its class columns can be identified"
        )
    if isinstance(lattice, str):
        from ..registry import get_lattice

        lattice = get_lattice(lattice)
    elif isinstance(lattice, Mapping):
        lattice = Lattice.from_json(lattice)
    if not isinstance(lattice, Lattice):
        raise DataError(f"{where}: lattice must be a Lattice, a registered name or a record, got {lattice!r}")
    try:
        index = ClassIndex(lattice, species, max_size)
    except LatticeClosureError as exc:
        raise DataError(f"{where}: {exc}") from None
    unknown = [c for c in class_cols if c not in index.by_name]
    if unknown:
        raise DataError(
            f"{where}: column(s) {unknown} are neither {', '.join(ARRAY_COLUMNS)} nor classes of "
            f"{lattice.name!r} with species {list(species)} up to size {max_size}; known classes: "
            f"{', '.join(index.by_name)}"
        )
    order = [c.name for cls in index.classes_of.values() for c in cls if c.name in class_cols]
    classes, shapes = records_for([index.by_name[c] for c in order], index.species)
    meta = {
        "schema": SCHEMA,
        "model": None,
        "backend": "csv-import",
        "lattice": lattice.to_json(),
        "supercell": None,
        "n_sites": None,
        "seed": None,
        "schedule": None,
        "species": list(index.species),
        "x_target": None,
        "x_realised": None,
        "normalisation": "per-shape",
        "time_unit": "as imported (time = fraction of the run)",
        "classes": classes,
        "shapes": shapes,
    }
    return meta, order
