"""The epidemics plugin set (sis, sir, contact-process, voter): models with known rates, and a study
that judges closures on the dynamics against the exact simulation."""

from __future__ import annotations

import json

import pytest

from latticeclosure.registry import get_registry


def _models():
    return {name: get_registry().resolve("models", name) for name in ("sis", "sir", "contact-process", "voter")}


def test_every_model_declares_its_rates_initial_condition_grid_and_study():
    for name, model in _models().items():
        assert model.study is not None and model.study.backend == "kmc", name
        assert model.rates and model.initial and model.observables, name
        assert abs(sum(model.initial.values()) - 1) < 1e-12, name
        assert len(model.study.grid.values) >= 3, name
        backend = get_registry().resolve("data_backends", "kmc")
        from latticeclosure.simulation import sweep_tasks

        for task in sweep_tasks(model, model.study.grid.values, parameter=model.study.grid.parameter,
                                size=8, settings=dict(model.study.settings), backend="kmc"):
            backend.check_task(task)  # every grid point is a valid simulation


def test_contact_process_rates_are_expressions_of_the_total_infection_rate():
    from latticeclosure.equations import generate_equations

    model = _models()["contact-process"]
    eqs = generate_equations("square", list(model.species), "flip", 1, flip_spec=model.dynamics_options["rules"])
    assert [r.name for r in eqs.rates] == ["lam"]  # lam/4 per neighbour: the 1/4 is folded into coefficients


@pytest.mark.slow
def test_sis_study_reports_dynamical_errors_and_the_mean_field_steady_state(tmp_path):
    """A reduced run (L = 16, 2 replicas): every closure's dynamical error at every grid point, and the
    mean-field stationary prevalence equal to its closed form 1 − γ/(zτ)."""
    from latticeclosure.cli.main import main

    out = tmp_path / "sis"
    assert main(["run", "--model", "sis", "--out", str(out), "--size", "16", "--workers", "2", "--no-progress"]) == 0
    s = json.loads((out / "summary.json").read_text())
    taus = s["grid"]["values"]
    for label, stats in s["dynamical_errors"].items():
        assert len(stats["F"]) == len(taus) and all(v >= 0 for v in stats["F"]), label
        assert all(se is not None and se >= 0 for se in stats["F_se"]), label
    stationary = s["stationary"]
    assert stationary["observable"] == "prevalence"
    for tau, mf in zip(taus, stationary["mean-field w1"]):
        if tau >= 0.5:  # far enough above the mean-field threshold 1/4 to be stationary by t = 10
            assert mf == pytest.approx(1 - 1.0 / (4 * tau), abs=2e-3)
    assert all(0 <= p <= 1 for p in stationary["simulated"])
    report = (out / "report.md").read_text()
    assert "Dynamical errors" in report and "Stationary prevalence" in report
    assert {f"dynamics-tau{t:.3g}".replace(".", "p") + ".png" for t in taus} <= {p.name for p in (out / "figures").iterdir()}
