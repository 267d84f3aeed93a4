"""Fixed points: long-time integration and Newton against closed-form stationary densities.

Contact process with λ = z·lam_z: mean field ρ = 1 − 1/λ; pair approximation on the square lattice
ρ = (3λ − 4)/(3λ − 1) (the Bethe pair result ((z−1)λ − z)/((z−1)λ − 1) at z = 4).
"""

from __future__ import annotations

import numpy as np
import pytest
from steady_models import closed, problem

from latticeclosure.errors import SteadyStateError
from latticeclosure.steady import (
    SteadyProblem,
    absorbing_states,
    conservation_laws,
    integrate_to_fixed_point,
    newton_fixed_point,
    product_state,
)
from latticeclosure.steady.fixedpoints import fixed_point_stability

CLOSED_FORMS = {
    ("square", 1, "mean-field"): lambda lam: 1 - 1 / lam,
    ("square", 2, "pair"): lambda lam: (3 * lam - 4) / (3 * lam - 1),
    ("triangular", 1, "mean-field"): lambda lam: 1 - 1 / lam,
    ("triangular", 2, "chain"): lambda lam: (5 * lam - 6) / (5 * lam - 1),
}
Z = {"square": 4, "triangular": 6}


def _density(pr, fp):
    return 1.0 - pr.species_fractions(fp.full_state)[0]


@pytest.mark.parametrize("key", list(CLOSED_FORMS))
@pytest.mark.parametrize("lam", [1.5, 2.0, 4.0])
def test_stationary_density_by_integration_and_newton(key, lam):
    lattice, window, closure = key
    pr = problem(lattice, window, closure)
    value = lam / Z[lattice]
    start = product_state(pr.model, {"0": 0.1, "1": 0.9})
    fp = integrate_to_fixed_point(pr, start, value)
    assert fp.method == "integration+newton"
    assert _density(pr, fp) == pytest.approx(CLOSED_FORMS[key](lam), abs=1e-10)
    assert fp.stable and fp.residual < 1e-12
    # Newton from a rough guess lands on the same point
    guess = fp.state * 1.2
    again = newton_fixed_point(pr, guess, value)
    np.testing.assert_allclose(again.state, fp.state, atol=1e-11)


def test_absorbing_state_stability_from_its_eigenvalues():
    pr = problem("square", 2, "pair")
    (state,) = absorbing_states(pr.model)
    below, verdict_below = fixed_point_stability(pr, state.state_vector, 0.25)
    above, verdict_above = fixed_point_stability(pr, state.state_vector, 0.5)
    assert verdict_below == "stable" and below.real.max() < 0
    assert verdict_above == "unstable" and above.real.max() > 0


def test_below_threshold_the_trajectory_falls_into_the_absorbing_state():
    pr = problem("square", 2, "pair")
    fp = integrate_to_fixed_point(pr, product_state(pr.model, {"0": 0.1, "1": 0.9}), 0.3)
    assert fp.method == "absorbing" and fp.stable and not fp.singular
    np.testing.assert_array_equal(fp.full_state, absorbing_states(pr.model)[0].full_state)


def test_singular_absorbing_state_gets_the_growth_rate_of_its_mode():
    pr = problem("triangular", 2, "pair")  # Kirkwood triangles: 0/0 at the absorbing state
    fp = integrate_to_fixed_point(pr, product_state(pr.model, {"0": 0.1, "1": 0.9}), 0.15)
    assert fp.method == "absorbing" and fp.singular
    assert fp.eigenvalues is None and fp.growth_rate < 0 and fp.stable


def test_conservation_law_of_kawasaki_swaps_is_eliminated():
    """Swaps at equal rates conserve the composition: a line of fixed points (uncorrelated states).

    Newton on the reduced system must stay on the leaf of the starting composition and converge
    to the product state C-- = x², C+- = x(1 − x) with x = C- of the start.
    """
    from latticeclosure.closedmodel import close_equations
    from latticeclosure.equations import generate_equations

    eqs = generate_equations("triangular", ["+", "-"], "swap", window_size=2, exclude_closed=True)
    model = close_equations(eqs, "pair")
    pr = SteadyProblem.from_model(model, {f"k{i}": 1.0 for i in range(1, 9)})
    laws = conservation_laws(pr)
    assert laws.count == 1
    idx = {n: i for i, n in enumerate(model.state_names)}
    w = laws.laws[0] / laws.laws[0][idx["C--"]]
    np.testing.assert_allclose(w[[idx["C--"], idx["C+-"]]], [1.0, 1.0], atol=1e-12)  # C- = C-- + C+-
    start = np.zeros(len(model.state_names))
    start[idx["C--"]], start[idx["C+-"]] = 0.2, 0.15
    x = start[idx["C--"]] + start[idx["C+-"]]
    fp = newton_fixed_point(pr, start, laws=laws)
    assert fp.state[idx["C--"]] == pytest.approx(x * x, abs=1e-12)
    assert fp.state[idx["C+-"]] == pytest.approx(x * (1 - x), abs=1e-12)
    # the full Jacobian is singular along the line of fixed points; within the leaf it is not
    assert abs(np.linalg.det(pr.jacobian(fp.state))) < 1e-12
    assert fp.stability == "stable" and np.all(fp.eigenvalues.real < 0)
    assert conservation_laws(problem("square", 2, "pair")).count == 0


def test_newton_failure_is_a_clear_error():
    pr = problem("square", 2, "pair")
    with pytest.raises(SteadyStateError, match="did not converge"):
        newton_fixed_point(pr, [5.0, -7.0], 0.5, max_iter=2)
    with pytest.raises(SteadyStateError, match="0/0"):
        newton_fixed_point(problem("triangular", 2, "pair"), [0.0, 0.0], 0.5)


def test_product_state_checks_its_fractions():
    model = closed("square", 2, "pair")
    np.testing.assert_allclose(product_state(model, {"0": 0.25, "1": 0.75}), [1 / 16, 9 / 16, 3 / 16])
    with pytest.raises(SteadyStateError, match="sum to 1"):
        product_state(model, {"0": 0.5, "1": 0.6})
    with pytest.raises(SteadyStateError, match="unknown species"):
        product_state(model, {"S": 1.0})
