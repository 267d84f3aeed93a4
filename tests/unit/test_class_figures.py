"""The per-class figures draw what they are given: bar heights are the J_i, each panel's points and
lines are the data and closures against the chosen pair concentration, legends name the closures."""

from __future__ import annotations

import numpy as np
import pytest

from latticeclosure.report.class_figures import draw_class_errors, draw_closure_vs_pair, plot_class_errors


def test_class_error_bars_are_the_errors_on_a_log_axis(tmp_path):
    errors = {"PA": {"L+++": 1e-3, "A+-+": 2e-4}, "fit": {"L+++": 5e-5, "A+-+": 0.0}}
    fig = draw_class_errors(errors, title="J per class", styles={"PA": {"color": "black"}})
    (ax,) = fig.axes
    heights = [p.get_height() for p in ax.patches]
    assert heights[:2] == [1e-3, 2e-4]
    assert heights[2] == 5e-5 and np.isnan(heights[3])  # a zero J cannot be drawn on a log axis
    assert ax.get_yscale() == "log" and [t.get_text() for t in ax.get_xticklabels()] == ["L+++", "A+-+"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["PA", "fit"]
    assert ax.patches[0].get_facecolor()[:3] == (0.0, 0.0, 0.0)
    path = plot_class_errors(errors, tmp_path / "j.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_closure_against_pair_panels_plot_data_and_lines_in_pair_order():
    pair = np.array([0.3, 0.1, 0.2])
    data = {"L+++": np.array([0.09, 0.01, 0.04]), "A+-+": np.array([0.2, 0.3, 0.25])}
    preds = {"PA": {"L+++": pair**2, "A+-+": 1 - pair}}
    fig = draw_closure_vs_pair({"C++": pair}, data, preds, {"L+++": "C++", "A+-+": "C++"}, title="Fig. 8")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["L+++", "A+-+"]
    dots, line = axes[0].get_lines()
    assert np.allclose(dots.get_xdata(), [0.1, 0.2, 0.3]) and np.allclose(dots.get_ydata(), [0.01, 0.04, 0.09])
    assert np.allclose(line.get_ydata(), [0.01, 0.04, 0.09])
    assert axes[0].get_xlabel() == "C++"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["data", "PA"]


def test_empty_input_is_refused():
    with pytest.raises(ValueError):
        draw_class_errors({})
