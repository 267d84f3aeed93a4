"""Trajectories of cluster concentrations: metadata, arrays, validation, ``.npz`` storage.

On disk a trajectory is one ``.npz`` archive (``numpy.savez_compressed``) holding the arrays below and
an array ``metadata``: a 0-d unicode string with the JSON metadata. It loads with
``np.load(path, allow_pickle=False)`` and :mod:`json` alone (see ``docs/data-format.md``). Writes are
atomic (temporary file + ``os.replace``); loads are validated and raise :class:`DataError` with a
specific message.

Arrays (``n`` records, ``m`` classes, ``R`` replicas):

====================== ============= =========================================================
name                   shape, dtype  meaning
====================== ============= =========================================================
step                   (n,) int64    attempted swaps (events) done at the record (non-decreasing, ≥ 0)
time                   (n,) float64  fraction of the run in [0, 1] (non-decreasing); the physical
                                     time when ``time_unit`` is ``"physical time"``
concentrations         (n, m) f8     C_c of every class, columns in metadata ``classes`` order
temperature            (n,) float64  optional; temperature of the last attempt (≥ 0)
energy_per_site        (n,) float64  optional; energy / number of sites
acceptance             (n,) float64  optional; accepted / attempted swaps since the previous record
final_configuration    (N,) int8     optional; species index of every site at the end
configurations         (n, N) int8   optional; the configuration at every record
replica_step           (R, n) int64  optional (with the next): events of every replica
replica_concentrations (R, n, m) f8  optional: per replica (``concentrations`` is their mean)
====================== ============= =========================================================
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from ..errors import DataError, UnknownNameError
from ..io.atomic import write_bytes_atomic

__all__ = ["Trajectory", "SCHEMA", "load_trajectory", "NORMALISATION_TOLERANCE", "PHYSICAL_TIME"]

SCHEMA = "latticeclosure.trajectory/1"

#: ``|Σ_c m_c C_c − 1|`` allowed per shape and record.
NORMALISATION_TOLERANCE = 1e-9

REQUIRED_METADATA = (
    "schema",
    "model",
    "lattice",
    "supercell",
    "seed",
    "species",
    "normalisation",
    "time_unit",
    "classes",
    "shapes",
)
#: Annealing fields: required unless ``time_unit`` is :data:`PHYSICAL_TIME` (then absent means null).
ANNEALING_METADATA = ("schedule", "x_target", "x_realised")
#: ``time_unit`` of simulations in physical time (kinetic Monte Carlo): ``time`` is then the physical
#: time of every record (≥ 0, non-decreasing) instead of the fraction of the run.
PHYSICAL_TIME = "physical time"
CLASS_FIELDS = ("name", "shape", "size", "sites", "states", "multiplicity")
RECORD_ARRAYS = ("step", "time", "temperature", "energy_per_site", "acceptance")
#: Optional per-replica arrays (first axis: replica) of runs with several independent replicas,
#: whose ``concentrations`` are then the replica mean.
REPLICA_ARRAYS = ("replica_step", "replica_concentrations")
OPTIONAL_RECORD_ARRAYS = ("temperature", "energy_per_site", "acceptance")


class Trajectory:
    """A trajectory of cluster concentrations with its metadata.

    Parameters
    ----------
    metadata : mapping
        JSON-compatible metadata (see :data:`REQUIRED_METADATA` and ``docs/data-format.md``).
    arrays : mapping of str → array_like
        ``step``, ``time``, ``concentrations`` and optionally ``temperature``, ``energy_per_site``,
        ``acceptance``, ``final_configuration``, ``configurations``.
    validate : bool, default True
        Check everything (:meth:`validate`).
    source : str, optional
        Where the data came from, used in error messages.

    Raises
    ------
    DataError
        If validation fails.

    Examples
    --------
    >>> traj = Trajectory.load("x0.3333_seed0.npz")          # doctest: +SKIP
    >>> traj.concentration("C+-")[-1]                         # doctest: +SKIP
    0.3333...
    """

    def __init__(
        self,
        metadata: Mapping[str, Any],
        arrays: Mapping[str, Any],
        validate: bool = True,
        source: str | None = None,
    ) -> None:
        if not isinstance(metadata, Mapping):
            raise DataError(f"trajectory metadata must be a mapping, got {type(metadata).__name__}")
        if not isinstance(arrays, Mapping):
            raise DataError(f"trajectory arrays must be a mapping of names to arrays, got {type(arrays).__name__}")
        try:
            self._meta = json.loads(json.dumps(dict(metadata)))  # deep, JSON-clean copy
        except (TypeError, ValueError, RecursionError) as exc:
            raise DataError(f"trajectory metadata must be JSON data (numbers, strings, lists, mappings): {exc}") from None
        self._arrays: dict[str, np.ndarray] = {}
        for key, value in arrays.items():
            if value is None:
                continue
            try:
                arr = np.array(value, copy=True)
            except (TypeError, ValueError) as exc:
                raise DataError(f"trajectory array {key!r:.40} is not an array: {exc}") from None
            if arr.dtype.hasobject:
                raise DataError(f"trajectory array {key!r:.40} must be numeric, got objects")
            arr.setflags(write=False)
            self._arrays[str(key)] = arr
        self.source = source
        if validate:
            self.validate()

    # ------------------------------------------------------------------ accessors
    @property
    def metadata(self) -> dict[str, Any]:
        """The metadata (a dict; do not modify it in place)."""
        return self._meta

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """All arrays by name (read-only views)."""
        return dict(self._arrays)

    def _get(self, name: str) -> np.ndarray | None:
        return self._arrays.get(name)

    @property
    def step(self) -> np.ndarray:
        return self._arrays["step"]

    @property
    def time(self) -> np.ndarray:
        """Fraction of the run at every record."""
        return self._arrays["time"]

    @property
    def temperature(self) -> np.ndarray | None:
        return self._get("temperature")

    @property
    def energy_per_site(self) -> np.ndarray | None:
        return self._get("energy_per_site")

    @property
    def acceptance(self) -> np.ndarray | None:
        return self._get("acceptance")

    @property
    def concentrations(self) -> np.ndarray:
        """(n_records, n_classes) concentrations, columns aligned with :attr:`class_names`."""
        return self._arrays["concentrations"]

    @property
    def final_configuration(self) -> np.ndarray | None:
        return self._get("final_configuration")

    @property
    def configurations(self) -> np.ndarray | None:
        return self._get("configurations")

    @property
    def classes(self) -> list[dict[str, Any]]:
        """The class records (name, shape, size, sites, states, multiplicity)."""
        return self._meta["classes"]

    @property
    def class_names(self) -> list[str]:
        return [c["name"] for c in self._meta["classes"]]

    @property
    def species(self) -> list[str]:
        return list(self._meta["species"])

    @property
    def n_records(self) -> int:
        return int(self.step.shape[0])

    @property
    def model(self) -> str | None:
        return self._meta.get("model")

    @property
    def seed(self) -> int | None:
        return self._meta.get("seed")

    @property
    def x(self) -> float | None:
        """The realised stoichiometry (``x_realised``)."""
        return self._meta.get("x_realised")

    @property
    def x_target(self) -> float | None:
        return self._meta.get("x_target")

    @property
    def name(self) -> str:
        """A short label: ``"<model> x=<x> seed=<seed>"`` (or the source file name)."""
        label = self.model or (Path(self.source).stem if self.source else "trajectory")
        parts = [str(label)]
        if self.x is not None:
            parts.append(f"x={self.x:.4g}")
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        return " ".join(parts)

    def concentration(self, name: str) -> np.ndarray:
        """The concentration of one class along the run.

        Raises
        ------
        UnknownNameError
            If the trajectory has no class of that name (the message lists the known ones).
        """
        names = self.class_names
        try:
            k = names.index(name)
        except ValueError:
            raise UnknownNameError(
                f"trajectory has no class {name!r}; known classes: {', '.join(names)}"
            ) from None
        return self.concentrations[:, k]

    def as_dict(self) -> dict[str, np.ndarray]:
        """Concentrations keyed by class name."""
        return {n: self.concentrations[:, k] for k, n in enumerate(self.class_names)}

    def select(self, classes: Iterable[str]) -> "Trajectory":
        """A trajectory with only the given classes (in the given order).

        Raises
        ------
        UnknownNameError
            For an unknown class name.
        """
        wanted = list(classes)
        names = self.class_names
        unknown = [c for c in wanted if c not in names]
        if unknown:
            raise UnknownNameError(
                f"trajectory has no class(es) {unknown}; known classes: {', '.join(names)}"
            )
        idx = [names.index(c) for c in wanted]
        meta = json.loads(json.dumps(self._meta))
        meta["classes"] = [self._meta["classes"][k] for k in idx]
        keep = {c["shape"] for c in meta["classes"]}
        meta["shapes"] = [s for s in self._meta["shapes"] if s["name"] in keep]
        arrays = dict(self._arrays)
        arrays["concentrations"] = self.concentrations[:, idx]
        return Trajectory(meta, arrays, validate=False, source=self.source)

    def shape_of(self, name: str) -> str:
        """Shape name of a class."""
        for c in self.classes:
            if c["name"] == name:
                return c["shape"]
        raise UnknownNameError(f"trajectory has no class {name!r}; known classes: {', '.join(self.class_names)}")

    def __repr__(self) -> str:
        return (
            f"Trajectory({self.name!r}, records={self.n_records}, classes={len(self.class_names)}, "
            f"species={self.species})"
        )

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Check metadata and arrays; raise :class:`DataError` describing the first problem."""
        where = f"trajectory {self.source}" if self.source else "trajectory"
        _validate_metadata(self._meta, where)
        _validate_arrays(self._meta, self._arrays, where)

    # ------------------------------------------------------------------ storage
    def save(self, path: str | os.PathLike) -> Path:
        """Write the trajectory as a compressed ``.npz`` archive, atomically; return the path."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        payload = {k: v for k, v in self._arrays.items()}
        payload["metadata"] = np.array(json.dumps(self._meta, sort_keys=True, ensure_ascii=False))

        def writer(fh: Any) -> None:
            np.savez_compressed(fh, **payload)

        write_bytes_atomic(path, writer)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Trajectory":
        """Read and validate a trajectory ``.npz`` written by :meth:`save` (or any tool following
        ``docs/data-format.md``).

        Raises
        ------
        DataError
            If the file is missing, truncated or corrupt, has another schema, or fails validation.
        """
        from ..io.npzfile import NpzReader
        from ..io.reading import MAX_TEXT_BYTES, input_path

        path = input_path(path, "trajectory file", DataError)
        where = f"trajectory file {path}"
        if not path.exists():
            raise DataError(f"{where} does not exist")
        if path.is_dir():
            raise DataError(f"{where} is a directory, not a trajectory file")
        with NpzReader(path, "trajectory file", DataError, kinds="biufUS", max_ndim=3) as archive:
            if "metadata" not in archive:
                raise DataError(f"{where} has no 'metadata' entry; it is not a latticeclosure trajectory")
            if archive.shape("metadata") != () or archive.dtype("metadata").kind not in "US":
                raise DataError(f"{where}: 'metadata' must be a JSON string, got an array of shape {archive.shape('metadata')}")
            if archive.dtype("metadata").itemsize > 4 * MAX_TEXT_BYTES:
                raise DataError(f"{where}: 'metadata' is longer than {MAX_TEXT_BYTES} characters")
            meta = _parse_metadata(archive.read("metadata"), where)
            _check_declared_shapes(meta, {n: archive.shape(n) for n in archive.names if n != "metadata"}, where)
            arrays = {k: np.asarray(archive.read(k)) for k in archive.names if k != "metadata"}
        return cls(meta, arrays, validate=True, source=str(path))

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Export as CSV (see :func:`latticeclosure.data.csvio.write_csv`)."""
        from .csvio import write_csv

        return write_csv(self, path)

    @classmethod
    def from_csv(cls, path: str | os.PathLike, **kwargs: Any) -> "Trajectory":
        """Import a CSV (see :func:`latticeclosure.data.csvio.read_csv`)."""
        from .csvio import read_csv

        return read_csv(path, **kwargs)


