"""Rate constants from data: least squares, delayed-rejection MCMC posteriors and identifiability.

Sections V and VI.D of the reference paper for any closed model of the framework:

* :mod:`.objective` — F(K) of eq. (17) (compiled), forward sensitivities for its gradient;
* :mod:`.linear` — linear models fitted in their rate combinations from the closed form;
* :mod:`.multistart` — multi-start bounded least squares, local minima clustered;
* :mod:`.sampler` — :func:`dr_metropolis` (Algorithm 1, with the recorded-rejection correction) and DRAM;
* :mod:`.diagnostics` — R̂, ESS, MCSE via ArviZ (lazy, ``[arviz]`` extra);
* :mod:`.identifiability` — Fisher information, structural combinations, drift relations, profiles;
* :mod:`.run` — :func:`run_inference`, the entry point of ``latticeclosure infer``;
* :mod:`.results` — summary (``latticeclosure.infer-summary/1``), Markdown report, checkpoints;
* :mod:`.figures` — Fig. 13, Fig. 14, best-fit trajectories, corner and waterfall plots.

Importing this package imports neither numba nor scipy; they load with the first use.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "dr_metropolis", "DRResult", "Acceptance",
    "ObjectiveOptions", "RateObjective", "CombinationObjective", "build_objective",
    "multistart_fit", "MultistartResult",
    "fisher_analysis", "structural_combinations", "profile_likelihood", "principal_angles",
    "chain_diagnostics", "to_arviz",
    "InferenceSettings", "run_inference", "InferenceResult", "ClosureInference",
]

_WHERE = {
    "dr_metropolis": "sampler", "DRResult": "sampler", "Acceptance": "sampler",
    "ObjectiveOptions": "objective", "RateObjective": "objective", "build_objective": "objective",
    "CombinationObjective": "linear",
    "multistart_fit": "multistart", "MultistartResult": "multistart",
    "fisher_analysis": "identifiability", "structural_combinations": "identifiability",
    "profile_likelihood": "identifiability", "principal_angles": "identifiability",
    "chain_diagnostics": "diagnostics", "to_arviz": "diagnostics",
    "InferenceSettings": "run", "run_inference": "run",
    "InferenceResult": "results", "ClosureInference": "results",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
