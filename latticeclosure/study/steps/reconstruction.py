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
        from ...report.figures import plot_closure_reconstruction

        index = context.index
        files = {}
        for x, preds in context.results[self.name]["values"].items():
            traj = context.trajectories[context.grid.index(x)]
            data = {c.name: np.asarray(traj.concentration(c.name)) for c in index.classes_of_size(index.max_size)}
            tag = f"{x:.2f}".replace(".", "p")
            files[f"fig_reconstruction_{tag}"] = plot_closure_reconstruction(
                x, np.asarray(traj.time), data, preds, directory / f"closures-vs-data-{context.parameter}{tag}.png",
                grid_name=context.parameter,
                styles={leg: context.spec.styles.get(lab, {}) for leg, lab in context.results[self.name]["legends"][x].items()},
                title=f"Size-{index.max_size} concentrations: measured vs closures ({context.parameter} = {x:.3g})",
            )
        return files

    def render(self, context: Any) -> str:
        keys = sorted(k for k in context.files if k.startswith("fig_reconstruction_"))
        return "\n".join(image("measured vs closures", relative(context.files[k], context.out_dir)) + "\n" for k in keys)
