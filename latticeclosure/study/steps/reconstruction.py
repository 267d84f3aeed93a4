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
        for a in self.at:
            i = context.nearest(a)
            ds = as_datasets([context.trajectories[i]], index)[0]
            out[context.grid[i]] = {
                label: {c.name: closure_values(context.closures[label], c.name, index, ds) for c in classes}
                for label in self.closures
            }
        context.results[self.name] = out

    def figures(self, context: Any, directory: Path) -> dict[str, Path]:
        from ...report.figures import plot_closure_reconstruction

        index = context.index
        files = {}
        for x, preds in context.results[self.name].items():
            traj = context.trajectories[context.grid.index(x)]
            data = {c.name: np.asarray(traj.concentration(c.name)) for c in index.classes_of_size(index.max_size)}
            tag = f"{x:.2f}".replace(".", "p")
            files[f"fig_reconstruction_{tag}"] = plot_closure_reconstruction(
                x, np.asarray(traj.time), data, preds, directory / f"closures-vs-data-{context.parameter}{tag}.png",
                grid_name=context.parameter, styles=context.spec.styles,
                title=f"Size-{index.max_size} concentrations: measured vs closures ({context.parameter} = {x:.3g})",
            )
        return files

    def render(self, context: Any) -> str:
        keys = sorted(k for k in context.files if k.startswith("fig_reconstruction_"))
        return "\n".join(image("measured vs closures", relative(context.files[k], context.out_dir)) + "\n" for k in keys)
