"""The NMC data backend: the generic annealer with the NMC model as its default model."""

from __future__ import annotations

from latticeclosure.anneal.backend import AnnealBackend

from .model import nmc_model

__all__ = ["nmc_backend", "BACKEND_NAME"]

BACKEND_NAME = "nmc-anneal"


def nmc_backend() -> AnnealBackend:
    """``AnnealBackend("nmc-anneal")`` annealing the triangular NMC model by default."""
    return AnnealBackend(
        BACKEND_NAME,
        model=nmc_model(),
        description=(
            "simulated annealing of the triangular NMC model (numba; Kawasaki swaps, Metropolis, "
            "stepwise schedule); records pair and triplet concentrations"
        ),
    )
