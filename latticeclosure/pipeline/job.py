"""The main job: anneal the reference model, derive its pair equations, calibrate and compare closures.

``run_main_job()`` is what ``latticeclosure run`` does on its embedded default (the triangular NMC
model of Ahmadi, Foster & Protas at the paper's ten stoichiometries, L = 48, seed 0):

1. a stoichiometry sweep with the model's annealer (each trajectory saved atomically as soon as it
   finishes, so an interrupted run resumes with ``resume=True``);
2. the pair-level window equations (eq. 5) and the closed SA model with its closed form (eq. 28–29);
3. closures evaluated on every stoichiometry (J_i per class, E = mean_i J_i, eq. 30):
   PA (pair approximation), SA (Table III), OA-hard / OA-soft (the paper's power law of degree one,
   fitted at x = 1/3), OA-cv (hard-bounded power law with the framework's default degrees, fitted
   jointly on the other stoichiometries: leave-one-stoichiometry-out), and best-cv (the calibratable
   family with the lowest total leave-one-out E — selected on the same folds, so not nested);
4. Table II-like exponents, automatic sparsification, marginal-consistency diagnostics;
5. a Markdown report, PNG figures and ``summary.json`` (schema ``latticeclosure.run-summary/1``).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import GeometryError, LatticeClosureError, OutputDirectoryError

__all__ = ["MainJobResult", "run_main_job", "default_output_directory", "prepare_output_directory", "SUMMARY_SCHEMA"]

SUMMARY_SCHEMA = "latticeclosure.run-summary/1"

#: Calibratable families compared by leave-one-stoichiometry-out cross-validation.
#: (label, registered family, options)
CV_FAMILIES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("power-law-hard", "power-law", {"preset": "hard"}),
    ("power-law-soft", "power-law", {"preset": "soft"}),
    ("pair-corrected", "pair-corrected", {}),
    ("pair-corrected-linear", "pair-corrected", {"terms": "linear"}),
)
OA_CV_LABEL = "power-law-hard"


def default_output_directory(base: str | os.PathLike = ".") -> Path:
    """A new time-stamped directory name ``latticeclosure-run-YYYYmmdd-HHMMSS[-N]`` under ``base``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(base) / f"latticeclosure-run-{stamp}"
    k = 1
    while path.exists():
        k += 1
        path = Path(base) / f"latticeclosure-run-{stamp}-{k}"
    return path


