"""SIR: the all-susceptible state sits in a family of absorbing states (any S/R mixture).

Perturbations that only add removed sites are neutral (growth rate 0 at every rate); the threshold
is carried by the infected mode. In the homogeneous pairwise model (Keeling 1999, φ = 0) the
linearisation at the disease-free state is d[SI]/dt = τ([SSI] − [ISI] − [SI]) − γ[SI] with
[SSI] ≈ (n − 1)[SI] and [ISI] of second order: growth rate τ(n − 2) − γ, threshold τ/γ = 1/(n − 2);
mean field gives τ/γ = 1/n.
"""

from __future__ import annotations

import pytest
from steady_models import COORDINATION, problem

from latticeclosure.errors import SteadyStateError
from latticeclosure.steady import critical_rate, growth_mode, select_absorbing_state


@pytest.mark.parametrize("lattice, window, closure", [("square", 1, "mean-field"), ("square", 2, "pair"),
                                                       ("honeycomb", 2, "pair"), ("triangular", 2, "chain")])
def test_sir_thresholds(lattice, window, closure):
    n = COORDINATION[lattice]
    pr = problem(lattice, window, closure, "sir", "tau", (("gamma", 1.0),))
    state = select_absorbing_state(pr.model, "S")
    th = critical_rate(pr, state, 0.0, 2.0, samples=21)
    exact = 1.0 / n if closure == "mean-field" else 1.0 / (n - 2)
    assert th.critical == pytest.approx(exact, abs=1e-11)
    # below the threshold the leading non-neutral mode decays (the neutral one is factored out)
    assert growth_mode(pr, state, 0.5 * exact).rate < 0 < growth_mode(pr, state, 1.5 * exact).rate


def test_sir_needs_an_absorbing_state_to_be_chosen():
    pr = problem("square", 2, "pair", "sir", "tau", (("gamma", 1.0),))
    with pytest.raises(SteadyStateError, match="several absorbing states"):
        select_absorbing_state(pr.model)


def test_sir_with_kirkwood_triangles_is_refused_clearly():
    pr = problem("triangular", 2, "pair", "sir", "tau", (("gamma", 1.0),))
    state = select_absorbing_state(pr.model, "S")
    # the neutral mode hides the threshold, or the mode runs into a face where the limit is 0/0
    for samples in (5, 21):
        with pytest.raises(SteadyStateError, match="neutral perturbations|itself 0/0"):
            critical_rate(pr, state, 0.0, 2.0, samples=samples)
