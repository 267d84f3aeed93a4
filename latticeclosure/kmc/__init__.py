"""Exact lattice kinetic Monte Carlo of the processes the window method describes.

A rejection-free continuous-time simulator (numba) for flip dynamics (spontaneous and catalysed
single-site changes, any number of species, from the same flip spec the ``equations`` command reads)
and swap dynamics (Kawasaki exchange with a microscopic rate table or Metropolis rates from a model's
energy), on any lattice. Records the concentrations of every class up to a chosen size on a regular
grid of physical time, as trajectory datasets.

Layers: :mod:`.spec` (what to simulate, validated), :mod:`.rates` (microscopic rates and the window
rate constants they imply), :mod:`.process` with the kernels of :mod:`.flip` and :mod:`.swap` on the
event classes of :mod:`.classes`, :mod:`.run` (one replica: records, checkpoints), :mod:`.simulate`
(replicas in parallel → one dataset), :mod:`.backend` (the data-backend plugin object).
See ``docs/kmc.md``.
"""

from .rates import MetropolisRates, RateError, SwapRateTable, table_from_window_rates, window_rates
from .run import KMCRun
from .simulate import remove_checkpoints, replica_checkpoint, simulate
from .spec import KMCSpec, make_spec, spec_from_model

__all__ = [
    "KMCSpec",
    "make_spec",
    "spec_from_model",
    "simulate",
    "KMCRun",
    "SwapRateTable",
    "MetropolisRates",
    "RateError",
    "window_rates",
    "table_from_window_rates",
    "replica_checkpoint",
    "remove_checkpoints",
]
