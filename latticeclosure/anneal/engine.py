"""A resumable simulated-annealing run: setup, stepping through the schedule, records, checkpoints.

:class:`AnnealRun` owns the whole state of a run — the working configuration, the xoshiro256** state,
the step counter, the tracked energy (an exact integer in units of the energy quantum whenever the
energy table allows it) and the records taken so far — and advances it in chunks that never cross a
temperature level or a record point. Kernel calls are pure functions of that state, so a checkpoint
taken between any two chunks and resumed later gives a run identical bit for bit to an uninterrupted
one, and the same seed always gives the same run.

Records are taken at step 0, every ``record_every`` attempted swaps and at the end: step, time as a
fraction of the run, temperature of the last attempt, energy per site, acceptance rate since the
previous record, and the concentrations of all classes of the connected shapes of the requested sizes
(sites, pairs and triplets by default), counted with :class:`latticeclosure.counting.ClassCounter`.
"""

from __future__ import annotations

import json
import math
import os
import time as _time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import ConfigurationError, DataError, GeometryError, LatticeClosureError, SizeLimitError
from .schedule import Schedule

if TYPE_CHECKING:  # pragma: no cover
    from ..data import Trajectory
    from ..model import Model

__all__ = ["AnnealRun", "CHECKPOINT_SCHEMA", "DEFAULT_RECORDS"]

CHECKPOINT_SCHEMA = "latticeclosure.anneal-checkpoint/1"
#: Arrays every checkpoint holds.
_CHECKPOINT_ARRAYS = ("configuration", "rng", "counters", "energy_units", "rec_step", "rec_temperature",
                      "rec_energy", "rec_acceptance", "rec_concentrations")
#: Fields of a checkpoint's run description.
_SPEC_KEYS = ("model", "model_fingerprint", "x", "size", "seed", "stream", "schedule", "record_every_steps",
              "kernel", "class_sizes", "save_configurations", "backend")
#: Number of record intervals when ``record_every`` is not given.
DEFAULT_RECORDS = 200
#: Largest number of attempts per kernel call (keeps checkpoints and progress responsive).
MAX_CHUNK = 1 << 23
#: Largest number of lattice sites of an annealing run (beyond it the neighbour tables alone need
#: many gigabytes).
MAX_SITES = 10**8
#: Memory per lattice site assumed by the estimate before a run (neighbour and update tables,
#: counting tables, working arrays; measured ≈ 200 bytes on the triangular reference model, with
#: room for larger coordinations and energy clusters).
BYTES_PER_SITE = 1024
#: Attempted swaps per second per core assumed by the run-time estimate (measured 5e7–8e7 on one
#: 2020s core at low acceptance; see benchmarks/anneal_speed.py).
NOMINAL_SWAPS_PER_SECOND = 5e7
#: Runs estimated to take longer than this many seconds are announced with the estimate.
LONG_RUN_SECONDS = 600.0


def estimated_memory(n_sites: int, n_records: int, n_classes: int, save_configurations: bool) -> int:
    """Bytes an annealing run needs (:func:`latticeclosure.simulation.resources.estimated_memory`)."""
    from ..simulation.resources import estimated_memory as estimate

    return estimate(n_sites, n_records, n_classes, save_configurations, BYTES_PER_SITE)


def check_memory(needed: int, what: str) -> None:
    """See :func:`latticeclosure.simulation.resources.check_memory`."""
    from ..simulation.resources import check_memory as check

    check(needed, what)


def estimated_seconds(total_steps: int) -> float:
    """Rough wall time of ``total_steps`` attempted swaps on one core (:data:`NOMINAL_SWAPS_PER_SECOND`)."""
    return float(total_steps) / NOMINAL_SWAPS_PER_SECOND


def _size_tuple(size: Any, dimension: int) -> tuple[int, ...]:
    if isinstance(size, (int, np.integer)):
        size = (int(size),) * dimension
    try:
        out = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise GeometryError(f"lattice size must be an integer or {dimension} integers, got {size!r}") from None
    if len(out) != dimension or any(s < 1 for s in out) or any(float(s) != float(v) for s, v in zip(out, size)):
        raise GeometryError(f"lattice size must be {dimension} positive integer(s), got {size!r}")
    return out


