"""The study's rate-constant step (InferRates) end to end on the non-NMC test model, and study options."""

from __future__ import annotations

import dataclasses
import json

import pytest

from conftest import ising_model
from latticeclosure.cli.main import main
from latticeclosure.hookspecs import hookimpl

MODEL = "ising-square-inference"
BACKEND = "ising-anneal-inference"


def inference_model():
    from latticeclosure.study import ClosureUse, FamilyUse, steps

    base = ising_model()
    study = base.study.replace(
        backend=BACKEND,
        steps=(
            steps.Equations(window_size=2),
            steps.EvaluateClosures(uses=(ClosureUse("PA", "pair"),)),
            steps.CrossValidateClosures(families=(FamilyUse("pl-soft", "power-law", {"preset": "soft"}),),
                                        best_label="best-cv"),
            steps.InferRates(
                uses=(steps.InferenceUse("PA"), steps.InferenceUse("best-cv", best_family_of="cross-validation"),
                      steps.InferenceUse("PA-by-name", "pair")),
                at=0.5, settings={"samples": 300, "chains": 2, "n_starts": 2},
                temperature_settings={"auto": {"adaptive": True}}, figure13=("PA",),
            ),
        ),
    )
    return dataclasses.replace(base, name=MODEL, study=study)


class InferencePlugin:
    @hookimpl
    def latticeclosure_models(self):
        return [inference_model()]

    @hookimpl
    def latticeclosure_data_backends(self):
        from latticeclosure.anneal import AnnealBackend

        return [AnnealBackend(BACKEND, model=MODEL, description="anneals the inference test model")]


@pytest.fixture(scope="module")
def plugin():
    from latticeclosure.registry import get_registry

    registry = get_registry()
    name = registry.register(InferencePlugin(), name="ising-inference-test")
    yield MODEL
    registry.unregister(name)


@pytest.fixture(scope="module")
def study_run(plugin, tmp_path_factory):
    out = tmp_path_factory.mktemp("study-inference") / "run"
    status = main(["run", "--model", plugin, "--out", str(out), "--workers", "1", "--no-progress",
                   "--study-option", "inference.samples=240"])
    assert status == 0
    return out, json.loads((out / "summary.json").read_text())


@pytest.mark.slow
def test_inference_section_summary_and_files(study_run):
    out, summary = study_run
    inf = summary["inference"]
    assert inf["at"] == 0.5 and set(inf["temperatures"]) == {"1", "auto"}
    assert "best cross-validated family pl-soft" in inf["closures"]["best-cv"]
    for key in ("1", "auto"):
        per = inf["temperatures"][key]
        assert set(per) == {"PA", "best-cv", "PA-by-name"}
        for row in per.values():
            assert row["best_F"] > 0 and set(row["posterior"]) == {f"k{i}" for i in range(1, 9)}
        # both temperatures share the fits; a closure named directly gives the same model as the recorded one
        assert per["PA"]["best_F"] == inf["temperatures"]["1"]["PA"]["best_F"] == per["PA-by-name"]["best_F"]
    full = json.loads((out / "inference" / "summary-sauto.json").read_text())
    assert full["schema"] == "latticeclosure.infer-summary/1"
    pa = full["closures"]["PA"]
    assert pa["temperature"]["value"] == pytest.approx(2 * pa["best"]["F"] / pa["temperature"]["n_residuals"])
    assert pa["chains"]["samples"] == 240 and pa["chains"]["n_chains"] == 2  # the study option took effect
    assert json.loads((out / "inference" / "summary-s1.json").read_text())["settings"]["temperature"] == 1.0
    report = (out / "report.md").read_text()
    assert "Rate constants from data" in report and "s = 2·F_min/n" in report
    figures = {p.name for p in (out / "figures").glob("inference-*.png")}
    assert {"inference-waterfall-0p50.png", "inference-best-fits-0p50.png", "inference-fig14-s1-0p50.png",
            "inference-fig14-sauto-0p50.png", "inference-fig13-PA-sauto-0p50.png"} <= figures
    for name in figures:
        assert f"figures/{name}" in report


@pytest.mark.parametrize("option, fragment", [
    ("inference.sample=10", "unknown study option"),
    ("inference.samples=0", "positive integer"),
    ("inference.samples", "NAME=VALUE"),
])
def test_bad_study_options_exit_2(plugin, tmp_path, capsys, option, fragment):
    out = tmp_path / "bad"
    status = main(["run", "--model", plugin, "--out", str(out), "--workers", "1", "--no-progress",
                   "--grid", "0.3", "0.5", "--study-option", option])
    assert status == 2
    assert fragment in capsys.readouterr().err
    assert not out.exists()  # checked before anything is simulated or written


def test_unknown_option_lists_the_studys_options(plugin, ising_plugin, tmp_path, capsys):
    assert main(["run", "--model", plugin, "--out", str(tmp_path / "x"), "--study-option", "nope=1"]) == 2
    err = capsys.readouterr().err
    assert "inference.samples" in err and "inference.chains" in err and "inference.n-starts" in err
    # a study whose steps declare no options refuses any
    assert main(["run", "--model", ising_plugin, "--out", str(tmp_path / "y"), "--study-option", "inference.samples=5"]) == 2
    assert "this study's options: none" in capsys.readouterr().err