def prepare_output_directory(path: str | os.PathLike, *, overwrite: bool, resume: bool) -> Path:
    """Create the output directory, refusing a non-empty one unless ``overwrite`` or ``resume``."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputDirectoryError(f"output path {str(out)!r} exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not (overwrite or resume):
        raise OutputDirectoryError(
            f"output directory {str(out)!r} exists and is not empty; pass --overwrite to replace its "
            "results or --resume to continue an interrupted run"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


@dataclass
class MainJobResult:
    """Where the main job wrote its results, and the headline numbers."""

    out_dir: Path
    summary: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)


def _write_text(path: Path, text: str) -> Path:
    from ..data.atomic import atomic_write

    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def _write_json(path: Path, data: Any) -> Path:
    return _write_text(path, json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, Path):
        return str(value)
    return value


def run_main_job(
    out_dir: str | os.PathLike | None = None,
    *,
    model: str = "nmc",
    L: int | None = None,
    seed: int = 0,
    stoichiometries: Sequence[float] | None = None,
    workers: int | None = None,
    overwrite: bool = False,
    resume: bool = False,
    progress: bool | None = None,
    figures: bool = True,
    log: Callable[[str], None] = print,
) -> MainJobResult:
    """Run the reference job end to end and write datasets, report, figures and ``summary.json``.

    Parameters
    ----------
    out_dir : path, optional
        Output directory; default a new time-stamped one in the working directory.
    model : str
        Registered model name (default ``nmc``, the triangular NMC model).
    L : int, optional
        Lattice side (default: the model's default size, 48 for NMC).
    seed : int
        Seed of every annealing run.
    stoichiometries : sequence of float, optional
        Default: the model's (the paper's ten).
    workers : int, optional
        Parallel annealing processes (default: the number of CPU cores, at most one per run).
    overwrite, resume : bool
        Allow a non-empty output directory: replace its results, or keep finished trajectories.
    progress : bool, optional
        Progress bar for the sweep (default when stderr is a terminal).
    figures : bool
        Write the PNG figures.
    log : callable
        Receives one-line progress messages.

    Returns
    -------
    MainJobResult
    """
    from ..registry import get_registry
    from ..sweep import run_sweep

    t_start = time.perf_counter()
    reg = get_registry()
    model_obj = reg.get("models", model)
    xs = list(stoichiometries) if stoichiometries is not None else list(model_obj.stoichiometries)
    if len(xs) < 2:
        raise LatticeClosureError("the main job needs at least two stoichiometries (leave-one-out cross-validation)")
    # input errors (sizes, stoichiometries) surface before anything is written
    side = model_obj.default_size if L is None else int(L)
    if side < model_obj.min_size:
        raise GeometryError(f"lattice side {side} is too small for model {model_obj.name!r}; use at least {model_obj.min_size}")
    n_sites = model_obj.lattice_object().supercell(side).n_sites
    for x in xs:
        model_obj.composition(x, n_sites)
    out = prepare_output_directory(out_dir if out_dir is not None else default_output_directory(), overwrite=overwrite, resume=resume)
    n_workers = workers if workers is not None else max(1, min(os.cpu_count() or 1, len(xs)))
    files: dict[str, Path] = {}

    log(f"[1/5] annealing {len(xs)} stoichiometries of model {model_obj.name!r} on {n_workers} worker(s) -> {out / 'datasets'}")
    sweep = run_sweep(
        model_obj,
        stoichiometries=xs,
        seeds=(seed,),
        L=L,
        out_dir=out / "datasets",
        workers=n_workers,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
    )
    trajectories = sweep.trajectories()
    t_anneal = time.perf_counter() - t_start

    log("[2/5] generating the pair-level window equations and the closed SA model")
    analysis = _analyse(model_obj, trajectories, log)
    log("[3/5] closures evaluated on every stoichiometry")
    files.update(_write_equations(out, analysis))

    summary = _summary(model_obj, sweep, trajectories, analysis, seed)
    summary["timing_seconds"] = {"anneal": t_anneal, "total": time.perf_counter() - t_start}

    if figures:
        log("[4/5] figures")
        files.update(_write_figures(out, trajectories, analysis))
    log("[5/5] report and summary")
    from .markdown import render_report

    files["report"] = _write_text(out / "report.md", render_report(summary, analysis, files, out))
    summary["timing_seconds"]["total"] = time.perf_counter() - t_start
    files["summary"] = _write_json(out / "summary.json", summary)
    return MainJobResult(out_dir=out, summary=summary, files=files)


# --------------------------------------------------------------------------------------------- analysis
@dataclass
class _Analysis:
    equations: Any
    closed_sa: Any
    closed_form_text: str
    linear_rates: dict[str, str]
    index: Any
    xs: list[float]
    x_realised: list[float]
    E: dict[str, list[float]]
    J: dict[str, list[dict[str, float]]]
    fits: dict[str, Any]
    cv: Any
    best_cv: str
    exponent_tables: dict[str, Any]
    sparsified: Any
    marginal: dict[str, Any]
    predictions: dict[float, dict[str, dict[str, np.ndarray]]]
    nonidentifiable: dict[str, Any]


def _x_close(a: float, b: float) -> bool:
    return abs(a - b) < 5e-3


def _analyse(model_obj: Any, trajectories: list[Any], log: Callable[[str], None]) -> _Analysis:
    from ..closedmodel import close_equations
    from ..closures.calibration import calibrate, closure_values, cross_validate, evaluate, exponent_table, resolve_family
    from ..closures.dataset import as_datasets
    from ..closures.diagnostics import marginal_consistency
    from ..closures.sparse import sparsify
    from ..equations import generate_equations

    lattice = model_obj.lattice_object()
    species = list(model_obj.species)
    eqs = generate_equations(lattice, species, "swap", 2, exclude_closed=True)
    index = eqs.index

    closed_sa = close_equations(eqs, "SA")
    linear = {}
    closed_text = ""
    if closed_sa.is_linear():
        linear = {str(k): str(v) for k, v in closed_sa.linear_rates().items()}
        closed_text = closed_sa.solve_closed_form().to_text()

    xs = [float(t.x_target if t.x_target is not None else t.x) for t in trajectories]
    x_real = [float(t.x) for t in trajectories]
    i13 = min(range(len(xs)), key=lambda i: abs(xs[i] - 1 / 3))
    i12 = min(range(len(xs)), key=lambda i: abs(xs[i] - 0.5))

    E: dict[str, list[float]] = {}
    J: dict[str, list[dict[str, float]]] = {}

    def record(label: str, closure: Any) -> None:
        E[label], J[label] = [], []
        for traj in trajectories:
            ev = evaluate(closure, traj, index)
            (name,) = ev.J.keys()
            E[label].append(ev.E[name])
            J[label].append(ev.J[name])

    record("PA", "pair")
    record("SA", "SA")
    fits: dict[str, Any] = {}
    log(f"      fitting OA-hard and OA-soft at x = {xs[i13]:g} (the paper's degree-one presets)")
    for label in ("OA-hard", "OA-soft"):
        fits[label] = calibrate(label, trajectories[i13], index)
        record(label, fits[label])

    log(f"      leave-one-stoichiometry-out cross-validation of {len(CV_FAMILIES)} calibratable families")
    families = [resolve_family(fam, **opts).renamed(label) for label, fam, opts in CV_FAMILIES]
    cv = cross_validate(families, trajectories, index)
    labels = [label for label, _, _ in CV_FAMILIES]
    totals = {label: float(np.sum([f["E"][label] for f in cv.folds])) for label in labels}
    best = min(labels, key=lambda k: totals[k])
    E["OA-cv"] = [f["E"][OA_CV_LABEL] for f in cv.folds]
    J["OA-cv"] = [f["J"][OA_CV_LABEL] for f in cv.folds]
    E["best-cv"] = [f["E"][best] for f in cv.folds]
    J["best-cv"] = [f["J"][best] for f in cv.folds]
    for label in labels:
        E[f"cv:{label}"] = [f["E"][label] for f in cv.folds]

    log("      Table II-like exponents at x = 1/3 and x = 1/2, automatic sparsification, diagnostics")
    tables = {}
    for key, i in (("x=1/3", i13), ("x=1/2", i12)):
        tables[key] = exponent_table(trajectories[i], index, presets=("hard", "soft"), degree="paper")
    sparse = sparsify(tables["x=1/2"].fits["hard"])
    record("SA-auto", sparse.closure("SA-auto"))

    marginal = {}
    for label, closure in (("data", None), ("PA", "pair"), ("SA", "SA"), ("OA-hard", fits["OA-hard"])):
        marginal[label] = marginal_consistency(closure, index, trajectories[i13])

    predictions: dict[float, dict[str, dict[str, np.ndarray]]] = {}
    for i in sorted({i13, i12}):
        ds = as_datasets([trajectories[i]], index)[0]
        per: dict[str, dict[str, np.ndarray]] = {}
        for label, closure in (("PA", resolve_family("pair")), ("OA-hard", fits["OA-hard"].closure()), ("SA", resolve_family("SA"))):
            per[label] = {c.name: closure_values(closure, c.name, index, ds) for c in index.classes_of_size(3)}
        predictions[xs[i]] = per

    nonid = {
        label: {c: f.nonidentifiable for c, f in fit.classes.items() if f.nonidentifiable}
        for label, fit in fits.items()
    }
    return _Analysis(
        equations=eqs,
        closed_sa=closed_sa,
        closed_form_text=closed_text,
        linear_rates=linear,
        index=index,
        xs=xs,
        x_realised=x_real,
        E=E,
        J=J,
        fits=fits,
        cv=cv,
        best_cv=best,
        exponent_tables=tables,
        sparsified=sparse,
        marginal=marginal,
        predictions=predictions,
        nonidentifiable=nonid,
    )


def _summary(model_obj: Any, sweep: Any, trajectories: list[Any], analysis: _Analysis, seed: int) -> dict[str, Any]:
    runs = []
    for job, traj in zip(sweep.jobs, trajectories):
        info = sweep.summaries.get(job.filename, {})
        runs.append(
            {
                "x": job.x,
                "x_realised": float(traj.x),
                "seed": job.seed,
                "file": f"datasets/{job.filename}",
                "final_energy_per_site": _last(traj.energy_per_site),
                "lower_bound_per_site": info.get("lower_bound", info.get("lower_bound_per_site")),
            }
        )
    meta = trajectories[0].metadata
    core_labels = ("PA", "OA-hard", "OA-soft", "SA", "OA-cv", "best-cv")
    return {
        "schema": SUMMARY_SCHEMA,
        "stoichiometries": analysis.xs,
        "E": {label: analysis.E[label] for label in core_labels},
        "best_cv_family": analysis.best_cv,
        "E_extra": {k: v for k, v in analysis.E.items() if k not in core_labels},
        "E_total": {k: float(np.sum(v)) for k, v in analysis.E.items()},
        "x_realised": analysis.x_realised,
        "model": model_obj.name,
        "lattice": meta.get("lattice", {}).get("name") if isinstance(meta.get("lattice"), dict) else meta.get("lattice"),
        "L": _side(meta),
        "supercell": meta.get("supercell"),
        "seeds": [seed],
        "normalisation": "per-shape",
        "time_unit": "fraction of the run (trapezoidal rule over the recorded points)",
        "classes": [c.name for c in analysis.index.classes_of_size(3)],
        "oa_fit_stoichiometry": min(analysis.xs, key=lambda x: abs(x - 1 / 3)),
        "cv_selection_nested": False,
        "runs": runs,
    }


def _side(meta: dict[str, Any]) -> int | None:
    cell = meta.get("supercell")
    if isinstance(cell, (list, tuple)) and cell and len(set(cell)) == 1:
        return int(cell[0])
    return None if cell is None else int(cell[0])


def _last(arr: Any) -> float | None:
    if arr is None or len(arr) == 0:
        return None
    return float(np.asarray(arr)[-1])


def _write_equations(out: Path, analysis: _Analysis) -> dict[str, Path]:
    from ..equations.formats import to_json, to_latex, to_text

    eqs = analysis.equations
    files = {
        "equations_text": _write_text(out / "equations.txt", to_text(eqs, details=True) + "\n"),
        "equations_json": _write_text(out / "equations.json", to_json(eqs) + "\n"),
        "equations_latex": _write_text(out / "equations.tex", to_latex(eqs) + "\n"),
    }
    sa = analysis.closed_sa
    text = sa.to_text() + "\n"
    if analysis.closed_form_text:
        text += "\nclosed form:\n" + analysis.closed_form_text + "\n"
    files["closed_sa"] = _write_text(out / "closed-model-SA.txt", text)
    return files


def _write_figures(out: Path, trajectories: list[Any], analysis: _Analysis) -> dict[str, Path]:
    from ..report import figures as fig

    fdir = out / "figures"
    fdir.mkdir(exist_ok=True)
    runs = []
    for x, traj, run in zip(analysis.xs, trajectories, _bounds(trajectories)):
        runs.append(
            {
                "x": x,
                "time": np.asarray(traj.time),
                "temperature": np.asarray(traj.temperature),
                "energy": np.asarray(traj.energy_per_site),
                "lower_bound": run,
                "pairs": {c: np.asarray(traj.concentration(c)) for c in ("C++", "C--", "C+-")},
            }
        )
    files = {
        "fig_annealing": fig.plot_annealing(runs, fdir / "annealing.png"),
        "fig_pairs": fig.plot_pair_concentrations(runs, fdir / "pair-concentrations.png"),
        "fig_error": fig.plot_error_vs_stoichiometry(
            analysis.xs,
            {k: analysis.E[k] for k in ("PA", "OA-hard", "OA-soft", "SA", "OA-cv", "best-cv")},
            fdir / "error-vs-stoichiometry.png",
            title="E (eq. 30) per stoichiometry",
        ),
    }
    for x, preds in analysis.predictions.items():
        i = analysis.xs.index(x)
        traj = trajectories[i]
        data = {c.name: np.asarray(traj.concentration(c.name)) for c in analysis.index.classes_of_size(3)}
        tag = f"{x:.2f}".replace(".", "p")
        files[f"fig_triplets_{tag}"] = fig.plot_closure_reconstruction(
            x, np.asarray(traj.time), data, preds, fdir / f"triplets-vs-closures-x{tag}.png"
        )
    if hasattr(fig, "plot_exponents"):
        table = analysis.exponent_tables["x=1/3"]
        rows: dict[str, dict[str, Any]] = {}
        for r in table.rows:
            row = rows.setdefault(r["class"], {"class": r["class"], "PA": {}, "OA-hard": {}, "OA-soft": {}})
            row["PA"][r["parameter"]] = r["PA"]
            row["OA-hard"][r["parameter"]] = _num(r["hard"])
            row["OA-soft"][r["parameter"]] = _num(r["soft"])
        files["fig_exponents"] = fig.plot_exponents(list(rows.values()), fdir / "exponents-x0p33.png")
    return files


def _num(v: Any) -> float:
    if isinstance(v, str):
        return float(v.rstrip("*"))
    return float(v)


def _bounds(trajectories: list[Any]) -> list[float]:
    out = []
    for traj in trajectories:
        energy = traj.metadata.get("energy")
        lb = energy.get("lower_bound_per_site") if isinstance(energy, dict) else None
        out.append(float(lb) if lb is not None else float("nan"))
    return out
