"""One replica of a kinetic Monte Carlo simulation: initial condition, records, checkpoints.

:class:`KMCRun` owns a :class:`~latticeclosure.kmc.process.KMCState` and the records taken so far.
It advances the state from one record time to the next in chunks of at most :data:`MAX_CHUNK` events
and records, at every time of the grid, the concentrations of every class of every connected shape
up to ``max_class_size`` sites (singlets included), counted with
:class:`~latticeclosure.counting.ClassCounter` on the configuration holding at that time.

Seeds: replica ``r`` of seed ``s`` draws from ``SeedSequence(s, spawn_key=(r,))``, whose first child
draws the initial configuration (every site independently, with the initial fractions as
probabilities) and whose second seeds the xoshiro256** stream of the events. The kernel keeps the
time of a drawn-but-not-yet-executed event across calls, so neither the record grid, nor the chunk
size, nor a checkpoint and resume changes the run: a resumed run is identical bit for bit.
"""

from __future__ import annotations

import json
import os
import time as _time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import ConfigurationError, DataError, GeometryError
from .spec import KMCSpec

__all__ = ["KMCRun", "CHECKPOINT_SCHEMA", "MAX_CHUNK", "replica_seeds", "initial_configuration"]

CHECKPOINT_SCHEMA = "latticeclosure.kmc-checkpoint/1"
#: Largest number of events per kernel call (keeps checkpoints and progress responsive).
MAX_CHUNK = 1 << 22