def _parse_metadata(raw: np.ndarray, where: str) -> dict[str, Any]:
    from ..io.reading import parse_json

    try:
        text = str(raw.item() if raw.dtype.kind == "U" else raw.item().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{where}: metadata is not valid JSON ({exc})") from None
    meta = parse_json(text, f"{where}: metadata", DataError)
    if not isinstance(meta, dict):
        raise DataError(f"{where}: metadata must be a JSON object, got {type(meta).__name__}")
    return meta


def _check_declared_shapes(meta: Mapping[str, Any], shapes: Mapping[str, tuple[int, ...]], where: str) -> None:
    """Array shapes the archive declares must fit the metadata, checked before any array is read."""
    classes = meta.get("classes")
    n_classes = len(classes) if isinstance(classes, list) else None
    step = shapes.get("step")
    n = step[0] if step is not None and len(step) == 1 else None
    for name, shape in shapes.items():
        if name in RECORD_ARRAYS and n is not None and shape != (n,):
            raise DataError(f"{where}: array {name!r} has shape {shape}; expected ({n},) (one value per record)")
        if name == "concentrations" and n is not None and n_classes is not None and shape != (n, n_classes):
            raise DataError(
                f"{where}: array 'concentrations' has shape {shape}; expected ({n}, {n_classes}) "
                f"({n} records × {n_classes} classes)"
            )
        if name == "configurations" and n is not None and (len(shape) != 2 or shape[0] != n):
            raise DataError(f"{where}: array 'configurations' has shape {shape}; expected ({n}, sites)")


def load_trajectory(path: str | os.PathLike) -> Trajectory:
    """Load a trajectory: ``.npz`` (native) or ``.csv`` (exported by this package, with its header).

    Raises
    ------
    DataError
    """
    from ..io.reading import input_path

    p = input_path(path, "trajectory file", DataError)
    if p.suffix.lower() in (".csv", ".tsv", ".txt"):
        return Trajectory.from_csv(p)
    return Trajectory.load(p)


# ---------------------------------------------------------------------------------- validation
def _validate_metadata(meta: Mapping[str, Any], where: str) -> None:
    required = REQUIRED_METADATA
    if meta.get("time_unit") != PHYSICAL_TIME:
        required = REQUIRED_METADATA + ANNEALING_METADATA
    missing = [k for k in required if k not in meta]
    if "schema" in meta and meta["schema"] != SCHEMA:
        raise DataError(
            f"{where} has schema {meta['schema']!r}; this version of latticeclosure reads {SCHEMA!r}"
        )
    if missing:
        raise DataError(f"{where}: missing metadata field(s): {', '.join(missing)}")
    if meta["normalisation"] != "per-shape":
        raise DataError(f"{where}: normalisation must be 'per-shape', got {meta['normalisation']!r}")
    dim = _validate_lattice_record(meta, where)
    species = meta["species"]
    if (
        not isinstance(species, list)
        or len(species) < 2
        or not all(isinstance(s, str) and s for s in species)
        or len(set(species)) != len(species)
    ):
        raise DataError(f"{where}: 'species' must list at least two distinct names, got {species!r}")
    for key in ("x_target", "x_realised"):
        v = meta.get(key)
        if v is not None and (not isinstance(v, (int, float)) or not 0 <= v <= 1):
            raise DataError(f"{where}: {key} must be a number in [0, 1] or null, got {v!r}")
    if not isinstance(meta["time_unit"], str):
        raise DataError(f"{where}: time_unit must be a string")
    _validate_optional_fields(meta, where)
    classes = meta["classes"]
    if not isinstance(classes, list) or not classes:
        raise DataError(f"{where}: 'classes' must be a non-empty list of class records")
    shapes = meta["shapes"]
    if not isinstance(shapes, list) or not all(isinstance(s, Mapping) and "name" in s and "n_classes" in s for s in shapes):
        raise DataError(f"{where}: 'shapes' must be a list of records with name and n_classes")
    for s in shapes:
        if not isinstance(s["name"], str) or isinstance(s["n_classes"], bool) or not isinstance(s["n_classes"], int):
            raise DataError(f"{where}: every shape record needs a string name and an integer n_classes, got {s!r:.80}")
    shape_names = {s["name"] for s in shapes}
    seen: set[str] = set()
    for n, c in enumerate(classes):
        if not isinstance(c, Mapping):
            raise DataError(f"{where}: class record {n} is not an object")
        lacking = [f for f in CLASS_FIELDS if f not in c]
        if lacking:
            raise DataError(f"{where}: class record {n} ({c.get('name', '?')!r:.40}) lacks {', '.join(lacking)}")
        name = c["name"]
        if not isinstance(name, str) or not name or not isinstance(c["shape"], str):
            raise DataError(f"{where}: class record {n} needs string 'name' and 'shape' fields, got {name!r:.40}")
        if name in seen:
            raise DataError(f"{where}: class name {name!r} appears twice")
        seen.add(name)
        size = c["size"]
        states, sites = c["states"], c["sites"]
        if (isinstance(size, bool) or not isinstance(size, int) or size < 1 or not isinstance(states, list)
                or not isinstance(sites, list) or len(states) != size or len(sites) != size):
            raise DataError(f"{where}: class {name!r} must have size ≥ 1 with that many states and sites")
        if any(not isinstance(s, str) or s not in species for s in states):
            raise DataError(f"{where}: class {name!r} has states {states!r:.60} outside the species {species}")
        if any(not isinstance(p, list) or len(p) != dim or not all(_is_number(v) for v in p) for p in sites):
            raise DataError(f"{where}: class {name!r} has sites that are not {dim}-dimensional points")
        m = c["multiplicity"]
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise DataError(f"{where}: class {name!r} has multiplicity {m!r}; it must be a positive integer")
        if c["shape"] not in shape_names:
            raise DataError(f"{where}: class {name!r} refers to shape {c['shape']!r}, which 'shapes' does not list")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def _validate_lattice_record(meta: Mapping[str, Any], where: str) -> int:
    """The lattice record: types, a non-degenerate cell, distinct basis sites, the geometry of the
    registered lattice of that name (if there is one); the supercell fits it. Returns the dimension.
    """
    from ..errors import LatticeClosureError
    from ..lattice import check_cell
    from ..similarity import check_lattice_label

    lat = meta["lattice"]
    if not isinstance(lat, Mapping) or any(k not in lat for k in ("name", "dimension", "vectors", "basis")):
        raise DataError(f"{where}: 'lattice' must be a record with name, dimension, vectors and basis")
    if not isinstance(lat["name"], str) or not lat["name"]:
        raise DataError(f"{where}: the lattice name must be a non-empty string, got {lat['name']!r:.40}")
    dim = lat["dimension"]
    if isinstance(dim, bool) or not isinstance(dim, int) or dim not in (1, 2, 3):
        raise DataError(f"{where}: lattice dimension must be 1, 2 or 3, got {dim!r:.40}")
    try:
        vec = np.asarray(lat["vectors"], dtype=float)
        bas = np.asarray(lat["basis"], dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: lattice record is malformed ({exc})") from None
    if vec.shape != (dim, dim) or bas.ndim != 2 or bas.shape[1] != dim or bas.shape[0] < 1:
        raise DataError(
            f"{where}: lattice record has dimension {dim}, vectors of shape {vec.shape} "
            f"and basis of shape {bas.shape}, which do not fit together"
        )
    try:
        check_cell(lat["name"], vec, bas)
    except LatticeClosureError as exc:
        raise DataError(f"{where}: {exc}") from None
    check_lattice_label(dict(lat), where, DataError)
    cell = meta["supercell"]
    if cell is not None:
        if (not isinstance(cell, list) or len(cell) != dim
                or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in cell)):
            raise DataError(f"{where}: supercell must list {dim} positive integers (one per lattice vector), got {cell!r:.60}")
        n_sites = meta.get("n_sites")
        expected = int(np.prod(cell)) * bas.shape[0]
        if n_sites is not None and n_sites != expected:
            raise DataError(
                f"{where}: n_sites = {n_sites!r:.20} does not fit the supercell {cell} of a {bas.shape[0]}-site cell "
                f"({expected} sites)"
            )
    return dim


def _validate_optional_fields(meta: Mapping[str, Any], where: str) -> None:
    """Types of the optional metadata fields readers use (model, seed, n_sites, energy)."""
    for key in ("model", "backend"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise DataError(f"{where}: {key} must be a string or null, got {meta[key]!r:.40}")
    for key in ("seed", "n_sites"):
        v = meta.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise DataError(f"{where}: {key} must be a non-negative integer or null, got {v!r:.40}")
    energy = meta.get("energy")
    if energy is not None:
        if not isinstance(energy, Mapping):
            raise DataError(f"{where}: 'energy' must be a record (with e.g. lower_bound_per_site), got {energy!r:.40}")
        bound = energy.get("lower_bound_per_site")
        if bound is not None and not _is_number(bound):
            raise DataError(f"{where}: energy lower_bound_per_site must be a number or null, got {bound!r:.40}")


def _finite(arr: np.ndarray, name: str, where: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        pos = np.argwhere(bad)[0]
        raise DataError(f"{where}: array {name!r} contains NaN or infinity (at index {tuple(int(v) for v in pos)})")


def _validate_arrays(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], where: str) -> None:
    for name in ("step", "time", "concentrations"):
        if name not in arrays:
            raise DataError(f"{where}: missing array {name!r}")
    step = arrays["step"]
    if step.ndim != 1 or step.shape[0] < 1:
        raise DataError(f"{where}: array 'step' must be one-dimensional and non-empty, got shape {step.shape}")
    n = step.shape[0]
    m = len(meta["classes"])
    for name in RECORD_ARRAYS:
        if name in arrays and arrays[name].shape != (n,):
            raise DataError(f"{where}: array {name!r} has shape {arrays[name].shape}; expected ({n},) (one value per record)")
    conc = arrays["concentrations"]
    if conc.shape != (n, m):
        raise DataError(
            f"{where}: array 'concentrations' has shape {conc.shape}; expected ({n}, {m}) "
            f"({n} records × {m} classes)"
        )
    if step.dtype.kind not in "iu":
        raise DataError(f"{where}: array 'step' must hold integers, got dtype {step.dtype}")
    for name in ("time", "concentrations", *OPTIONAL_RECORD_ARRAYS):
        if name in arrays:
            if arrays[name].dtype.kind not in "fiu":
                raise DataError(f"{where}: array {name!r} must be numeric, got dtype {arrays[name].dtype}")
            _finite(arrays[name].astype(float), name, where)
    if (step < 0).any():
        raise DataError(f"{where}: array 'step' has negative values")
    if (np.diff(step) < 0).any():
        raise DataError(f"{where}: array 'step' must be non-decreasing")
    time = arrays["time"].astype(float)
    if meta["time_unit"] == PHYSICAL_TIME:
        if (time < 0).any():
            raise DataError(f"{where}: array 'time' (physical time) has negative values")
    elif (time < -1e-12).any() or (time > 1 + 1e-12).any():
        raise DataError(f"{where}: array 'time' must be the fraction of the run, in [0, 1]")
    if (np.diff(time) < 0).any():
        raise DataError(f"{where}: array 'time' must be non-decreasing")
    if "temperature" in arrays and (arrays["temperature"] < 0).any():
        raise DataError(f"{where}: array 'temperature' has negative values")
    if "acceptance" in arrays:
        acc = arrays["acceptance"]
        if (acc < 0).any() or (acc > 1).any():
            raise DataError(f"{where}: array 'acceptance' must lie in [0, 1]")
    conc = conc.astype(float)
    if (conc < -1e-12).any():
        r, c = np.argwhere(conc < -1e-12)[0]
        raise DataError(
            f"{where}: concentration of class {meta['classes'][c]['name']!r} is negative "
            f"({conc[r, c]:.3g}) at record {r}"
        )
    _check_normalisation(meta, conc, where)
    _validate_replicas(meta, arrays, n, m, where)
    q = len(meta["species"])
    n_sites = meta.get("n_sites")
    for name, ndim in (("final_configuration", 1), ("configurations", 2)):
        if name not in arrays:
            continue
        arr = arrays[name]
        if arr.dtype.kind not in "iu" or arr.ndim != ndim:
            raise DataError(f"{where}: array {name!r} must be a {ndim}-D integer array, got {arr.ndim}-D {arr.dtype}")
        if ndim == 2 and arr.shape[0] != n:
            raise DataError(f"{where}: array 'configurations' has {arr.shape[0]} rows; expected {n} (one per record)")
        if n_sites is not None and arr.shape[-1] != n_sites:
            raise DataError(f"{where}: array {name!r} has {arr.shape[-1]} sites; metadata says n_sites = {n_sites}")
        if arr.size and (arr.min() < 0 or arr.max() >= q):
            raise DataError(f"{where}: array {name!r} holds species indices outside 0..{q - 1}")


def _validate_replicas(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], n: int, m: int, where: str) -> None:
    present = [k for k in REPLICA_ARRAYS if k in arrays]
    if not present:
        return
    if len(present) != len(REPLICA_ARRAYS):
        raise DataError(f"{where}: per-replica arrays come together ({', '.join(REPLICA_ARRAYS)}); got only {present}")
    steps, conc = arrays["replica_step"], arrays["replica_concentrations"]
    r = steps.shape[0] if steps.ndim == 2 else -1
    if steps.ndim != 2 or steps.shape[1] != n or steps.dtype.kind not in "iu" or r < 1:
        raise DataError(f"{where}: array 'replica_step' must be an integer array (replicas, {n}), got {steps.shape} {steps.dtype}")
    if (steps < 0).any() or (np.diff(steps, axis=1) < 0).any():
        raise DataError(f"{where}: array 'replica_step' must be non-negative and non-decreasing along each replica")
    if conc.shape != (r, n, m) or conc.dtype.kind not in "fiu":
        raise DataError(f"{where}: array 'replica_concentrations' has shape {conc.shape}; expected ({r}, {n}, {m})")
    flat = conc.astype(float).reshape(r * n, m)
    _finite(flat, "replica_concentrations", where)
    if (flat < -1e-12).any():
        raise DataError(f"{where}: array 'replica_concentrations' has negative values")
    _check_normalisation(meta, flat, where)


def _check_normalisation(meta: Mapping[str, Any], conc: np.ndarray, where: str) -> None:
    tol = NORMALISATION_TOLERANCE
    mult = np.array([c["multiplicity"] for c in meta["classes"]], dtype=float)
    for shape in meta["shapes"]:
        cols = [k for k, c in enumerate(meta["classes"]) if c["shape"] == shape["name"]]
        if not cols:
            continue
        total = conc[:, cols] @ mult[cols]
        complete = len(cols) == int(shape["n_classes"])
        bad = np.abs(total - 1) > tol if complete else total > 1 + tol
        if bad.any():
            r = int(np.argmax(bad))
            rule = "= 1" if complete else "≤ 1 (not all classes present)"
            raise DataError(
                f"{where}: concentrations of shape {shape['name']!r} are not normalised at record {r}: "
                f"Σ m_c C_c = {total[r]:.12g}, must be {rule} within {tol:g}"
            )
