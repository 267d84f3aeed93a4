"""Stoichiometry × seed sweeps of a data backend, in parallel on the local cores, resumable.

:func:`run_sweep` runs one annealing job per (x, seed) with a :class:`concurrent.futures.ProcessPoolExecutor`
of ``workers`` processes (``workers=1`` runs in this process). Every finished trajectory is written
atomically to ``OUT/x<x>_seed<seed>.npz`` by the worker as soon as it finishes, and
``OUT/manifest.json`` (also written atomically) lists the parameters and the finished jobs. Long jobs
also checkpoint (``OUT/x<x>_seed<seed>.checkpoint.npz``, every ``checkpoint_every`` seconds), so an
interrupted sweep loses no finished result and little unfinished work: ``resume=True`` skips every
job whose trajectory file exists and loads and validates, and resumes the others from their
checkpoints.

Example
-------
>>> from latticeclosure.sweep import run_sweep
>>> result = run_sweep("nmc", [0.25, 1/3, 0.5], seeds=[0], L=24, out_dir="runs", workers=2)  # doctest: +SKIP
>>> [t.x for t in result.trajectories()]                                                     # doctest: +SKIP
[0.25, 0.3333333333333333, 0.5]
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .errors import ConfigurationError, DataError, LatticeClosureError, OutputDirectoryError

if TYPE_CHECKING:  # pragma: no cover
    from .anneal.backend import AnnealBackend
    from .anneal.schedule import Schedule
    from .data import Trajectory
    from .model import Model

__all__ = [
    "SweepJob",
    "SweepResult",
    "OutputDirectoryError",
    "run_sweep",
    "resolve_backend_model",
    "MANIFEST",
    "MANIFEST_SCHEMA",
]

MANIFEST = "manifest.json"
MANIFEST_SCHEMA = "latticeclosure.sweep-manifest/1"


@dataclass(frozen=True, order=True)
class SweepJob:
    """One run of a sweep: stoichiometry ``x`` and ``seed``."""

    x: float
    seed: int

    @property
    def stem(self) -> str:
        """File name stem, e.g. ``x0.333333_seed0``."""
        return f"x{self.x:.6g}_seed{self.seed}"

    @property
    def filename(self) -> str:
        return self.stem + ".npz"

    @property
    def checkpoint_name(self) -> str:
        return self.stem + ".checkpoint.npz"


@dataclass
class SweepResult:
    """What a sweep produced.

    Attributes
    ----------
    out_dir : Path
    jobs : list of SweepJob
        All jobs of the sweep, sorted by x then seed.
    ran, skipped : list of SweepJob
        Jobs run now, and jobs already finished (resume).
    summaries : dict
        Per job file name: x, x_realised, seed, final energy per site, its lower bound, wall time.
    """

    out_dir: Path
    jobs: list[SweepJob]
    ran: list[SweepJob] = field(default_factory=list)
    skipped: list[SweepJob] = field(default_factory=list)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def path(self, job: SweepJob) -> Path:
        return self.out_dir / job.filename

    @property
    def paths(self) -> list[Path]:
        return [self.path(j) for j in self.jobs]

    def trajectories(self) -> list["Trajectory"]:
        """All trajectories (loaded and validated), in job order."""
        from .data import Trajectory

        return [Trajectory.load(p) for p in self.paths]

    def trajectory(self, x: float, seed: int | None = None) -> "Trajectory":
        """The trajectory of stoichiometry ``x`` (and ``seed``; default the first one)."""
        from .data import Trajectory

        for job in self.jobs:
            if math.isclose(job.x, x, rel_tol=0, abs_tol=1e-12) and (seed is None or job.seed == seed):
                return Trajectory.load(self.path(job))
        raise LatticeClosureError(f"the sweep has no run with x={x!r}" + (f", seed={seed}" if seed is not None else ""))


# ---------------------------------------------------------------------------------- worker side
def _run_job(backend: "AnnealBackend", model: "Model", job: SweepJob, params: dict[str, Any], out_dir: str) -> dict[str, Any]:
    """Run one job and save its trajectory atomically (runs in a worker process)."""
    t0 = time.perf_counter()
    out = Path(out_dir)
    ckpt = out / job.checkpoint_name
    traj = backend.run(
        model,
        job.x,
        params["L"],
        job.seed,
        params["schedule"],
        params["record_every"],
        kernel=params["kernel"],
        class_sizes=params["class_sizes"],
        save_configurations=params["save_configurations"],
        checkpoint=ckpt if params["checkpoint_every"] else None,
        checkpoint_every=params["checkpoint_every"] or 0.0,
    )
    traj.save(out / job.filename)
    if ckpt.exists():
        ckpt.unlink()
    return _summary(traj, job, time.perf_counter() - t0)


def _summary(traj: "Trajectory", job: SweepJob, wall: float | None) -> dict[str, Any]:
    energy = traj.energy_per_site
    return {
        "x": job.x,
        "seed": job.seed,
        "file": job.filename,
        "x_realised": traj.x,
        "final_energy_per_site": None if energy is None else float(energy[-1]),
        "lower_bound_per_site": (traj.metadata.get("energy") or {}).get("lower_bound_per_site"),
        "wall_time_s": None if wall is None else round(wall, 3),
    }


def _ignore_sigint() -> None:
    """Worker initialiser: Ctrl-C is handled by the parent, which stops the workers."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _warm_up(backend: "AnnealBackend", model: "Model", params: dict[str, Any], x: float) -> None:
    """Load (or compile) the kernels in this process before forking workers."""
    from .anneal.schedule import Schedule

    try:
        backend.run(model, x, params["L"], 0, Schedule([1.0], [1.0 / 64]), None,
                    kernel=params["kernel"], class_sizes=params["class_sizes"])
    except LatticeClosureError:
        pass  # the real job will report the error


