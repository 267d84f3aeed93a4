"""Figures of measured closed-class concentrations against each closure's reconstruction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .report_util import image, relative

__all__ = ["Reconstructions"]


@dataclass
class Reconstructions:
    """At some grid points: the measured size-(n+1) classes and the closures' values from the data.

    Parameters
    ----------
    at : tuple of float
    closures : tuple of str
        Labels recorded by earlier steps.
    """

    at: tuple[float, ...] = ()
    closures: tuple[str, ...] = ()
    name: str = "reconstructions"

    def run(self, context: Any) -> None:
        from ...closures import closure_values
        from ...closures.dataset import as_datasets

        index = context.index
        classes = index.classes_of_size(index.max_size)
        out = {}
        legends: dict[float, dict[str, str]] = {}
        for a in self.at:
            i = context.nearest(a)
            ds = as_datasets([context.trajectories[i]], index)[0]
            legends[context.grid[i]] = {self.legend(context, label, i): label for label in self.closures}
            out[context.grid[i]] = {
                self.legend(context, label, i): {c.name: closure_values(context.closure_at(label, i), c.name, index, ds)
                                                 for c in classes}
                for label in self.closures
            }
        context.results[self.name] = {"values": out, "legends": legends}

    @staticmethod
    def legend(context: Any, label: str, i: int) -> str:
        """The label, saying where a closure was fitted when that is not the point shown."""
        fitted = context.errors[label].fitted_at if label in context.errors else None
        if fitted is not None and abs(fitted - context.grid[i]) > 1e-12:
            return f"{label} (fitted at {context.parameter} = {fitted:.3g})"
        if label in context.point_closures:
            return f"{label} (held out)"
        return label

    def figures(self, context: Any, directory: Path) -> dict[str, Path]:
        from ...closures.base import sub_class
        from ...report.class_figures import plot_class_errors, plot_closure_vs_pair
        from ...report.figures import plot_closure_reconstruction

        index = context.index
        closed = index.classes_of_size(index.max_size)
        pair_of = {c.name: sub_class(index, c, [0, 1]).name for c in closed}
        files = {}
        for x, preds in context.results[self.name]["values"].items():
            i = context.grid.index(x)
            traj = context.trajectories[i]
            data = {c.name: np.asarray(traj.concentration(c.name)) for c in closed}
            styles = {leg: context.spec.styles.get(lab, {}) for leg, lab in context.results[self.name]["legends"][x].items()}
            tag = f"{x:.2f}".replace(".", "p")
            where = f"{context.parameter} = {x:.3g}"
            files[f"fig_reconstruction_{tag}"] = plot_closure_reconstruction(
                x, np.asarray(traj.time), data, preds, directory / f"closures-vs-data-{context.parameter}{tag}.png",
                grid_name=context.parameter, styles=styles,
                title=f"Size-{index.max_size} concentrations: measured vs closures ({where})",
            )
            pairs = {p: np.asarray(traj.concentration(p)) for p in set(pair_of.values())}
            files[f"fig_pairview_{tag}"] = plot_closure_vs_pair(
                pairs, data, preds, pair_of, directory / f"closures-vs-pairs-{context.parameter}{tag}.png", styles=styles,
                title=f"Size-{index.max_size} concentrations against a pair concentration ({where})",
            )
            errors = {leg: context.errors[lab].J[i] for leg, lab in context.results[self.name]["legends"][x].items()
                      if lab in context.errors}
            if errors:
                files[f"fig_classerrors_{tag}"] = plot_class_errors(
                    errors, directory / f"class-errors-{context.parameter}{tag}.png", styles=styles,
                    title=f"J_i per class ({where}" + (f"; mean over {context.n_seeds} seeds)" if context.n_seeds > 1 else ")"),
                )
        return files

    def render(self, context: Any) -> str:
        out = []
        for x in context.results[self.name]["values"]:
            tag = f"{x:.2f}".replace(".", "p")
            for key, caption in ((f"fig_reconstruction_{tag}", "measured vs closures along the run"),
                                 (f"fig_pairview_{tag}", "measured vs closures against a pair concentration"),
                                 (f"fig_classerrors_{tag}", "J_i per class and closure")):
                if key in context.files:
                    out.append(image(caption, relative(context.files[key], context.out_dir)) + "\n")
        return "\n".join(out)
