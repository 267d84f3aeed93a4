"""Figures of the main job's report (the paper's Figs. 2, 8, 11–12 and a Table II-like heat map).

Every function takes plain numpy data — sequences, arrays, dicts of arrays — never project objects,
so it can be used (and tested) alone. Each figure has two functions:

* ``draw_*`` draws it and returns the :class:`matplotlib.figure.Figure`, on an Agg canvas attached
  explicitly (pyplot and the global backend are never touched, so the functions are safe inside
  Jupyter or a GUI session); what is plotted — every curve's data, axis labels, legend entries — can be
  read back from it;
* ``plot_*`` (same arguments plus ``path``) draws and writes the PNG with :func:`save_figure`: at
  :data:`DPI` dots per inch, *atomically* (a temporary file in the target directory, then
  :func:`os.replace`; on failure the previous file is left intact and the temporary one removed),
  creating the parent directory if missing; it returns the path.

matplotlib is imported on the first call, not when this module is imported.

Conventions
    * Time is shown as a fraction of the run: by default every ``time`` array is divided by its
      largest finite value (the run is taken to start at 0); pass ``normalize_time=False`` if the
      times already are fractions.
    * Colour per grid point from viridis (by rank of its value, so neighbouring points stay
      distinguishable); each closure label gets a style (colour, line style, marker) from
      :func:`closure_styles` — the caller passes ``styles`` to fix them (a model plugin does, so the
      same closure looks the same in every figure), other labels take the next colour of tab10.
    * Labels are arguments: ``grid_name`` (the grid parameter, e.g. ``x``), ``grid_label`` (its axis
      label) and ``legend_title`` name the grid; ``temperature_label`` the temperature axis.
    * NaN and ±inf are never plotted (they break a line); figures stay legible when whole series
      are missing.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "draw_annealing",
    "draw_pair_concentrations",
    "draw_closure_reconstruction",
    "draw_error_vs_grid",
    "draw_exponents",
    "draw_observable",
    "save_figure",
    "plot_annealing",
    "plot_pair_concentrations",
    "plot_closure_reconstruction",
    "plot_error_vs_grid",
    "plot_exponents",
    "plot_observable",
    "stoichiometry_colours",
    "closure_styles",
    "DPI",
]

#: Resolution of every PNG.
DPI = 130

#: Colours, line styles and markers given to closure labels in order (unless ``styles`` fixes them).
_COLOURS = ("black", "tab:blue", "tab:orange", "tab:red", "tab:green", "tab:purple", "tab:brown",
            "tab:pink", "tab:olive", "tab:cyan", "tab:gray")
_LINESTYLE_CYCLE = ("-", "--", "-.", ":", (0, (5, 1.5, 1, 1.5, 1, 1.5)), (0, (1, 1)))
_MARKER_CYCLE = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">", "p")

TIME_LABEL = "time (fraction of run)"
T_LABEL = "temperature"
E_LABEL = "energy per site"
C_LABEL = "concentration"

_RC = {
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.title_fontsize": 9,
    "legend.framealpha": 0.9,
    "figure.titlesize": 12,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.4,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.formatter.useoffset": False,
}


# ---------------------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _drawing(figsize: tuple[float, float]) -> Iterator[Any]:
    """Yield a constrained-layout figure on its own Agg canvas, drawn under the report's style."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        yield fig


def save_figure(fig: Any, path: str | os.PathLike) -> Path:
    """Write ``fig`` as a PNG at :data:`DPI` dots per inch, atomically.

    The parent directory is created if missing; on failure the previous file is left intact and the
    temporary one removed.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure drawn by one of the ``draw_*`` functions (or any figure with a canvas).
    path : path-like
        The PNG to write.

    Returns
    -------
    pathlib.Path
    """
    import matplotlib

    from ..io import atomic_write
    from ..io.outdir import ensure_directory

    target = Path(path)
    ensure_directory(target.parent)
    with matplotlib.rc_context(_RC), atomic_write(target, "wb") as fh:
        fig.savefig(fh, format="png", dpi=DPI)
    return target


