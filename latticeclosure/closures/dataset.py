"""Concentration time series as the closure tools see them (validated, per-shape normalised).

:func:`as_dataset` accepts

* a trajectory object of :mod:`latticeclosure.data` (anything with ``class_names``,
  ``concentration(name)`` or ``concentrations``, and ``time``; ``metadata`` is kept),
* a mapping ``class name → 1-D array`` (optionally with a ``"time"``/``"t"`` entry), with ``time=``,
* a ``(time, mapping)`` pair,
* an existing :class:`Dataset` (returned as is),

checks it against a :class:`~latticeclosure.classindex.ClassIndex` and returns a :class:`Dataset`.
Bad data raise :class:`~latticeclosure.errors.DataError`; nothing is clipped or repaired:

* NaN/inf, negative concentrations, non-monotone or non-finite time, ragged columns;
* class names the index does not know (mismatched names);
* a shape whose classes are all present but do not satisfy ``Σ_c m_c C_c = 1`` (``normalisation``:
  ``"all"`` checks every complete shape, ``"inputs"`` only shapes smaller than the largest size
  present — for synthetic tests whose targets are not normalised — and ``"none"`` nothing);
* singlets given that disagree with the pair marginals.

Missing singlets are derived from the pair marginals (``C+ = C++ + C+-``). Time is rescaled to the
fraction of the run, ``(t − t₀)/(t_end − t₀)`` (``rescale_time=False`` keeps it), and
:attr:`Dataset.weights` are the trapezoidal weights, so ``½ Σ w (g − C)²`` is eq. (15).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import DataError

__all__ = ["Dataset", "as_dataset", "as_datasets", "trapezoid_weights"]

NORMALISATION_TOL = 1e-6


def trapezoid_weights(t: np.ndarray) -> np.ndarray:
    """Weights w with ``Σ w f = trapz(f, t)``."""
    t = np.asarray(t, float)
    w = np.zeros_like(t)
    if len(t) < 2:
        return w
    dt = np.diff(t)
    w[:-1] += dt / 2
    w[1:] += dt / 2
    return w


@dataclass
class Dataset:
    """Validated concentration series of one run.

    Attributes
    ----------
    name : str
    time : ndarray
        Fraction of the run (or raw time when ``rescale_time=False``).
    columns : dict of str → ndarray
        Concentrations by class name (singlets always present when pairs are).
    weights : ndarray
        Trapezoidal quadrature weights on ``time``.
    metadata : dict
    """

    name: str
    time: np.ndarray
    columns: dict[str, np.ndarray]
    weights: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_records(self) -> int:
        return len(self.time)

    @property
    def class_names(self) -> list[str]:
        return list(self.columns)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            raise DataError(f"dataset {self.name!r} has no column {name!r}") from None

    def require(self, names: Sequence[str], what: str = "") -> None:
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise DataError(
                f"dataset {self.name!r} lacks the classes {missing}{' needed by ' + what if what else ''}; "
                f"it has {sorted(self.columns)}"
            )

    @property
    def x(self) -> float | None:
        """Realised composition if known (metadata ``x_realised``/``x``)."""
        for key in ("x_realised", "x_realized", "x"):
            if key in self.metadata:
                try:
                    return float(self.metadata[key])
                except (TypeError, ValueError):
                    return None
        return None

    def subset(self, mask: np.ndarray) -> "Dataset":
        t = self.time[mask]
        return Dataset(self.name, t, {k: v[mask] for k, v in self.columns.items()}, trapezoid_weights(t), dict(self.metadata))


def _from_trajectory(obj: Any) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any], str | None]:
    names = list(obj.class_names)
    if hasattr(obj, "concentration"):
        cols = {n: np.asarray(obj.concentration(n), dtype=float) for n in names}
    else:
        arr = np.asarray(obj.concentrations, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != len(names):
            raise DataError(f"trajectory concentrations have shape {arr.shape}, expected (records, {len(names)})")
        cols = {n: arr[:, k] for k, n in enumerate(names)}
    meta = dict(getattr(obj, "metadata", None) or {})
    name = getattr(obj, "name", None) or meta.get("name")
    return np.asarray(obj.time, dtype=float), cols, meta, name


def as_dataset(
    obj: Any,
    index: Any,
    time: Any = None,
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    normalisation: str = "all",
    rescale_time: bool = True,
    extra: str = "error",
) -> Dataset:
    """Validate data and return a :class:`Dataset` (see the module docstring).

    Parameters
    ----------
    obj : trajectory, mapping, (time, mapping) or Dataset
    index : ClassIndex
        Knows the class names, shapes and multiplicities.
    time : array_like, optional
        Record times for a mapping without a ``time`` entry.
    name : str, optional
    metadata : mapping, optional
        E.g. ``{"x": 0.5}``.
    normalisation : {"all", "inputs", "none"}
    rescale_time : bool
    extra : {"error", "ignore"}
        What to do with columns that are not classes of the index.

    Raises
    ------
    DataError
    """
    if isinstance(obj, Dataset):
        return obj
    meta: dict[str, Any] = {}
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[1], Mapping):
        time, obj = obj
    if hasattr(obj, "class_names") and hasattr(obj, "time"):
        t, cols, meta, nm = _from_trajectory(obj)
        name = name or nm
    elif isinstance(obj, Mapping):
        cols = {}
        t = None
        for k, v in obj.items():
            if k in ("time", "t"):
                t = v
            else:
                cols[str(k)] = v
        if time is not None:
            t = time
        if t is None:
            raise DataError("data given as a mapping need a time array (a 'time' entry or time=...)")
        t = np.asarray(t, dtype=float)
    else:
        raise DataError(
            f"cannot read data of type {type(obj).__name__}: expected a trajectory, a mapping "
            "class name → array, or (time, mapping)"
        )
    if metadata:
        meta.update(metadata)
    name = str(name) if name is not None else str(meta.get("name", "data"))
    return _validate(name, t, cols, meta, index, normalisation, rescale_time, extra)


def _validate(name, t, cols, meta, index, normalisation, rescale_time, extra) -> Dataset:
    if normalisation not in ("all", "inputs", "none"):
        raise DataError(f"normalisation must be 'all', 'inputs' or 'none', got {normalisation!r}")
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or len(t) < 2:
        raise DataError(f"dataset {name!r}: time must be a 1-D array with at least two records, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise DataError(f"dataset {name!r}: time contains NaN or inf")
    if np.any(np.diff(t) < 0):
        k = int(np.nonzero(np.diff(t) < 0)[0][0])
        raise DataError(f"dataset {name!r}: time decreases at record {k + 1} ({t[k]:g} → {t[k + 1]:g})")
    if t[-1] == t[0]:
        raise DataError(f"dataset {name!r}: time does not advance (all records at t = {t[0]:g})")
    known = index.by_name
    unknown = [k for k in cols if k not in known]
    if unknown:
        if extra == "ignore":
            cols = {k: v for k, v in cols.items() if k in known}
        else:
            raise DataError(
                f"dataset {name!r}: unknown class names {unknown} for lattice {index.lattice.name!r} with "
                f"species {list(index.species)} and clusters up to size {index.max_size} (known: {sorted(known)}); "
                "pass extra='ignore' to drop columns outside the index"
            )
    out: dict[str, np.ndarray] = {}
    for k, v in cols.items():
        arr = np.asarray(v, dtype=float)
        if arr.shape != t.shape:
            raise DataError(f"dataset {name!r}: column {k!r} has shape {arr.shape}, time has {t.shape}")
        bad = ~np.isfinite(arr)
        if bad.any():
            raise DataError(
                f"dataset {name!r}: column {k!r} has NaN/inf at record {int(np.nonzero(bad)[0][0])}"
            )
        if (arr < 0).any():
            j = int(np.nonzero(arr < 0)[0][0])
            raise DataError(f"dataset {name!r}: column {k!r} is negative ({arr[j]:g}) at record {j}")
        out[k] = arr
    if not out:
        raise DataError(f"dataset {name!r} has no concentration columns")
    # normalisation per complete shape
    sizes_present = [known[k].size for k in out]
    top = max(sizes_present)
    if normalisation != "none":
        for shape in index.shapes:
            classes = index.classes_of[shape.name]
            if not all(c.name in out for c in classes):
                continue
            if normalisation == "inputs" and shape.size >= top and top > 2:
                continue
            total = sum(c.multiplicity * out[c.name] for c in classes)
            dev = np.abs(total - 1.0)
            if dev.max() > NORMALISATION_TOL:
                j = int(np.argmax(dev))
                raise DataError(
                    f"dataset {name!r}: concentrations of shape {shape.name!r} are not normalised: "
                    f"Σ m_c C_c = {total[j]:.9g} at record {j} (expected 1 within {NORMALISATION_TOL:g}; "
                    "per-shape normalisation — shape fractions must not be folded in)"
                )
    # singlets from pair marginals
    if index.max_size >= 2:
        from .base import singlet_marginals

        marg = singlet_marginals(index)
        for sym, expr in marg.items():
            parts = [str(s) for s in expr.free_symbols]
            if not all(p in out for p in parts):
                continue
            value = sum(out[str(s)] for s in expr.args) if expr.is_Add else out[str(expr)]
            s = str(sym)
            if s in out:
                dev = np.abs(out[s] - value)
                if dev.max() > NORMALISATION_TOL:
                    j = int(np.argmax(dev))
                    raise DataError(
                        f"dataset {name!r}: singlet {s!r} = {out[s][j]:.9g} disagrees with the pair "
                        f"marginal {expr} = {value[j]:.9g} at record {j}"
                    )
            else:
                out[s] = np.asarray(value, dtype=float)
    if rescale_time:
        t = (t - t[0]) / (t[-1] - t[0])
    return Dataset(name, t, out, trapezoid_weights(t), meta)


def as_datasets(data: Any, index: Any, *, distinct: bool = True, **kwargs: Any) -> list[Dataset]:
    """One dataset or a list of them, validated; names made unique (``name#2`` …).

    With ``distinct`` (the default) the same data given twice is refused (see :func:`refuse_duplicates`):
    a joint fit or a cross-validation would silently count it twice.
    """
    if isinstance(data, (list, tuple)) and not (
        isinstance(data, tuple) and len(data) == 2 and isinstance(data[1], Mapping)
    ):
        items = list(data)
    else:
        items = [data]
    if not items:
        raise DataError("no datasets given")
    out = [as_dataset(d, index, **kwargs) for d in items]
    if distinct:
        refuse_duplicates(out)
    seen: dict[str, int] = {}
    for d in out:
        if d.name in seen:
            seen[d.name] += 1
            d.name = f"{d.name}#{seen[d.name]}"
        else:
            seen[d.name] = 1
    return out


def content_hash(dataset: Dataset) -> str:
    """SHA-256 of the dataset's times and concentration columns (names and bytes, in name order)."""
    import hashlib

    h = hashlib.sha256(np.ascontiguousarray(dataset.time, dtype=np.float64).tobytes())
    for name in sorted(dataset.columns):
        h.update(name.encode())
        h.update(np.ascontiguousarray(dataset.columns[name], dtype=np.float64).tobytes())
    return h.hexdigest()


def run_identity(dataset: Dataset) -> tuple | None:
    """(model, stoichiometry, seed, lattice, supercell) of a simulated run, or ``None`` when not all are known."""
    meta = dataset.metadata
    lattice = meta.get("lattice")
    lattice = lattice.get("name") if isinstance(lattice, Mapping) else lattice
    key = (meta.get("model"), meta.get("x_target"), meta.get("seed"), lattice,
           tuple(meta["supercell"]) if isinstance(meta.get("supercell"), list) else meta.get("supercell"))
    return None if any(v is None for v in key) else key


def refuse_duplicates(datasets: Sequence[Dataset]) -> None:
    """Raise :class:`DataError` when two datasets hold the same data or come from the same run.

    Same data: equal content hashes. Same run: the same model, stoichiometry, seed, lattice and size.
    """
    by_hash: dict[str, str] = {}
    by_run: dict[tuple, str] = {}
    for d in datasets:
        h = content_hash(d)
        if h in by_hash:
            raise DataError(f"datasets {by_hash[h]!r} and {d.name!r} hold the same data; give each run once")
        by_hash[h] = d.name
        run = run_identity(d)
        if run is not None:
            if run in by_run:
                raise DataError(
                    f"datasets {by_run[run]!r} and {d.name!r} are the same run (model {run[0]!r}, x = {run[1]:g}, "
                    f"seed {run[2]}, lattice {run[3]}, size {list(run[4])}); give each run once"
                )
            by_run[run] = d.name
