"""The main job end to end on a small lattice: files, summary schema, resume, refusal of a used directory."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from latticeclosure.pipeline import run_main_job
from latticeclosure.pipeline.job import CV_FAMILIES, OutputDirectoryError

XS = [0.25, 0.33, 0.5]


@pytest.fixture(scope="module")
def small_job(tmp_path_factory):
    out = tmp_path_factory.mktemp("job") / "run"
    result = run_main_job(out, L=12, stoichiometries=XS, workers=1, progress=False, log=lambda _msg: None)
    return out, result


def test_outputs_written(small_job):
    out, result = small_job
    for name in ("report.md", "summary.json", "equations.txt", "equations.json", "closed-model-SA.txt"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    pngs = sorted((out / "figures").glob("*.png"))
    assert len(pngs) >= 5 and all(p.stat().st_size > 10_000 for p in pngs)
    assert len(list((out / "datasets").glob("*.npz"))) == len(XS)
    assert not list(out.rglob("*.tmp*"))  # atomic writes leave nothing behind


def test_summary_schema(small_job):
    out, _ = small_job
    s = json.loads((out / "summary.json").read_text())
    assert s["schema"] == "latticeclosure.run-summary/1"
    assert s["stoichiometries"] == XS
    assert set(s["E"]) == {"PA", "OA-hard", "OA-soft", "SA", "OA-cv", "best-cv"}
    for label, values in s["E"].items():
        assert len(values) == len(XS), label
        assert all(v is not None and math.isfinite(v) and v >= 0 for v in values), label
    assert s["best_cv_family"] in {label for label, _, _ in CV_FAMILIES}
    best = s["best_cv_family"]
    assert s["E"]["best-cv"] == s["E_extra"][f"cv:{best}"]
    assert s["E_total"]["best-cv"] <= min(s["E_total"][f"cv:{label}"] for label, _, _ in CV_FAMILIES) + 1e-15
    assert s["L"] == 12 and s["seeds"] == [0] and s["cv_selection_nested"] is False


def test_report_states_verdict(small_job):
    out, _ = small_job
    text = (out / "report.md").read_text()
    assert "What our data say" in text and "36.13%" in text
    assert "dC₊₊/dt = 4k1 A₊₋₊ + 2k2 L₊₋₊ − 4k3 A₊₊₋ − 2k4 L₊₊₋" in text


def test_used_directory_refused_and_resume_reuses_datasets(small_job):
    out, first = small_job
    with pytest.raises(OutputDirectoryError):
        run_main_job(out, L=12, stoichiometries=XS, workers=1, progress=False, log=lambda _m: None)
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "datasets").glob("*.npz")}
    again = run_main_job(out, L=12, stoichiometries=XS, workers=1, resume=True, progress=False, figures=False, log=lambda _m: None)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "datasets").glob("*.npz")} == stamps
    assert again.summary["E"] == first.summary["E"]


def test_cli_refuses_non_empty_directory(tmp_path):
    (tmp_path / "keep.txt").write_text("finished work")
    res = subprocess.run(
        [sys.executable, "-m", "latticeclosure", "run", "--out", str(tmp_path), "--size", "12"],
        capture_output=True, text=True,
    )
    assert res.returncode == 2
    assert "not empty" in res.stderr and "Traceback" not in res.stderr
    assert (tmp_path / "keep.txt").read_text() == "finished work"


def test_cli_rejects_bad_stoichiometry(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "latticeclosure", "run", "--out", str(tmp_path / "o"), "--size", "12", "--stoichiometries", "0.3", "1.2"],
        capture_output=True, text=True,
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "args,fragment",
    [(["--size", "3"], "too small"), (["--stoichiometries", "0.001", "0.5", "--size", "12"], "rounds to no")],
)
def test_cli_bad_input_writes_nothing(tmp_path, args, fragment):
    out = tmp_path / "never"
    res = subprocess.run(
        [sys.executable, "-m", "latticeclosure", "run", "--out", str(out), *args], capture_output=True, text=True
    )
    assert res.returncode == 2 and fragment in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()


def test_figure_bounds_come_from_the_dataset_metadata(small_job):
    from latticeclosure.data import Trajectory
    from latticeclosure.pipeline.job import _bounds

    out, result = small_job
    trajs = [Trajectory.load(out / run["file"]) for run in result.summary["runs"]]
    bounds = _bounds(trajs)
    assert bounds == pytest.approx([run["lower_bound_per_site"] for run in result.summary["runs"]])
