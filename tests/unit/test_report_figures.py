"""Report figures: what each ``draw_*`` function plots (every curve's data, axis labels, legend
entries), read back from the returned Figure; ``plot_*`` writes that figure atomically as a PNG."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from latticeclosure.report import (
    closure_styles,
    draw_annealing,
    draw_closure_reconstruction,
    draw_error_vs_grid,
    draw_exponents,
    draw_pair_concentrations,
    plot_annealing,
    plot_closure_reconstruction,
    plot_error_vs_grid,
    plot_exponents,
    plot_pair_concentrations,
    stoichiometry_colours,
)

XS = [0.25, 1 / 3, 0.5, 0.75]
N = 24
TRIPLETS = (
    [f"L{p}" for p in ("+++", "---", "++-", "--+", "+-+", "-+-")]
    + [f"A{p}" for p in ("+++", "---", "++-", "--+", "+-+", "-+-")]
    + [f"T{p}" for p in ("+++", "---", "++-", "--+")]
)


def _runs(nan: bool = False):
    t = np.arange(N) * 100.0
    temp = np.repeat([2.0, 1.0, 0.5, 0.1], N // 4)
    runs = []
    for x in XS:
        e = abs(1 - 3 * x) / 2 + 0.3 * temp
        cpp = np.full(N, (1 - x) ** 2)
        cmm = np.linspace(x**2, x**2 / 2, N)
        cpm = (1 - cpp - cmm) / 2
        if nan:
            e[3] = np.nan
            e[5] = np.inf
        runs.append({"x": x, "time": t, "temperature": temp, "energy": e, "lower_bound": abs(1 - 3 * x) / 2,
                     "pairs": {"C++": cpp, "C--": cmm, "C+-": cpm}})
    return runs


def _legend(fig_or_ax) -> tuple[str | None, list[str]]:
    legends = fig_or_ax.legends if hasattr(fig_or_ax, "legends") else [fig_or_ax.get_legend()]
    assert len(legends) == 1
    leg = legends[0]
    return leg.get_title().get_text(), [t.get_text() for t in leg.get_texts()]


def _xy(line) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def _same(a, b) -> bool:
    return np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


def _by_colour(ax, colour) -> list:
    from matplotlib.colors import to_rgba

    return [ln for ln in ax.get_lines() if to_rgba(ln.get_color()) == to_rgba(colour)]


# ---------------------------------------------------------------------------------------- annealing


def test_annealing_draws_temperature_energy_and_bound_of_each_run():
    runs = _runs()
    runs = [runs[2], runs[0], runs[3], runs[1]]  # any order: drawn sorted by grid value
    fig = draw_annealing(runs, grid_name="y", legend_title="fraction of B", temperature_label="T / J",
                         title="my title")
    ax_t, ax_e = fig.axes
    colours = stoichiometry_colours(XS)
    t = np.arange(N) / (N - 1)  # time as a fraction of the run
    for run in runs:
        (temp_line,) = _by_colour(ax_t, colours[run["x"]])
        assert _same(_xy(temp_line)[0], t) and _same(_xy(temp_line)[1], run["temperature"])
        assert temp_line.get_drawstyle() == "steps-post"
        energy_line, bound_line = _by_colour(ax_e, colours[run["x"]])
        assert _same(_xy(energy_line)[1], run["energy"])
        assert _same(_xy(bound_line)[1], [run["lower_bound"]] * 2) and bound_line.get_linestyle() == ":"
    assert ax_t.get_ylabel() == "T / J" and ax_e.get_ylabel() == "energy per site"
    assert ax_e.get_xlabel() == "time (fraction of run)" and ax_e.get_xlim() == (0.0, 1.0)
    assert ax_t.get_yscale() == "linear"  # 2.0 / 0.1 is not more than a factor 20
    title, entries = _legend(fig)
    assert title == "fraction of B"
    assert entries == ["y = 0.25", "y = 0.333", "y = 0.5", "y = 0.75", "ground-state\nlower bound"]
    assert fig._suptitle.get_text() == "my title"
    assert type(fig.canvas).__name__ == "FigureCanvasAgg"


def test_annealing_log_temperature_and_missing_values():
    runs = _runs(nan=True)
    runs[0]["lower_bound"] = None
    runs[1]["lower_bound"] = float("nan")
    runs[2]["temperature"] = None
    fig = draw_annealing(runs, log_temperature=True)
    ax_t, ax_e = fig.axes
    colours = stoichiometry_colours(XS)
    assert ax_t.get_yscale() == "log"
    assert len(ax_t.get_lines()) == 3  # the run without temperatures has no line
    assert _by_colour(ax_t, colours[0.5]) == []
    # no bound drawn for a missing or NaN bound; inf energy drawn as a gap (NaN), like NaN
    assert len(_by_colour(ax_e, colours[0.25])) == 1 and len(_by_colour(ax_e, colours[1 / 3])) == 1
    energy = _xy(_by_colour(ax_e, colours[0.75])[0])[1]
    assert np.isnan(energy[3]) and np.isnan(energy[5]) and np.isfinite(np.delete(energy, [3, 5])).all()
    # default scale: a geometric schedule spanning more than a factor 20 is shown logarithmically
    geometric = [dict(run, temperature=np.geomspace(3.0, 0.01, N)) for run in _runs()]
    assert draw_annealing(geometric).axes[0].get_yscale() == "log"


# ---------------------------------------------------------------------------------------- pairs


def test_pair_concentrations_one_panel_per_class_one_line_per_run():
    runs = _runs()
    fig = draw_pair_concentrations(runs, classes=["C+-", "C++"], legend_title="grid")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["C+-", "C++"]
    colours = stoichiometry_colours(XS)
    for ax, cls in zip(visible, ["C+-", "C++"]):
        assert len(ax.get_lines()) == len(runs)
        for run in runs:
            (line,) = _by_colour(ax, colours[run["x"]])
            assert _same(_xy(line)[1], run["pairs"][cls])
        assert ax.get_xlabel() == "time (fraction of run)"
    assert visible[0].get_ylabel() == "concentration"
    assert _legend(fig) == ("grid", ["x = 0.25", "x = 0.333", "x = 0.5", "x = 0.75"])
    # default panels: the classes in order of first appearance
    assert [ax.get_title() for ax in draw_pair_concentrations(runs).axes if ax.get_visible()] == ["C++", "C--", "C+-"]


# ---------------------------------------------------------------------------------------- Fig. 8


def _triplets():
    rng = np.random.default_rng(1)
    t = np.linspace(0, 5000, N)
    data = {c: 0.05 + 0.1 * rng.random() * np.exp(-t / 2000) for c in TRIPLETS}
    data["T---"] = np.linspace(0.02, 0.0, N)  # reaches exactly 0: linear axis
    preds = {label: {c: v * f for c, v in data.items()} for label, f in (("PA", 1.3), ("OA-hard", 1.02), ("SA", 3.0))}
    preds["mine"] = {c: v * 0.9 for c, v in list(data.items())[:5]}  # covers only some classes
    return t, data, preds


def test_reconstruction_draws_data_markers_and_each_closure():
    t, data, preds = _triplets()
    styles = {"PA": {"color": "black", "linestyle": "-"}}
    fig = draw_closure_reconstruction(1 / 3, t, data, preds, styles=styles, max_markers=10)
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
    assert set(panels) == set(TRIPLETS)
    resolved = closure_styles(list(preds), styles)
    for cls, ax in panels.items():
        labels = [label for label in preds if cls in preds[label]]
        lines = ax.get_lines()
        assert len(lines) == len(labels) + 1  # one per closure that has the class, one for the data
        for line, label in zip(lines, labels):
            assert line.get_color() == resolved[label]["color"]
            assert _same(_xy(line)[1], preds[label][cls])
        markers = lines[-1]
        assert markers.get_linestyle() == "None" and markers.get_marker() == "o"
        x, y = _xy(markers)
        assert len(x) == 10 and _same(y, data[cls][np.round(x * (N - 1)).astype(int)])
        assert ax.get_yscale() == ("linear" if cls == "T---" else "log")
    legend_ax = next(ax for ax in fig.axes if ax.get_legend() is not None)
    assert _legend(legend_ax) == ("closure", ["measured (MC)", "PA", "OA-hard", "SA", "mine"])
    assert fig._supxlabel.get_text() == "time (fraction of run)" and fig._supylabel.get_text() == "concentration"
    assert fig._suptitle.get_text() == "Triplet concentrations: measured vs closures (x = 0.333)"


def test_reconstruction_limits_follow_the_data_not_a_collapsing_prediction():
    t = np.linspace(0, 1, N)
    data = {"L+++": np.linspace(0.01, 0.1, N)}
    preds = {"bad": {"L+++": np.geomspace(1e-30, 1e6, N)}, "neg": {"L+++": -np.ones(N)}}
    (ax,) = [a for a in draw_closure_reconstruction(None, t, data, {"bad": preds["bad"]}).axes if a.get_title()]
    lo, hi = ax.get_ylim()
    assert ax.get_yscale() == "log" and 1e-5 <= lo <= 0.01 and 0.1 <= hi <= 100
    # a negative prediction forces a linear axis that still shows the data
    (ax,) = [a for a in draw_closure_reconstruction(None, t, data, preds).axes if a.get_title()]
    lo, hi = ax.get_ylim()
    assert ax.get_yscale() == "linear" and lo <= 0.01 and hi >= 0.1


# ---------------------------------------------------------------------------------------- Figs. 11-12


def test_error_vs_grid_draws_each_closure_sorted_with_gaps():
    xs = [0.5, 0.25, 0.75]
    errors = {"PA": [0.02, 0.01, 0.03], "SA": [np.nan, 0.5, -1.0], "none": [np.nan] * 3}
    fig = draw_error_vs_grid(xs, errors, title="E vs y", xlabel="y", ylabel="E",
                             markers={"PA": 0.5}, styles={"PA": {"color": "black"}})
    (ax,) = fig.axes
    lines = ax.get_lines()
    pa, pa_fit, sa, none = lines  # the fitted-at marker is drawn right after its closure's line
    assert _same(_xy(pa)[0], [0.25, 0.5, 0.75]) and _same(_xy(pa)[1], [0.01, 0.02, 0.03])
    assert pa.get_color() == "black"
    assert _same(_xy(pa_fit)[0], [0.5]) and _same(_xy(pa_fit)[1], [0.02]) and pa_fit.get_markersize() == 12
    assert _same(_xy(sa)[1], [0.5, np.nan, np.nan])  # NaN and a negative value cannot be drawn on a log axis
    assert np.isnan(_xy(none)[1]).all()
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "y" and ax.get_ylabel() == "E"
    assert ax.get_title() == "E vs y"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.25", "0.50", "0.75"]
    assert _legend(fig) == ("closure", ["PA", "SA (2 of 3 n/a)", "none (3 of 3 n/a)"])


# ---------------------------------------------------------------------------------------- Table II


def test_exponents_heat_map_cells_rows_columns():
    table = [
        {"class": "L+++", "PA": {"a": 1.0, "C++": 2.0}, "OA": {"a": 0.8, "C++": 1.97, "C+": None}},
        {"class": "L++-", "PA": {"a": 1.0, "C++": 1.0}, "OA": {"a": 35.0, "C++": np.nan, "C+": -0.96}},
    ]
    fig = draw_exponents(table)
    ax = fig.axes[0]
    (image,) = ax.get_images()
    expected = np.array([[1.0, 2.0, 0.8, 1.97, np.nan], [1.0, 1.0, 35.0, np.nan, -0.96]])
    assert _same(np.ma.filled(image.get_array(), np.nan), expected)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["L+++", "L++-"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "C++", "a", "C++", "C+"]
    cells = [t.get_text() for t in ax.texts]
    assert ["1", "2", "0.80", "1.97", "–", "1", "1", "35", "–", "-0.96"] == [c for c in cells if c not in ("PA", "OA")]
    assert "PA" in cells and "OA" in cells  # the closure group names above the columns
    assert ax.get_xlabel() == "parameter" and ax.get_ylabel() == "class"
    # colours saturate at the 95th percentile of |value| (35 would wash out the exponents otherwise)
    vmin, vmax = image.get_clim()
    assert vmin == -vmax and 1.0 <= vmax < 35.0


# ---------------------------------------------------------------------------------------- saving


def test_plot_functions_write_the_drawn_figure_as_png(tmp_path):
    runs = _runs()
    t, data, preds = _triplets()
    table = [{"class": "L+++", "PA": {"a": 1.0}}]
    written = [
        plot_annealing(runs, tmp_path / "a.png"),
        plot_pair_concentrations(runs, tmp_path / "sub" / "p.png"),  # the directory is created
        plot_closure_reconstruction(0.5, t, data, preds, tmp_path / "r.png", classes=TRIPLETS[:3]),
        plot_error_vs_grid(XS, {"PA": [0.1, 0.2, 0.3, 0.4]}, tmp_path / "e.png"),
        plot_exponents(table, tmp_path / "x.png"),
    ]
    for path in written:
        raw = path.read_bytes()
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a.png", "e.png", "p.png", "r.png", "x.png"]


def test_bad_input_writes_nothing(tmp_path):
    runs = _runs()
    runs[0]["energy"] = runs[0]["energy"][:-1]
    with pytest.raises(ValueError, match="values for"):
        plot_annealing(runs, tmp_path / "a.png")
    with pytest.raises(ValueError, match="1 values for 2 grid values"):
        plot_error_vs_grid([0.3, 0.5], {"PA": [1.0]}, tmp_path / "e.png")
    with pytest.raises(ValueError, match="no runs"):
        plot_annealing([], tmp_path / "a.png")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_previous_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    target = tmp_path / "err.png"
    target.write_bytes(b"previous")

    def broken_savefig(self, fh, **kwargs):
        fh.write(b"\x89PNG half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        plot_error_vs_grid([0.3, 0.5], {"PA": [0.1, 0.2]}, target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["err.png"]


def test_colours_and_styles():
    colours = stoichiometry_colours([0.75, 0.25, 0.5])
    assert sorted(colours) == [0.25, 0.5, 0.75] and len(set(colours.values())) == 3
    styles = closure_styles(["SA", "PA", "mine", "custom"], {"PA": {"color": "black"}, "mine": {"color": "tab:blue", "marker": "*"}})
    assert styles["PA"]["color"] == "black"
    assert styles["mine"]["color"] == "tab:blue" and styles["mine"]["marker"] == "*"
    assert len({st["color"] for st in styles.values()}) == len(styles)  # the others avoid the fixed colours


def test_import_does_not_load_matplotlib():
    code = "import sys, latticeclosure.report; assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_observable_draws_the_simulation_band_and_each_closed_model(tmp_path):
    from latticeclosure.report.figures import draw_observable, plot_observable

    t = np.linspace(0.0, 5.0, 11)
    sim, se = 0.5 * (1 - np.exp(-t)), np.full(11, 0.01)
    curves = {"PA": 0.52 * (1 - np.exp(-t)), "MF": 0.6 * (1 - np.exp(-t))}
    fig = draw_observable(t, sim, se, curves, ylabel="prevalence", title="SIS", styles={"PA": {"color": "black"}})
    (ax,) = fig.axes
    sim_line, pa, mf = ax.get_lines()
    assert _same(_xy(sim_line)[0], t) and _same(_xy(sim_line)[1], sim)
    assert _same(_xy(pa)[1], curves["PA"]) and pa.get_color() == "black" and _same(_xy(mf)[1], curves["MF"])
    (band,) = ax.collections  # the ±2 SE band around the simulation
    lo, hi = band.get_paths()[0].vertices[:, 1].min(), band.get_paths()[0].vertices[:, 1].max()
    assert lo == pytest.approx((sim - 2 * se).min()) and hi == pytest.approx((sim + 2 * se).max())
    assert ax.get_ylabel() == "prevalence" and ax.get_xlabel() == "time" and ax.get_title() == "SIS"
    assert _legend(fig) == ("model", ["simulation (±2 SE)", "PA", "MF"])
    assert not draw_observable(t, sim, None, {}).axes[0].collections  # no band without standard errors
    assert plot_observable(t, sim, se, curves, tmp_path / "o.png").read_bytes()[:4] == b"\x89PNG"
