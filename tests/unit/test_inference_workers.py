"""An inference run through the API with ``workers`` (no executor given) runs on the package's local
executor, and its chains do not depend on the number of workers."""

from __future__ import annotations

import warnings

import numpy as np

from executor_testing import pair_model_series
from latticeclosure.parallel import LocalProcessPool


def test_chains_do_not_depend_on_the_workers_and_use_the_package_pool(monkeypatch):
    from latticeclosure.inference.run import InferenceSettings, run_inference

    pools = []
    original = LocalProcessPool.__init__

    def spy(self, *args, **kwargs):
        pools.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(LocalProcessPool, "__init__", spy)
    model, series = pair_model_series(21)
    models, data = {"pair": model}, [series]
    chains = {}
    for workers in (1, 2):
        settings = InferenceSettings.make(samples=400, chains=3, n_starts=3, seed=4, workers=workers, segment=150)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence notes of short chains
            result = run_inference(models, data, settings, progress=False)
        chains[workers] = np.asarray(result.closures["pair"].chains)
    assert len(pools) == 1 and pools[0].workers == 2 and pools[0].pids == []  # closed after the run
    assert chains[1].shape == (3, 400, 8) and np.array_equal(chains[1], chains[2])
