"""Resumable parallel sweeps: run simulation tasks on any executor, save each result at once.

:func:`run_tasks` runs every :class:`~latticeclosure.simulation.SimulationTask` with its data backend
on an executor (:mod:`latticeclosure.parallel`: ``workers`` local processes by default — one runs in
this process — or a Dask cluster). Every finished trajectory comes back to this process, which
writes it atomically to ``OUT/<stem>.npz`` as soon as it arrives (``x0.25_seed0.npz``) and rewrites
``OUT/manifest.json`` (also atomically), listing the parameters and the finished tasks. Long tasks
also checkpoint (``OUT/<stem>.checkpoint.npz``, every ``checkpoint_every`` seconds, written by the
worker where it sees ``OUT``), so an interrupted sweep, a lost worker or a killed coordinator loses
no finished result and little unfinished work: ``resume=True`` skips every task whose trajectory
file exists, loads, validates and was written for the same task (every parameter compared), and
resumes the others from their checkpoints. Each task's random stream is its own seed: results do
not depend on the executor, the number of workers or the order in which tasks finish.

Example
-------
>>> from latticeclosure.simulation import run_sweep
>>> result = run_sweep("ising-square", [0.25, 1/3, 0.5], seeds=[0], L=24, out_dir="runs", workers=2)  # doctest: +SKIP
>>> [t.x for t in result.trajectories()]                                                     # doctest: +SKIP
[0.25, 0.3333333333333333, 0.5]
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import CheckpointError, ConfigurationError, DataError, LatticeClosureError, OutputDirectoryError
from ..io.outdir import prepare_output_directory
from ..io.runlock import RunLock
from ..progress import get_logger
from .task import SimulationTask
from .workers import exit_if_orphaned

if TYPE_CHECKING:  # pragma: no cover
    from ..data import Trajectory

__all__ = ["SweepResult", "run_tasks", "run_sweep", "sweep_tasks", "check_tasks", "run_simulation_task",
           "trajectory_summary", "set_aside", "announce_duration", "MANIFEST", "MANIFEST_SCHEMA"]

MANIFEST = "manifest.json"
MANIFEST_SCHEMA = "latticeclosure.sweep-manifest/2"


@dataclass
class SweepResult:
    """What a sweep produced.

    Attributes
    ----------
    out_dir : Path
    tasks : list of SimulationTask
        All tasks of the sweep, sorted by grid point then seed.
    ran, skipped : list of SimulationTask
        Tasks run now, and tasks already finished (resume).
    summaries : dict
        Per task file name: grid point, seed, realised composition, final energy, its lower bound and
        wall time, where the trajectory has them.
    """

    out_dir: Path
    tasks: list[SimulationTask]
    ran: list[SimulationTask] = field(default_factory=list)
    skipped: list[SimulationTask] = field(default_factory=list)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def path(self, task: SimulationTask) -> Path:
        return self.out_dir / task.filename

    @property
    def paths(self) -> list[Path]:
        return [self.path(t) for t in self.tasks]

    def trajectories(self) -> list["Trajectory"]:
        """All trajectories (loaded and validated), in task order."""
        from ..data import Trajectory

        return [Trajectory.load(p) for p in self.paths]

    def trajectory(self, value: float, seed: int | None = None, parameter: str | None = None) -> "Trajectory":
        """The trajectory at grid value ``value`` (of ``parameter``, default the grid's first) and ``seed``."""
        from ..data import Trajectory

        for task in self.tasks:
            name = parameter or next(iter(task.point))
            if math.isclose(task.point.get(name, math.nan), value, rel_tol=0, abs_tol=1e-12) and (
                seed is None or task.seed == seed
            ):
                return Trajectory.load(self.path(task))
        raise LatticeClosureError(
            f"the sweep has no run with {parameter or 'grid value'} {value!r}" + (f", seed {seed}" if seed is not None else "")
        )


# ---------------------------------------------------------------------------------- worker side
def run_simulation_task(backend: Any, task: SimulationTask, checkpoint: str | None,
                        checkpoint_every: float | None) -> tuple["Trajectory", float]:
    """Run one checked task; return its trajectory and wall time (the task of a sweep's workers).

    Runs in a worker process of any executor, on any machine: it writes nothing but its own
    checkpoint — and that only where the checkpoint's directory exists (a worker on another machine
    without the shared file system runs without one). The coordinating process writes the result.
    A checkpoint the backend cannot resume (:class:`~latticeclosure.errors.CheckpointError`: corrupt,
    truncated, or written for another run) is set aside (:func:`set_aside`) and the task starts
    afresh. A local worker whose coordinator is gone stops without returning anything.
    """
    t0 = time.perf_counter()
    usable = Path(checkpoint) if checkpoint_every and checkpoint and Path(checkpoint).parent.is_dir() else None

    def run() -> "Trajectory":
        return backend.run_task(task, checkpoint=usable, checkpoint_every=checkpoint_every or 0.0,
                                progress=lambda step, total: exit_if_orphaned())

    try:
        traj = run()
    except CheckpointError as exc:
        if usable is None or not usable.exists():
            raise
        moved = set_aside(usable)
        print(f"warning: {_short(exc)}; set aside as {moved.name}, {task.stem} starts afresh", file=sys.stderr)
        traj = run()
    exit_if_orphaned()
    return traj, time.perf_counter() - t0


def _short(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def set_aside(path: Path) -> Path:
    """Rename a file that cannot be used (``NAME`` → ``NAME.corrupt``, ``NAME.corrupt-2``, …); return the new path."""
    target = path.with_name(path.name + ".corrupt")
    k = 1
    while target.exists():
        k += 1
        target = path.with_name(f"{path.name}.corrupt-{k}")
    os.replace(path, target)
    return target


def trajectory_summary(traj: "Trajectory", task: SimulationTask, wall: float | None) -> dict[str, Any]:
    """What a manifest and a report say about one finished task (fields the trajectory has)."""
    energy = traj.energy_per_site
    meta = traj.metadata
    return {
        "point": dict(task.point),
        "seed": task.seed,
        "file": task.filename,
        "x_realised": meta.get("x_realised"),
        "final_energy_per_site": None if energy is None else float(energy[-1]),
        "lower_bound_per_site": (meta.get("energy") or {}).get("lower_bound_per_site"),
        "wall_time_s": None if wall is None else round(wall, 3),
    }


# ---------------------------------------------------------------------------------- driver
def sweep_tasks(
    model: Any,
    values: Sequence[float],
    seeds: Sequence[int] = (0,),
    *,
    parameter: str = "x",
    size: Any = None,
    settings: dict[str, Any] | None = None,
    backend: Any = None,
) -> list[SimulationTask]:
    """The tasks of a one-parameter grid × seeds, sorted by value then seed.

    Raises
    ------
    ConfigurationError
        For no values or seeds, a value that is not a finite number, a negative or non-integer
        seed, or a value or seed given twice.
    """
    for what, seq in (("grid values", values), ("seeds", seeds)):
        if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence) and not hasattr(seq, "__len__"):
            raise ConfigurationError(f"the sweep's {what} must be a list, got {type(seq).__name__}")
    if not len(values):
        raise ConfigurationError("the sweep has no grid values")
    if not len(seeds):
        raise ConfigurationError("the sweep has no seeds")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not float(s).is_integer() or s < 0:
            raise ConfigurationError(f"seed {s!r} must be a non-negative integer")
    _refuse_duplicates(values, parameter)
    _refuse_duplicates(seeds, "seed")
    name = getattr(backend, "name", backend) or ""
    tasks = {
        (float(v), int(s)): SimulationTask(model, {parameter: v}, int(s), size, dict(settings or {}), name)
        for v in values
        for s in seeds
    }
    return [tasks[k] for k in sorted(tasks)]


#: Runs estimated to take longer than this many seconds are announced before they start.
LONG_RUN_SECONDS = 600.0


def estimated_duration(backend: Any, tasks: Sequence[SimulationTask], workers: int) -> float | None:
    """Rough wall time of the tasks on ``workers`` processes, from the backend's optional
    ``estimate_seconds(task)``; None when the backend gives no estimate."""
    estimate = getattr(backend, "estimate_seconds", None)
    if not callable(estimate) or not tasks:
        return None
    try:
        per_task = sorted((float(estimate(t)) for t in tasks), reverse=True)
    except (LatticeClosureError, TypeError, ValueError, AttributeError):
        return None
    lanes = [0.0] * max(1, min(workers, len(per_task)))
    for seconds in per_task:  # longest first onto the least loaded worker
        lanes[lanes.index(min(lanes))] += seconds
    return max(lanes)


def announce_duration(backend: Any, tasks: Sequence[SimulationTask], workers: int, label: str = "sweep") -> None:
    """Say so on stderr, with the estimate, when the tasks will take longer than :data:`LONG_RUN_SECONDS`."""
    from ..io.tables import format_duration

    seconds = estimated_duration(backend, tasks, workers)
    if seconds is not None and seconds > LONG_RUN_SECONDS:
        print(f"notice: this {label} of {len(tasks)} run(s) will take {format_duration(seconds)} on "
              f"{min(workers, len(tasks))} worker(s) (a rough estimate); finished runs are saved as they "
              "complete, and an interrupted run continues with --resume", file=sys.stderr)


def _refuse_duplicates(values: Sequence[Any], what: str) -> None:
    seen: set[float] = set()
    for v in values:
        try:
            key = float(v)
        except (TypeError, ValueError):
            raise ConfigurationError(f"{what} value {v!r} is not a number") from None
        if key in seen:
            raise ConfigurationError(f"{what} {v!r} is given twice; give every value once")
        seen.add(key)


def check_tasks(backend: Any, tasks: Sequence[SimulationTask]) -> list[SimulationTask]:
    """Every task checked by the backend (defaults filled in); two tasks may not share a file name.

    Raises
    ------
    LatticeClosureError
        A task the backend refuses; ConfigurationError for two grid points with one file name.
    """
    checked = [backend.check_task(t) for t in tasks]
    stems: dict[str, SimulationTask] = {}
    for t in checked:
        if t.stem in stems:
            raise ConfigurationError(
                f"grid points {stems[t.stem].describe()} and {t.describe()} map to the same file name "
                f"{t.filename}; give values that differ in their first 6 significant digits"
            )
        stems[t.stem] = t
    return checked


def _shared_parameters(tasks: Sequence[SimulationTask]) -> dict[str, Any]:
    first = tasks[0].to_json()
    return {k: v for k, v in first.items() if k not in ("point", "seed")}


def _write_manifest(out: Path, parameters: dict[str, Any], tasks: Sequence[SimulationTask], summaries: dict[str, Any], model: Any) -> None:
    from ..io import write_json_atomic

    to_json = getattr(model, "to_json", None)
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "parameters": parameters,
        "model_info": to_json() if callable(to_json) else {"name": getattr(model, "name", None)},
        "tasks": [
            {"point": t.point, "seed": t.seed, "file": t.filename,
             "status": "done" if t.filename in summaries else "pending",
             **({k: v for k, v in summaries[t.filename].items() if k not in ("point", "seed", "file")}
                if t.filename in summaries else {})}
            for t in tasks
        ],
    }
    write_json_atomic(out / MANIFEST, manifest)


