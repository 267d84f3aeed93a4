"""Frequentist coverage of the posterior: synthetic PA-closed data with Gaussian noise of known sigma.

The model is the pair-approximation closure of the chain lattice's pair equations (swap dynamics,
four rates, all identifiable, two state classes), integrated exactly (tight tolerances) from a known
initial state with known rates; i.i.d. N(0, σ²) noise is added to the two state classes at every
record but the first (the initial state is known: the objective starts the model from the first
record). With ``variables`` = the state classes, ``quadrature="sum"`` and the temperature s = σ²,
exp(−F/s) is exactly the Gaussian likelihood of the data, so the equal-tailed 90% posterior interval
of each rate should cover the true rate in about 90% of replicates (the posterior is nearly Gaussian
at this noise level, relative sd 1–4%, and the prior box does not cut it). The chains are the
package's compiled DR-MH chains on the compiled objective, started at the least-squares fit, with a
fixed stage-1 kernel shaped by the Fisher information at the fit (uniform proposals x + L(2u − 1)
with L Lᵀ/3 = 2.38²/d · I⁻¹, the usual random-walk scaling; stage 2 at a tenth of it): only the
efficiency depends on that choice, not the target.
"""

import numpy as np
import pytest

from latticeclosure.closedmodel import close_equations
from latticeclosure.equations import generate_equations
from latticeclosure.inference import build_objective, fisher_analysis
from latticeclosure.inference.multistart import local_fit
from latticeclosure.inference.sampler import advance_chain, init_chain

TRUE = np.array([1.0, 0.6, 0.8, 1.2])
SIGMA = 2e-4
REPLICATES = 300
SAMPLES, BURN_IN = 4000, 1000


@pytest.mark.slow
def test_90_percent_posterior_intervals_cover_the_true_rates():
    eqs = generate_equations("chain", ["+", "-"], "swap", 2)
    model = close_equations(eqs, "pair")
    assert model.rate_names == ["k1", "k2", "k3", "k4"] and model.state_names == ["C--", "C+-"]
    t = np.linspace(0.0, 1.0, 21)
    exact = model.solve(t, {"C++": 0.5, "C--": 0.2, "C+-": 0.15}, TRUE, rtol=1e-12, atol=1e-14)
    options = {"variables": model.state_names, "quadrature": "sum", "rtol": 1e-9, "atol": 1e-12}
    root = np.random.SeedSequence(20240611)
    covered = np.zeros((REPLICATES, 4), dtype=bool)
    for r in range(REPLICATES):
        noise_seed, chain_seed = np.random.SeedSequence(root.entropy, spawn_key=(r,)).spawn(2)
        rng = np.random.default_rng(noise_seed)
        data = {"time": t}
        for name in model.window_names:
            data[name] = exact[name].copy()
        for name in model.state_names:
            data[name][1:] += rng.normal(0.0, SIGMA, len(t) - 1)
        # the eliminated class follows from the normalisation, so every record stays normalised
        data["C++"] = 1.0 - data["C--"] - 2.0 * data["C+-"]
        obj = build_objective(model, data, options, normalisation="none")
        fit = local_fit(obj, 0, TRUE)
        assert np.isfinite(fit.F)
        x0 = fit.x
        s = SIGMA ** 2
        cov = np.linalg.inv(fisher_analysis(obj, x0, temperature=s).matrix)
        f0 = obj.value(x0)
        chain = init_chain(x0, -f0 / s, f0, scales=np.ones(4), scales2=np.ones(4), seed=chain_seed,
                           lower=np.zeros(4), upper=np.full(4, 100.0 * x0.max()))
        chain.L1 = np.ascontiguousarray(np.sqrt(3.0 * 2.38 ** 2 / 4) * np.linalg.cholesky(cov))
        chain.L2 = np.ascontiguousarray(0.1 * chain.L1)
        _, samples, _, _ = advance_chain(chain, SAMPLES, ("model", obj, 1.0 / s))
        post = samples[BURN_IN:]
        lo, hi = np.quantile(post, [0.05, 0.95], axis=0)
        covered[r] = (lo <= TRUE) & (TRUE <= hi)
    per_rate = covered.mean(axis=0)
    assert 0.85 <= covered.mean() <= 0.95, per_rate
    assert np.all((per_rate >= 0.85) & (per_rate <= 0.95)), per_rate
