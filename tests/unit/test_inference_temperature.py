"""The data-driven temperature s = 2 F_min / n recovers the noise variance (times the quadrature weight)."""

import numpy as np
import pytest

from latticeclosure.closedmodel import close_equations
from latticeclosure.equations import generate_equations
from latticeclosure.errors import ConfigurationError
from latticeclosure.inference import InferenceSettings, build_objective
from latticeclosure.inference.multistart import local_fit
from latticeclosure.inference.temperature import resolve_temperature

TRUE = np.array([1.0, 0.6, 0.8, 1.2])
SIGMA = 1e-3


@pytest.fixture(scope="module")
def model():
    return close_equations(generate_equations("chain", ["+", "-"], "swap", 2), "pair")


def _noisy(model, n_records, seed):
    t = np.linspace(0.0, 1.0, n_records)
    exact = model.solve(t, {"C++": 0.5, "C--": 0.2, "C+-": 0.15}, TRUE, rtol=1e-12, atol=1e-14)
    rng = np.random.default_rng(seed)
    data = {"time": t, **{n: exact[n].copy() for n in model.window_names}}
    for n in model.state_names:
        data[n][1:] += rng.normal(0.0, SIGMA, n_records - 1)
    data["C++"] = 1.0 - data["C--"] - 2.0 * data["C+-"]
    return data


@pytest.mark.parametrize("quadrature", ["sum", "trapezoid"])
def test_auto_temperature_is_the_noise_variance_times_the_weight(model, quadrature):
    n_records = 401
    obj = build_objective(model, _noisy(model, n_records, seed=3),
                          {"variables": model.state_names, "quadrature": quadrature, "rtol": 1e-10, "atol": 1e-12},
                          normalisation="none")
    n = obj.n_residuals
    assert n == 2 * (n_records - 1)
    fit = local_fit(obj, 0, TRUE)
    temp = resolve_temperature("auto", fit.F, n)
    weight = 1.0 if quadrature == "sum" else 1.0 / (n_records - 1)  # interior trapezoid weight
    # 2 F_min / (w σ²) ~ χ²(n − 4): its mean and 4 standard deviations
    ratio = temp.value / (weight * SIGMA ** 2)
    assert abs(ratio - (n - 4) / n) < 4 * np.sqrt(2 * (n - 4)) / n, ratio
    assert temp.setting == "auto" and temp.to_json()["rule"] == "2 F_min / n"


def test_temperature_settings_and_bad_input():
    assert InferenceSettings.make(temperature="auto").temperature == "auto"
    assert InferenceSettings.make(temperature="0.5").temperature == 0.5
    for bad in (0.0, -1.0, float("nan"), "hot", True):
        with pytest.raises(ConfigurationError, match="temperature"):
            InferenceSettings.make(temperature=bad)
    with pytest.raises(ConfigurationError, match="exactly"):
        resolve_temperature("auto", 0.0, 10)
    assert resolve_temperature(2.0, 0.0, 10).value == 2.0