class AnnealRun:
    """One annealing run of a model at one composition, seed and schedule.

    Parameters
    ----------
    model : Model
        Must have an ``energy``.
    x : float or mapping
        Stoichiometry (fraction of ``model.composition_species``) or species → fraction.
    size : int or sequence of int, optional
        Supercell side(s); default ``model.default_size``.
    seed : int, default 0
        Seeds the random initial placement and the whole run.
    schedule : Schedule, optional
        Default ``model.default_schedule``.
    record_every : float, optional
        Record interval in sweeps (attempted swaps per site); default: the run divided into
        :data:`DEFAULT_RECORDS` intervals.
    kernel : {"auto", "mask", "stencil", "clusters"}
        Swap kernel (see :mod:`latticeclosure.anneal.plans`); all give the same run for integer energies.
    class_sizes : sequence of int, default (1, 2, 3)
        Sizes of the connected shapes whose class concentrations are recorded.
    save_configurations : bool, default False
        Keep the configuration at every record (for verification; memory ``n_records × N`` bytes).
    backend : str
        Name of the data backend, recorded in the metadata.
    stream : int, default 0
        Independent random stream number for the same seed.

    Raises
    ------
    ConfigurationError, GeometryError, SpeciesError
        On bad input: no energy, x outside (0, 1) or rounding to 0 or N sites, bad schedule, a lattice
        side too small for the model's energy or for counting the recorded classes.
    """

    def __init__(
        self,
        model: "Model",
        x: float | Mapping[str, float],
        size: Any = None,
        seed: int = 0,
        schedule: Schedule | None = None,
        record_every: float | None = None,
        *,
        kernel: str = "auto",
        class_sizes: Sequence[int] = (1, 2, 3),
        save_configurations: bool = False,
        backend: str = "anneal",
        stream: int = 0,
        _state: Mapping[str, Any] | None = None,
    ) -> None:
        self._setup(model, x, size, seed, schedule, record_every, kernel, class_sizes,
                    save_configurations, backend, stream)
        if _state is None:
            self._initial_state()
        else:
            self._restore(_state)

    # ------------------------------------------------------------------ setup
    def _setup(self, model, x, size, seed, schedule, record_every, kernel, class_sizes,
               save_configurations, backend, stream) -> None:
        from ..clusters import ConnectedEnumerator
        from ..counting import ClassCounter
        from .geometry import SwapGeometry
        from .plans import make_plan

        if model.energy is None:
            raise ConfigurationError(f"model {model.name!r} has no energy; the annealer needs one")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
            raise ConfigurationError(f"seed must be a non-negative integer, got {seed!r}")
        self.model = model
        self.energy = model.energy
        self.seed = int(seed)
        self.stream = int(stream)
        self.backend = backend
        self.x_input = dict(x) if isinstance(x, Mapping) else x
        lattice = model.lattice_object()
        self.size = _size_tuple(model.default_size if size is None else size, lattice.dimension)
        if min(self.size) < model.min_size:
            raise GeometryError(
                f"lattice side {min(self.size)} is too small for model {model.name!r}; "
                f"use at least {model.min_size}"
            )
        n_requested = int(np.prod(self.size, dtype=object)) * len(lattice.basis)
        if n_requested > MAX_SITES:
            raise SizeLimitError(
                f"lattice size {list(self.size)} has {n_requested:.3g} sites, more than the annealer's "
                f"limit of {MAX_SITES:.0e}; use a smaller lattice"
            )
        self._check_resources(model, n_requested, schedule, record_every, class_sizes, save_configurations)
        self.supercell = lattice.supercell(self.size)
        self.n_sites = self.supercell.n_sites
        try:
            self.geometry = SwapGeometry(self.supercell, self.energy)
            sizes = sorted({int(s) for s in class_sizes})
            if not sizes or sizes[0] < 1:
                raise ConfigurationError(f"class sizes must be positive integers, got {list(class_sizes)}")
            shapes = [s for s in ConnectedEnumerator().enumerate(lattice, sizes[-1]) if s.size in sizes]
            self.counter = ClassCounter(self.supercell, shapes, model.species)
        except GeometryError as exc:
            raise GeometryError(f"lattice side {self.size} does not fit model {model.name!r}: {exc}") from None
        self.class_sizes = tuple(sizes)
        self.counts = model.composition(x, self.n_sites)
        self.plan = make_plan(self.geometry, self.energy, kernel)
        self.kernel = kernel
        self.schedule = schedule if schedule is not None else model.default_schedule
        if self.schedule is None:
            raise ConfigurationError(f"model {model.name!r} has no default schedule; give one")
        if not isinstance(self.schedule, Schedule):
            raise ConfigurationError(f"schedule must be a Schedule, got {type(self.schedule).__name__}")
        self.level_steps = self.schedule.level_steps(self.n_sites)
        self.level_ends = np.cumsum(self.level_steps)
        self.total_steps = int(self.level_ends[-1])
        if record_every is None:
            self.record_steps = max(1, self.total_steps // DEFAULT_RECORDS)
        else:
            try:
                rec = float(record_every)
            except (TypeError, ValueError):
                raise ConfigurationError(f"record interval must be a number of sweeps, got {record_every!r}") from None
            if not math.isfinite(rec) or rec <= 0:
                raise ConfigurationError(f"record interval must be a positive number of sweeps, got {record_every!r}")
            self.record_steps = max(1, int(round(rec * self.n_sites)))
        self.save_configurations = bool(save_configurations)
        self._tables: dict[int, Any] = {}

    def _check_resources(self, model, n_sites, schedule, record_every, class_sizes, save_configurations) -> None:
        """Estimate the memory before anything is allocated and refuse what the machine cannot hold."""
        sched = schedule if schedule is not None else model.default_schedule
        if not isinstance(sched, Schedule):
            return  # reported with its own message below
        total = int(np.sum(sched.level_steps(n_sites)))
        records = DEFAULT_RECORDS
        if record_every is not None:
            try:
                rec = float(record_every)
            except (TypeError, ValueError):
                return
            if math.isfinite(rec) and rec > 0:
                records = total // max(1, int(round(rec * n_sites))) + 1
        q = len(model.species)
        n_classes = sum(q**int(k) for k in class_sizes if isinstance(k, (int, np.integer)) and 0 < k < 8)
        check_memory(estimated_memory(n_sites, records, n_classes, bool(save_configurations)),
                     f"annealing {n_sites} sites with {records} records")

    def estimated_seconds(self) -> float:
        """Rough wall time of the remaining run on one core (see :func:`estimated_seconds`)."""
        return estimated_seconds(self.total_steps - self.step)

    def _initial_state(self) -> None:
        from ._kernels import shuffle_inplace
        from .rng import seed_state

        self.rng = seed_state(self.seed, self.stream)
        real = np.repeat(np.arange(len(self.counts), dtype=np.int8), self.counts)
        shuffle_inplace(real, self.rng)
        self.work = self.plan.new_work(real)
        self.step = 0
        self.energy_units = self._energy_units_of(real)
        self.accepted_since = 0
        self.attempted_since = 0
        self.records: dict[str, list] = {k: [] for k in ("step", "temperature", "energy_per_site", "acceptance", "concentrations")}
        self.saved_configurations: list[np.ndarray] = []
        self._record(real)

    def _energy_units_of(self, real: np.ndarray) -> Any:
        codes = self.energy.codes_of(real, self.geometry.embeddings)
        if self.plan.integer:
            return int(self.plan.table[codes].sum())
        return float(self.plan.table[codes].sum())

    # ------------------------------------------------------------------ queries
    @property
    def finished(self) -> bool:
        return self.step >= self.total_steps

    @property
    def quantum(self) -> float:
        return self.plan.quantum

    @property
    def energy_per_site(self) -> float:
        """The tracked energy per site."""
        return self.energy_units * self.plan.quantum / self.n_sites

    def configuration(self) -> np.ndarray:
        """The current configuration: flat int8 species indices (C order, basis fastest)."""
        return np.asarray(self.plan.real(self.work), dtype=np.int8)

    def recomputed_energy_per_site(self) -> float:
        """The energy per site recomputed from scratch from the current configuration."""
        return self.energy.total(self.configuration(), self.geometry.embeddings) / self.n_sites

    def temperature_at(self, step: int) -> float:
        """Temperature of the attempt with index ``step`` (0-based)."""
        level = int(np.searchsorted(self.level_ends, step, side="right"))
        return float(self.schedule.temperatures[min(level, len(self.level_ends) - 1)])

    @property
    def x_realised(self) -> float:
        """Realised fraction of the composition species."""
        k = self.model.species.index(self.model.composition_species)
        return self.counts[k] / self.n_sites

    # ------------------------------------------------------------------ stepping
    def _level_tables(self, level: int) -> Any:
        if level not in self._tables:
            self._tables[level] = self.plan.temperature_tables(float(self.schedule.temperatures[level]))
        return self._tables[level]

    def _record(self, real: np.ndarray | None = None) -> None:
        if real is None:
            real = self.configuration()
        rec = self.records
        rec["step"].append(self.step)
        rec["temperature"].append(self.temperature_at(max(self.step - 1, 0)))
        rec["energy_per_site"].append(self.energy_per_site)
        rec["acceptance"].append(self.accepted_since / self.attempted_since if self.attempted_since else 0.0)
        rec["concentrations"].append(self.counter.concentrations(real))
        if self.save_configurations:
            self.saved_configurations.append(real.copy())
        self.accepted_since = 0
        self.attempted_since = 0

    def advance(self, max_steps: int | None = None) -> bool:
        """Attempt up to ``max_steps`` more swaps (default: to the end); return :attr:`finished`."""
        budget = self.total_steps - self.step if max_steps is None else int(max_steps)
        while budget > 0 and not self.finished:
            level = int(np.searchsorted(self.level_ends, self.step, side="right"))
            next_record = min((self.step // self.record_steps + 1) * self.record_steps, self.total_steps)
            stop = min(int(self.level_ends[level]), next_record, self.step + budget, self.step + MAX_CHUNK)
            n = stop - self.step
            accepted, delta = self.plan.run(self.work, self.rng, n, self._level_tables(level))
            self.energy_units = self.energy_units + (int(delta) if self.plan.integer else float(delta))
            self.step = stop
            self.accepted_since += accepted
            self.attempted_since += n
            budget -= n
            if self.step == next_record:
                self._record()
        return self.finished

    def run(
        self,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: float = 60.0,
        progress: Callable[[int, int], None] | None = None,
    ) -> "Trajectory":
        """Run to the end and return the trajectory.

        Parameters
        ----------
        checkpoint : path-like, optional
            Write a checkpoint there every ``checkpoint_every`` seconds (atomically).
        checkpoint_every : float, default 60
            Seconds between checkpoints.
        progress : callable, optional
            ``progress(step, total_steps)`` after every chunk.
        """
        last = _time.monotonic()
        while not self.finished:
            self.advance(MAX_CHUNK)
            if progress is not None:
                progress(self.step, self.total_steps)
            if checkpoint is not None and _time.monotonic() - last >= checkpoint_every and not self.finished:
                self.save_checkpoint(checkpoint)
                last = _time.monotonic()
        return self.trajectory()

    # ------------------------------------------------------------------ results
    def metadata(self) -> dict[str, Any]:
        """The trajectory metadata of this run."""
        from .. import __version__
        from ..data.classes import records_for
        from ..data.trajectory import SCHEMA

        classes, shapes = records_for(self.counter.classes, self.model.species)
        x_target = None if isinstance(self.x_input, Mapping) else float(self.x_input)
        return {
            "schema": SCHEMA,
            "model": self.model.name,
            "model_info": self.model.to_json(),
            "backend": self.backend,
            "lattice": self.supercell.lattice.to_json(),
            "supercell": list(self.size),
            "n_sites": self.n_sites,
            "seed": self.seed,
            "stream": self.stream,
            "schedule": self.schedule.to_json(),
            "species": list(self.model.species),
            "species_info": {k: dict(v) for k, v in self.model.species_info.items()},
            "x_species": self.model.composition_species,
            "x_target": x_target,
            "x_realised": self.x_realised,
            "composition": dict(zip(self.model.species, map(int, self.counts))),
            "normalisation": "per-shape",
            "time_unit": "attempted swap (Kawasaki nearest-neighbour exchange); time = step / total_steps",
            "total_steps": self.total_steps,
            "record_every_steps": self.record_steps,
            "level_steps": self.level_steps.tolist(),
            "energy": {
                **self.energy.to_json(),
                "per": "site",
                "quantum": self.plan.quantum if self.plan.integer else None,
                "lower_bound_per_site": self.energy_lower_bound(),
            },
            "kernel": self.plan.name,
            "classes": classes,
            "shapes": shapes,
            "software": {"latticeclosure": __version__},
        }

    def energy_lower_bound(self) -> float | None:
        """Lower bound of the energy per site at the realised composition (see
        :meth:`ClusterEnergy.lower_bound_per_site`), or ``None`` when not every site lies in the same
        number of energy clusters."""
        emb = self.geometry.embeddings
        per_site = np.bincount(emb.ravel(), minlength=self.n_sites)
        if per_site.min() != per_site.max():
            return None
        fractions = [c / self.n_sites for c in self.counts]
        return self.energy.lower_bound_per_site(
            fractions, len(emb) / self.n_sites, positions_balanced=self.supercell.lattice.n_basis == 1
        )

    def trajectory(self) -> "Trajectory":
        """The records so far as a :class:`~latticeclosure.data.Trajectory` (validated)."""
        from ..data import Trajectory

        rec = self.records
        steps = np.asarray(rec["step"], dtype=np.int64)
        arrays: dict[str, Any] = {
            "step": steps,
            "time": steps / float(self.total_steps),
            "temperature": np.asarray(rec["temperature"], dtype=float),
            "energy_per_site": np.asarray(rec["energy_per_site"], dtype=float),
            "acceptance": np.asarray(rec["acceptance"], dtype=float),
            "concentrations": np.asarray(rec["concentrations"], dtype=float).reshape(len(steps), -1),
            "final_configuration": self.configuration(),
        }
        if self.save_configurations:
            arrays["configurations"] = np.asarray(self.saved_configurations, dtype=np.int8)
        return Trajectory(self.metadata(), arrays)

    # ------------------------------------------------------------------ checkpoints
    def spec(self) -> dict[str, Any]:
        """Everything needed to rebuild the run (besides the model)."""
        return {
            "model": self.model.name,
            "model_fingerprint": self.model.fingerprint(),
            "x": self.x_input,
            "size": list(self.size),
            "seed": self.seed,
            "stream": self.stream,
            "schedule": self.schedule.to_json(),
            "record_every_steps": self.record_steps,
            "kernel": self.kernel,
            "class_sizes": list(self.class_sizes),
            "save_configurations": self.save_configurations,
            "backend": self.backend,
        }

    def save_checkpoint(self, path: str | os.PathLike) -> Path:
        """Write the complete run state to ``path`` (``.npz``, atomic)."""
        from ..io.atomic import write_bytes_atomic

        path = Path(path)
        rec = self.records
        meta = {"schema": CHECKPOINT_SCHEMA, "spec": self.spec(), "integer_energy": self.plan.integer}
        arrays = {
            "metadata": np.array(json.dumps(meta, sort_keys=True)),
            "configuration": self.configuration(),
            "rng": self.rng.copy(),
            "counters": np.array([self.step, self.accepted_since, self.attempted_since], dtype=np.int64),
            "energy_units": np.array([self.energy_units], dtype=np.int64 if self.plan.integer else np.float64),
            "rec_step": np.asarray(rec["step"], dtype=np.int64),
            "rec_temperature": np.asarray(rec["temperature"], dtype=float),
            "rec_energy": np.asarray(rec["energy_per_site"], dtype=float),
            "rec_acceptance": np.asarray(rec["acceptance"], dtype=float),
            "rec_concentrations": np.asarray(rec["concentrations"], dtype=float).reshape(len(rec["step"]), -1),
        }
        if self.save_configurations:
            arrays["rec_configurations"] = np.asarray(self.saved_configurations, dtype=np.int8)

        def writer(fh: Any) -> None:
            np.savez(fh, **arrays)

        write_bytes_atomic(path, writer)
        return path

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, model: "Model") -> "AnnealRun":
        """Resume a run from a checkpoint written by :meth:`save_checkpoint`.

        Raises
        ------
        DataError
            If the file is missing, corrupt or truncated, or was written for another model.
        """
        from ..errors import CheckpointError, CheckpointMismatchError
        from ..io.npzfile import NpzReader
        from ..io.reading import parse_json

        path = Path(path)
        where = f"checkpoint {path}"
        if not path.is_file():
            raise CheckpointError(f"{where} does not exist")
        with NpzReader(path, "checkpoint", CheckpointError, max_ndim=2) as z:
            if "metadata" not in z or z.shape("metadata") != () or z.dtype("metadata").kind not in "US":
                raise CheckpointError(f"{where} is not an annealing checkpoint (no metadata string)")
            meta = parse_json(str(z.read("metadata")), where, CheckpointError)
            if not isinstance(meta, dict) or meta.get("schema") != CHECKPOINT_SCHEMA:
                found = meta.get("schema") if isinstance(meta, dict) else None
                raise CheckpointError(f"{where} has schema {found!r}; expected {CHECKPOINT_SCHEMA!r}")
            missing = [k for k in _CHECKPOINT_ARRAYS if k not in z]
            if missing:
                raise CheckpointError(f"{where} is incomplete: it lacks {', '.join(missing)}")
            arrays = z.read_all([k for k in z.names if k != "metadata"])
        spec = meta.get("spec")
        if not isinstance(spec, dict) or any(k not in spec for k in _SPEC_KEYS):
            raise CheckpointError(f"{where} is incomplete: its run description lacks fields")
        if spec["model_fingerprint"] != model.fingerprint():
            raise CheckpointMismatchError(
                f"{where} was written for model {spec['model']!r:.40} with another lattice, species or "
                f"energy than model {model.name!r}"
            )
        state = {k: arrays[k] for k in arrays}
        try:
            return cls(
                model,
                spec["x"],
                spec["size"],
                spec["seed"],
                Schedule.from_json(spec["schedule"]),
                None,
                kernel=spec["kernel"],
                class_sizes=spec["class_sizes"],
                save_configurations=spec["save_configurations"],
                backend=spec["backend"],
                stream=spec["stream"],
                _state={**state, "record_every_steps": spec["record_every_steps"]},
            )
        except CheckpointError:
            raise
        except (LatticeClosureError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise CheckpointError(f"{where} cannot be resumed: {str(exc)[:160]}") from None

    def _restore(self, state: Mapping[str, Any]) -> None:
        self.record_steps = int(state["record_every_steps"])
        real = np.asarray(state["configuration"])
        if real.dtype.kind not in "iu" or real.shape != (self.n_sites,) or real.min(initial=0) < 0:
            raise DataError("checkpoint configuration does not match the run's lattice size and composition")
        real = real.astype(np.int8)
        if real.shape != (self.n_sites,) or np.bincount(real, minlength=len(self.counts)).tolist() != list(self.counts):
            raise DataError("checkpoint configuration does not match the run's lattice size and composition")
        from .rng import seed_state

        rng = np.asarray(state["rng"])
        if rng.shape != seed_state(0, 0).shape or rng.dtype.kind not in "iu":
            raise DataError(f"checkpoint random-generator state has shape {rng.shape} {rng.dtype}; it is corrupt")
        counters = np.asarray(state["counters"])
        if counters.shape != (3,) or counters.dtype.kind not in "iu":
            raise DataError("checkpoint counters are corrupt")
        n_rec = np.asarray(state["rec_step"]).shape
        if (len(n_rec) != 1 or any(np.asarray(state[k]).shape[:1] != n_rec for k in
                                   ("rec_temperature", "rec_energy", "rec_acceptance", "rec_concentrations"))):
            raise DataError("checkpoint records have inconsistent lengths; it is corrupt")
        if not 0 <= int(counters[0]) <= self.total_steps:
            raise DataError(f"checkpoint step {int(counters[0])} lies outside the run (0 … {self.total_steps})")
        self.rng = rng.astype(np.uint64).copy()
        self.work = self.plan.new_work(real)
        self.step, self.accepted_since, self.attempted_since = (int(v) for v in counters)
        self.energy_units = int(state["energy_units"][0]) if self.plan.integer else float(state["energy_units"][0])
        self.records = {
            "step": [int(v) for v in state["rec_step"]],
            "temperature": [float(v) for v in state["rec_temperature"]],
            "energy_per_site": [float(v) for v in state["rec_energy"]],
            "acceptance": [float(v) for v in state["rec_acceptance"]],
            "concentrations": [row.copy() for row in np.asarray(state["rec_concentrations"], dtype=float)],
        }
        self.saved_configurations = [row.copy() for row in state.get("rec_configurations", [])]