def replica_seeds(seed: int, replica: int) -> tuple[np.random.SeedSequence, np.ndarray]:
    """The seed sequence of the initial configuration and the xoshiro state of the events."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise ConfigurationError(f"seed must be a non-negative integer below 2^63, got {seed!r}")
    init, events = np.random.SeedSequence(int(seed), spawn_key=(int(replica),)).spawn(2)
    state = events.generate_state(4, np.uint64)
    if not state.any():  # the one invalid xoshiro state
        state[0] = 1
    return init, state


def initial_configuration(fractions: list[float], n_sites: int, seed: np.random.SeedSequence) -> np.ndarray:
    """Every site independently in state ``s`` with probability ``fractions[s]`` (int8)."""
    cum = np.cumsum(np.asarray(fractions, dtype=float))
    cum[-1] = 1.0
    u = np.random.default_rng(seed).random(n_sites)
    return np.searchsorted(cum, u, side="right").astype(np.int8)


class KMCRun:
    """One replica of a simulation.

    Parameters
    ----------
    spec : KMCSpec
    seed : int
    replica : int, default 0

    Raises
    ------
    GeometryError
        If the supercell is too small for the lattice's neighbours or the recorded shapes.
    """

    def __init__(self, spec: KMCSpec, seed: int = 0, replica: int = 0, *, _restore: dict | None = None) -> None:
        from ..clusters import ConnectedEnumerator
        from ..counting import ClassCounter

        self.spec = spec
        self.seed = int(seed)
        self.replica = int(replica)
        init_seed, rng = replica_seeds(seed, replica)
        try:
            self.supercell = spec.supercell()
            shapes = ConnectedEnumerator().enumerate(spec.lattice, spec.max_class_size)
            self.counter = ClassCounter(self.supercell, shapes, spec.species)
            self.process = spec.process(self.supercell)
        except GeometryError as exc:
            raise GeometryError(f"lattice size {list(spec.size)} does not fit the simulation: {exc}") from None
        self.times = spec.record_times()
        self.n_sites = self.supercell.n_sites
        if _restore is None:
            config = initial_configuration([spec.initial[s] for s in spec.species], self.n_sites, init_seed)
            self.state = self.process.new_state(config, rng)
            self.steps: list[int] = []
            self.concentrations: list[np.ndarray] = []
            self.configurations: list[np.ndarray] = []
            self._record(config)
        else:
            self.state = self.process.unpack(_restore)
            k = int(_restore["n_records"])
            if not 1 <= k <= len(self.times):
                raise DataError("checkpoint record count does not fit the run's record grid")
            self.steps = [int(v) for v in _restore["rec_step"]]
            self.concentrations = [row.copy() for row in np.asarray(_restore["rec_concentrations"], dtype=float)]
            self.configurations = [row.copy() for row in np.asarray(_restore.get("rec_configurations", np.zeros((0, self.n_sites))), dtype=np.int8)]
            if len(self.steps) != k or len(self.concentrations) != k:
                raise DataError("checkpoint records are incomplete")

    # ------------------------------------------------------------------ stepping
    @property
    def n_records(self) -> int:
        return len(self.steps)

    @property
    def finished(self) -> bool:
        return self.n_records >= len(self.times)

    @property
    def next_time(self) -> float:
        return float(self.times[min(self.n_records, len(self.times) - 1)])

    @property
    def events(self) -> int:
        return self.state.events

    def configuration(self) -> np.ndarray:
        """The current configuration (int8 species indices, site order of the supercell)."""
        return self.process.configuration(self.state)

    def _record(self, config: np.ndarray | None = None) -> None:
        config = self.configuration() if config is None else config
        self.steps.append(self.state.events)
        self.concentrations.append(self.counter.concentrations(config))
        if self.spec.save_configurations:
            self.configurations.append(np.asarray(config, dtype=np.int8).copy())

    def advance(self, max_events: int = MAX_CHUNK) -> bool:
        """Run at most ``max_events`` events, taking the records they pass; return :attr:`finished`."""
        budget = int(max_events)
        while budget > 0 and not self.finished:
            before = self.state.events
            reached = self.process.advance(self.state, self.next_time, budget)
            budget -= self.state.events - before
            if reached:
                self._record()
            elif self.state.events == before:  # pragma: no cover - the kernel always progresses
                break
        return self.finished

    def run(
        self,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: float = 60.0,
        progress: Callable[[float, float], None] | None = None,
    ) -> "KMCRun":
        """Run to the end.

        Parameters
        ----------
        checkpoint : path-like, optional
            Written there every ``checkpoint_every`` seconds (atomically) and at the end.
        checkpoint_every : float, default 60
        progress : callable, optional
            ``progress(time reached, end time)`` after every chunk.
        """
        last = _time.monotonic()
        while not self.finished:
            self.advance(MAX_CHUNK)
            if progress is not None:
                progress(float(self.times[self.n_records - 1]), self.spec.time)
            if checkpoint is not None and _time.monotonic() - last >= checkpoint_every and not self.finished:
                self.save_checkpoint(checkpoint)
                last = _time.monotonic()
        if checkpoint is not None:
            self.save_checkpoint(checkpoint)
        return self

    # ------------------------------------------------------------------ results
    def arrays(self) -> dict[str, np.ndarray]:
        """The records: ``step`` (events), ``time``, ``concentrations`` and configurations."""
        n = self.n_records
        out = {
            "step": np.asarray(self.steps, dtype=np.int64),
            "time": self.times[:n].copy(),
            "concentrations": np.asarray(self.concentrations, dtype=float).reshape(n, -1),
            "final_configuration": self.configuration(),
        }
        if self.spec.save_configurations:
            out["configurations"] = np.asarray(self.configurations, dtype=np.int8).reshape(n, self.n_sites)
        return out

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path: str | os.PathLike) -> Path:
        """Write the complete state (``.npz``, atomic)."""
        from ..io.atomic import write_bytes_atomic

        path = Path(path)
        meta = {"schema": CHECKPOINT_SCHEMA, "spec": self.spec.fingerprint(), "seed": self.seed, "replica": self.replica}
        arrays = {
            "metadata": np.array(json.dumps(meta, sort_keys=True)),
            **self.process.pack(self.state),
            "n_records": np.array(self.n_records, dtype=np.int64),
            "rec_step": np.asarray(self.steps, dtype=np.int64),
            "rec_concentrations": np.asarray(self.concentrations, dtype=float).reshape(self.n_records, -1),
        }
        if self.spec.save_configurations:
            arrays["rec_configurations"] = np.asarray(self.configurations, dtype=np.int8).reshape(self.n_records, self.n_sites)

        def writer(fh: Any) -> None:
            np.savez(fh, **arrays)

        write_bytes_atomic(path, writer)
        return path

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, spec: KMCSpec, seed: int, replica: int = 0) -> "KMCRun":
        """Resume from a checkpoint written by :meth:`save_checkpoint` for the same spec, seed and replica.

        Raises
        ------
        DataError
            Missing, corrupt or truncated file, or one written for another simulation.
        """
        from ..errors import CheckpointError, CheckpointMismatchError, LatticeClosureError
        from ..io.npzfile import NpzReader
        from ..io.reading import parse_json

        path = Path(path)
        where = f"checkpoint {path}"
        if not path.is_file():
            raise CheckpointError(f"{where} does not exist")
        with NpzReader(path, "checkpoint", CheckpointError, max_ndim=2) as z:
            if "metadata" not in z or z.shape("metadata") != () or z.dtype("metadata").kind not in "US":
                raise CheckpointError(f"{where} is not a kinetic Monte Carlo checkpoint (no metadata string)")
            meta = parse_json(str(z.read("metadata")), where, CheckpointError)
            arrays = z.read_all([k for k in z.names if k != "metadata"])
        if not isinstance(meta, dict) or meta.get("schema") != CHECKPOINT_SCHEMA:
            raise CheckpointError(f"{where} is not a kinetic Monte Carlo checkpoint (schema {CHECKPOINT_SCHEMA!r})")
        if meta.get("spec") != spec.fingerprint() or meta.get("seed") != int(seed) or meta.get("replica") != int(replica):
            raise CheckpointMismatchError(
                f"{where} belongs to another simulation (different model, rates, size, times, seed or replica); "
                "remove it or use another output file"
            )
        try:
            return cls(spec, seed, replica, _restore=arrays)
        except CheckpointError:
            raise
        except (LatticeClosureError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise CheckpointError(f"{where} cannot be resumed: {str(exc)[:160]}") from None
