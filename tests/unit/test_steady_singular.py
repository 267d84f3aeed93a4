"""First-order limits at the absorbing state: symbolic expansion against the compiled code at x* + εv."""

from __future__ import annotations

import numpy as np
import pytest
from steady_models import closed, problem

from latticeclosure.steady import (
    SingularLimitError,
    SingularStateError,
    absorbing_states,
    directional_limit,
    regularised_limit,
)
from latticeclosure.steady.absorbing import PerturbationCone


def _random_cone_directions(pr, state, count, seed):
    """Directions that increase every vanishing class (physical perturbations)."""
    cone = PerturbationCone(pr, state)
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        v = cone.start * rng.uniform(0.2, 2.0, size=cone.start.size)
        if cone.contains(v):
            out.append(cone.normalise(v))
    return out


@pytest.mark.parametrize("lattice, window, closure", [("triangular", 2, "pair"), ("square", 3, "pair")])
def test_symbolic_limit_matches_the_epsilon_regularisation(lattice, window, closure):
    pr = problem(lattice, window, closure)
    (state,) = absorbing_states(pr.model)
    x0 = state.state_vector
    with pytest.raises(SingularStateError, match="divides by zero"):
        pr.rhs(x0, 0.3)  # the compiled code cannot evaluate the absorbing state itself
    limit = directional_limit(pr.model, list(state.state))
    assert not limit.linear
    for lam in (0.15, 0.4):
        p = pr.vector(lam)
        for v in _random_cone_directions(pr, state, 3, seed=int(lam * 100)):
            exact = limit(v, p)
            eps, quotients = regularised_limit(pr, x0, v, lam, (1e-2, 1e-3, 1e-4, 1e-5))
            errors = np.abs(quotients - exact).max(axis=1)
            # the ε-regularised quotient converges to the symbolic limit, linearly in ε
            assert errors[-1] < 1e-4 * max(1.0, np.abs(exact).max())
            ratios = errors[:-1] / errors[1:]
            assert np.all((ratios > 5) & (ratios < 20)), ratios


def test_limit_is_the_jacobian_where_the_closure_is_regular():
    pr = problem("square", 2, "pair")
    (state,) = absorbing_states(pr.model)
    limit = directional_limit(pr.model, list(state.state))
    assert limit.linear
    for lam in (0.1, 0.5):
        p = pr.vector(lam)
        v = np.array([0.3, 0.7])
        np.testing.assert_allclose(limit.jacobian(v, p), pr.jacobian(state.state_vector, lam), atol=1e-13)
        np.testing.assert_allclose(limit(v, p), pr.jacobian(state.state_vector, lam) @ v, atol=1e-13)


def test_homogeneous_of_degree_one():
    pr = problem("triangular", 2, "pair")
    (state,) = absorbing_states(pr.model)
    limit = directional_limit(pr.model, list(state.state))
    p = pr.vector(0.3)
    v = np.array([0.2, 0.5])
    np.testing.assert_allclose(limit(3.0 * v, p), 3.0 * limit(v, p), rtol=1e-13)
    # but not linear: additivity fails
    w = np.array([0.6, 0.1])
    assert np.abs(limit(v + w, p) - limit(v, p) - limit(w, p)).max() > 1e-3


def test_kirkwood_plaquettes_have_no_limit_at_the_absorbing_state():
    """Kirkwood superposition at window 3 on the square lattice closes the T-shaped and square
    four-site contexts with ratios of equal order (e.g. A101² L101 C0 / C01³): the closed
    right-hand side stays finite, direction-dependent, as the absorbing state is approached.
    """
    model = closed("square", 3, "kirkwood")
    (state,) = absorbing_states(model)
    with pytest.raises(SingularLimitError, match="does not vanish"):
        directional_limit(model, list(state.state))
    # independent check with the compiled code: f(x* + εv) does not go to 0 with ε
    pr = problem("square", 3, "kirkwood")
    v = _random_cone_directions(pr, state, 1, seed=3)[0]
    values = [np.abs(pr.rhs(state.state_vector + e * v, 0.3)).max() for e in (1e-3, 1e-5, 1e-7)]
    assert min(values) > 1e-3 and values[-1] > 0.5 * values[0]


def test_limit_refuses_symbolic_exponents():
    from latticeclosure.closedmodel import close_equations
    from steady_models import equations

    model = close_equations(equations("triangular", 2), "power-law")
    assert model.closure_parameter_names
    (state,) = absorbing_states(model)
    with pytest.raises(SingularLimitError, match="exponent is not a number"):
        directional_limit(model, list(state.state))
