"""Independent replicas of a simulation, in parallel, combined into one trajectory dataset.

Replica ``r`` of seed ``s`` is seeded by ``SeedSequence(s, spawn_key=(r,))`` (see
:mod:`latticeclosure.kmc.run`), so the dataset is the same bit for bit whatever the executor, the
number of workers or the order in which replicas finish. With several replicas the trajectory's
``concentrations`` are the replica mean, and ``replica_concentrations`` / ``replica_step`` hold every
replica (see ``docs/data-format.md``); configurations, if saved, are those of replica 0.

Checkpoints: one file per replica (``<checkpoint>`` itself for a single replica, else
``<stem>.replica<r>.npz``), written while it runs and when it finishes; a replica whose checkpoint
exists resumes from it (a finished one is read back as it is).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..errors import ConfigurationError
from .run import KMCRun
from .spec import KMCSpec

if TYPE_CHECKING:  # pragma: no cover
    from ..data import Trajectory

__all__ = ["simulate", "combine", "remove_checkpoints", "replica_checkpoint", "run_replica", "trajectory_metadata",
           "check_simulation_memory", "BACKEND_NAME"]

BACKEND_NAME = "kmc"


def replica_checkpoint(checkpoint: str | os.PathLike | None, replica: int, replicas: int) -> Path | None:
    """The checkpoint file of one replica (``None`` without checkpointing)."""
    if checkpoint is None:
        return None
    path = Path(checkpoint)
    if replicas == 1:
        return path
    return path.with_name(f"{path.stem}.replica{replica}{path.suffix or '.npz'}")


def run_replica(spec: KMCSpec, seed: int, replica: int, checkpoint: str | None = None,
                checkpoint_every: float = 60.0, progress: Callable[[float, float], None] | None = None) -> dict[str, Any]:
    """Run (or resume) one replica to the end; return its record arrays and event count.

    A top-level function of plain arguments, so it runs in worker processes of any executor
    (including spawned ones).
    """
    if checkpoint is not None and not Path(checkpoint).parent.is_dir():
        checkpoint = None  # a worker on a machine without the output's file system runs without one
    from ..errors import CheckpointError, CheckpointMismatchError
    from ..simulation.workers import exit_if_orphaned

    run = None
    if checkpoint is not None and Path(checkpoint).exists():
        try:
            run = KMCRun.from_checkpoint(checkpoint, spec, seed, replica)
        except CheckpointMismatchError:
            raise
        except CheckpointError as exc:  # a corrupt checkpoint costs its replica, not the whole resume
            from ..simulation.sweep import set_aside

            moved = set_aside(Path(checkpoint))
            print(f"warning: {exc}; set aside as {moved.name}; replica {replica} starts afresh", file=sys.stderr)
    if run is None:
        run = KMCRun(spec, seed, replica)

    def report(done: float, total: float) -> None:
        exit_if_orphaned()  # a worker whose coordinator was killed stops before writing anything
        if progress is not None:
            progress(done, total)

    run.run(checkpoint=checkpoint, checkpoint_every=checkpoint_every, progress=report)
    out = run.arrays()
    out["events"] = run.events
    out["classes"] = [c.name for c in run.counter.classes]
    return out


def simulate(
    spec: KMCSpec,
    seed: int = 0,
    replicas: int = 1,
    *,
    executor: Any = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: float = 60.0,
    progress: Callable[[float, float], None] | None = None,
) -> "Trajectory":
    """Simulate ``replicas`` independent replicas and return the trajectory dataset.

    Parameters
    ----------
    spec : KMCSpec
        What to simulate (:func:`~latticeclosure.kmc.spec.make_spec`).
    seed : int, default 0
    replicas : int, default 1
    executor : ExecutorSpec, ExecutorSession or concurrent.futures.Executor, optional
        Runs the replicas (:mod:`latticeclosure.parallel`); default: one replica in this process,
        several in local worker processes (at most one per core) — or in this process when this
        is itself a worker of a parallel stage (e.g. a sweep's), which must not start processes.
    checkpoint : path-like, optional
        Checkpoint file (one per replica, see the module docstring). The caller removes the files
        once the result is stored (:func:`remove_checkpoints`).
    checkpoint_every : float, default 60
        Seconds between checkpoints.
    progress : callable, optional
        ``progress(done, total)``: simulated time of the single replica, or finished replicas.

    Returns
    -------
    Trajectory
        Physical time (``time_unit`` "physical time"); see the module docstring for replicas.
    """
    if isinstance(replicas, bool) or not isinstance(replicas, (int, np.integer)) or replicas < 1:
        raise ConfigurationError(f"the number of replicas must be a positive integer, got {replicas!r}")
    replicas = int(replicas)
    check_simulation_memory(spec, copies=1 if replicas == 1 and executor is None else min(replicas, os.cpu_count() or 1))
    paths = [replica_checkpoint(checkpoint, r, replicas) for r in range(replicas)]
    if replicas == 1 and executor is None:
        results = [run_replica(spec, seed, 0, None if paths[0] is None else str(paths[0]), checkpoint_every, progress)]
    else:
        from ..parallel import ExecutorSpec, inside_worker, open_executor, run_keyed

        finished: dict[int, dict[str, Any]] = {}

        def arrived(r: int, result: dict[str, Any]) -> None:
            finished[r] = result
            if progress is not None:
                progress(float(len(finished)), float(replicas))

        # checkpoints by absolute path: workers may run in another working directory
        jobs = [(r, (spec, seed, r, None if paths[r] is None else str(paths[r].absolute()), checkpoint_every))
                for r in range(replicas)]
        default = ExecutorSpec("local", 1 if inside_worker() else None)
        with open_executor(default if executor is None else executor, tasks=replicas) as session:
            run_keyed(session, run_replica, jobs, arrived, describe=lambda r: f"replica {r}")
        results = [finished[r] for r in range(replicas)]  # in replica order, whatever finished first
    return combine(spec, seed, results)


#: Memory per lattice site assumed by the estimate before a simulation (configuration, event-class
#: lists and positions, counting tables; generous for large coordinations).
BYTES_PER_SITE = 2048


def check_simulation_memory(spec: KMCSpec, copies: int = 1) -> None:
    """Refuse, before anything is allocated, a simulation (``copies`` replicas at once) that needs more
    memory than the machine has (:func:`latticeclosure.simulation.resources.check_memory`).

    Raises
    ------
    ResourceLimitError
    """
    from ..simulation.resources import check_memory, estimated_memory

    n_sites = int(np.prod(spec.size)) * len(spec.lattice.basis)
    n_records = len(spec.record_times())
    q = len(spec.species)
    n_classes = sum(q**k for k in range(1, int(spec.max_class_size) + 1))
    needed = estimated_memory(n_sites, n_records, n_classes, bool(spec.save_configurations), BYTES_PER_SITE, copies)
    check_memory(needed, f"simulating {copies} replica(s) of {n_sites} sites with {n_records} records")


def remove_checkpoints(checkpoint: str | os.PathLike | None, replicas: int) -> None:
    """Delete the checkpoint files of a finished simulation."""
    for r in range(int(replicas)):
        path = replica_checkpoint(checkpoint, r, int(replicas))
        if path is not None and path.exists():
            path.unlink()


def trajectory_metadata(spec: KMCSpec, seed: int, replicas: int, classes: list, events: int) -> dict[str, Any]:
    """The dataset metadata of a simulation."""
    from .. import __version__
    from ..data.classes import records_for
    from ..data.trajectory import PHYSICAL_TIME, SCHEMA

    class_records, shape_records = records_for(classes, spec.species)
    sc = spec.supercell()
    return {
        "schema": SCHEMA,
        "model": spec.model,
        "model_info": spec.model_info,
        "backend": BACKEND_NAME,
        "lattice": spec.lattice.to_json(),
        "supercell": list(spec.size),
        "n_sites": sc.n_sites,
        "seed": int(seed),
        "replicas": int(replicas),
        "seeding": "replica r: numpy SeedSequence(seed, spawn_key=(r,)); children: initial sites, event stream",
        "species": list(spec.species),
        "normalisation": "per-shape",
        "time_unit": PHYSICAL_TIME,
        "time_end": spec.time,
        "record_every": spec.record_every,
        "dynamics": spec.dynamics_record(),
        "rates": dict(spec.rates),
        "initial": dict(spec.initial),
        "initial_condition": "every site independently, with the initial fractions as probabilities",
        "max_class_size": spec.max_class_size,
        "events": int(events),
        "classes": class_records,
        "shapes": shape_records,
        "software": {"latticeclosure": __version__},
    }


def combine(spec: KMCSpec, seed: int, results: list[dict[str, Any]]) -> "Trajectory":
    """One trajectory from the record arrays of the replicas (mean concentrations, per-replica arrays)."""
    from ..clusters import ConnectedEnumerator, enumerate_classes
    from ..data import Trajectory

    shapes = ConnectedEnumerator().enumerate(spec.lattice, spec.max_class_size)
    classes = [c for s in shapes for c in enumerate_classes(s, spec.species)]
    names = [c.name for c in classes]
    for res in results:
        if res["classes"] != names:  # pragma: no cover - same code, same enumeration
            raise ConfigurationError("replicas recorded different classes")
    conc = np.stack([res["concentrations"] for res in results])
    steps = np.stack([res["step"] for res in results])
    arrays: dict[str, Any] = {
        "step": steps.sum(axis=0),
        "time": results[0]["time"],
        "concentrations": conc.mean(axis=0) if len(results) > 1 else conc[0],
        "final_configuration": results[0]["final_configuration"],
    }
    if "configurations" in results[0]:
        arrays["configurations"] = results[0]["configurations"]
    if len(results) > 1:
        arrays["replica_step"] = steps
        arrays["replica_concentrations"] = conc
    events = int(sum(res["events"] for res in results))
    return Trajectory(trajectory_metadata(spec, seed, len(results), classes, events), arrays)
