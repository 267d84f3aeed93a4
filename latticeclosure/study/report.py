"""The study's Markdown report (every step's section, numbered, in order) and its ``summary.json``."""

from __future__ import annotations

from typing import Any

from .steps.report_util import relative

__all__ = ["render_report", "study_summary"]


def _introduction(context: Any, summary: dict[str, Any]) -> str:
    model, spec = context.model, context.spec
    cell = summary.get("supercell")
    cell_text = "×".join(str(v) for v in cell) if isinstance(cell, list) else "?"
    seeds = (f"seed {context.seeds[0]}" if context.n_seeds == 1
             else f"seeds {', '.join(str(s) for s in context.seeds)} (every error: mean ± standard error over seeds)")
    index = context.equations.index if context.equations is not None else None
    closed = f" over the {len(summary['classes'])} classes of size {index.max_size}" if index is not None else ""
    text = (
        f"Model `{model.name}` on a {cell_text} periodic {summary.get('lattice')} lattice, {seeds}, "
        f"{len(context.grid)} grid values of {context.parameter} ({spec.grid.axis_label}). Concentrations are "
        "per-shape normalised (Σ_c m_c C_c = 1 over the classes of one shape). Time unit of the data: "
        f"{summary.get('time_unit')}. J_i = ½∫(g_i − C_i)² dt by the trapezoidal rule over the recorded "
        f"points; E = mean of J_i{closed} (eq. 30)."
    )
    return text + ("\n\n" + spec.introduction if spec.introduction else "")


def render_report(context: Any, summary: dict[str, Any]) -> str:
    """The report text: title, introduction, every step's section (numbered), the files written."""
    spec = context.spec
    title = spec.title or f"latticeclosure study of model {context.model.name}"
    blocks = [f"# {title}", "", _introduction(context, summary), ""]
    headlines = [step.headline(context) for step in spec.steps if callable(getattr(step, "headline", None))]
    if headlines:
        blocks += ["## Summary", ""] + [h for h in headlines if h] + [""]
    number = 0
    for step in spec.steps:
        text = step.render(context)
        if not text:
            continue
        if text.startswith("## "):
            number += 1
            text = f"## {number}. " + text[3:]
        blocks += [text.rstrip("\n"), ""]
    blocks += ["## Files", ""]
    for key, path in sorted(context.files.items()):
        blocks.append(f"* {key}: `{relative(path, context.out_dir)}`")
    blocks += ["* report: `report.md`", f"* summary: `summary.json` (schema {summary['schema']})", ""]
    return "\n".join(blocks)


def study_summary(context: Any, schema: str) -> dict[str, Any]:
    """Plain data of the study: grid, E per closure label, totals, runs, and every step's summary."""
    spec = context.spec
    meta = context.trajectories[0].metadata
    lattice = meta.get("lattice")
    cell = meta.get("supercell")
    headline = [k for k in spec.headline if k in context.errors] or [k for k in context.errors if not k.startswith("cv:")]
    index = context.equations.index if context.equations is not None else None
    realised = context.realised()
    summary: dict[str, Any] = {
        "schema": schema,
        "model": context.model.name,
        "grid": {"parameter": context.parameter, "values": list(context.grid)},
        "grid_realised": realised if any(v is not None for v in realised) else None,
        "E": {k: context.errors[k].E for k in headline},
        "E_extra": {k: v.E for k, v in context.errors.items() if k not in headline},
        "E_total": {k: v.total for k, v in context.errors.items()},
        "E_se": {k: v.E_se for k, v in context.errors.items()} if context.n_seeds > 1 else None,
        "E_total_se": {k: v.total_se for k, v in context.errors.items()} if context.n_seeds > 1 else None,
        "E_by_seed": {k: v.by_seed for k, v in context.errors.items()} if context.n_seeds > 1 else None,
        "lattice": lattice.get("name") if isinstance(lattice, dict) else lattice,
        "L": int(cell[0]) if isinstance(cell, list) and cell and len(set(cell)) == 1 else None,
        "supercell": cell,
        "seeds": list(context.seeds),
        "normalisation": "per-shape",
        "time_unit": meta.get("time_unit"),
        "classes": [c.name for c in index.classes_of_size(index.max_size)] if index is not None else [],
        "runs": [dict(context.sweep.summaries.get(t.filename, {"point": t.point, "seed": t.seed, "file": t.filename}))
                 for t in context.sweep.tasks],
    }
    for run in summary["runs"]:
        run["file"] = f"datasets/{run['file']}"
    for step in spec.steps:
        extra = getattr(step, "summary", None)
        if callable(extra):
            summary.update(extra(context))
    return summary