def _finished(out: Path, task: SimulationTask) -> dict[str, Any] | None:
    """The summary of a finished task whose file loads, validates and was written for this task."""
    from ..data import Trajectory

    path = out / task.filename
    if not path.exists():
        return None
    try:
        traj = Trajectory.load(path)
    except DataError as exc:
        get_logger("simulation").warning("%s; running %s again", exc, task.filename)
        return None
    recorded = traj.metadata.get("task")
    if recorded != task.to_json():
        get_logger("simulation").warning("%s belongs to another run; running %s again", path, task.filename)
        return None
    return trajectory_summary(traj, task, None)


def _check_resumable(out: Path, parameters: dict[str, Any]) -> None:
    manifest_path = out / MANIFEST
    if not manifest_path.exists():
        return
    from ..io.reading import load_json

    old = load_json(manifest_path, what="sweep manifest", error=OutputDirectoryError)
    previous = old.get("parameters") if isinstance(old, dict) else None
    if previous != parameters:
        previous = previous if isinstance(previous, dict) else {}
        diff = sorted(k for k in set(parameters) | set(previous) if previous.get(k) != parameters.get(k))
        raise OutputDirectoryError(
            f"{out} holds a sweep with other parameters ({', '.join(diff)}); resume needs the "
            "same model, backend, size and settings, or use another output directory"
        )