# ---------------------------------------------------------------------------------- driver
def resolve_backend_model(model: Any = None, backend: Any = None) -> tuple["AnnealBackend", "Model"]:
    """The data backend and model object for names or objects (``None``: defaults).

    A model given by name picks the registered annealer whose default model it is; a backend given
    without a model uses the backend's default model.
    """
    from .anneal.backend import AnnealBackend
    from .model import Model

    if backend is None or isinstance(backend, str):
        from .registry import get_data_backend, get_registry

        if backend is None:
            backends = [b for b in get_registry().all("data_backends").values() if isinstance(b, AnnealBackend)]
            name = getattr(model, "name", model)
            match = [b for b in backends if getattr(b.default_model, "name", b.default_model) == name]
            backend = match[0] if match else (backends[0] if backends else AnnealBackend())
        else:
            backend = get_data_backend(backend)
    if not hasattr(backend, "run") or not hasattr(backend, "resolve_model"):
        raise ConfigurationError(f"data backend {getattr(backend, 'name', backend)!r} cannot run sweeps")
    mdl = backend.resolve_model(model) if not isinstance(model, Model) else model
    return backend, mdl


def _jobs(stoichiometries: Iterable[float], seeds: Iterable[int]) -> list[SweepJob]:
    xs = []
    for x in stoichiometries:
        try:
            xv = float(x)
        except (TypeError, ValueError):
            raise ConfigurationError(f"stoichiometry {x!r} is not a number") from None
        if not math.isfinite(xv) or not 0 < xv < 1:
            raise ConfigurationError(f"stoichiometry x = {x!r} must lie strictly between 0 and 1")
        xs.append(xv)
    sd = []
    for s in seeds:
        if isinstance(s, bool) or int(s) != s or int(s) < 0:
            raise ConfigurationError(f"seed {s!r} must be a non-negative integer")
        sd.append(int(s))
    if not xs:
        raise ConfigurationError("the sweep has no stoichiometries")
    if not sd:
        raise ConfigurationError("the sweep has no seeds")
    jobs = sorted({SweepJob(x, s) for x in xs for s in sd})
    return jobs


def _parameters(model: "Model", backend: "AnnealBackend", params: dict[str, Any]) -> dict[str, Any]:
    from .anneal.engine import _model_fingerprint

    return {
        "model": model.name,
        "model_fingerprint": _model_fingerprint(model),
        "backend": backend.name,
        "L": params["L"],
        "schedule": params["schedule"].to_json(),
        "record_every": params["record_every"],
        "kernel": params["kernel"],
        "class_sizes": list(params["class_sizes"]),
        "save_configurations": params["save_configurations"],
    }


