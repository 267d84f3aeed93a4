"""DR-MH sampler on targets with known answers; DR invariance on a piecewise-constant target; resume."""

import math

import numpy as np
import pytest
from numba import njit
from scipy import stats

from latticeclosure.errors import ConfigurationError
from latticeclosure.inference import dr_metropolis
from latticeclosure.inference.diagnostics import chain_diagnostics
from latticeclosure.inference.sampler import advance_chain, init_chain

C = np.array([[1.0, 0.8], [0.8, 1.0]])
P = np.linalg.inv(C)


@njit
def gauss_lp(x):
    return -0.5 * (x[0] * (P[0, 0] * x[0] + P[0, 1] * x[1]) + x[1] * (P[1, 0] * x[0] + P[1, 1] * x[1]))


A, B = 1.0, 0.5


@njit
def banana_lp(x):
    u = x[1] - B * (x[0] * x[0] - A * A)
    return -0.5 * x[0] * x[0] / (A * A) - 0.5 * u * u


WEIGHTS = np.array([1.0, 3.0, 0.5, 2.0, 4.0])


@njit
def cells_lp(x):
    i = int(math.floor(x[0]))
    if i < 0 or i >= 5:
        return -np.inf
    return math.log(WEIGHTS[i])


def _thinned(chains, ess):
    step = max(1, int(math.ceil(chains.shape[0] * chains.shape[1] / ess)))
    return chains[:, ::step].reshape(-1)


def _run(lp, start, n, scales, chains=4):
    return np.stack([dr_metropolis(lp, start, n, scales=scales, seed=c).samples for c in range(chains)])


@pytest.mark.parametrize("target", ["gauss", "banana"])
def test_known_moments_and_marginals(target):
    if target == "gauss":
        ch = _run(gauss_lp, [0.5, -0.5], 60000, [2.5, 2.5])
        mean, var = np.zeros(2), np.diag(C)
        rng = np.random.default_rng(1)
        exact = rng.multivariate_normal(np.zeros(2), C, size=200000)
    else:
        ch = _run(banana_lp, [0.1, 0.1], 80000, [2.5, 3.0])
        mean, var = np.zeros(2), np.array([A ** 2, 1 + 2 * B ** 2 * A ** 4])
        rng = np.random.default_rng(1)
        x1 = rng.normal(0, A, 200000)
        exact = np.column_stack([x1, B * (x1 ** 2 - A ** 2) + rng.normal(size=x1.size)])
    diag, _ = chain_diagnostics(ch, ["x1", "x2"])
    for j, n in enumerate(["x1", "x2"]):
        d = diag[n]
        assert abs(d["mean"] - mean[j]) < 4 * d["mcse_mean"], (n, d)
        assert abs(d["sd"] ** 2 - var[j]) < 4 * 2 * d["sd"] * d["mcse_sd"], (n, d)
        assert d["r_hat"] < 1.01
        thin = _thinned(ch[:, :, j], min(d["ess_bulk"], d["ess_tail"]))
        assert stats.ks_2samp(thin, exact[:, j]).pvalue > 1e-3


def test_delayed_rejection_keeps_the_target_invariant():
    # wide stage-1 kernel (many rejections) and a narrow stage-2 kernel on a piecewise-constant target
    res = dr_metropolis(cells_lp, [2.5], 400000, scales=[3.0], scales2=[0.4], seed=3, lower=[0.0], upper=[5.0])
    assert res.counts["stage2_proposals"] > 100000 and res.counts["stage2_accepted"] > 10000
    occ = np.bincount(np.floor(res.samples[:, 0]).astype(int), minlength=5) / res.samples.shape[0]
    exact = WEIGHTS / WEIGHTS.sum()
    assert np.max(np.abs(occ - exact)) < 0.01, (occ, exact)
    # the printed algorithm's jump chain (distinct points only) is biased towards low-density cells
    moved = np.concatenate([[True], np.any(np.diff(res.samples, axis=0) != 0, axis=1)])
    jump = np.bincount(np.floor(res.samples[moved, 0]).astype(int), minlength=5) / moved.sum()
    assert np.max(np.abs(jump - exact)) > 2 * np.max(np.abs(occ - exact))


def test_python_and_compiled_loops_agree_bit_for_bit():
    py = dr_metropolis(lambda x: float(gauss_lp(x)), [0.3, 0.2], 3000, scales=[2.0, 2.0], seed=7)
    nb = dr_metropolis(gauss_lp, [0.3, 0.2], 3000, scales=[2.0, 2.0], seed=7)
    assert np.array_equal(py.samples, nb.samples)
    assert py.acceptance == nb.acceptance


@pytest.mark.parametrize("adaptive", [False, True])
def test_continuing_a_chain_is_bit_identical(adaptive):
    st = init_chain([0.3, 0.2], float(gauss_lp(np.array([0.3, 0.2]))), 0.0, scales=[1.0, 1.0], scales2=[0.1, 0.1],
                    seed=11, adaptive=adaptive, burn_in=1500, adapt_start=200, adapt_every=50)
    _, whole, _, _ = advance_chain(st, 3000, ("numba", gauss_lp))
    s1, a, _, _ = advance_chain(st, 1234, ("numba", gauss_lp))
    s2, b, _, _ = advance_chain(s1, 3000 - 1234, ("numba", gauss_lp))
    assert np.array_equal(whole, np.vstack([a, b]))
    if adaptive:
        assert not np.allclose(s2.L1, np.diag([1.0, 1.0]))


def test_bad_input():
    with pytest.raises(ConfigurationError, match="components"):
        dr_metropolis(gauss_lp, [0.0, 0.0], 10, scales=[1.0])
    with pytest.raises(ConfigurationError, match="finite"):
        dr_metropolis(gauss_lp, [np.nan, 0.0], 10, scales=[1.0, 1.0])
    with pytest.raises(ConfigurationError, match="positive integer"):
        dr_metropolis(gauss_lp, [0.0, 0.0], 0, scales=[1.0, 1.0])
    with pytest.raises(ConfigurationError, match="positive"):
        dr_metropolis(gauss_lp, [0.0, 0.0], 10, scales=[1.0, -1.0])
    with pytest.raises(ConfigurationError, match="prior box"):
        dr_metropolis(gauss_lp, [0.0, 0.0], 10, scales=[1.0, 1.0], lower=[0.5, 0.5])


def test_diagnostics_on_an_executor_equal_the_sequential_ones():
    from latticeclosure.parallel import ExecutorSpec, open_executor

    rng = np.random.default_rng(4)
    chains = np.cumsum(rng.normal(size=(3, 500, 3)), axis=1) * 0.01 + 1.0  # slowly mixing: warnings too
    names = ["a", "b", "c"]
    with pytest.warns(RuntimeWarning):
        alone, notes_alone = chain_diagnostics(chains, names)
    with open_executor(ExecutorSpec("local", 2)) as session, pytest.warns(RuntimeWarning):
        pooled, notes_pooled = chain_diagnostics(chains, names, executor=session.executor)
    assert pooled == alone and notes_pooled == notes_alone
    assert list(pooled) == names and any(n.startswith("a: R-hat") for n in notes_alone)
