"""Critical rates of the contact process's absorbing state against the exact closure results.

Mean field (window 1): dρ/dt = −ρ + λρ(1 − ρ), threshold λ = 1 on every lattice. Pair approximation
without loop correlations: λ_c = z/(z − 1) (the Bethe-lattice result; 4/3 on the square lattice,
6/5 on the triangular one with the chain loop rule). The rate continued is lam_z = λ/z.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from steady_models import COORDINATION, closed, problem

from latticeclosure.steady import absorbing_states, critical_rate, growth_mode, newton_fixed_point
from latticeclosure.steady.threshold import LOCATION_TOL

EXACT = [
    ("square", 1, "mean-field", Fraction(1, 4)),
    ("square", 2, "pair", Fraction(1, 3)),
    ("triangular", 1, "mean-field", Fraction(1, 6)),
    ("triangular", 2, "chain", Fraction(1, 5)),
]


@pytest.mark.parametrize("lattice, window, closure, exact", EXACT)
def test_contact_process_thresholds_are_exact(lattice, window, closure, exact):
    pr = problem(lattice, window, closure)
    (state,) = absorbing_states(pr.model)
    assert state.species == "0"
    th = critical_rate(pr, state, 0.0, 1.0)
    assert len(th.crossings) == 1
    crossing = th.crossings[0]
    assert abs(crossing.value - float(exact)) <= 1e-12
    # in units of λ: 1 (mean field), z/(z-1) (pair)
    z = COORDINATION[lattice]
    lam = z * crossing.value
    assert lam == pytest.approx(1.0 if closure == "mean-field" else z / (z - 1), abs=1e-11)
    # the absorbing state is stable below and unstable above
    assert crossing.loses_stability_above
    assert crossing.verified == LOCATION_TOL


def test_location_is_verified_by_the_sign_of_the_growth_rate():
    pr = problem("square", 2, "pair")
    (state,) = absorbing_states(pr.model)
    th = critical_rate(pr, state, 0.0, 1.0)
    pc = th.critical
    below = growth_mode(pr, state, pc - 1e-9).rate
    above = growth_mode(pr, state, pc + 1e-9).rate
    assert below < 0 < above
    # at the critical rate the Jacobian at the absorbing state is singular along the critical mode
    jac = pr.jacobian(state.state_vector, pc)
    assert abs(np.linalg.det(jac)) < 1e-12
    np.testing.assert_allclose(jac @ th.crossings[0].direction, 0.0, atol=1e-12)


def test_growth_rate_of_mean_field_is_its_eigenvalue():
    # dρ/dt = ρ(4 lam_z - 1) - 4 lam_z ρ²  ⇒  μ = 4 lam_z - 1 exactly
    pr = problem("square", 1, "mean-field")
    (state,) = absorbing_states(pr.model)
    for lam in (0.0, 0.1, 0.3, 0.7):
        assert growth_mode(pr, state, lam).rate == pytest.approx(4 * lam - 1, abs=1e-13)


def test_kirkwood_triangle_threshold_where_the_active_density_vanishes():
    """Window-2 Kirkwood on the triangular lattice is 0/0 at the absorbing state (no Jacobian).

    Independent check of the critical rate from the symbolic limit: the active branch found by
    plain Newton at rates just above it has a density linear in p − p_c; extrapolating two such
    points to zero density gives p_c again.
    """
    pr = problem("triangular", 2, "pair")
    (state,) = absorbing_states(pr.model)
    th = critical_rate(pr, state, 0.0, 1.0)
    pc = th.critical
    assert not th.linear
    assert 0.2 < pc < 0.25  # clustering raises the threshold above the chain rule's 1/5
    x = np.array([0.01, 0.03])
    dens = []
    values = [pc + 2e-5, pc + 1e-5]
    for p in [pc + 1e-3, pc + 1e-4] + values:
        fp = newton_fixed_point(pr, x, p)
        x = fp.state
        if p in values:
            dens.append(1.0 - pr.species_fractions(fp.full_state)[0])
    (p1, p2), (r1, r2) = values, dens
    extrapolated = p1 - r1 * (p2 - p1) / (r2 - r1)
    assert abs(extrapolated - pc) < 1e-8


def test_no_crossing_in_a_range_below_the_threshold():
    pr = problem("square", 2, "pair")
    (state,) = absorbing_states(pr.model)
    th = critical_rate(pr, state, 0.0, 0.3)
    assert th.critical is None
    assert th.status() == "stable throughout the range"
    th = critical_rate(pr, state, 0.5, 1.0)
    assert th.status() == "unstable throughout the range"


def test_window_three_pair_closure_on_the_square_lattice():
    """Window-3 pair (0/0 at the absorbing state) gives a threshold just above the window-2 value."""
    pr = problem("square", 3, "pair")
    (state,) = absorbing_states(pr.model)
    th = critical_rate(pr, state, 0.0, 1.0, samples=11)
    assert not th.linear
    assert 1 / 3 < th.critical < 0.34
    below = growth_mode(pr, state, th.critical - 1e-9).rate
    above = growth_mode(pr, state, th.critical + 1e-9).rate
    assert below < 0 < above


def test_closure_choice_changes_nothing_at_window_one():
    # every closure of the pair C01 at window 1 is the product of singlets
    assert closed("square", 1, "kirkwood").to_text() == closed("square", 1, "mean-field").to_text()
