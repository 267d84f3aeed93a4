"""The bifurcation diagram: stationary density against the varied rate, per closure.

Drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas attached explicitly (pyplot and
the global backend are never touched) and written as PNG atomically. The function takes plain data,
so it can be used without the analysis objects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["plot_bifurcation_diagram", "diagram_curves"]

#: Dots per inch of the written PNG.
DPI = 150


def diagram_curves(analysis: Any) -> dict[str, Any]:
    """Plain plotting data of a :class:`~latticeclosure.steady.analysis.ThresholdAnalysis`.

    Returns
    -------
    dict
        ``label``; ``branches``: list of ``(rates, densities, stable)`` arrays; ``trivial``:
        ``(rates, stable)`` of the absorbing state (density 0); ``critical``: float or None.
    """
    branches = []
    for b in analysis.branches:
        values = b.values
        dens = np.array([analysis.density(pt.full_state) for pt in b.points])
        stable = np.array([s == "stable" for s in b.stabilities])
        branches.append((values, dens, stable))
    values, verdicts = analysis.trivial_branch()
    label = f"{analysis.closure}, window {analysis.window}"
    return {
        "label": label,
        "branches": branches,
        "trivial": (values, np.array([v == "stable" for v in verdicts], dtype=bool)),
        "critical": analysis.critical,
    }


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges [i, j] (inclusive) of equal consecutive values; neighbours share an end point."""
    if mask.size == 0:
        return []
    out, start = [], 0
    for k in range(1, mask.size):
        if mask[k] != mask[start]:
            out.append((start, k))
            start = k
    out.append((start, mask.size - 1))
    return out


def plot_bifurcation_diagram(
    path: str | os.PathLike,
    curves: Sequence[Mapping[str, Any]],
    rate: str,
    *,
    simulated: Mapping[str, Any] | None = None,
    density_label: str = "stationary density",
    title: str | None = None,
) -> Path:
    """Write the bifurcation diagram as a PNG.

    Parameters
    ----------
    path : path
        Output file (its directory is created); written atomically.
    curves : sequence of mapping
        One per closure and window, as from :func:`diagram_curves`. Stable parts solid, unstable
        dashed; the absorbing state (density 0) thin; the critical rate marked.
    rate : str
        Name of the varied rate (x axis).
    simulated : mapping, optional
        ``{"values": …, "densities": …, "errors": …, "label": …, "critical": …}`` simulated points
        (with error bars when ``errors`` is given).
    density_label : str
    title : str, optional

    Returns
    -------
    Path
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..io import write_bytes_atomic

    fig = Figure(figsize=(6.4, 4.4), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    colours = [f"C{k}" for k in range(10)]
    for k, curve in enumerate(curves):
        colour = colours[k % len(colours)]
        labelled = False
        for values, dens, stable in curve.get("branches", []):
            values, dens, stable = np.asarray(values, float), np.asarray(dens, float), np.asarray(stable, bool)
            for i, j in _runs(stable):
                ax.plot(values[i:j + 1], dens[i:j + 1], color=colour, linestyle="-" if stable[i] else "--",
                        label=None if labelled else curve["label"])
                labelled = True
        tv, ts = curve.get("trivial", (np.zeros(0), np.zeros(0, bool)))
        tv, ts = np.asarray(tv, float), np.asarray(ts, bool)
        for i, j in _runs(ts):
            ax.plot(tv[i:j + 1], np.zeros(j - i + 1), color=colour, linewidth=0.8, alpha=0.7,
                    linestyle="-" if ts[i] else ":")
        crit = curve.get("critical")
        if crit is not None and np.isfinite(crit):
            ax.plot([crit], [0.0], marker="o", color=colour, markersize=5,
                    label=None if labelled else curve["label"])
    if simulated:
        v = np.asarray(simulated.get("values", []), float)
        d = np.asarray(simulated.get("densities", []), float)
        e = simulated.get("errors")
        ax.errorbar(v, d, yerr=None if e is None else np.asarray(e, float), fmt="s", color="black",
                    markersize=4, capsize=2, label=simulated.get("label", "simulation"))
        crit = simulated.get("critical")
        if crit is not None and np.isfinite(crit):
            ax.axvline(float(crit), color="black", linewidth=0.8, linestyle=":")
    ax.set_xlabel(rate)
    ax.set_ylabel(density_label)
    ax.set_ylim(bottom=-0.02)
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, loc="best")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, lambda fh: fig.savefig(fh, format="png", dpi=DPI))
    return target
