"""Figures of rate-constant inference, from plain arrays (matplotlib ``Figure`` + Agg canvas, no pyplot).

* :func:`figure13` — the paper's Fig. 13: three rates on the axes (3-D scatter), up to three
  others colour-coded (RGB, each scaled to its range), symbol size ∝ 1/F, only samples with F
  below a threshold (default: the median F of the chains).
* :func:`figure14` — Fig. 14: histograms of F along the chains per closure, the F of fits in rate
  combinations (e.g. a linear closed model) as vertical lines.
* :func:`trajectories_plot` — the data's window classes and the best fit of each closure.
* :func:`corner_plot` — marginal histograms and pairwise scatter of the posterior.
* :func:`waterfall_plot` — sorted final F of the multi-start fits per closure.

Every function writes a PNG atomically and returns its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

__all__ = ["figure13", "figure14", "trajectories_plot", "corner_plot", "waterfall_plot"]


def _new_figure(size: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | Path, dpi: int = 110) -> Path:
    from ..io.atomic import write_bytes_atomic

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(p, lambda fh: fig.savefig(fh, format="png", dpi=dpi))
    return p


def _thin(n: int, max_points: int) -> np.ndarray:
    if n <= max_points:
        return np.arange(n)
    return np.linspace(0, n - 1, max_points).astype(int)


def figure13(samples: np.ndarray, F: np.ndarray, names: Sequence[str], path: str | Path, *,
             axes: Sequence[int] = (0, 1, 2), colour: Sequence[int] | None = None, threshold: float | None = None,
             max_points: int = 4000, title: str = "") -> Path:
    """Fig. 13 (see the module documentation); ``samples`` (n, d), ``F`` (n,)."""
    samples = np.asarray(samples, float)
    F = np.asarray(F, float)
    d = samples.shape[1]
    axes = [a for a in axes if a < d]
    if colour is None:
        colour = [j for j in range(d) if j not in axes][:3]
    finite = np.isfinite(F)
    thr = float(np.median(F[finite])) if threshold is None and finite.any() else threshold
    keep = np.nonzero(finite & (F <= (thr if thr is not None else np.inf)))[0]
    keep = keep[_thin(len(keep), max_points)]
    X = samples[keep]
    fk = F[keep]
    fig = _new_figure((7.5, 6))
    three_d = len(axes) == 3
    ax = fig.add_subplot(111, projection="3d") if three_d else fig.add_subplot(111)
    rgb = np.full((len(keep), 3), 0.3)
    for c, j in enumerate(colour):
        v = X[:, j]
        span = v.max() - v.min() if len(v) else 0.0
        rgb[:, c] = (v - v.min()) / span if span > 0 else 0.5
    size = 1.0 / np.maximum(fk, 1e-300) if len(fk) else np.zeros(0)
    size = 4 + 36 * (size - size.min()) / (np.ptp(size) or 1.0) if len(size) else size
    coords = [X[:, a] for a in axes]
    ax.scatter(*coords, c=rgb, s=size, alpha=0.6, linewidths=0)
    ax.set_xlabel(names[axes[0]])
    if len(axes) > 1:
        ax.set_ylabel(names[axes[1]])
    if three_d:
        ax.set_zlabel(names[axes[2]])
    cols = ", ".join(f"{'RGB'[c]}={names[j]}" for c, j in enumerate(colour))
    ax.set_title(f"{title}  F ≤ {thr:.3g}, size ∝ 1/F; colour {cols}" if thr is not None else title, fontsize=9)
    return _save(fig, path)


def figure14(F_by_label: Mapping[str, np.ndarray], path: str | Path, *, reference_F: Mapping[str, float] | None = None,
             bins: int = 50) -> Path:
    """Fig. 14: histograms of F along the chains; vertical lines at ``reference_F`` (e.g. the fit of a linear closed model)."""
    n = max(1, len(F_by_label))
    fig = _new_figure((4.5 * n, 3.6))
    for i, (label, F) in enumerate(F_by_label.items()):
        ax = fig.add_subplot(1, n, i + 1)
        F = np.asarray(F, float)
        F = F[np.isfinite(F)]
        ax.hist(F, bins=bins, color="tab:blue", alpha=0.8)
        for rl, rv in (reference_F or {}).items():
            ax.axvline(rv, color="k", lw=1.5, label=f"{rl}: F = {rv:.3g}")
        ax.set_xlabel("F(K) along the chains")
        ax.set_ylabel("samples")
        ax.set_title(label)
        if reference_F:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def trajectories_plot(t: np.ndarray, data: Mapping[str, np.ndarray], predictions: Mapping[str, np.ndarray],
                      names: Sequence[str], path: str | Path, *, title: str = "") -> Path:
    """Data (points) and each closure's best fit (lines); ``predictions[label]`` is (records, classes)."""
    fig = _new_figure((7, 4.5))
    ax = fig.add_subplot(111)
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    styles = ["-", "--", ":", "-."]
    for c, n in enumerate(names):
        col = colours[c % len(colours)]
        ax.plot(t, data[n], "o", ms=2.5, color=col, alpha=0.5, label=f"{n} data")
        for i, (label, Y) in enumerate(predictions.items()):
            ax.plot(t, np.asarray(Y)[:, c], styles[i % len(styles)], color=col, lw=1.3, label=f"{n} {label}")
    ax.set_xlabel("time (fraction of the run)")
    ax.set_ylabel("concentration")
    ax.set_title(f"best fits {title}".strip())
    ax.legend(fontsize=6, ncol=max(1, len(predictions)))
    fig.tight_layout()
    return _save(fig, path)


def corner_plot(samples: np.ndarray, names: Sequence[str], path: str | Path, *, max_points: int = 3000,
                title: str = "") -> Path:
    """Corner plot: histograms on the diagonal, pairwise scatter below."""
    samples = np.asarray(samples, float)
    d = samples.shape[1]
    idx = _thin(samples.shape[0], max_points)
    fig = _new_figure((1.6 * d + 1, 1.6 * d + 1))
    for i in range(d):
        for j in range(i + 1):
            ax = fig.add_subplot(d, d, i * d + j + 1)
            if i == j:
                ax.hist(samples[:, i], bins=40, color="tab:blue")
            else:
                ax.scatter(samples[idx, j], samples[idx, i], s=1, alpha=0.3, color="tab:blue", linewidths=0)
            ax.tick_params(labelsize=5)
            if i == d - 1:
                ax.set_xlabel(names[j], fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(names[i], fontsize=7)
    if title:
        fig.suptitle(f"posterior {title}", fontsize=9)
    return _save(fig, path, dpi=90)


def waterfall_plot(sorted_F: Mapping[str, np.ndarray], path: str | Path) -> Path:
    """Sorted final F of the multi-start fits (one line per closure, log scale)."""
    fig = _new_figure((6, 4))
    ax = fig.add_subplot(111)
    for label, F in sorted_F.items():
        F = np.asarray(F, float)
        ax.plot(np.arange(1, len(F) + 1), np.where(np.isfinite(F), F, np.nan), "o-", ms=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("fit (sorted)")
    ax.set_ylabel("final F")
    ax.set_title("multi-start: sorted final F")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