def _array(values: Any, name: str) -> np.ndarray:
    """1-d float array with ±inf turned into NaN (so they are skipped, like NaN)."""
    try:
        a = np.array(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected numbers, got {type(values).__name__}") from exc
    a[~np.isfinite(a)] = np.nan
    return a


def _time_fraction(time: Any, normalize: bool, name: str = "time") -> np.ndarray:
    t = _array(time, name)
    if not normalize:
        return t
    finite = t[np.isfinite(t)]
    if finite.size == 0:
        return t
    t0 = min(0.0, float(finite.min()))
    span = float(finite.max()) - t0
    return (t - t0) / span if span > 0 else np.zeros_like(t)


def _series(time: np.ndarray, values: Any, name: str) -> np.ndarray:
    v = _array(values, name)
    if v.shape != time.shape:
        raise ValueError(f"{name}: {v.size} values for {time.size} times")
    return v


def _point_label(x: Any, grid_name: str = "x") -> str:
    try:
        return f"{grid_name} = {float(x):.3g}"
    except (TypeError, ValueError):
        return f"{grid_name} = {x}"


def stoichiometry_colours(xs: Sequence[float]) -> dict[float, tuple]:
    """Map each grid value to an RGBA colour from viridis, by rank (the yellow end is avoided)."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    order = sorted({float(x) for x in xs})
    if len(order) == 1:
        return {order[0]: cmap(0.4)}
    return {x: cmap(0.88 * i / (len(order) - 1)) for i, x in enumerate(order)}


def closure_styles(labels: Sequence[str], styles: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Colour, line style and marker per closure label.

    ``styles`` fixes some labels (``{"PA": {"color": "black", "linestyle": "-", "marker": "o"}}``,
    any key optional); the others take the next unused colour, line style and marker in order.
    """
    styles = dict(styles or {})
    used = {st.get("color") for st in styles.values()}
    colours = iter([c for c in _COLOURS if c not in used] * (len(labels) + 1))
    out: dict[str, dict[str, Any]] = {}
    for k, label in enumerate(labels):
        fixed = dict(styles.get(label, {}))
        out[label] = {
            "color": fixed.get("color") or next(colours),
            "linestyle": fixed.get("linestyle", _LINESTYLE_CYCLE[k % len(_LINESTYLE_CYCLE)]),
            "marker": fixed.get("marker", _MARKER_CYCLE[k % len(_MARKER_CYCLE)]),
        }
    return out


def _outside_legend(fig: Any, handles: list, labels: list[str], **kwargs: Any) -> None:
    """A figure legend right of the axes (constrained layout makes room for it)."""
    try:
        fig.legend(handles, labels, loc="outside right upper", **kwargs)
    except ValueError:  # matplotlib < 3.7: no "outside" locations
        fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), **kwargs)