def run_tasks(
    tasks: Sequence[SimulationTask],
    backend: Any,
    *,
    out_dir: str | os.PathLike,
    workers: int = 1,
    executor: Any = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
    checkpoint_every: float | None = 60.0,
    mp_context: str | None = None,
    label: str = "sweep",
) -> SweepResult:
    """Run every task with ``backend`` and save each trajectory into ``out_dir`` as soon as it finishes.

    Parameters
    ----------
    tasks : sequence of SimulationTask
    backend : DataBackend
        Any object with ``check_task`` and ``run_task`` (:class:`~latticeclosure.protocols.DataBackend`);
        an optional ``warm_up(task)`` is called once before local worker processes are forked (e.g.
        to load compiled kernels they then inherit).
    out_dir : path-like
        Output directory (created if needed).
    workers : int, default 1
        Local worker processes when no ``executor`` is given; 1 runs the tasks in this process.
    executor : ExecutorSpec, ExecutorSession or concurrent.futures.Executor, optional
        Where the tasks run (:mod:`latticeclosure.parallel`), e.g.
        ``ExecutorSpec("dask", scheduler="tcp://head:8786")``; default ``workers`` local processes.
        Results come back to this process, which writes them: workers need no access to
        ``out_dir`` (with it, they also checkpoint there).
    resume : bool
        Keep finished (loadable, valid, same-task) trajectories and run the rest.
    overwrite : bool
        Allow a non-empty ``out_dir`` and replace the sweep's files as new results arrive.
    progress : bool, optional
        Show a progress bar; default when stderr is a terminal (see :func:`latticeclosure.progress.progress_enabled`).
    checkpoint_every : float or None, default 60
        Seconds between checkpoints of a running task (``None``: no checkpoints).
    mp_context : str, optional
        Start method of the local processes: ``"fork"`` (default on Linux in a single-threaded
        process), ``"spawn"`` or ``"forkserver"``.
    label : str
        Progress-bar label.

    Returns
    -------
    SweepResult

    Raises
    ------
    OutputDirectoryError
        ``out_dir`` exists and is not empty without ``resume``/``overwrite``, another run holds it
        (:class:`~latticeclosure.io.runlock.RunLock`), or ``resume`` finds a manifest of a sweep with
        other parameters.
    LatticeClosureError
        Bad tasks (checked by the backend before anything runs).
    ExecutorError
        The executor cannot start, or workers kept dying (finished results are saved).
    """
    if resume and overwrite:
        raise ConfigurationError("give either resume or overwrite, not both")
    if isinstance(workers, bool) or int(workers) != workers or workers < 1:
        raise ConfigurationError(f"workers must be a positive integer, got {workers!r}")
    if not tasks:
        raise ConfigurationError("the sweep has no tasks")
    workers = int(workers)
    tasks = sorted(check_tasks(backend, tasks), key=lambda t: t.sort_key)
    model = tasks[0].model
    out = Path(out_dir)
    prepare_output_directory(out, overwrite=overwrite, resume=resume)
    with RunLock(out, label):
        return _run_locked(backend, tasks, out, model, resume=resume, progress=progress,
                           checkpoint_every=checkpoint_every, mp_context=mp_context, label=label, workers=workers,
                           overwrite=overwrite, executor=executor)


