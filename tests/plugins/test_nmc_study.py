"""The reference model's study end to end on a small lattice: what it declares is what it delivers."""

from __future__ import annotations

import json
import math

import pytest

from conftest import assert_user_error, run_cli
from latticeclosure.errors import OutputDirectoryError
from latticeclosure.study import run_study

pytestmark = pytest.mark.nmc

XS = [0.25, 0.33, 0.5]


@pytest.fixture(scope="module")
def small_job(tmp_path_factory):
    out = tmp_path_factory.mktemp("job") / "run"
    result = run_study("nmc", out, size=12, values=XS, workers=1, progress=False, log=lambda _msg: None)
    return out, result


@pytest.mark.slow
def test_outputs_written(small_job):
    out, result = small_job
    for name in ("report.md", "summary.json", "equations.txt", "equations.json", "closed-model-SA.txt"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    figures = {p.name for p in (out / "figures").glob("*.png")}
    per_point = {f"{kind}-x{tag}.png" for kind in ("closures-vs-data", "closures-vs-pairs", "class-errors")
                 for tag in ("0p33", "0p50")}
    inference = {f"inference-{kind}-0p33.png" for kind in ("waterfall", "best-fits", "fig14-s1", "fig14-sauto",
                                                           "fig13-PA-sauto")}
    assert figures == ({"annealing.png", "window-concentrations.png", "error-vs-grid.png", "exponents-x0p33.png"}
                       | per_point | inference)
    assert {p.name for p in (out / "inference").iterdir()} == {"summary-s1.json", "summary-sauto.json"}
    assert len(list((out / "datasets").glob("*.npz"))) == len(XS)
    assert not list(out.rglob("*.tmp*"))  # atomic writes leave nothing behind


@pytest.mark.slow
def test_summary_holds_every_declared_closure(small_job):
    from latticeclosure_nmc.study import nmc_study

    out, _ = small_job
    s = json.loads((out / "summary.json").read_text())
    assert s["schema"] == "latticeclosure.run-summary/2"
    assert s["grid"] == {"parameter": "x", "values": XS}
    assert list(s["E"]) == ["PA", "OA-hard", "OA-soft", "SA", "OA-cv", "best-cv"]
    for label, values in {**s["E"], **s["E_extra"]}.items():
        assert len(values) == len(XS), label
        assert all(v is not None and math.isfinite(v) and v >= 0 for v in values), label
    families = [f.label for step in nmc_study().steps if step.name == "cross-validation" for f in step.families]
    best = s["best_cv_family"]
    assert best in families and s["E_total"][f"cv:{best}"] == min(s["E_total"][f"cv:{label}"] for label in families)
    # nested by default: at each held-out x, best-cv is the held-out E of the family the inner loop chose
    assert s["cv_selection_nested"] is True
    chosen = [s["cv_nested_choices"][f"{x:g}"] for x in XS]
    assert set(chosen) <= set(families)
    assert s["E"]["best-cv"] == [s["E_extra"][f"cv:{c}"][i] for i, c in enumerate(chosen)]
    assert s["E"]["OA-cv"] == s["E_extra"]["cv:power-law-hard"]
    assert s["fits"] == {"OA-hard": {"at": 0.33}, "OA-soft": {"at": 0.33}}
    assert s["L"] == 12 and s["seeds"] == [0]
    assert s["beats_reference"]["best-cv"] == (s["E_total"]["best-cv"] < s["E_total"]["PA"])
    # the rate-constant section: PA, the best cross-validated family and SA at x = 1/3, at s = 1 and auto
    inf = s["inference"]
    assert inf["at"] == 0.33 and set(inf["temperatures"]) == {"1", "auto"}
    assert f"best cross-validated family {best}" in inf["closures"]["best-cv"]
    for key, per in inf["temperatures"].items():
        assert list(per) == ["PA", "best-cv", "SA"]
        assert set(per["PA"]["posterior"]) == {f"k{i}" for i in range(1, 9)}
        assert set(per["SA"]["posterior"]) == {"alpha1", "alpha2"}
    assert inf["temperatures"]["1"]["PA"]["temperature"] == 1.0
    assert inf["temperatures"]["auto"]["PA"]["temperature"] < 1e-2


@pytest.mark.slow
def test_report_shows_the_papers_equations_and_the_comparison(small_job):
    out, result = small_job
    text = (out / "report.md").read_text()
    assert "dC₊₊/dt = 4k1 A₊₋₊ + 2k2 L₊₋₊ − 4k3 A₊₊₋ − 2k4 L₊₊₋" in text  # eq. (5), named k1…k8 by the plugin
    ratio = result.summary["paper_comparison"]["SA_over_PA_total"]
    assert ratio == pytest.approx(result.summary["E_total"]["SA"] / result.summary["E_total"]["PA"])
    assert f"({ratio:.2f}×)" in text
    for label in result.summary["E"]:  # every headline closure has a verdict line
        if label != "PA":
            assert f"* {label} " in text


@pytest.mark.slow
def test_used_directory_refused_and_resume_reuses_datasets(small_job):
    out, first = small_job
    with pytest.raises(OutputDirectoryError):
        run_study("nmc", out, size=12, values=XS, workers=1, progress=False, log=lambda _m: None)
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "datasets").glob("*.npz")}
    again = run_study("nmc", out, size=12, values=XS, workers=1, resume=True, progress=False, figures=False,
                      log=lambda _m: None)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "datasets").glob("*.npz")} == stamps
    assert again.summary["E"] == first.summary["E"]


def test_cli_refuses_non_empty_directory(tmp_path):
    (tmp_path / "keep.txt").write_text("finished work")
    assert_user_error(run_cli("run", "--out", str(tmp_path), "--size", "12"), "not empty")
    assert (tmp_path / "keep.txt").read_text() == "finished work"


@pytest.mark.parametrize(
    "args,fragment",
    [(["--size", "3"], "too small"), (["--grid", "0.001", "0.5", "--size", "12"], "rounds to no"),
     (["--grid", "0.3", "1.2", "--size", "12"], "between 0 and 1")],
)
def test_cli_bad_input_writes_nothing(tmp_path, args, fragment):
    out = tmp_path / "never"
    assert_user_error(run_cli("run", "--out", str(out), *args), fragment)
    assert not out.exists()