def _write_manifest(out: Path, parameters: dict[str, Any], jobs: Sequence[SweepJob], summaries: dict[str, Any], model: "Model") -> None:
    from .data.atomic import write_text_atomic

    manifest = {
        "schema": MANIFEST_SCHEMA,
        "parameters": parameters,
        "model_info": model.to_json(),
        "jobs": [
            {"x": j.x, "seed": j.seed, "file": j.filename, "status": "done" if j.filename in summaries else "pending",
             **({k: v for k, v in summaries[j.filename].items() if k not in ("x", "seed", "file")} if j.filename in summaries else {})}
            for j in jobs
        ],
    }
    write_text_atomic(out / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def _finished(out: Path, job: SweepJob, params: dict[str, Any]) -> dict[str, Any] | None:
    """The summary of a finished job whose file loads, validates and matches; else ``None``."""
    from .data import Trajectory

    path = out / job.filename
    if not path.exists():
        return None
    try:
        traj = Trajectory.load(path)
    except DataError as exc:
        print(f"warning: {exc}; running {job.filename} again", file=sys.stderr)
        return None
    meta = traj.metadata
    same = (
        meta.get("seed") == job.seed
        and meta.get("x_target") is not None
        and math.isclose(meta["x_target"], job.x, rel_tol=0, abs_tol=1e-12)
        and meta.get("schedule") == params["schedule"].to_json()
    )
    if not same:
        print(f"warning: {path} belongs to another run; running {job.filename} again", file=sys.stderr)
        return None
    return _summary(traj, job, None)


def run_sweep(
    model: "Model | str | None" = None,
    stoichiometries: Sequence[float] | None = None,
    seeds: Sequence[int] = (0,),
    L: Any = None,
    schedule: "Schedule | None" = None,
    record_every: float | None = None,
    *,
    out_dir: str | os.PathLike,
    backend: "AnnealBackend | str | None" = None,
    workers: int = 1,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
    kernel: str | None = None,
    class_sizes: Sequence[int] = (1, 2, 3),
    save_configurations: bool = False,
    checkpoint_every: float | None = 60.0,
    mp_context: str | None = None,
) -> SweepResult:
    """Run every (x, seed) job and save each trajectory into ``out_dir`` as soon as it finishes.

    Parameters
    ----------
    model : Model or str, optional
        Default: the backend's model (``nmc`` for ``nmc-anneal``).
    stoichiometries : sequence of float, optional
        Default: the model's stoichiometries.
    seeds : sequence of int, default (0,)
    L : int, optional
        Lattice side; default the model's ``default_size``.
    schedule : Schedule, optional
        Default: the model's default schedule.
    record_every : float, optional
        Record interval in sweeps.
    out_dir : path-like
        Output directory (created if needed).
    backend : AnnealBackend or str, optional
        Default: the registered annealer whose default model is ``model``.
    workers : int, default 1
        Worker processes; 1 runs the jobs in this process.
    resume : bool
        Keep finished (loadable, valid) trajectories of an existing sweep and run the rest.
    overwrite : bool
        Allow a non-empty ``out_dir`` and replace the sweep's files as new results arrive.
    progress : bool, optional
        Show a progress bar; default when stderr is a terminal.
    kernel, class_sizes, save_configurations
        Passed to the backend.
    checkpoint_every : float or None, default 60
        Seconds between checkpoints of a running job (``None``: no checkpoints).
    mp_context : str, optional
        ``"fork"`` (default on Linux: workers inherit the loaded kernels), ``"spawn"`` or
        ``"forkserver"``.

    Returns
    -------
    SweepResult

    Raises
    ------
    OutputDirectoryError
        ``out_dir`` exists and is not empty without ``resume``/``overwrite``, or ``resume`` finds a
        manifest of a sweep with other parameters.
    ConfigurationError, GeometryError, SpeciesError
        Bad stoichiometries, seeds, sizes, schedules, models (checked before anything runs).
    """
    from .anneal.engine import AnnealRun

    if resume and overwrite:
        raise ConfigurationError("give either resume or overwrite, not both")
    if isinstance(workers, bool) or int(workers) != workers or workers < 1:
        raise ConfigurationError(f"workers must be a positive integer, got {workers!r}")
    workers = int(workers)
    be, mdl = resolve_backend_model(model, backend)
    xs = list(mdl.stoichiometries) if stoichiometries is None else list(stoichiometries)
    jobs = _jobs(xs, seeds)
    if L is None:
        L = mdl.default_size
    params = {
        "L": [int(v) for v in L] if isinstance(L, (list, tuple)) else L,
        "schedule": schedule if schedule is not None else mdl.default_schedule,
        "record_every": record_every,
        "kernel": kernel or be.kernel,
        "class_sizes": tuple(class_sizes),
        "save_configurations": bool(save_configurations),
        "checkpoint_every": checkpoint_every,
    }
    # validate the input up front, so that bad input fails before any work is done
    probe = AnnealRun(mdl, jobs[0].x, params["L"], jobs[0].seed, params["schedule"], record_every,
                      kernel=params["kernel"], class_sizes=class_sizes, backend=be.name)
    for job in jobs:
        mdl.composition(job.x, probe.n_sites)
    params["schedule"] = probe.schedule

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputDirectoryError(f"output path {out} exists and is not a directory")
    existing = out.is_dir() and any(out.iterdir())
    if existing and not (resume or overwrite):
        raise OutputDirectoryError(
            f"output directory {out} exists and is not empty; use resume (--resume) to continue the "
            "sweep in it or overwrite (--overwrite) to replace its results"
        )
    out.mkdir(parents=True, exist_ok=True)
    parameters = _parameters(mdl, be, params)
    summaries: dict[str, dict[str, Any]] = {}
    result = SweepResult(out, jobs)
    if resume:
        manifest_path = out / MANIFEST
        if manifest_path.exists():
            try:
                old = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise OutputDirectoryError(f"cannot read {manifest_path}: {exc}") from None
            if old.get("parameters") != parameters:
                diff = sorted(k for k in set(parameters) | set(old.get("parameters") or {})
                              if (old.get("parameters") or {}).get(k) != parameters.get(k))
                raise OutputDirectoryError(
                    f"{out} holds a sweep with other parameters ({', '.join(diff)}); resume needs the "
                    "same model, size, schedule and recording, or use another output directory"
                )
        for job in jobs:
            done = _finished(out, job, params)
            if done is not None:
                summaries[job.filename] = done
                result.skipped.append(job)
    todo = [j for j in jobs if j.filename not in summaries]
    for stale in out.glob(".*.tmp"):  # temporary files of writes cut short by an earlier interruption
        stale.unlink()
    _write_manifest(out, parameters, jobs, summaries, mdl)

    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else bool(progress)
    bars: list[Any] = []

    def bar() -> Any:
        # created lazily: after the worker processes have been forked (tqdm may start a thread)
        if not bars:
            bars.append(tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc=f"sweep {mdl.name}",
                             unit="run", disable=not show, file=sys.stderr))
        return bars[0]

    def finished(job: SweepJob, summary: dict[str, Any]) -> None:
        summaries[job.filename] = summary
        result.ran.append(job)
        result.summaries[job.filename] = summary
        _write_manifest(out, parameters, jobs, summaries, mdl)
        bar().update(1)
        bar().set_postfix_str(job.stem)

    try:
        if workers == 1 or len(todo) <= 1:
            bar()
            for job in todo:
                finished(job, _run_job(be, mdl, job, params, str(out)))
        else:
            ctx_name = mp_context or ("fork" if sys.platform.startswith("linux") else "spawn")
            if ctx_name == "fork":
                _warm_up(be, mdl, params, todo[0].x)
            ctx = multiprocessing.get_context(ctx_name)
            with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx,
                                     initializer=_ignore_sigint) as pool:
                futures: dict[Future, SweepJob] = {
                    pool.submit(_run_job, be, mdl, job, params, str(out)): job for job in todo
                }
                bar()
                try:
                    pending = set(futures)
                    while pending:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for fut in done:
                            finished(futures[fut], fut.result())
                except BaseException:
                    # interrupted (or a job failed): stop at once; finished results are already saved
                    # and running jobs keep their last checkpoint
                    # (terminating the workers fails the pending futures as a broken pool; cancelling
                    # them first trips a CPython 3.11 bug in the executor's manager thread)
                    for proc in list((getattr(pool, "_processes", None) or {}).values()):
                        proc.terminate()
                    pool.shutdown(wait=False)
                    raise
    finally:
        for b in bars:
            b.close()
    result.summaries.update({k: v for k, v in summaries.items() if k not in result.summaries})
    return result