def _run_locked(backend: Any, tasks: list[SimulationTask], out: Path, model: Any, *, resume: bool, overwrite: bool,
                progress: bool | None, checkpoint_every: float | None, mp_context: str | None, label: str,
                workers: int, executor: Any = None) -> SweepResult:
    """:func:`run_tasks` once the output directory is locked."""
    parameters = _shared_parameters(tasks)
    summaries: dict[str, dict[str, Any]] = {}
    result = SweepResult(out, list(tasks))
    if resume:
        _check_resumable(out, parameters)
        for task in tasks:
            done = _finished(out, task)
            if done is not None:
                summaries[task.filename] = done
                result.skipped.append(task)
    todo = [t for t in tasks if t.filename not in summaries]
    announce_duration(backend, todo, workers, label)
    for stale in out.glob(".*.tmp"):  # temporary files of writes cut short by an earlier, dead run
        stale.unlink()
    if overwrite:
        for task in todo:  # checkpoints of the replaced sweep must not be resumed
            if (out / task.checkpoint_name).exists():
                set_aside(out / task.checkpoint_name)
    _write_manifest(out, parameters, tasks, summaries, model)
    if not todo:
        result.summaries.update(summaries)
        return result

    if not todo:
        result.summaries.update(summaries)
        return result

    from ..parallel import open_executor
    from ..progress import progress_bar, progress_enabled

    show = progress_enabled(progress)
    warm_up = getattr(backend, "warm_up", None)
    before_fork = (lambda: warm_up(todo[0])) if callable(warm_up) else None
    with open_executor(executor, workers=workers, start_method=mp_context, tasks=len(todo),
                       before_fork=before_fork) as session:
        # the bar after the executor: a forked pool starts its workers before any thread exists, and
        # a hidden bar is no tqdm object at all (even disabled, one starts a monitor thread)
        bar = (progress_bar(total=len(tasks), initial=len(tasks) - len(todo),
                            desc=f"{label} {getattr(model, 'name', '')}", unit="run", enabled=True)
               if show else _NoBar())

        def finished(task: SimulationTask, output: tuple["Trajectory", float]) -> None:
            traj, seconds = output
            traj.save(out / task.filename)
            (out / task.checkpoint_name).unlink(missing_ok=True)
            summary = trajectory_summary(traj, task, seconds)
            summaries[task.filename] = summary
            result.ran.append(task)
            result.summaries[task.filename] = summary
            _write_manifest(out, parameters, tasks, summaries, model)
            bar.update(1)
            bar.set_postfix_str(task.stem)

        try:
            _execute(session, backend, todo, out, checkpoint_every, finished)
        finally:
            bar.close()
    result.summaries.update({k: v for k, v in summaries.items() if k not in result.summaries})
    return result


