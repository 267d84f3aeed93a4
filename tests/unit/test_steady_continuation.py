"""Pseudo-arclength continuation: folds, exchange of stability, ends at the absorbing state.

A test closure with a fold: at window 1 on the square lattice, close the contact process's pair
C01 ≈ C0 C1 (1 + 3 C1). Then dρ/dt = ρ[4 lam_z (1 − ρ)(1 + 3ρ) − 1], whose active branch is
lam_z = 1 / (4 (1 − ρ)(1 + 3ρ)): a fold at ρ = 1/3, lam_z = 3/16 (stable above, unstable below)
and a transcritical point at ρ = 0, lam_z = 1/4 — bistability in between.
"""

from __future__ import annotations

import numpy as np
import pytest
from steady_models import equations, problem

from latticeclosure.closedmodel import close_equations
from latticeclosure.steady import (
    SteadyProblem,
    absorbing_states,
    continue_branch,
    critical_rate,
    integrate_to_fixed_point,
    product_state,
)


@pytest.fixture(scope="module")
def folded():
    model = close_equations(equations("square", 1), {"C01": "C0*C1*(1 + 3*C1)"})
    return SteadyProblem.from_model(model, {}, "lam_z")


def _rho(pr, point):
    return 1.0 - pr.species_fractions(point.full_state)[0]


def test_fold_and_transcritical_point_are_located(folded):
    pr = folded
    (state,) = absorbing_states(pr.model)
    fp = integrate_to_fixed_point(pr, product_state(pr.model, {"0": 0.1, "1": 0.9}), 1.0)
    branch = continue_branch(pr, fp.state, 1.0, 0.0, 1.0, direction=-1, absorbing=[state])
    kinds = [b.kind for b in branch.bifurcations]
    assert kinds == ["fold", "meets-absorbing"]
    fold, end = branch.bifurcations
    assert abs(fold.value - 3 / 16) < 1e-9
    assert abs((1 - fold.full_state[0]) - 1 / 3) < 1e-5  # ρ at a fold: p is quadratic in arclength
    assert abs(end.value - 0.25) < 1e-12
    # every point lies on the analytic branch; stable above the fold, unstable below it
    for pt in branch.points[:-1]:
        rho = _rho(pr, pt)
        assert pt.value == pytest.approx(1 / (4 * (1 - rho) * (1 + 3 * rho)), abs=1e-10)
        assert pt.stability == ("stable" if rho > 1 / 3 + 1e-6 else "unstable" if rho < 1 / 3 - 1e-6 else pt.stability)
    assert branch.end == "boundary"
    # the absorbing state's threshold is the transcritical point, not the fold
    th = critical_rate(pr, state, 0.0, 1.0)
    assert abs(th.critical - 0.25) < 1e-12


def test_branch_stops_at_the_end_of_the_range(folded):
    pr = folded
    fp = integrate_to_fixed_point(pr, product_state(pr.model, {"0": 0.1, "1": 0.9}), 0.5)
    branch = continue_branch(pr, fp.state, 0.5, 0.0, 0.8, direction=+1)
    assert branch.end == "range"
    assert branch.points[-1].value == pytest.approx(0.8, abs=1e-12)
    rho = _rho(pr, branch.points[-1])
    assert 4 * 0.8 * (1 - rho) * (1 + 3 * rho) == pytest.approx(1.0, abs=1e-10)
    assert all(v <= 0.8 + 1e-12 for v in branch.values)


@pytest.mark.parametrize("lattice, window, closure, exact, z",
                         [("square", 2, "pair", 1 / 3, 4), ("triangular", 2, "chain", 1 / 5, 6)])
def test_active_branch_of_the_pair_approximation(lattice, window, closure, exact, z):
    pr = problem(lattice, window, closure)
    (state,) = absorbing_states(pr.model)
    fp = integrate_to_fixed_point(pr, product_state(pr.model, {"0": 0.1, "1": 0.9}), 1.0)
    branch = continue_branch(pr, fp.state, 1.0, 0.0, 1.0, direction=-1, absorbing=[state])
    assert [b.kind for b in branch.bifurcations] == ["meets-absorbing"]
    assert abs(branch.bifurcations[0].value - exact) < 1e-12
    for pt in branch.points[:-1]:
        lam = z * pt.value
        assert _rho(pr, pt) == pytest.approx(((z - 1) * lam - z) / ((z - 1) * lam - 1), abs=1e-10)
        assert pt.stability == "stable"


def test_branch_end_of_a_singular_closure_is_its_threshold():
    pr = problem("triangular", 2, "pair")
    (state,) = absorbing_states(pr.model)
    fp = integrate_to_fixed_point(pr, product_state(pr.model, {"0": 0.1, "1": 0.9}), 1.0)
    branch = continue_branch(pr, fp.state, 1.0, 0.0, 1.0, direction=-1, absorbing=[state])
    th = critical_rate(pr, state, 0.0, 1.0)
    assert branch.bifurcations[-1].kind == "meets-absorbing"
    assert abs(branch.bifurcations[-1].value - th.critical) < 1e-12
    # the densities approach zero along the branch: the last continued points are close to it
    dens = [_rho(pr, pt) for pt in branch.points]
    assert dens[-1] == 0.0 and min(dens[:-1]) < 0.05


def test_kirkwood_window_three_branch_reaches_the_absorbing_state_along_a_face():
    """The square-lattice window-3 Kirkwood model has no first-order limit at the absorbing state
    in general directions, yet its active branch does end there: it approaches along the face of
    the cone where L101, A110 and A010 vanish faster than the other classes (where Kirkwood's ratios such as
    A101² L101 C0 / C01³ do vanish). The end is located by stepping in the rate."""
    pr = problem("square", 3, "kirkwood")
    (state,) = absorbing_states(pr.model)
    start = product_state(pr.model, {"0": 0.1, "1": 0.9})
    ends = []
    for p0, step in ((1.0, 0.02), (0.359, 0.001)):  # two different paths to the same end
        fp = integrate_to_fixed_point(pr, start, p0)
        branch = continue_branch(pr, fp.state, p0, 0.0, 1.0, direction=-1, absorbing=[state], step=step)
        end = branch.bifurcations[-1]
        assert end.kind == "meets-absorbing"
        assert np.abs(end.full_state - state.full_state).max() < 1e-12
        ends.append(end.value)
    # along the approach L101, A110, A010 vanish faster than the first-order classes (L001)
    names = pr.model.window_names
    pts = [pt for pt in branch.points[:-1] if 1 - pt.full_state[0] < 1e-2]
    ratios = [max(pt.full_state[names.index(n)] for n in ("L101", "A110", "A010")) / pt.full_state[names.index("L001")]
              for pt in pts]
    assert len(pts) >= 4 and all(a > b for a, b in zip(ratios, ratios[1:]))
    assert ratios[-1] < 0.5 * ratios[0]
    assert abs(ends[0] - ends[1]) < 1e-10
    assert 0.35 < ends[0] < 0.36
    # just above the end an active steady state exists; just below the trajectory dies out
    assert integrate_to_fixed_point(pr, start, ends[0] + 1e-3).method != "absorbing"
    assert integrate_to_fixed_point(pr, start, ends[0] - 1e-3).method == "absorbing"
