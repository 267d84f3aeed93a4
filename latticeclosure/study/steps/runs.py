"""The simulation runs: a table of what each run reached, and figures of the runs themselves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...io import format_table
from .report_util import image, relative

__all__ = ["RunsOverview"]


@dataclass
class RunsOverview:
    """One row per run (grid value, realised value, final energy and its lower bound where known, file),
    a temperature/energy figure when the runs record them, and the window-class concentrations."""

    name: str = "runs"
    title: str = "Simulation runs"

    def run(self, context: Any) -> None:
        rows = []
        files = {(t.point[context.parameter], t.seed): t.filename for t in context.sweep.tasks}
        for i, value in enumerate(context.grid):
            for s, seed in enumerate(context.seeds):
                traj = context.data[s][i]
                energy = traj.energy_per_site
                meta_energy = traj.metadata.get("energy")
                bound = meta_energy.get("lower_bound_per_site") if isinstance(meta_energy, dict) else None
                rows.append({
                    "value": value,
                    "realised": traj.metadata.get("x_realised") if context.parameter == "x" else None,
                    "seed": seed,
                    "file": f"datasets/{files[(value, seed)]}",
                    "final_energy_per_site": None if energy is None or len(energy) == 0 else float(np.asarray(energy)[-1]),
                    "lower_bound_per_site": None if bound is None else float(bound),
                })
        context.results[self.name] = rows

    def figures(self, context: Any, directory: Path) -> dict[str, Path]:
        from ...report import figures as fig

        files: dict[str, Path] = {}
        grid_name = context.parameter
        runs = []
        first = [r for r in context.results[self.name] if r["seed"] == context.seeds[0]]
        for x, traj, row in zip(context.grid, context.trajectories, first):
            lb = row["lower_bound_per_site"]
            runs.append({
                "x": x,
                "time": np.asarray(traj.time),
                "temperature": None if traj.temperature is None else np.asarray(traj.temperature),
                "energy": None if traj.energy_per_site is None else np.asarray(traj.energy_per_site),
                "lower_bound": float("nan") if lb is None else lb,
                "pairs": {c.name: np.asarray(traj.concentration(c.name)) for c in _window_classes(context, traj)},
            })
        if any(r["temperature"] is not None or r["energy"] is not None for r in runs):
            files["fig_annealing"] = fig.plot_annealing(
                runs, directory / "annealing.png", grid_name=grid_name, legend_title=context.spec.grid.axis_label,
                temperature_label=context.spec.temperature_label,
                title="Temperature and energy per site along the runs",
            )
        files["fig_concentrations"] = fig.plot_pair_concentrations(
            runs, directory / "window-concentrations.png", grid_name=grid_name,
            legend_title=context.spec.grid.axis_label,
        )
        return files

    def render(self, context: Any) -> str:
        rows = context.results[self.name]
        has_energy = any(r["final_energy_per_site"] is not None for r in rows)
        has_bound = any(r["lower_bound_per_site"] is not None for r in rows)
        has_real = any(r["realised"] is not None for r in rows)
        several = context.n_seeds > 1
        headers = [context.parameter] + (["seed"] if several else []) + (["realised " + context.parameter] if has_real else [])
        headers += (["final E/site"] if has_energy else []) + (["lower bound", "lower bound reached"] if has_bound else [])
        headers += ["dataset"]
        body = []
        for r in rows:
            line: list[Any] = [f"{r['value']:.3g}"] + ([str(r["seed"])] if several else [])
            line += [f"{r['realised']:.4f}"] if has_real else []
            if has_energy:
                line.append(r["final_energy_per_site"])
            if has_bound:
                e, lb = r["final_energy_per_site"], r["lower_bound_per_site"]
                reached = "–" if e is None or lb is None else ("yes" if e <= lb + 1e-9 else f"no (+{e - lb:.3g})")
                line += [lb, reached]
            line.append(f"`{r['file']}`")
            body.append(line)
        parts = [f"## {self.title}", "", format_table(headers, body, markdown=True), ""]
        if several:
            parts += [f"The figures show seed {context.seeds[0]}.", ""]
        for key, caption in (("fig_annealing", "temperature and energy along the runs"),
                             ("fig_concentrations", "window-class concentrations along the runs")):
            if key in context.files:
                parts += [image(caption, relative(context.files[key], context.out_dir)), ""]
        return "\n".join(parts)


def _window_classes(context: Any, traj: Any) -> list[Any]:
    if context.equations is not None:
        return [c for c in context.equations.window_classes if c.name in traj.class_names]
    return []
