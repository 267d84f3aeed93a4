"""``latticeclosure run``: simulate a model's grid, run its study's steps, write report, figures, summary.

:func:`run_study` does, for any registered model that declares a study (its ``study`` attribute, a
:class:`~latticeclosure.study.StudySpec`):

1. the sweep of the grid with the study's data backend (every trajectory saved atomically as soon as
   it finishes, so an interrupted run resumes with ``resume=True``);
2. every step's ``run`` in order (equations, closures evaluated and fitted, cross-validation, …);
3. the steps' figures, the Markdown report (every step's section, in order) and ``summary.json``
   (schema ``latticeclosure.run-summary/2``).

Every input is checked — the model, its study, the grid, the sizes and compositions the backend
would simulate — before the output directory is created.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..errors import ConfigurationError
from ..io import write_json_atomic, write_text_atomic
from ..io.outdir import default_output_directory, ensure_directory, prepare_output_directory
from ..io.runlock import RunLock
from .context import StudyContext
from .report import render_report, study_summary

__all__ = ["StudyResult", "run_study", "SUMMARY_SCHEMA", "study_options", "check_study_options"]

SUMMARY_SCHEMA = "latticeclosure.run-summary/2"


@dataclass
class StudyResult:
    """Where a study wrote its results, the summary and the context every step filled."""

    out_dir: Path
    summary: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)
    context: StudyContext | None = None


def study_options(spec: Any) -> dict[str, str]:
    """The options the steps of a study declare: name → description."""
    out: dict[str, str] = {}
    for step in spec.steps:
        out.update(dict(getattr(step, "options", None) or {}))
    return out


def check_study_options(spec: Any, options: Mapping[str, str] | None) -> dict[str, str]:
    """``options`` as a plain dict, refusing names no step of the study declares and values a step's
    ``check_options(options)`` (optional) refuses — before anything is simulated."""
    given = {str(k): str(v) for k, v in (options or {}).items()}
    known = study_options(spec)
    unknown = sorted(k for k in given if k not in known)
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise ConfigurationError(f"unknown study option(s) {', '.join(unknown)}; this study's options: {listed}")
    for step in spec.steps:
        check = getattr(step, "check_options", None)
        if callable(check):
            check(given)
    return given


def _resolve_model(model: Any) -> Any:
    from ..registry import get_registry

    registry = get_registry()
    return registry.default_model() if model is None else registry.resolve("models", model)


def run_study(
    model: Any = None,
    out_dir: str | os.PathLike | None = None,
    *,
    size: int | None = None,
    seed: int | None = None,
    seeds: Sequence[int] | None = None,
    values: Sequence[float] | None = None,
    nested: bool | None = None,
    workers: int | None = None,
    executor: Any = None,
    overwrite: bool = False,
    resume: bool = False,
    progress: bool | None = None,
    figures: bool = True,
    log: Callable[[str], None] | None = None,
    options: Mapping[str, str] | None = None,
) -> StudyResult:
    """Run a model's study end to end and write datasets, report, figures and ``summary.json``.

    Parameters
    ----------
    model : str or Model, optional
        A registered model name or a model object; default the registered default model.
    out_dir : path, optional
        Output directory; default a new time-stamped one in the working directory.
    size : int, optional
        Lattice side (default: the study's, else the model's default size).
    seed : int, optional
        Seed of every simulation (default: the study's seeds).
    seeds : sequence of int, optional
        Several independent seeds per grid point (every error is then a mean ± standard error over
        them, and cross-validation holds out a grid point with all its seeds); exclusive with ``seed``.
    nested : bool, optional
        Select the cross-validated family by nested cross-validation (default: the study's choice).
    values : sequence of float, optional
        Grid values (default: the study's).
    workers : int, optional
        Local worker processes when no ``executor`` is given (default: the number of CPU cores, at
        most one per simulation).
    executor : ExecutorSpec, ExecutorSession or concurrent.futures.Executor, optional
        Where the simulations and the cross-validation folds run (:mod:`latticeclosure.parallel`);
        opened once for the whole study. Results do not depend on it.
    overwrite, resume : bool
        Allow a non-empty output directory: replace its results, or keep finished trajectories.
    progress : bool, optional
        Progress bars for the sweep, the fits and the cross-validation (default: when stderr is a
        terminal; never with the ``latticeclosure`` logger set above ``INFO``, as ``-q`` does).
    figures : bool
        Write the PNG figures.
    log : callable, optional
        Receives one-line progress messages; default: ``INFO`` records of the
        ``latticeclosure.study`` logger.
    options : mapping of str to str, optional
        Study options (``latticeclosure run --study-option NAME=VALUE``), each declared by a step in
        its ``options`` attribute (name → description), e.g. ``inference.samples``.

    Returns
    -------
    StudyResult

    Raises
    ------
    ConfigurationError
        A model without a study, too few grid values for the study's steps, bad sizes or seeds, a study
        option no step declares.
    OutputDirectoryError
        A non-empty output directory without ``overwrite``/``resume``, or one another run holds.
    """
    from ..registry import get_registry
    from ..simulation import sweep_tasks
    from ..simulation.sweep import check_tasks

    from ..progress import get_logger

    if log is None:
        log = get_logger("study").info
    t_start = time.perf_counter()
    mdl = _resolve_model(model)
    spec = getattr(mdl, "study", None)
    if spec is None:
        raise ConfigurationError(f"model {mdl.name!r} declares no study (its plugin sets none); nothing to run")
    grid = list(values) if values is not None else list(spec.grid.resolved_values(mdl))
    study_options = check_study_options(spec, options)
    if any(getattr(step, "needs_several_points", False) for step in spec.steps) and len(grid) < 2:
        raise ConfigurationError(
            f"the study of model {mdl.name!r} needs at least two grid values ({spec.grid.parameter}) for its "
            f"cross-validation; got {len(grid)}"
        )
    if seed is not None and seeds is not None:
        raise ConfigurationError("give either seed or seeds, not both")
    chosen = (seed,) if seed is not None else tuple(seeds) if seeds is not None else tuple(spec.seeds)
    for s_ in chosen:
        if isinstance(s_, bool) or not isinstance(s_, int) or s_ < 0:
            raise ConfigurationError(f"seed {s_!r} must be a non-negative integer")
    if not chosen or len(set(chosen)) != len(chosen):
        raise ConfigurationError(f"seeds must be distinct and at least one, got {list(chosen)}")
    seeds = tuple(chosen)
    if nested is not None:
        spec = spec.with_nested(nested)
    backend = get_registry().resolve("data_backends", spec.backend)
    tasks = sweep_tasks(mdl, grid, seeds, parameter=spec.grid.parameter,
                        size=size if size is not None else spec.size, settings=dict(spec.settings), backend=backend)
    tasks = check_tasks(backend, tasks)  # bad sizes, compositions or file names fail before anything is written
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigurationError(f"workers must be a positive integer, got {workers!r}")
    out = prepare_output_directory(out_dir if out_dir is not None else default_output_directory(),
                                   overwrite=overwrite, resume=resume)
    n_workers = workers if workers is not None else max(1, min(os.cpu_count() or 1, len(tasks)))
    with RunLock(out, "study"):
        return _run_locked(mdl, spec, backend, tasks, out, seeds, n_workers, executor, resume=resume,
                           overwrite=overwrite, progress=progress, figures=figures, log=log, t_start=t_start,
                           study_options=study_options)


def _run_locked(mdl: Any, spec: Any, backend: Any, tasks: list, out: Path, seeds: tuple, n_workers: int,
                executor: Any, *, resume: bool, overwrite: bool, progress: bool | None, figures: bool,
                log: Callable[[str], None], t_start: float, study_options: Mapping[str, Any]) -> StudyResult:
    """:func:`run_study` once the output directory is locked: open the executor, then run."""
    from ..parallel import open_executor

    warm_up = getattr(backend, "warm_up", None)
    with open_executor(executor, workers=n_workers, tasks=len(tasks),
                       before_fork=(lambda: warm_up(tasks[0])) if callable(warm_up) else None) as session:
        return _run_steps(mdl, spec, backend, tasks, seeds, out, session, resume=resume, overwrite=overwrite,
                          progress=progress, figures=figures, log=log, t_start=t_start, study_options=study_options)


def _run_steps(mdl: Any, spec: Any, backend: Any, tasks: list, seeds: tuple, out: Path, session: Any, *,
               resume: bool, overwrite: bool, progress: bool | None, figures: bool, log: Callable[[str], None],
               t_start: float, study_options: Mapping[str, Any]) -> StudyResult:
    """The sweep and the steps of :func:`run_study`, on one open executor session."""
    from ..progress import progress_enabled
    from ..simulation import run_tasks

    show_progress = progress_enabled(progress)
    log(f"[1/4] simulating {len(tasks)} grid point(s) of model {mdl.name!r} with {backend.name!r} "
        f"on {session.description} -> {out / 'datasets'}")
    sweep = run_tasks(tasks, backend, out_dir=out / "datasets", executor=session, resume=resume,
                      overwrite=overwrite, progress=show_progress)
    t_sim = time.perf_counter() - t_start
    grid_values = list(dict.fromkeys(t.point[spec.grid.parameter] for t in sweep.tasks))
    by_task = dict(zip((t.stem for t in sweep.tasks), sweep.trajectories()))
    data = [[by_task[next(t.stem for t in sweep.tasks if t.point[spec.grid.parameter] == v and t.seed == s_)]
             for v in grid_values] for s_ in seeds]
    context = StudyContext(
        model=mdl, spec=spec, out_dir=out, grid=grid_values, data=data, sweep=sweep, seeds=seeds, log=log,
        progress=show_progress, options=study_options, executor=session,
    )
    log(f"[2/4] analysis: {', '.join(step.name for step in spec.steps)}")
    for step in spec.steps:
        step.run(context)
    if figures:
        log("[3/4] figures")
        fdir = ensure_directory(out / "figures")
        for step in spec.steps:
            draw = getattr(step, "figures", None)
            if callable(draw):
                context.files.update(draw(context, fdir))
    log("[4/4] report and summary")
    summary = study_summary(context, SUMMARY_SCHEMA)
    summary["timing_seconds"] = {"simulation": t_sim, "total": time.perf_counter() - t_start}
    report = render_report(context, summary)
    write_text_atomic(out / "report.md", report)
    context.files["report"] = out / "report.md"
    summary["timing_seconds"]["total"] = time.perf_counter() - t_start
    write_json_atomic(out / "summary.json", summary)
    context.files["summary"] = out / "summary.json"
    return StudyResult(out_dir=out, summary=summary, files=dict(context.files), context=context)
