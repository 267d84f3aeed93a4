"""Integration of closed models: compiled Dormand–Prince, stiff fallback, failure detection."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from latticeclosure.closedmodel import close_equations
from latticeclosure.closedmodel.integrate import IntegrationError, IntegrationWarning
from latticeclosure.closures import MeanFieldClosure
from latticeclosure.equations import generate_equations
from latticeclosure.errors import DataError

from closure_testdata import paper_pair_equations

RATES = dict(k1=1.0, k2=0.5, k3=0.8, k4=0.2, k5=0.7, k6=0.3, k7=0.6, k8=0.4)
INIT = {"C++": 0.3, "C--": 0.3, "C+-": 0.2}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("lc-cache")


@pytest.fixture(scope="module")
def sa(cache_dir):
    eqs = paper_pair_equations()
    model = close_equations(eqs, {c.name: "C+-" for c in eqs.context_classes})
    model.compile(cache_dir)
    return model


@pytest.fixture(scope="module")
def sa_closed_form(sa):
    return sa.solve_closed_form()


def _alphas(r):
    return 2 * r["k1"] + r["k2"] - 2 * r["k3"] - r["k4"], 2 * r["k5"] + r["k6"] - 2 * r["k7"] - r["k8"]


# ----------------------------------------------------------------------------- accuracy
def test_sa_closed_form_equals_numerical_integration(sa, sa_closed_form, cache_dir):
    t = np.linspace(0.0, 3.0, 10_001)
    sol = sa.solve(t, INIT, RATES, rtol=1e-8, atol=1e-10, cache_dir=cache_dir)
    assert sol.success and sol.method == "dopri5"
    assert sol.names == ["C++", "C--", "C+-"]
    exact = sa_closed_form.evaluate(t, INIT, RATES)
    assert np.max(np.abs(sol.y - exact)) < 1e-8
    # the normalisation holds along the solution (C++ is reconstructed from it)
    assert np.allclose(sol["C++"] + sol["C--"] + 2 * sol["C+-"], 1.0, atol=1e-14)
    # the same through scipy and with exact steps onto every output time
    for kwargs in ({"method": "LSODA"}, {"method": "Radau"}, {"dense": False}):
        other = sa.solve(t[::100], INIT, RATES, rtol=1e-10, atol=1e-12, cache_dir=cache_dir, **kwargs)
        assert np.max(np.abs(other.y - exact[::100])) < 1e-8, kwargs


def test_mean_field_sis_matches_the_logistic_solution(cache_dir):
    spec = [{"from": "S", "to": "I", "rate": "tau", "catalyst": "I"}, {"from": "I", "to": "S", "rate": "gamma"}]
    eqs = generate_equations("square", ["S", "I"], "flip", 1, flip_spec=spec)
    model = close_equations(eqs, MeanFieldClosure())
    assert model.state_names == ["CI"]
    z, tau, gamma, i0 = 4, 1.0, 1.5, 0.01
    r = z * tau - gamma
    i_inf = 1 - gamma / (z * tau)
    t = np.linspace(0.0, 8.0, 2001)
    sol = model.solve(t, {"CI": i0}, {"tau": tau, "gamma": gamma}, rtol=1e-10, atol=1e-12, cache_dir=cache_dir)
    logistic = i_inf / (1 + (i_inf / i0 - 1) * np.exp(-r * t))
    assert np.max(np.abs(sol["CI"] - logistic)) < 1e-8
    assert np.allclose(sol["CS"], 1 - logistic, atol=1e-8)


# ----------------------------------------------------------------------------- failures
def test_loss_of_positivity_is_reported_with_its_time(sa, cache_dir):
    rates = dict(k1=0.5, k2=0.0, k3=1.0, k4=0.0, k5=1.5, k6=0.0, k7=0.0, k8=0.0)  # α1 = -1, α2 = 3
    init = {"C++": 0.05, "C--": 0.35, "C+-": 0.3}
    tol = 1e-6
    # C++(t) = 0.05 - 0.3 (1 - exp(-2t)) reaches -tol at
    t_cross = -math.log(1 - (0.05 + tol) / 0.3) / 2
    t = np.linspace(0.0, 1.0, 1001)
    with pytest.raises(IntegrationError, match="positivity") as info:
        sa.solve(t, init, rates, method="dopri5", positivity_tol=tol, cache_dir=cache_dir)
    err = info.value
    assert err.status == "positivity"
    assert err.t == pytest.approx(t_cross, abs=1e-7)
    assert f"{err.t:.6f}"[:6] in str(err)
    partial = err.solution
    assert np.all(np.isnan(partial.y[t > t_cross + 1e-9]))
    assert np.all(partial.y[t < t_cross - 1e-9] > -tol)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sol = sa.solve(t, init, rates, positivity_tol=tol, on_failure="warn", cache_dir=cache_dir)
    assert any(issubclass(w.category, IntegrationWarning) for w in caught)
    assert sol.status == "positivity" and sol.t_failure == pytest.approx(t_cross, abs=1e-6)


def test_blow_up_is_reported_with_its_time(sa, cache_dir):
    rates = dict(k1=0.5, k2=0.0, k3=1.0, k4=0.0, k5=0.0, k6=0.0, k7=0.5, k8=0.0)  # α1 = α2 = -1
    init = {"C++": 0.2, "C--": 0.2, "C+-": 0.3}
    bound = 10.0
    t_cross = math.log(bound / 0.3) / 2  # C+-(t) = 0.3 exp(2t) is the first to reach the bound
    t = np.linspace(0.0, 3.0, 301)
    for method in ("dopri5", "Radau"):
        with pytest.raises(IntegrationError, match="t = 1.75") as info:
            sa.solve(t, init, rates, method=method, positivity_tol=None, max_value=bound, cache_dir=cache_dir)
        assert info.value.status == "blow-up"
        assert info.value.t == pytest.approx(t_cross, abs=1e-6), method


def test_stiff_problem_falls_back_to_an_implicit_method(sa, sa_closed_form, cache_dir):
    rates = dict(RATES, k1=2.5e4, k5=2.5e4)  # α1 + α2 ≈ 1e5: explicit steps limited to ~3e-5
    t = np.linspace(0.0, 1.0, 101)
    sol = sa.solve(t, INIT, rates, cache_dir=cache_dir)
    assert sol.success
    assert sol.method.startswith("Radau (fallback: dopri5 stiff")
    exact = sa_closed_form.evaluate(t, INIT, rates)
    assert np.max(np.abs(sol.y - exact)) < 1e-8
    only = sa.solve(t, INIT, rates, method="dopri5", on_failure="ignore", max_steps=2000, cache_dir=cache_dir)
    assert only.status in ("stiff", "max_steps")
    direct = sa.solve(t, INIT, rates, method="BDF", rtol=1e-10, atol=1e-12, cache_dir=cache_dir)
    assert np.max(np.abs(direct.y - exact)) < 1e-7


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs_are_specific_errors(sa, cache_dir):
    t = np.linspace(0, 1, 5)
    with pytest.raises(DataError, match="not normalised"):
        sa.solve(t, {"C++": 0.5, "C--": 0.3, "C+-": 0.2}, RATES, cache_dir=cache_dir)
    with pytest.raises(DataError, match="missing rate"):
        sa.solve(t, INIT, {k: v for k, v in RATES.items() if k != "k3"}, cache_dir=cache_dir)
    with pytest.raises(DataError, match="unknown rate"):
        sa.solve(t, INIT, dict(RATES, k9=1.0), cache_dir=cache_dir)
    with pytest.raises(DataError, match="non-negative"):
        sa.solve(t, INIT, dict(RATES, k2=-1.0), cache_dir=cache_dir)
    with pytest.raises(DataError, match="strictly increasing"):
        sa.solve(t[::-1], INIT, RATES, cache_dir=cache_dir)
    with pytest.raises(DataError, match="unknown integration method"):
        sa.solve(t, INIT, RATES, method="euler", cache_dir=cache_dir)
    with pytest.raises(DataError, match="unknown classes"):
        sa.solve(t, {"C++": 0.3, "C--": 0.3, "C+-": 0.2, "L+++": 0.1}, RATES, cache_dir=cache_dir)
    # the state alone, or an array, is accepted
    a = sa.solve(t, {"C--": 0.3, "C+-": 0.2}, RATES, cache_dir=cache_dir)
    b = sa.solve(t, [0.3, 0.3, 0.2], list(RATES.values()), cache_dir=cache_dir)
    assert np.array_equal(a.y, b.y)
