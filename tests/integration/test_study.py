"""The generic, model-driven study (``latticeclosure run --model NAME``) on a model that is not NMC.

The test model of ``conftest.py`` is registered through the public hooks only; its study declares
its backend, grid, closures, fits and cross-validation, and ``run`` must deliver all of it.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import TEST_MODEL, ising_model
from latticeclosure.cli.main import main
from latticeclosure.data import Trajectory


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    from latticeclosure.registry import get_registry

    from conftest import IsingPlugin

    registry = get_registry()
    name = registry.register(IsingPlugin(), name="ising-study")
    out = tmp_path_factory.mktemp("study") / "run"
    try:
        status = main(["run", "--model", TEST_MODEL, "--out", str(out), "--workers", "1", "--no-progress"])
    finally:
        registry.unregister(name)
    assert status == 0
    return out, json.loads((out / "summary.json").read_text())


@pytest.mark.slow
def test_run_writes_report_figures_summary_and_datasets(study_run):
    out, summary = study_run
    values = list(ising_model().study.grid.values)
    assert summary["model"] == TEST_MODEL and summary["grid"] == {"parameter": "x", "values": values}
    for label in ("PA", "MF"):  # the headline closures, one E per grid point
        assert len(summary["E"][label]) == len(values)
        assert all(math.isfinite(v) and v >= 0 for v in summary["E"][label])
    for label in ("PL", "best-cv", "cv:pl-soft"):  # the fit and cross-validation the study declares
        assert len(summary["E_extra"][label]) == len(values)
    assert summary["fits"] == {"PL": {"at": 0.5}}
    assert summary["best_cv_family"] == "pl-soft" and summary["E_extra"]["best-cv"] == summary["E_extra"]["cv:pl-soft"]
    assert {p.name for p in (out / "datasets").glob("*.npz")} == {f"x{v:g}_seed0.npz" for v in values}
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"annealing.png", "window-concentrations.png", "error-vs-grid.png", "closures-vs-data-x0p50.png"} <= figures
    report = (out / "report.md").read_text()
    for name in figures:  # every figure is linked from the report
        assert f"figures/{name}" in report
    assert "nmc" not in report.lower()


@pytest.mark.slow
def test_pair_approximation_errors_match_an_independent_computation(study_run):
    """E of PA recomputed from the datasets with numpy alone: chain x–y–z ≈ C_xy C_yz / C_y."""
    out, summary = study_run
    for k, value in enumerate(summary["grid"]["values"]):
        traj = Trajectory.load(out / "datasets" / f"x{value:g}_seed0.npz")
        t = np.asarray(traj.time) / np.max(traj.time)
        records = {c["name"]: c for c in traj.classes}

        def pair(a: str, b: str) -> np.ndarray:
            for c in traj.classes:
                if c["size"] == 2 and sorted(c["states"]) == sorted([a, b]):
                    return traj.concentration(c["name"])
            raise AssertionError((a, b))

        def single(a: str) -> np.ndarray:
            return pair(a, a) + pair(a, "B" if a == "A" else "A")

        Js = []
        for name, c in records.items():
            if c["size"] != 3:
                continue
            pts = np.asarray(c["sites"], dtype=float)
            middle = next(i for i in range(3) if all(np.isclose(np.linalg.norm(pts[i] - pts[j]), 1) for j in range(3) if j != i))
            ends = [j for j in range(3) if j != middle]
            s = c["states"]
            g = pair(s[ends[0]], s[middle]) * pair(s[middle], s[ends[1]]) / single(s[middle])
            Js.append(0.5 * np.trapezoid((g - traj.concentration(name)) ** 2, t))
        assert summary["E"]["PA"][k] == pytest.approx(np.mean(Js), rel=1e-10)


def test_run_refuses_bad_input_before_writing(tmp_path, ising_plugin, capsys):
    out = tmp_path / "never"
    assert main(["run", "--model", ising_plugin, "--out", str(out), "--grid", "0.5"]) == 2
    assert "at least two grid values" in capsys.readouterr().err
    assert main(["run", "--model", ising_plugin, "--out", str(out), "--size", "1"]) == 2
    assert main(["run", "--model", "no-such-model", "--out", str(out)]) == 2
    assert not out.exists()


def test_model_without_study_is_refused(tmp_path, capsys):
    from latticeclosure.hookspecs import hookimpl
    from latticeclosure.model import Model
    from latticeclosure.registry import get_registry

    class Plugin:
        @hookimpl
        def latticeclosure_models(self):
            return [Model(name="bare", lattice="square", species=("A", "B"))]

    registry = get_registry()
    name = registry.register(Plugin(), name="bare-plugin")
    try:
        assert main(["run", "--model", "bare", "--out", str(tmp_path / "o")]) == 2
    finally:
        registry.unregister(name)
    assert "declares no study" in capsys.readouterr().err


def test_several_seeds_give_means_with_standard_errors_and_nested_selection(tmp_path, ising_plugin, monkeypatch):
    """--seeds 0 1 2: every E is a mean over seeds with its standard error; a grid point is held out
    with all its seeds; --nested records the nested choice."""
    from latticeclosure.closures import calibration

    seen = []
    original = calibration.calibrate

    def spy(family, data, *args, **kwargs):
        seen.append(sorted({(d.metadata.get("x_target"), d.metadata.get("seed")) for d in
                            (data if isinstance(data, list) else [data]) if hasattr(d, "metadata")}))
        return original(family, data, *args, **kwargs)

    monkeypatch.setattr(calibration, "calibrate", spy)
    out = tmp_path / "seeds"
    assert main(["run", "--model", ising_plugin, "--out", str(out), "--seeds", "0", "1", "2", "--nested",
                 "--workers", "2", "--no-progress"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["seeds"] == [0, 1, 2] and s["cv_selection_nested"] is True
    for label, by_seed in s["E_by_seed"].items():
        arr = np.array(by_seed)
        assert arr.shape == (3, len(s["grid"]["values"])), label
        assert np.allclose(arr.mean(axis=0), (s["E"] | s["E_extra"])[label], rtol=1e-12)
        assert np.allclose(arr.std(axis=0, ddof=1) / np.sqrt(3), s["E_se"][label], rtol=1e-12)
        assert s["E_total"][label] == pytest.approx(arr.sum(axis=1).mean(), rel=1e-12)
    # joint fits (cross-validation) never hold some seeds of a point and not others
    for fit_data in seen:
        xs = {x for x, _ in fit_data}
        if len(fit_data) > 1:
            assert fit_data == sorted((x, seed) for x in xs for seed in (0, 1, 2)), fit_data
    report = (out / "report.md").read_text()
    assert "±" in report and "nested" in report