class _NoBar:
    """Stands in for a hidden progress bar (a tqdm object, even disabled, starts a monitor thread)."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _execute(session: Any, backend: Any, todo: Sequence[SimulationTask], out: Path,
             checkpoint_every: float | None, finished: Any) -> None:
    """Run the tasks on the session's executor; ``finished(task, (trajectory, seconds))`` writes each.

    Checkpoints are named by absolute path: a worker may run in another working directory.
    """
    from ..parallel import run_keyed

    base = out.absolute()
    by_stem = {t.stem: t for t in todo}
    jobs = [(t.stem, (backend, t, str(base / t.checkpoint_name) if checkpoint_every else None, checkpoint_every))
            for t in todo]
    run_keyed(session, run_simulation_task, jobs, lambda stem, output: finished(by_stem[stem], output),
              describe=lambda stem: by_stem[stem].describe())


def run_sweep(
    model: Any = None,
    values: Sequence[float] | None = None,
    seeds: Sequence[int] = (0,),
    L: Any = None,
    *,
    out_dir: str | os.PathLike,
    backend: Any = None,
    parameter: str = "x",
    settings: dict[str, Any] | None = None,
    **options: Any,
) -> SweepResult:
    """Run a model's one-parameter grid × seeds with a data backend (see :func:`run_tasks`).

    Parameters
    ----------
    model : Model or str, optional
        Default: the backend's default model.
    values : sequence of float, optional
        Grid values of ``parameter``; default the model's stoichiometries.
    seeds : sequence of int, default (0,)
    L : int, optional
        Lattice side; default the model's ``default_size``.
    out_dir : path-like
    backend : DataBackend or str, optional
        Default: a registered data backend whose default model is ``model``.
    parameter : str, default "x"
        The grid parameter (``x``: the stoichiometry of composition-conserving models).
    settings : dict, optional
        Backend settings (annealer: ``schedule``, ``record_every``, ``kernel``, ``class_sizes``,
        ``save_configurations``).
    **options
        Passed to :func:`run_tasks` (``workers``, ``resume``, ``overwrite``, ``progress``,
        ``checkpoint_every``, ``mp_context``).
    """
    be, mdl = resolve_backend_model(model, backend)
    grid = list(getattr(mdl, "stoichiometries", ()) or ()) if values is None else list(values)
    tasks = sweep_tasks(mdl, grid, seeds, parameter=parameter, size=L, settings=settings, backend=be)
    return run_tasks(tasks, be, out_dir=out_dir, **options)


def resolve_backend_model(model: Any = None, backend: Any = None) -> tuple[Any, Any]:
    """The data backend and model object for names or objects (``None``: defaults).

    A model given without a backend uses the backend its study declares, else the registered
    backend whose default model it is; a backend given without a model uses its default model.

    Raises
    ------
    ConfigurationError
        If no backend can be found for the model, or the model cannot be resolved.
    """
    from ..registry import get_registry

    reg = get_registry()
    if backend is not None:
        be = reg.resolve("data_backends", backend)
    else:
        name = getattr(model, "name", model)
        study = getattr(reg.resolve("models", model), "study", None) if model is not None else None
        declared = getattr(study, "backend", None)
        if declared is not None:
            be = reg.resolve("data_backends", declared)
        else:
            matches = [b for b in reg.all("data_backends").values() if _default_model_name(b) == name]
            if not matches:
                raise ConfigurationError(
                    f"no data backend is declared for model {name!r}; give one (--backend NAME); "
                    f"registered: {', '.join(reg.names('data_backends')) or 'none'}"
                )
            be = matches[0]
    if model is None:
        resolve = getattr(be, "resolve_model", None)
        if not callable(resolve):
            raise ConfigurationError(f"data backend {be.name!r} has no default model; give one (--model NAME)")
        mdl = resolve(None)
    else:
        mdl = reg.resolve("models", model)
    return be, mdl


def _default_model_name(backend: Any) -> Any:
    default = getattr(backend, "default_model", None)
    return getattr(default, "name", default)