def _runs_sorted(runs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if not runs:
        raise ValueError("no runs to plot")
    for i, run in enumerate(runs):
        if "x" not in run or "time" not in run:
            raise ValueError(f"run {i}: needs at least the keys 'x' and 'time'")

    def key(run: Mapping[str, Any]) -> float:
        try:
            v = float(run["x"])
        except (TypeError, ValueError):
            return math.inf
        return v if math.isfinite(v) else math.inf

    return sorted(runs, key=key)


def _log_ticks(ax: Any) -> None:
    """Compact log-axis tick labels: ``0.01``, ``0.1`` at decades; ``0.02``, ``0.05`` in between only
    when the axis spans at most 2.5 decades (otherwise minor labels are left out)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = ax.get_ylim()
    decades = math.log10(hi / lo) if lo > 0 and hi > lo else 99.0

    def fmt(v: float, _pos: Any = None) -> str:
        if v <= 0:
            return ""
        return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e") if (v < 1e-3 or v >= 1e4) else f"{v:g}"

    ax.yaxis.set_major_locator(LogLocator(base=10.0, numticks=8))
    ax.yaxis.set_major_formatter(FuncFormatter(fmt))
    if decades <= 2.5:
        ax.yaxis.set_minor_locator(LogLocator(base=10.0, subs=(2.0, 5.0), numticks=12))
        ax.yaxis.set_minor_formatter(FuncFormatter(fmt))
    else:
        ax.yaxis.set_minor_locator(LogLocator(base=10.0, subs=tuple(range(2, 10)), numticks=12))
        ax.yaxis.set_minor_formatter(NullFormatter())


def _no_data(ax: Any, text: str = "no finite data") -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4", fontsize=9)


# ---------------------------------------------------------------------------------------- Fig. 2


def draw_annealing(
    runs: Sequence[Mapping[str, Any]],
    *,
    title: str | None = "Simulated annealing: temperature and energy per site",
    normalize_time: bool = True,
    log_temperature: bool | None = None,
    grid_name: str = "x",
    legend_title: str = "grid point",
    temperature_label: str = T_LABEL,
    energy_label: str = E_LABEL,
) -> Any:
    """Temperature and energy per site along the annealing runs, like the paper's Fig. 2.

    Two stacked panels sharing the time axis (fraction of the run): T on top, E per site below, one
    line per grid point, each run's ground-state lower bound dotted in its colour.

    Parameters
    ----------
    runs : sequence of dict
        ``{"x": float, "time": array, "temperature": array, "energy": array, "lower_bound": float}``
        (``x`` the grid value, labelled ``grid_name``); ``temperature``, ``energy`` and
        ``lower_bound`` may each be missing or None.
    log_temperature : bool, optional
        Logarithmic T axis (non-positive temperatures are then not drawn). Default: logarithmic when
        every temperature is positive and they span more than a factor 20 (a geometric schedule would
        otherwise look flat for its second half).

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas of its own (no pyplot); :func:`save_figure` writes it.
    """
    from matplotlib.lines import Line2D

    runs = _runs_sorted(runs)
    colours = stoichiometry_colours([r["x"] for r in runs if _finite_x(r["x"])] or [0.0])
    with _drawing((8.8, 6.2)) as fig:
        ax_t, ax_e = fig.subplots(2, 1, sharex=True)
        handles, labels = [], []
        any_t = any_e = False
        all_t: list[np.ndarray] = []
        for run in runs:
            t = _time_fraction(run["time"], normalize_time)
            colour = colours.get(float(run["x"]), "0.5") if _finite_x(run["x"]) else "0.5"
            label = _point_label(run["x"], grid_name)
            line = None
            if run.get("temperature") is not None:
                temp = _series(t, run["temperature"], f"{label}: temperature")
                (line,) = ax_t.plot(t, temp, color=colour, drawstyle="steps-post")
                any_t |= bool(np.isfinite(temp).any())
                all_t.append(temp[np.isfinite(temp)])
            if run.get("energy") is not None:
                energy = _series(t, run["energy"], f"{label}: energy")
                (line,) = ax_e.plot(t, energy, color=colour)
                any_e |= bool(np.isfinite(energy).any())
            bound = run.get("lower_bound")
            if bound is not None and np.isfinite(float(bound)):
                ax_e.axhline(float(bound), color=colour, linestyle=":", linewidth=1.3)
            handles.append(line or Line2D([], [], color=colour))
            labels.append(label)
        handles.append(Line2D([], [], color="0.3", linestyle=":", linewidth=1.3))
        labels.append("ground-state\nlower bound")
        if any_t:
            tt = np.concatenate(all_t)
            if log_temperature is None:
                log_temperature = bool((tt > 0).all() and tt.max() > 20 * tt.min())
            if log_temperature and (tt > 0).any():
                for line in ax_t.get_lines():
                    y = np.asarray(line.get_ydata(), float)
                    line.set_ydata(np.where(y > 0, y, np.nan))
                ax_t.set_yscale("log")
                _log_ticks(ax_t)
        if not any_t:
            _no_data(ax_t)
        if not any_e:
            _no_data(ax_e)
        ax_t.set_ylabel(temperature_label)
        ax_e.set_ylabel(energy_label)
        ax_e.set_xlabel(TIME_LABEL)
        if normalize_time:
            ax_e.set_xlim(0.0, 1.0)
        ax_t.set_title("temperature schedule", loc="left")
        ax_e.set_title(f"energy per site (dotted: lower bound of each {grid_name})", loc="left")
        _outside_legend(fig, handles, labels, title=legend_title)
        if title:
            fig.suptitle(title)
    return fig


def plot_annealing(
    runs: Sequence[Mapping[str, Any]],
    path: str | os.PathLike,
    *,
    title: str | None = "Simulated annealing: temperature and energy per site",
    normalize_time: bool = True,
    log_temperature: bool | None = None,
    grid_name: str = "x",
    legend_title: str = "grid point",
    temperature_label: str = T_LABEL,
    energy_label: str = E_LABEL,
) -> Path:
    """Draw with :func:`draw_annealing`, then :func:`save_figure` to ``path``.

    Returns
    -------
    pathlib.Path
    """
    fig = draw_annealing(
        runs, title=title, normalize_time=normalize_time, log_temperature=log_temperature,
        grid_name=grid_name, legend_title=legend_title, temperature_label=temperature_label,
        energy_label=energy_label,
    )
    return save_figure(fig, path)


def _finite_x(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------- pairs


def draw_pair_concentrations(
    runs: Sequence[Mapping[str, Any]],
    *,
    classes: Sequence[str] | None = None,
    title: str | None = "Window-class concentrations along the runs",
    normalize_time: bool = True,
    grid_name: str = "x",
    legend_title: str = "grid point",
) -> Any:
    """Concentrations of some classes against time (fraction of the run): one panel per class, one
    line per grid point.

    Parameters
    ----------
    runs : sequence of dict
        ``{"x": float, "time": array, "pairs": {class name: array, ...}}`` (``x`` the grid value).
    classes : sequence of str, optional
        The panels, in order; default: the classes of the runs in order of first appearance.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas of its own (no pyplot); :func:`save_figure` writes it.
    """
    runs = _runs_sorted(runs)
    if classes is None:
        classes = []
        for run in runs:
            for c in run.get("pairs") or {}:
                if c not in classes:
                    classes.append(c)
    classes = list(classes)
    if not classes:
        raise ValueError("no pair classes to plot")
    colours = stoichiometry_colours([r["x"] for r in runs if _finite_x(r["x"])] or [0.0])
    ncols = min(len(classes), 3)
    nrows = math.ceil(len(classes) / ncols)
    with _drawing((3.5 * ncols + 1.6, 3.3 * nrows + 0.6)) as fig:
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
        handles, labels = [], []
        for k, cls in enumerate(classes):
            ax = axes[k]
            seen = False
            for run in runs:
                t = _time_fraction(run["time"], normalize_time)
                colour = colours.get(float(run["x"]), "0.5") if _finite_x(run["x"]) else "0.5"
                values = (run.get("pairs") or {}).get(cls)
                if values is None:
                    continue
                v = _series(t, values, f"{_point_label(run['x'], grid_name)}: {cls}")
                (line,) = ax.plot(t, v, color=colour)
                seen |= bool(np.isfinite(v).any())
                if _point_label(run["x"], grid_name) not in labels:
                    handles.append(line)
                    labels.append(_point_label(run["x"], grid_name))
            if not seen:
                _no_data(ax)
            ax.set_title(cls)
            if k % ncols == 0:
                ax.set_ylabel(C_LABEL)
            if normalize_time:
                ax.set_xlim(0.0, 1.0)
        for ax in axes[len(classes):]:
            ax.set_visible(False)
        for ax in axes[max(0, len(classes) - ncols): len(classes)]:
            ax.set_xlabel(TIME_LABEL)
            ax.tick_params(labelbottom=True)
        _outside_legend(fig, handles, labels, title=legend_title)
        if title:
            fig.suptitle(title)
    return fig


def plot_pair_concentrations(
    runs: Sequence[Mapping[str, Any]],
    path: str | os.PathLike,
    *,
    classes: Sequence[str] | None = None,
    title: str | None = "Window-class concentrations along the runs",
    normalize_time: bool = True,
    grid_name: str = "x",
    legend_title: str = "grid point",
) -> Path:
    """Draw with :func:`draw_pair_concentrations`, then :func:`save_figure` to ``path``.

    Returns
    -------
    pathlib.Path
    """
    fig = draw_pair_concentrations(
        runs, classes=classes, title=title, normalize_time=normalize_time, grid_name=grid_name,
        legend_title=legend_title,
    )
    return save_figure(fig, path)


# ---------------------------------------------------------------------------------------- Fig. 8


def _family(cls: str) -> str:
    return cls.rstrip("+-") or cls


def _grid(classes: Sequence[str]) -> tuple[int, int, list[tuple[int, int]]]:
    """Panel positions: one row per shape family (L, A, T) when that fits without leaving more than a
    few slots empty, else a compact grid."""
    families: list[str] = []
    for c in classes:
        if _family(c) not in families:
            families.append(_family(c))
    sizes = [sum(_family(c) == f for c in classes) for f in families]
    if 1 < len(families) <= 4 and 3 <= max(sizes) <= 6 and len(families) * max(sizes) - len(classes) < max(sizes) / 2:
        ncols = max(sizes)
        pos, seen = [], {f: 0 for f in families}
        for c in classes:
            f = _family(c)
            pos.append((families.index(f), seen[f]))
            seen[f] += 1
        return len(families), ncols, pos
    n = len(classes)

    def score(nc: int) -> float:  # few empty slots, landscape-ish
        nr = math.ceil(n / nc)
        return nr * nc - n + 0.5 * abs(nc - 1.5 * nr)

    ncols = min(range(1, min(n, 8) + 1), key=score)
    nrows = math.ceil(n / ncols)
    return nrows, ncols, [(i // ncols, i % ncols) for i in range(len(classes))]


def _ylimits(data: np.ndarray, preds: list[np.ndarray], log: bool) -> tuple[float, float] | None:
    """Limits driven by the data; predictions far outside are clipped rather than squash the data."""
    d = data[np.isfinite(data)]
    p = np.concatenate([q[np.isfinite(q)] for q in preds]) if preds else np.empty(0)
    if d.size == 0:
        d = p
    if d.size == 0:
        return None
    if log:
        allv = np.concatenate([d, p])
        lo_d, hi_d = float(d.min()), float(d.max())
        lo = max(float(allv.min()), lo_d / 100.0, hi_d * 1e-8)
        lo = min(lo, lo_d)
        hi = max(min(float(allv.max()), hi_d * 100.0), hi_d)
        if hi <= lo:
            hi = lo * 10.0
        return lo / 1.3, hi * 1.3
    lo_d, hi_d = min(0.0, float(d.min())), float(d.max())
    span = hi_d - lo_d
    if span <= 0:  # all zero (an absent class) or constant
        span = 0.5 * abs(hi_d) or 1e-3
        hi_d = hi_d + span if hi_d >= 0 else hi_d
    inside = p[(p >= lo_d - span) & (p <= hi_d + span)] if p.size else p
    lo = min(lo_d, float(inside.min())) if inside.size else lo_d
    hi = max(hi_d, float(inside.max())) if inside.size else hi_d
    pad = 0.06 * max(hi - lo, 1e-12)
    return lo - (pad if lo < 0 else 0.0), hi + pad


def _leaves(values: np.ndarray, limits: tuple[float, float], log: bool) -> bool:
    """Whether a curve has finite points outside the panel's y limits (drawn, they are cut off)."""
    v = values[np.isfinite(values)]
    if log:
        v = v[v > 0]
    lo, hi = limits
    return bool(v.size) and bool(((v < lo) | (v > hi)).any())


def draw_closure_reconstruction(
    x: float | None,
    time: Any,
    data: Mapping[str, Any],
    predictions: Mapping[str, Mapping[str, Any]],
    classes: Sequence[str] | None = None,
    *,
    title: str | None = None,
    normalize_time: bool = True,
    yscale: str = "auto",
    max_markers: int = 35,
    grid_name: str = "x",
    styles: Mapping[str, Mapping[str, Any]] | None = None,
) -> Any:
    """Measured triplet concentrations and each closure's prediction, like the paper's Fig. 8.

    One small panel per triplet class (default: the keys of ``data``; with the 16 triangular classes
    one row per shape — linear, angled, triangle — and the legend in the free slot), the measured
    concentration as markers (at most ``max_markers`` per panel) and one line per closure.

    Parameters
    ----------
    x : float or None
        The grid value (labelled ``grid_name``), for the title.
    time : array
        Record times (normalised to a fraction of the run unless ``normalize_time=False``).
    data : dict str -> array
        Measured concentration of each class at ``time``.
    predictions : dict label -> (dict str -> array)
        Each closure's prediction (e.g. ``"PA"``, ``"fitted"``); a class a closure
        lacks is simply not drawn for it.
    yscale : {"auto", "linear", "log"}
        ``"auto"``: logarithmic in a panel only if every finite value there (data and predictions) is
        positive. On a log axis the floor is at most 100× below the smallest measured value (and not
        below 1e-8 of the largest), so a prediction collapsing towards 0 does not squash the data.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas of its own (no pyplot); :func:`save_figure` writes it. The y limits follow
        the measured data, so a prediction far from it runs out of its panel: such panels say
        ``clipped: <closures>``, a note under the figure explains it, and the figure's
        ``clipped_curves`` attribute maps each such class to the clipped closures' labels.
    """
    from matplotlib.lines import Line2D

    if yscale not in ("auto", "linear", "log"):
        raise ValueError(f"yscale must be 'auto', 'linear' or 'log', not {yscale!r}")
    classes = list(classes) if classes is not None else list(data)
    if not classes:
        raise ValueError("no classes to plot")
    t = _time_fraction(time, normalize_time)
    labels = list(predictions)
    styles = closure_styles(labels, styles)
    nrows, ncols, positions = _grid(classes)
    n = t.size
    mark = np.unique(np.linspace(0, n - 1, min(n, max(2, max_markers))).round().astype(int)) if n else []
    clipped: dict[str, list[str]] = {}
    with _drawing((2.15 * ncols + 0.6, 1.95 * nrows + 0.9)) as fig:
        axes = fig.subplots(nrows, ncols, squeeze=False)
        used = set(positions)
        for (r, c), cls in zip(positions, classes):
            ax = axes[r, c]
            d = _series(t, data[cls], f"data[{cls!r}]") if cls in data and data[cls] is not None else np.full(n, np.nan)
            drawn: list[tuple[str, np.ndarray]] = []  # (closure label, its prediction)
            for label in labels:
                series = predictions[label].get(cls) if predictions[label] is not None else None
                if series is None:
                    continue
                q = _series(t, series, f"predictions[{label!r}][{cls!r}]")
                drawn.append((label, q))
                st = styles[label]
                ax.plot(t, q, color=st["color"], linestyle=st["linestyle"], linewidth=1.3, zorder=2)
            ax.plot(
                t[mark], d[mark], linestyle="none", marker="o", markersize=3.6,
                markerfacecolor="none", markeredgecolor="0.3", markeredgewidth=0.9, zorder=3,
            )
            preds = [q for _, q in drawn]
            finite = np.concatenate([d[np.isfinite(d)]] + [q[np.isfinite(q)] for q in preds])
            log = yscale == "log" or (yscale == "auto" and finite.size > 0 and bool((finite > 0).all()))
            if log:
                ax.set_yscale("log")
                for line in ax.get_lines():  # non-positive values cannot be drawn
                    y = np.asarray(line.get_ydata(), float)
                    line.set_ydata(np.where(y > 0, y, np.nan))
            lim = _ylimits(
                np.where(d > 0, d, np.nan) if log else d,
                [np.where(q > 0, q, np.nan) for q in preds] if log else preds,
                log,
            )
            if lim is None:
                _no_data(ax, "no data")
            else:
                ax.set_ylim(*lim)
                out = [label for label, q in drawn if _leaves(q, lim, log)]
                if out:
                    clipped[cls] = out
                    ax.text(0.98, 0.96, "clipped: " + ", ".join(out), transform=ax.transAxes, ha="right",
                            va="top", fontsize=6.5, color="0.25", zorder=4,
                            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                                  "alpha": 0.8})
            if log:
                _log_ticks(ax)
            ax.set_title(cls, fontsize=9.5, pad=3)
            ax.tick_params(which="both", labelsize=7.5)
            ax.yaxis.get_offset_text().set_fontsize(7)
            if normalize_time:
                ax.set_xlim(0.0, 1.0)
                ax.set_xticks([0.0, 0.5, 1.0])
            # x tick labels only where no panel sits below
            if any((rr, c) in used for rr in range(r + 1, nrows)):
                ax.tick_params(labelbottom=False)
        free = [(r, c) for r in range(nrows) for c in range(ncols) if (r, c) not in used]
        for r, c in free:
            axes[r, c].set_axis_off()
        handles = [
            Line2D([], [], linestyle="none", marker="o", markersize=5, markerfacecolor="none",
                   markeredgecolor="0.3", markeredgewidth=1.0)
        ]
        names = ["measured (MC)"]
        for label in labels:
            st = styles[label]
            handles.append(Line2D([], [], color=st["color"], linestyle=st["linestyle"], linewidth=1.6))
            names.append(label)
        if free and len(names) <= 9:
            # legend in the free slot(s) at the end of the last row
            r, c = free[-1] if len(free) == 1 else free[len(free) // 2]
            axes[r, c].legend(handles, names, loc="center", title="closure", frameon=True, fontsize=9)
        else:
            _outside_legend(fig, handles, names, title="closure")
        fig.supxlabel(TIME_LABEL, fontsize=10)
        fig.supylabel(C_LABEL, fontsize=10)
        if clipped:
            # the axes follow the data: a prediction far off the data runs out of its panel
            fig.text(0.005, 0.005, "Curves marked 'clipped' leave their panel (axes follow the measured data).",
                     fontsize=7, color="0.25", ha="left", va="bottom")
        fig.clipped_curves = clipped
        if title is None:
            title = "Triplet concentrations: measured vs closures"
            if x is not None:
                title += f" ({_point_label(x, grid_name)})"
        if title:
            fig.suptitle(title)
    return fig


def plot_closure_reconstruction(
    x: float | None,
    time: Any,
    data: Mapping[str, Any],
    predictions: Mapping[str, Mapping[str, Any]],
    path: str | os.PathLike,
    classes: Sequence[str] | None = None,
    *,
    title: str | None = None,
    normalize_time: bool = True,
    yscale: str = "auto",
    max_markers: int = 35,
    grid_name: str = "x",
    styles: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Draw with :func:`draw_closure_reconstruction`, then :func:`save_figure` to ``path``.

    Returns
    -------
    pathlib.Path
    """
    fig = draw_closure_reconstruction(
        x, time, data, predictions, classes, title=title, normalize_time=normalize_time, yscale=yscale,
        max_markers=max_markers, grid_name=grid_name, styles=styles,
    )
    return save_figure(fig, path)


# ---------------------------------------------------------------------------------------- Figs. 11–12


def draw_error_vs_grid(
    values: Sequence[float],
    errors: Mapping[str, Sequence[float]],
    title: str | None = "Closure error E across the grid",
    *,
    ylabel: str = "E (mean J over classes)",
    xlabel: str = "x",
    styles: Mapping[str, Mapping[str, Any]] | None = None,
    markers: Mapping[str, float] | None = None,
) -> Any:
    """E against the grid parameter for each closure, log y axis, like the paper's Figs. 11–12.

    ``markers`` maps a closure label to the grid value it was fitted at; that point is drawn as a
    larger hollow marker.

    Parameters
    ----------
    values : sequence of float
        Grid values (x axis).
    errors : dict label -> sequence of float
        Aligned with ``values``. NaN, ±inf and non-positive values cannot be drawn on a log
        axis: they are skipped (the line breaks there) and the legend says how many.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas of its own (no pyplot); :func:`save_figure` writes it.
    """
    xs = _array(values, "values")
    if xs.size == 0:
        raise ValueError("no grid values")
    labels = list(errors)
    styles = closure_styles(labels, styles)
    order = np.argsort(np.where(np.isfinite(xs), xs, np.inf), kind="stable")
    with _drawing((8.2, 4.9)) as fig:
        ax = fig.subplots()
        handles, names = [], []
        any_drawn = False
        for label in labels:
            ys = _array(errors[label], f"errors[{label!r}]")
            if ys.size != xs.size:
                raise ValueError(f"errors[{label!r}]: {ys.size} values for {xs.size} grid values")
            ok = np.isfinite(ys) & (ys > 0) & np.isfinite(xs)
            y = np.where(ok, ys, np.nan)[order]
            st = styles[label]
            (line,) = ax.plot(
                xs[order], y, color=st["color"], linestyle=st["linestyle"], marker=st["marker"],
                markersize=5.5, linewidth=1.4,
            )
            any_drawn |= bool(ok.any())
            if markers and label in markers:
                at = int(np.argmin(np.abs(xs - float(markers[label]))))
                if ok[at]:
                    ax.plot([xs[at]], [ys[at]], linestyle="none", marker=st["marker"], markersize=12,
                            markerfacecolor="none", markeredgecolor=st["color"], markeredgewidth=1.6)
            missing = int((~ok).sum())
            name = label if not missing else f"{label} ({missing} of {xs.size} n/a)"
            handles.append(line)
            names.append(name)
        if any_drawn:
            ax.set_yscale("log")
            _log_ticks(ax)
        else:
            _no_data(ax, "no finite positive errors to show")
        fx = xs[np.isfinite(xs)]
        if fx.size:
            ticks = np.unique(fx)
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{v:.2f}" for v in ticks], rotation=45 if ticks.size > 6 else 0)
            pad = 0.04 * max(float(ticks.max() - ticks.min()), 0.05)
            ax.set_xlim(float(ticks.min()) - pad, float(ticks.max()) + pad)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.35)
        ax.grid(True, which="minor", axis="y", alpha=0.12)
        _outside_legend(fig, handles, names, title="closure")
        if title:
            ax.set_title(title)
    return fig


def plot_error_vs_grid(
    values: Sequence[float],
    errors: Mapping[str, Sequence[float]],
    path: str | os.PathLike,
    title: str | None = "Closure error E across the grid",
    *,
    ylabel: str = "E (mean J over classes)",
    xlabel: str = "x",
    styles: Mapping[str, Mapping[str, Any]] | None = None,
    markers: Mapping[str, float] | None = None,
) -> Path:
    """Draw with :func:`draw_error_vs_grid`, then :func:`save_figure` to ``path``.

    Returns
    -------
    pathlib.Path
    """
    fig = draw_error_vs_grid(
        values, errors, title, ylabel=ylabel, xlabel=xlabel, styles=styles, markers=markers,
    )
    return save_figure(fig, path)


# ---------------------------------------------------------------------------------------- Table II


def _format_exponent(v: float) -> str:
    if not np.isfinite(v):
        return ""
    if abs(v - round(v)) < 5e-3 and abs(v) < 100:
        return f"{int(round(v))}"
    if abs(v) >= 100:
        return f"{v:.1e}"
    if abs(v) < 0.01 and v != 0:
        return f"{v:.1g}"
    return f"{v:.2f}"


def draw_exponents(
    table: Sequence[Mapping[str, Any]],
    *,
    closures: Sequence[str] | None = None,
    title: str | None = "Fitted power-law closure exponents per class",
    colour_limit: float | None = None,
) -> Any:
    """Heat map of the fitted parameters per triplet class and closure (Table II-like).

    Rows are classes, columns the parameters of each closure grouped by closure; every cell is
    annotated with its value (integers shown as such). Colours are symmetric about 0 (RdBu_r) and
    saturate at ``colour_limit`` (default: the 95th percentile of ``|value|``, at least 1), so a large
    prefactor does not wash out the exponents; missing parameters are grey.

    Parameters
    ----------
    table : sequence of dict
        ``{"class": str, <closure label>: {param: value}, ...}``: one column group per closure.
    closures : sequence of str, optional
        Column groups, in order; default: every key other than ``"class"`` in order of appearance.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas of its own (no pyplot); :func:`save_figure` writes it.
    """
    from matplotlib.colors import Normalize

    rows = list(table)
    if not rows:
        raise ValueError("empty exponent table")
    if closures is None:
        closures = []
        for row in rows:
            for k, v in row.items():
                if k != "class" and isinstance(v, Mapping) and k not in closures:
                    closures.append(k)
    closures = list(closures)
    columns: list[tuple[str, str]] = []
    for cl in closures:
        for row in rows:
            for p in row.get(cl) or {}:
                if (cl, p) not in columns:
                    columns.append((cl, p))
    if not columns:
        raise ValueError("no parameters in the exponent table")
    columns.sort(key=lambda cp: closures.index(cp[0]))  # stable: parameter order within a closure kept
    m = np.full((len(rows), len(columns)), np.nan)
    for i, row in enumerate(rows):
        for j, (cl, p) in enumerate(columns):
            params = row.get(cl) or {}
            try:
                m[i, j] = float(params.get(p)) if params.get(p) is not None else np.nan
            except (TypeError, ValueError):
                m[i, j] = np.nan
    m[~np.isfinite(m)] = np.nan
    finite = np.abs(m[np.isfinite(m)])
    vlim = colour_limit or (max(1.0, float(np.percentile(finite, 95))) if finite.size else 1.0)
    class_names = [str(row.get("class", f"row {i}")) for i, row in enumerate(rows)]
    width = max(6.0, 0.55 * len(columns) + 2.8)
    height = max(3.2, 0.34 * len(rows) + 2.0)
    with _drawing((width, height)) as fig:
        from matplotlib import colormaps

        cmap = colormaps["RdBu_r"].with_extremes(bad="0.85")
        ax = fig.subplots()
        ax.grid(False)
        im = ax.imshow(np.ma.masked_invalid(m), cmap=cmap, norm=Normalize(-vlim, vlim), aspect="auto",
                       interpolation="nearest")
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                v = m[i, j]
                text = _format_exponent(v) if np.isfinite(v) else "–"
                dark = np.isfinite(v) and abs(v) / vlim > 0.6
                ax.text(j, i, text, ha="center", va="center", fontsize=7.5,
                        color="white" if dark else "black")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(class_names, fontsize=9)
        ax.set_xticks(range(len(columns)))
        ax.set_xticklabels([p for _, p in columns], rotation=60, ha="right", rotation_mode="anchor", fontsize=8.5)
        # closure groups: separators and names above
        start = 0
        for cl in closures:
            count = sum(c == cl for c, _ in columns)
            if count == 0:
                continue
            if start > 0:
                ax.axvline(start - 0.5, color="white", linewidth=4)
                ax.axvline(start - 0.5, color="0.2", linewidth=1)
            ax.text((start + start + count - 1) / 2, -0.75, cl, ha="center", va="bottom", fontsize=10,
                    fontweight="bold", clip_on=False)
            start += count
        ax.set_xlim(-0.5, len(columns) - 0.5)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlabel("parameter")
        ax.set_ylabel("class")
        cb = fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02, extend="both")
        cb.set_label(f"value (colour saturates at ±{vlim:.3g})")
        if title:
            fig.suptitle(title)
    return fig


def plot_exponents(
    table: Sequence[Mapping[str, Any]],
    path: str | os.PathLike,
    *,
    closures: Sequence[str] | None = None,
    title: str | None = "Fitted power-law closure exponents per class",
    colour_limit: float | None = None,
) -> Path:
    """Draw with :func:`draw_exponents`, then :func:`save_figure` to ``path``.

    Returns
    -------
    pathlib.Path
    """
    fig = draw_exponents(
        table, closures=closures, title=title, colour_limit=colour_limit,
    )
    return save_figure(fig, path)


# ---------------------------------------------------------------------------------------- dynamics
def draw_observable(
    time: Any,
    simulated: Any,
    simulated_se: Any,
    curves: Mapping[str, Any],
    *,
    ylabel: str = "observable",
    xlabel: str = "time",
    title: str | None = None,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
) -> Any:
    """An observable along a simulation (mean, with a ±2 standard-error band) and along closed models.

    Parameters
    ----------
    time : array
        Physical time of the records.
    simulated : array
        The simulated observable (mean over replicas).
    simulated_se : array or None
        Its standard error per record (no band when ``None``).
    curves : dict label -> array
        Each closed model's observable on the same times.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas of its own (no pyplot); :func:`save_figure` writes it.
    """
    t = _array(time, "time")
    sim = _series(t, simulated, "simulated")
    labels = list(curves)
    st = closure_styles(labels, styles)
    with _drawing((8.0, 4.6)) as fig:
        ax = fig.subplots()
        handles, names = [], []
        if simulated_se is not None:
            se = _series(t, simulated_se, "simulated_se")
            ax.fill_between(t, sim - 2 * se, sim + 2 * se, color="0.8", linewidth=0)
        (line,) = ax.plot(t, sim, color="0.3", linewidth=2.4)
        handles.append(line)
        names.append("simulation" + (" (±2 SE)" if simulated_se is not None else ""))
        for label in labels:
            y = _series(t, curves[label], f"curves[{label!r}]")
            (line,) = ax.plot(t, y, color=st[label]["color"], linestyle=st[label]["linestyle"], linewidth=1.4)
            handles.append(line)
            names.append(label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        _outside_legend(fig, handles, names, title="model")
        if title:
            ax.set_title(title)
    return fig


def plot_observable(
    time: Any,
    simulated: Any,
    simulated_se: Any,
    curves: Mapping[str, Any],
    path: str | os.PathLike,
    *,
    ylabel: str = "observable",
    xlabel: str = "time",
    title: str | None = None,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Draw with :func:`draw_observable`, then :func:`save_figure` to ``path``.

    Returns
    -------
    pathlib.Path
    """
    fig = draw_observable(time, simulated, simulated_se, curves, ylabel=ylabel, xlabel=xlabel, title=title,
                          styles=styles)
    return save_figure(fig, path)
