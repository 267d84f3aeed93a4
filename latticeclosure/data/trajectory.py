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
import zipfile
import zlib
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
        self._meta = json.loads(json.dumps(dict(metadata)))  # deep, JSON-clean copy
        self._arrays: dict[str, np.ndarray] = {}
        for key, value in arrays.items():
            if value is None:
                continue
            arr = np.array(value, copy=True)
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
        path = Path(path)
        where = f"trajectory file {path}"
        if not path.exists():
            raise DataError(f"{where} does not exist")
        if path.is_dir():
            raise DataError(f"{where} is a directory, not a trajectory file")
        try:
            with np.load(path, allow_pickle=False) as archive:
                names = list(archive.files)
                if "metadata" not in names:
                    raise DataError(f"{where} has no 'metadata' entry; it is not a latticeclosure trajectory")
                arrays = {k: np.asarray(archive[k]) for k in names}
        except DataError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, zlib.error) as exc:
            raise DataError(f"{where} is truncated or corrupt (not a readable .npz archive): {exc}") from None
        raw = arrays.pop("metadata")
        if raw.ndim != 0 or raw.dtype.kind not in "US":
            raise DataError(f"{where}: 'metadata' must be a JSON string, got an array of shape {raw.shape}")
        try:
            meta = json.loads(str(raw.item() if raw.dtype.kind == "U" else raw.item().decode("utf-8")))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{where}: metadata is not valid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise DataError(f"{where}: metadata must be a JSON object, got {type(meta).__name__}")
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


def load_trajectory(path: str | os.PathLike) -> Trajectory:
    """Load a trajectory: ``.npz`` (native) or ``.csv`` (exported by this package, with its header).

    Raises
    ------
    DataError
    """
    p = Path(path)
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
    lat = meta["lattice"]
    if not isinstance(lat, Mapping) or any(k not in lat for k in ("name", "dimension", "vectors", "basis")):
        raise DataError(f"{where}: 'lattice' must be a record with name, dimension, vectors and basis")
    try:
        dim = int(lat["dimension"])
        vec = np.asarray(lat["vectors"], dtype=float)
        bas = np.asarray(lat["basis"], dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: lattice record is malformed ({exc})") from None
    if dim not in (1, 2, 3) or vec.shape != (dim, dim) or bas.ndim != 2 or bas.shape[1] != dim:
        raise DataError(
            f"{where}: lattice record has dimension {lat['dimension']}, vectors of shape {vec.shape} "
            f"and basis of shape {bas.shape}, which do not fit together"
        )
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
    classes = meta["classes"]
    if not isinstance(classes, list) or not classes:
        raise DataError(f"{where}: 'classes' must be a non-empty list of class records")
    shapes = meta["shapes"]
    if not isinstance(shapes, list) or not all(isinstance(s, Mapping) and "name" in s and "n_classes" in s for s in shapes):
        raise DataError(f"{where}: 'shapes' must be a list of records with name and n_classes")
    shape_names = {s["name"] for s in shapes}
    seen: set[str] = set()
    for n, c in enumerate(classes):
        if not isinstance(c, Mapping):
            raise DataError(f"{where}: class record {n} is not an object")
        lacking = [f for f in CLASS_FIELDS if f not in c]
        if lacking:
            raise DataError(f"{where}: class record {n} ({c.get('name', '?')!r}) lacks {', '.join(lacking)}")
        name = c["name"]
        if name in seen:
            raise DataError(f"{where}: class name {name!r} appears twice")
        seen.add(name)
        size = c["size"]
        if not isinstance(size, int) or size < 1 or len(c["states"]) != size or len(c["sites"]) != size:
            raise DataError(f"{where}: class {name!r} must have size ≥ 1 with that many states and sites")
        if any(s not in species for s in c["states"]):
            raise DataError(f"{where}: class {name!r} has states {c['states']} outside the species {species}")
        if any(len(p) != dim for p in c["sites"]):
            raise DataError(f"{where}: class {name!r} has sites that are not {dim}-dimensional points")
        m = c["multiplicity"]
        if not isinstance(m, int) or m < 1:
            raise DataError(f"{where}: class {name!r} has multiplicity {m!r}; it must be a positive integer")
        if c["shape"] not in shape_names:
            raise DataError(f"{where}: class {name!r} refers to shape {c['shape']!r}, which 'shapes' does not list")


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
