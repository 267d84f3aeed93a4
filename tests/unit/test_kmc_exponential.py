"""The ziggurat exponential of the simulator's waiting times."""

from __future__ import annotations

import numba as nb
import numpy as np
from scipy.stats import kstest

from latticeclosure.anneal.rng import seed_state
from latticeclosure.kmc.exponential import ZIGGURAT, standard_exponential, ziggurat_tables


@nb.njit
def _draws(n, state, ke, we, fe):
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    out = np.empty(n)
    for k in range(n):
        out[k], s0, s1, s2, s3 = standard_exponential(s0, s1, s2, s3, ke, we, fe)
    return out


def test_stored_layer_area_gives_the_solved_tables():
    for stored, solved in zip(ZIGGURAT, ziggurat_tables(solve=True)):
        np.testing.assert_array_equal(stored, solved)
    ke, we, fe = ZIGGURAT
    assert np.all(np.diff(fe[1:]) < 0) and fe[0] == 1.0  # layer densities fall towards the base


def test_draws_follow_the_standard_exponential():
    x = _draws(10**6, seed_state(21), *ZIGGURAT)
    assert kstest(x, "expon").pvalue > 1e-3
    assert abs(x.mean() - 1) < 5e-3 and abs(x.var() - 1) < 1e-2
    tail = (x > 7.697117470131050).mean()  # the base layer's tail beyond r
    assert abs(tail - np.exp(-7.697117470131050)) < 5 * np.sqrt(np.exp(-7.7) / 10**6)
