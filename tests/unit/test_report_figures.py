"""Report figures: each function writes a PNG from plain numpy data, copes with NaN/inf, writes atomically."""

from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pytest

from latticeclosure.report import (
    closure_styles,
    plot_annealing,
    plot_closure_reconstruction,
    plot_error_vs_grid,
    plot_exponents,
    plot_pair_concentrations,
    stoichiometry_colours,
)
from latticeclosure.report.figures import _ylimits

XS = [0.25, 1 / 3, 0.5, 0.75]
N = 24
TRIPLETS = (
    [f"L{p}" for p in ("+++", "---", "++-", "--+", "+-+", "-+-")]
    + [f"A{p}" for p in ("+++", "---", "++-", "--+", "+-+", "-+-")]
    + [f"T{p}" for p in ("+++", "---", "++-", "--+")]
)


def _png_size(path) -> tuple[int, int]:
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", raw[16:24])


def _check_png(path, tmp_path, expected_files) -> None:
    assert path.is_file() and path.stat().st_size > 2000
    w, h = _png_size(path)
    assert w > 400 and h > 300
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(expected_files), "temporary files left behind"


def _runs(nan: bool = False):
    t = np.arange(N) * 100.0
    temp = np.repeat([2.0, 1.0, 0.5, 0.1], N // 4)
    runs, pair_runs = [], []
    for x in XS:
        e = abs(1 - 3 * x) / 2 + 0.3 * temp
        cpp = np.full(N, (1 - x) ** 2)
        cmm = np.linspace(x**2, x**2 / 2, N)
        cpm = (1 - cpp - cmm) / 2
        if nan:
            e[3] = np.nan
            e[5] = np.inf
            cmm = cmm.copy()
            cmm[:4] = np.nan
        runs.append({"x": x, "time": t, "temperature": temp, "energy": e, "lower_bound": abs(1 - 3 * x) / 2})
        pair_runs.append({"x": x, "time": t, "pairs": {"C++": cpp, "C--": cmm, "C+-": cpm}})
    return runs, pair_runs


def _triplets(nan: bool = False):
    rng = np.random.default_rng(1)
    t = np.linspace(0, 5000, N)
    data = {c: 0.05 + 0.1 * rng.random() * np.exp(-t / 2000) for c in TRIPLETS}
    data["T---"] = np.linspace(0.02, 0.0, N)  # reaches exactly 0: linear axis
    preds = {label: {c: v * f for c, v in data.items()} for label, f in (("PA", 1.3), ("OA-hard", 1.02), ("SA", 3.0))}
    preds["my-closure"] = {c: v * 0.9 for c, v in list(data.items())[:5]}  # covers only some classes
    if nan:
        preds["SA"]["L+++"][N // 2:] = np.nan
        preds["OA-hard"]["A+++"][3] = np.inf
        preds["PA"]["L---"] = -preds["PA"]["L---"]  # negative: forces a linear axis
        data["T+++"] = np.full(N, np.nan)  # no data at all
    return t, data, preds


def test_annealing_and_pairs(tmp_path):
    runs, pair_runs = _runs()
    p1 = plot_annealing(runs, tmp_path / "annealing.png")
    p2 = plot_pair_concentrations(pair_runs, tmp_path / "pairs.png")
    _check_png(p1, tmp_path, ["annealing.png", "pairs.png"])
    _check_png(p2, tmp_path, ["annealing.png", "pairs.png"])


def test_annealing_and_pairs_with_nan(tmp_path):
    runs, pair_runs = _runs(nan=True)
    runs[0]["lower_bound"] = None
    runs[1]["lower_bound"] = float("nan")
    runs[2]["temperature"] = np.full(N, np.nan)
    p1 = plot_annealing(runs, tmp_path / "a.png", log_temperature=True)
    p2 = plot_pair_concentrations(pair_runs, tmp_path / "p.png")
    _check_png(p1, tmp_path, ["a.png", "p.png"])
    _check_png(p2, tmp_path, ["a.png", "p.png"])


def test_closure_reconstruction(tmp_path):
    t, data, preds = _triplets()
    out = plot_closure_reconstruction(1 / 3, t, data, preds, tmp_path / "fig8.png")
    _check_png(out, tmp_path, ["fig8.png"])
    t, data, preds = _triplets(nan=True)
    out = plot_closure_reconstruction(0.5, t, data, preds, tmp_path / "fig8.png", classes=TRIPLETS[:7])
    _check_png(out, tmp_path, ["fig8.png"])


def test_error_vs_stoichiometry(tmp_path):
    xs = [0.25, 0.3, 1 / 3, 0.36, 0.42, 0.5, 0.58, 0.64, 0.7, 0.75]
    errors = {
        "PA": list(np.linspace(0.01, 0.02, 10)),
        "OA-hard": [0.005, np.nan, 0.004, np.inf, 0.003, 0.0, 0.01, 0.02, -1.0, 0.01],
        "SA": [np.nan] * 10,
        "best-cv": list(np.linspace(0.002, 0.004, 10)),
    }
    out = plot_error_vs_grid(xs, errors, tmp_path / "err.png", title="E vs x")
    _check_png(out, tmp_path, ["err.png"])
    out = plot_error_vs_grid(xs, {"SA": [np.nan] * 10}, tmp_path / "err.png")
    _check_png(out, tmp_path, ["err.png"])


def test_exponents(tmp_path):
    table = [
        {"class": c, "PA": {"a": 1.0, "C++": 2.0, "C+": -1.0},
         "OA-hard": {"a": 0.8, "C++": 1.97, "C+": -0.96}, "OA-soft": {"a": 35.0, "C++": np.nan, "C+": None}}
        for c in TRIPLETS
    ]
    out = plot_exponents(table, tmp_path / "exp.png")
    _check_png(out, tmp_path, ["exp.png"])


def test_bad_input(tmp_path):
    runs, _ = _runs()
    runs[0]["energy"] = runs[0]["energy"][:-1]
    with pytest.raises(ValueError, match="values for"):
        plot_annealing(runs, tmp_path / "a.png")
    with pytest.raises(ValueError):
        plot_error_vs_grid([0.3, 0.5], {"PA": [1.0]}, tmp_path / "e.png")
    with pytest.raises(ValueError):
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


def test_colours_and_limits():
    colours = stoichiometry_colours([0.75, 0.25, 0.5])
    assert list(colours) == [0.25, 0.5, 0.75] and colours[0.25] != colours[0.75]
    styles = closure_styles(["SA", "PA", "mine", "custom"], {"PA": {"color": "black"}, "mine": {"color": "tab:blue", "marker": "*"}})
    assert styles["PA"]["color"] == "black" and styles["mine"] == {**styles["mine"], "color": "tab:blue", "marker": "*"}
    assert len({st["color"] for st in styles.values()}) == len(styles)  # the others avoid the fixed colours
    # a prediction collapsing to 1e-30 or blowing up does not set the log limits
    lo, hi = _ylimits(np.array([0.01, 0.1]), [np.array([1e-30, 1e6])], log=True)
    assert 1e-5 <= lo <= 0.01 and 0.1 <= hi <= 100
    lo, hi = _ylimits(np.zeros(5), [], log=False)
    assert lo <= 0 < hi


def test_import_does_not_load_matplotlib():
    code = "import sys, latticeclosure.report; assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
