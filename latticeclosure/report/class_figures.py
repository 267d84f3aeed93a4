"""Per-class figures of closures: the error of each class (the paper's Figs. 9–10) and each closed class
against a pair concentration (the paper's Fig. 8 view).

As everywhere in :mod:`latticeclosure.report`, the functions take plain data and every label as
arguments; ``draw_*`` returns a :class:`matplotlib.figure.Figure` on the Agg canvas (inspectable:
tests read back what is plotted), ``plot_*`` draws and writes the PNG atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["draw_class_errors", "plot_class_errors", "draw_closure_vs_pair", "plot_closure_vs_pair", "save_figure"]

DPI = 130


def _new_figure(figsize: tuple[float, float]) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, path: str | os.PathLike) -> Path:
    """Write ``fig`` as a PNG atomically (the directory is created if missing)."""
    from ..io import atomic_write
    from ..io.outdir import ensure_directory

    target = Path(path)
    ensure_directory(target.parent)  # a failure is "cannot write PATH: reason", like every writer
    with atomic_write(target, "wb") as fh:
        fig.savefig(fh, format="png", dpi=DPI)
    return target


def _styles(labels: Sequence[str], styles: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    from .figures import closure_styles

    return closure_styles(labels, styles)


def draw_class_errors(
    errors: Mapping[str, Mapping[str, float]],
    *,
    title: str | None = None,
    ylabel: str = "J_i (½∫(g_i − C_i)² dt)",
    styles: Mapping[str, Mapping[str, Any]] | None = None,
) -> Any:
    """Grouped bars: J_i of every class (x axis) for every closure (one colour each), log scale.

    Parameters
    ----------
    errors : dict closure label -> (dict class name -> J)
        Classes in the order of the first closure; a class a closure lacks is left out of its bars.
    """
    labels = list(errors)
    if not labels:
        raise ValueError("no closures to plot")
    classes = list(next(iter(errors.values())))
    st = _styles(labels, styles)
    fig = _new_figure((max(7.0, 0.5 * len(classes) * max(1, len(labels)) / 2 + 3), 4.6))
    ax = fig.subplots()
    width = 0.8 / len(labels)
    x = np.arange(len(classes))
    positive = []
    for k, label in enumerate(labels):
        values = np.array([float(errors[label].get(c, math.nan)) for c in classes])
        shown = np.where(values > 0, values, np.nan)
        positive += [v for v in shown if np.isfinite(v)]
        ax.bar(x - 0.4 + (k + 0.5) * width, shown, width=width, color=st[label]["color"], label=label)
    if positive:
        ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels(classes, rotation=60, ha="right", fontsize=8.5)
    ax.set_xlabel("class")
    ax.set_ylabel(ylabel)
    ax.legend(title="closure", fontsize=8.5)
    if title:
        ax.set_title(title)
    return fig


def plot_class_errors(errors: Mapping[str, Mapping[str, float]], path: str | os.PathLike, **kwargs: Any) -> Path:
    """:func:`draw_class_errors`, written to ``path``."""
    return save_figure(draw_class_errors(errors, **kwargs), path)


def draw_closure_vs_pair(
    pairs: Mapping[str, Any],
    data: Mapping[str, Any],
    predictions: Mapping[str, Mapping[str, Any]],
    pair_of: Mapping[str, str],
    *,
    title: str | None = None,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
    max_columns: int = 4,
) -> Any:
    """Every closed class against a pair concentration (the paper's Fig. 8): data as markers, each
    closure's values from the same records as a line, both ordered by the pair concentration.

    Parameters
    ----------
    pairs : dict pair class -> array
        The pair concentrations along the records.
    data : dict class -> array
        The measured closed-class concentrations (panels, in order).
    predictions : dict closure label -> (dict class -> array)
    pair_of : dict class -> pair class
        The pair each class is drawn against (x axis of its panel).
    """
    classes = list(data)
    if not classes:
        raise ValueError("no classes to plot")
    labels = list(predictions)
    st = _styles(labels, styles)
    ncols = min(max_columns, len(classes))
    nrows = int(math.ceil(len(classes) / ncols))
    fig = _new_figure((3.0 * ncols + 1.8, 2.5 * nrows + 0.6))
    axes = np.atleast_2d(fig.subplots(nrows, ncols, squeeze=False))
    handles, names = [], []
    for k, cls in enumerate(classes):
        ax = axes[k // ncols, k % ncols]
        xs = np.asarray(pairs[pair_of[cls]], dtype=float)
        order = np.argsort(xs, kind="stable")
        (dots,) = ax.plot(xs[order], np.asarray(data[cls], dtype=float)[order], linestyle="none", marker="o",
                          markersize=3, color="0.45")
        if k == 0:
            handles.append(dots)
            names.append("data")
        for label in labels:
            series = predictions[label].get(cls)
            if series is None:
                continue
            (line,) = ax.plot(xs[order], np.asarray(series, dtype=float)[order], color=st[label]["color"],
                              linestyle=st[label]["linestyle"], linewidth=1.3)
            if k == 0:
                handles.append(line)
                names.append(label)
        ax.set_title(cls, fontsize=9.5)
        ax.set_xlabel(pair_of[cls], fontsize=8.5)
        ax.tick_params(labelsize=7.5)
    for k in range(len(classes), nrows * ncols):
        axes[k // ncols, k % ncols].set_visible(False)
    fig.legend(handles, names, loc="outside right upper", title="closure")
    if title:
        fig.suptitle(title)
    return fig


def plot_closure_vs_pair(pairs: Mapping[str, Any], data: Mapping[str, Any], predictions: Mapping[str, Mapping[str, Any]],
                         pair_of: Mapping[str, str], path: str | os.PathLike, **kwargs: Any) -> Path:
    """:func:`draw_closure_vs_pair`, written to ``path``."""
    return save_figure(draw_closure_vs_pair(pairs, data, predictions, pair_of, **kwargs), path)
