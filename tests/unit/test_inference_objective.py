"""F(K) of eq. (17): sensitivities vs finite differences, synthetic recovery, Fisher vs structure, bad input."""

import numpy as np
import pytest

from latticeclosure.closedmodel import close_equations
from latticeclosure.equations import generate_equations
from latticeclosure.errors import ClosureError, ConfigurationError, DataError
from latticeclosure.inference import build_objective, fisher_analysis, multistart_fit, principal_angles, structural_combinations

TRUE = np.array([1.2, 0.7, 0.9, 0.4, 0.8, 0.5, 1.1, 0.6])


@pytest.fixture(scope="module")
def eqs():
    return generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)


def _synthetic(model, rates, n=41, y0=None, noise=0.0, seed=0):
    t = np.linspace(0.0, 1.0, n)
    init = y0 or {"C++": 0.40, "C--": 0.15, "C+-": 0.225}
    sol = model.solve(t, init, rates, rtol=1e-12, atol=1e-14)
    cols = {nm: sol[nm].copy() for nm in model.window_names}
    if noise:
        rng = np.random.default_rng(seed)
        for nm in model.state_names:
            cols[nm] = cols[nm] + rng.normal(0, noise, n)
        for nm, e in model.eliminated.items():  # keep the normalisation exact
            cols[nm] = np.array([float(e.subs({s: cols[s.name][i] for s in model.state_symbols})) for i in range(n)])
    cols["time"] = t
    return cols


def test_residual_jacobian_matches_finite_differences(eqs):
    model = close_equations(eqs, "pair")
    obj = build_objective(model, _synthetic(model, TRUE), {"alpha": 0.0, "rtol": 1e-10, "atol": 1e-12})
    x = TRUE * 1.3
    J = obj.jacobian(x)
    h = 1e-6
    fd = np.column_stack([(obj.residuals(x + h * e) - obj.residuals(x - h * e)) / (2 * h) for e in np.eye(8)])
    assert np.max(np.abs(J - fd)) < 1e-6 * max(1.0, np.abs(J).max())
    g = obj.gradient(x)
    gfd = np.array([(obj.value(x + h * e) - obj.value(x - h * e)) / (2 * h) for e in np.eye(8)])
    assert np.allclose(g, gfd, rtol=1e-5, atol=1e-10)


@pytest.mark.nmc  # the reference plugin's k1..k8 naming and SA preset
def test_least_squares_recovers_identifiable_combinations(eqs):
    model = close_equations(eqs, "pair")
    data = _synthetic(model, TRUE)
    obj = build_objective(model, data, {"rtol": 1e-11, "atol": 1e-13})
    ms = multistart_fit(obj, 4, seed=0, reference=1.0)
    best = ms.best
    assert best.F < 1e-14
    structural = structural_combinations(model)
    assert structural.rank == 4 and structural.verified
    # the PA closes linear and angled chains alike: 2k1 + k2, 2k3 + k4, 2k5 + k6, 2k7 + k8
    M = np.array([[2, 1, 0, 0, 0, 0, 0, 0], [0, 0, 2, 1, 0, 0, 0, 0], [0, 0, 0, 0, 2, 1, 0, 0], [0, 0, 0, 0, 0, 0, 2, 1]])
    assert np.max(np.abs(M @ best.x - M @ TRUE) / (M @ TRUE)) < 1e-6


@pytest.mark.nmc  # the reference plugin's k1..k8 naming and SA preset
def test_fisher_null_space_spans_the_unidentifiable_combinations(eqs):
    model = close_equations(eqs, "pair")
    obj = build_objective(model, _synthetic(model, TRUE), {"rtol": 1e-11, "atol": 1e-13})
    fa = fisher_analysis(obj, TRUE, null_rtol=1e-8)
    made = np.array([[1, -2, 0, 0, 0, 0, 0, 0], [0, 0, 1, -2, 0, 0, 0, 0], [0, 0, 0, 0, 1, -2, 0, 0], [0, 0, 0, 0, 0, 0, 1, -2]]).T
    null = fa.null_space
    assert null.shape[1] == 4
    assert np.max(principal_angles(null, made)) < 1e-4
    # in relative changes (ln k) the same directions, rescaled: d ln k = diag(1/K) dk
    rel = fa.relative
    lam = rel["eigenvalues"]
    rel_null = rel["eigenvectors"][:, lam <= 1e-8 * lam[0]]
    assert rel_null.shape[1] == 4 and len(rel["near_null"]) == 4
    assert np.max(principal_angles(rel_null, np.diag(1.0 / TRUE) @ made)) < 1e-4


@pytest.mark.nmc  # the reference plugin's k1..k8 naming and SA preset
def test_linear_model_fitted_in_its_combinations(eqs):
    model = close_equations(eqs, "SA")
    rates = np.array([0.3, 0.2, 0.1, 0.05, 0.4, 0.1, 0.2, 0.1])  # alpha1 = 0.45, alpha2 = 0.5
    obj = build_objective(model, _synthetic(model, rates))
    assert obj.kind == "combinations" and obj.parameter_names == ["alpha1", "alpha2"]
    ms = multistart_fit(obj, 4, seed=0)
    assert np.allclose(ms.best.x, obj.rates_to_combinations(rates), rtol=1e-7)
    structural = structural_combinations(model)
    assert structural.rank == 2
    A = np.array([[2, 1, -2, -1, 0, 0, 0, 0], [0, 0, 0, 0, 2, 1, -2, -1]], float)
    complement = np.linalg.svd(A)[2][2:].T
    assert np.max(principal_angles(structural.null_basis, complement)) < 1e-8


def test_bad_input(eqs):
    model = close_equations(eqs, "pair")
    data = _synthetic(model, TRUE)
    with pytest.raises(ConfigurationError, match="alpha"):
        build_objective(model, data, {"alpha": -1.0})
    with pytest.raises(ClosureError, match="unclosed"):
        build_objective(close_equations(eqs, "power-law"), data)
    with pytest.raises(DataError, match="lacks"):
        build_objective(model, {"time": data["time"], "C++": data["C++"], "C+-": data["C+-"]}, normalisation="none")
    with pytest.raises(ConfigurationError, match="variables"):
        build_objective(model, data, {"variables": ["A+-+"]})
    obj = build_objective(model, data)
    with pytest.raises(ConfigurationError, match="components"):
        obj.value(np.ones(3))
