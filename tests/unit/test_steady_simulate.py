"""The simulated threshold: tasks handed to the 'kmc' data backend, the power-law fit, seeds.

The backend here is a stand-in registered through the public hook (the real simulator is another
package): its quasi-stationary density is A (p − p_c(L))^β with p_c(L) = P_C + 1/L, plus Gaussian
noise drawn from the task's seed, so the estimator's answer is known.
"""

from __future__ import annotations

import numpy as np
import pytest

from latticeclosure.data import Trajectory
from latticeclosure.errors import SteadyStateError
from latticeclosure.hookspecs import hookimpl
from latticeclosure.steady.simulate import fit_power_law, kmc_backend, simulated_threshold, task_seed

P_C, AMPLITUDE, BETA, NOISE = 0.41, 1.3, 0.55, 0.002


class FakeKMC:
    name = "kmc"
    description = "stand-in simulator with a known critical point"

    def __init__(self) -> None:
        self.tasks = []

    def configure(self, **options):
        return self

    def check_task(self, task):
        assert task.backend == "kmc" and set(task.point) == {"lam_z"}
        return task.replace(settings={**task.settings, "checked": True})

    def run_task(self, task, *, checkpoint=None, checkpoint_every=60.0, progress=None):
        assert task.settings["checked"]
        self.tasks.append(task)
        p = task.point["lam_z"]
        pc = P_C + 1.0 / task.size
        mean = AMPLITUDE * max(p - pc, 0.0) ** BETA
        t = np.arange(0.0, task.settings["time"] + 1e-9, task.settings["record_every"])
        rng = np.random.default_rng(task.seed)
        rho = np.clip(mean + NOISE * rng.standard_normal(t.size) * (mean > 0), 0.0, 1.0)
        conc = np.column_stack([1.0 - rho, rho])
        meta = {"classes": [{"name": "C0"}, {"name": "C1"}], "time_unit": "physical time"}
        return Trajectory(meta, {"time": t, "step": np.arange(t.size), "concentrations": conc}, validate=False)


class FakePlugin:
    def __init__(self, backend):
        self.backend = backend

    @hookimpl
    def latticeclosure_data_backends(self):
        return [self.backend]


@pytest.fixture
def fake_kmc(monkeypatch):
    """The stand-in simulator in place of the registered one (its threshold is known exactly)."""
    from latticeclosure.steady import simulate as simulate_module

    backend = FakeKMC()
    monkeypatch.setattr(simulate_module, "kmc_backend", lambda: backend)
    return backend


def _model():
    from latticeclosure.model import Model

    return Model(name="cp", lattice="square", species=("0", "1"), dynamics="flip",
                 dynamics_options={"rules": [{"from": "0", "to": "1", "rate": "lam_z", "catalyst": "1"},
                                             {"from": "1", "to": "0", "rate": 1}]})


def test_fit_recovers_a_known_critical_point():
    v = np.linspace(0.5, 1.0, 10)
    d = AMPLITUDE * (v - P_C) ** BETA
    pc, err, beta = fit_power_law(v, d)
    assert pc == pytest.approx(P_C, abs=1e-6) and beta == pytest.approx(BETA, abs=1e-5)
    assert fit_power_law(v[:3], d[:3]) is None  # three parameters need more points


def test_simulated_threshold_through_the_registered_backend(fake_kmc):
    values = np.linspace(0.5, 1.0, 8)
    res = simulated_threshold(_model(), "lam_z", {}, values, absorbing="0", sizes=(20, 100), replicas=3,
                              time=50.0, seed=7, singlet="C0")
    assert len(fake_kmc.tasks) == 2 * 8 * 3
    assert {t.size for t in fake_kmc.tasks} == {20, 100}
    assert all(dict(t.model.rates) == {} and dict(t.model.initial) == {"0": 0.0, "1": 1.0} for t in fake_kmc.tasks)
    # largest size: p_c(100) = P_C + 0.01, within a few standard errors
    assert abs(res.critical - (P_C + 0.01)) < max(4 * res.error, 1e-3)
    assert res.per_size[20] == pytest.approx(P_C + 0.05, abs=5e-3)
    assert res.exponent == pytest.approx(BETA, abs=0.05)
    # points: mean and standard error over replicas of the late-time densities
    pt = next(p for p in res.points if p.size == 100 and p.value == values[-1])
    assert pt.density == pytest.approx(AMPLITUDE * (values[-1] - P_C - 0.01) ** BETA, abs=3 * NOISE)
    assert pt.replicas == 3 and pt.survived == 3 and 0 < pt.error < NOISE


def test_seeds_are_keyed_by_the_task_not_by_order(fake_kmc):
    values = np.linspace(0.5, 1.0, 5)
    a = simulated_threshold(_model(), "lam_z", {}, values, absorbing="0", sizes=(20, 40), replicas=2, seed=3,
                            singlet="C0")
    b = simulated_threshold(_model(), "lam_z", {}, values, absorbing="0", sizes=(40, 20), replicas=2, seed=3,
                            singlet="C0")
    key = lambda r: sorted((p.size, p.value, p.density) for p in r.points)  # noqa: E731
    assert key(a) == key(b)
    assert task_seed(3, 20, 0, 0) != task_seed(3, 20, 0, 1) != task_seed(3, 40, 0, 1)


def test_missing_backend_names_the_missing_piece(monkeypatch):
    from latticeclosure import registry as registry_module

    monkeypatch.setattr(registry_module, "get_registry", lambda: registry_module.Registry(load_entrypoints=False))
    with pytest.raises(SteadyStateError, match="data backend 'kmc' .*not installed"):
        kmc_backend()


def test_cli_prints_the_simulated_estimate_beside_the_closures(fake_kmc, tmp_path, capsys):
    from latticeclosure.cli.main import main

    spec = tmp_path / "cp.toml"
    spec.write_text('[[rule]]\nfrom = "0"\nto = "1"\nrate = "lam_z"\ncatalyst = "1"\n\n'
                    '[[rule]]\nfrom = "1"\nto = "0"\nrate = 1\n')
    figure = tmp_path / "d.png"
    assert main(["threshold", "--lattice", "square", "--species", "0", "1", "--flip-spec", str(spec),
                 "--rate", "lam_z", "--closure", "pair", "--range", "0:1", "--simulate", "--sizes", "50", "100",
                 "--replicas", "2", "--sim-time", "20", "--figure", str(figure)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "closure=pair window=2 critical=0.3333333333"
    assert lines[1].startswith("simulation=kmc sizes=50,100 critical=0.42")
    assert figure.stat().st_size > 0
