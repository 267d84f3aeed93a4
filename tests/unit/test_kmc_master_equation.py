"""Occupation statistics of the simulator against the exact master equation on a 3×3 periodic lattice.

The generator matrix is built by brute force from the lattice's bonds (independently of the
simulator's tables); the exact distribution at time t is ``expm(Q t) p0``. Many independent replicas
(seeded as the simulator seeds them) are run from the same initial configuration to time t and the
histogram of their final states is compared with the exact distribution by Pearson's χ² test (bins
with fewer than 5 expected counts pooled). Significance level α = 10⁻³: a correct simulator fails a
given seed with probability 0.1 %; the seeds are fixed, so the outcome is reproducible.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.linalg import expm
from scipy.stats import chisquare

from latticeclosure.anneal.energy import ClusterEnergy
from latticeclosure.kmc import make_spec
from latticeclosure.kmc.run import replica_seeds

ALPHA = 1e-3
REPLICAS = 20000


def _chi2_pvalue(observed: np.ndarray, expected: np.ndarray) -> tuple[float, int]:
    order = np.argsort(expected)
    exp_sorted, obs_sorted = expected[order], observed[order]
    small = np.cumsum(exp_sorted) < 5.0
    k = int(small.sum()) + 1  # pool the rarest states until the pool expects ≥ 5
    exp_bins = np.concatenate([[exp_sorted[:k].sum()], exp_sorted[k:]])
    obs_bins = np.concatenate([[obs_sorted[:k].sum()], obs_sorted[k:]])
    return float(chisquare(obs_bins, exp_bins).pvalue), len(exp_bins)


def _simulate_final_states(spec, config0, t, seed):
    cell = spec.supercell()
    process = spec.process(cell)
    finals = np.empty((REPLICAS, cell.n_sites), dtype=np.int8)
    for r in range(REPLICAS):
        _, rng = replica_seeds(seed, r)
        state = process.new_state(config0, rng)
        process.advance(state, t, 10**6)
        finals[r] = process.configuration(state)
    return finals


def _distribution(Q: np.ndarray, p0: np.ndarray, t: float) -> np.ndarray:
    p = expm(Q * t) @ p0
    p = np.clip(p, 0, None)
    return p / p.sum()


def test_sis_occupation_statistics_match_the_master_equation():
    tau, gamma, t = 0.7, 1.0, 0.8
    spec = make_spec(lattice="square", species=["S", "I"], dynamics="flip",
                     flip_spec={"rules": [{"from": "S", "to": "I", "rate": "tau", "catalyst": "I"},
                                          {"from": "I", "to": "S", "rate": "gamma"}]},
                     rates={"tau": tau, "gamma": gamma}, initial={"S": 0.5, "I": 0.5}, size=3, time=t, max_class_size=1)
    bonds = spec.supercell().bonds
    n = 9
    states = np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.int8)
    code = lambda c: int(np.dot(c.astype(np.int64), 1 << np.arange(n)[::-1]))  # noqa: E731
    Q = np.zeros((2**n, 2**n))
    for c in states:
        a = code(c)
        for i in range(n):
            if c[i] == 1:
                rate = gamma
            else:
                infected = sum(int(c[v]) for u, v in bonds if u == i) + sum(int(c[u]) for u, v in bonds if v == i)
                rate = tau * infected
            if rate:
                d = c.copy()
                d[i] = 1 - d[i]
                Q[code(d), a] += rate
                Q[a, a] -= rate
    config0 = np.array([0, 1, 0, 0, 0, 0, 0, 1, 1], dtype=np.int8)
    p0 = np.zeros(2**n)
    p0[code(config0)] = 1
    exact = _distribution(Q, p0, t)
    finals = _simulate_final_states(spec, config0, t, seed=11)
    observed = np.bincount([code(c) for c in finals], minlength=2**n).astype(float)
    pvalue, bins = _chi2_pvalue(observed, exact * REPLICAS)
    assert bins > 60
    assert pvalue > ALPHA, f"chi2 p-value {pvalue:.2e} over {bins} bins"
    # the prevalence too, compared as a number
    prevalence = finals.mean()
    exact_prev = float(exact @ states.mean(axis=1))
    assert abs(prevalence - exact_prev) < 5 * 0.5 / np.sqrt(REPLICAS)


def _swap_master(bonds, rate_of, t, config0, seed, spec):
    n = 9
    states = [np.array(c, dtype=np.int8) for c in itertools.product((0, 1), repeat=n) if sum(c) == 4]
    assert len(states) == 126
    index = {tuple(c): k for k, c in enumerate(states)}
    Q = np.zeros((126, 126))
    for a, c in enumerate(states):
        for u, v in bonds:
            if c[u] != c[v]:
                d = c.copy()
                d[[u, v]] = d[[v, u]]
                r = rate_of(c, d)
                Q[index[tuple(d)], a] += r
                Q[a, a] -= r
    p0 = np.zeros(126)
    p0[index[tuple(config0)]] = 1
    exact = _distribution(Q, p0, t)
    finals = _simulate_final_states(spec, config0, t, seed)
    assert (finals.sum(axis=1) == 4).all()  # composition is conserved
    observed = np.bincount([index[tuple(c)] for c in finals], minlength=126).astype(float)
    return _chi2_pvalue(observed, exact * REPLICAS)


def test_swap_rate_table_occupation_statistics_match_the_master_equation():
    t = 0.25
    spec = make_spec(lattice="square", species=["A", "B"], dynamics="swap", rates={"A,B": 1.5},
                     initial={"A": 0.5, "B": 0.5}, size=3, time=t, max_class_size=1)
    bonds = spec.supercell().bonds
    config0 = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0], dtype=np.int8)
    pvalue, bins = _swap_master(bonds, lambda c, d: 1.5, t, config0, 12, spec)
    assert bins > 40
    assert pvalue > ALPHA, f"chi2 p-value {pvalue:.2e} over {bins} bins"


def test_swap_metropolis_occupation_statistics_match_the_master_equation():
    """Kawasaki exchange with Metropolis rates from an Ising bond energy (unlike neighbours cost 1)."""
    temperature, t = 0.8, 0.6
    energy = ClusterEnergy("pair", 2, ("A", "B"), np.array([0.0, 1.0, 1.0, 0.0]), "unlike bonds")
    spec = make_spec(lattice="square", species=["A", "B"], dynamics="swap", rates={"temperature": temperature},
                     energy=energy, initial={"A": 0.5, "B": 0.5}, size=3, time=t, max_class_size=1)
    bonds = spec.supercell().bonds

    def e(c):
        return float(sum(c[u] != c[v] for u, v in bonds))

    config0 = np.array([1, 0, 1, 0, 1, 0, 1, 0, 0], dtype=np.int8)
    pvalue, bins = _swap_master(bonds, lambda c, d: min(1.0, np.exp(-(e(d) - e(c)) / temperature)), t,
                                config0, 13, spec)
    assert bins > 40
    assert pvalue > ALPHA, f"chi2 p-value {pvalue:.2e} over {bins} bins"
