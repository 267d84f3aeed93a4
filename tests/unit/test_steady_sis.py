"""SIS in the pair approximation against the homogeneous pairwise model (Keeling 1999, φ = 0).

The pairwise model, written here independently of the framework, in counts per site
(s = [S]/N, i = [I]/N, ab = [AB]/N counted over ordered pairs, ss + 2 si + ii = n):

    di/dt  = τ si − γ i
    dsi/dt = γ (ii − si) + τ (ssi − isi − si)
    dii/dt = −2 γ ii + 2 τ (isi + si)

with the triple closure [ABC] = (n − 1)/n · [AB][BC]/[B]. Its disease-free state loses stability
at τ/γ = 1/(n − 1). The framework's pair closure (chain rule on the triangular lattice, where
Kirkwood's loops are Keeling's clustered closure instead) must give the same threshold and the same
stationary prevalence C_I = i.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq
from steady_models import COORDINATION, problem

from latticeclosure.steady import absorbing_states, critical_rate, integrate_to_fixed_point, product_state


def pairwise_rhs(y: np.ndarray, tau: float, gamma: float, n: int) -> np.ndarray:
    i, si, ii = y
    s = 1.0 - i
    ss = n - 2 * si - ii
    ssi = (n - 1) / n * ss * si / s
    isi = (n - 1) / n * si * si / s
    return np.array([
        tau * si - gamma * i,
        gamma * (ii - si) + tau * (ssi - isi - si),
        -2 * gamma * ii + 2 * tau * (isi + si),
    ])


def pairwise_threshold(gamma: float, n: int) -> float:
    """Root of det J at the disease-free state, J by central differences."""

    def det(tau: float) -> float:
        h = 1e-7
        jac = np.empty((3, 3))
        for k in range(3):
            e = np.zeros(3)
            e[k] = h
            jac[:, k] = (pairwise_rhs(e, tau, gamma, n) - pairwise_rhs(-e, tau, gamma, n)) / (2 * h)
        return float(np.linalg.det(jac))

    return brentq(det, 1e-6, 2.0, xtol=1e-14)


def pairwise_prevalence(tau: float, gamma: float, n: int) -> float:
    """Integrate from an uncorrelated half-infected state, then polish the end point."""
    y0 = np.array([0.5, n * 0.25, n * 0.25])
    sol = solve_ivp(lambda t, y: pairwise_rhs(y, tau, gamma, n), (0.0, 400.0), y0, method="LSODA",
                    rtol=1e-10, atol=1e-12)
    y = sol.y[:, -1]
    for _ in range(8):  # Newton with a central-difference Jacobian
        h = 1e-7
        jac = np.column_stack([(pairwise_rhs(y + e, tau, gamma, n) - pairwise_rhs(y - e, tau, gamma, n)) / (2 * h)
                               for e in np.eye(3) * h])
        y = y - np.linalg.solve(jac, pairwise_rhs(y, tau, gamma, n))
    assert np.abs(pairwise_rhs(y, tau, gamma, n)).max() < 1e-12 and y[0] > 0
    return float(y[0])


CASES = [("square", "pair"), ("triangular", "chain"), ("honeycomb", "pair")]


@pytest.mark.parametrize("lattice, closure", CASES)
@pytest.mark.parametrize("gamma", [1.0, 0.5])
def test_sis_pair_threshold_is_that_of_the_pairwise_model(lattice, closure, gamma):
    n = COORDINATION[lattice]
    pr = problem(lattice, 2, closure, "sis", "tau", (("gamma", gamma),))
    (state,) = absorbing_states(pr.model)
    assert state.species == "S"
    th = critical_rate(pr, state, 0.0, 2.0)
    assert th.critical == pytest.approx(gamma / (n - 1), abs=1e-12)
    assert th.critical == pytest.approx(pairwise_threshold(gamma, n), abs=1e-7)


@pytest.mark.parametrize("lattice, closure", CASES)
@pytest.mark.parametrize("ratio", [1.25, 2.0, 6.0])
def test_sis_stationary_prevalence_is_that_of_the_pairwise_model(lattice, closure, ratio):
    n = COORDINATION[lattice]
    gamma = 1.0
    tau = ratio * gamma / (n - 1)  # above the threshold
    pr = problem(lattice, 2, closure, "sis", "tau", (("gamma", gamma),))
    fp = integrate_to_fixed_point(pr, product_state(pr.model, {"S": 0.5, "I": 0.5}), tau)
    species = list(pr.model.equations.species)
    prevalence = pr.species_fractions(fp.full_state)[species.index("I")]
    assert prevalence == pytest.approx(pairwise_prevalence(tau, gamma, n), abs=1e-10)
