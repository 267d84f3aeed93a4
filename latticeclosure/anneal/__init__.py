"""Generic numba simulated annealer: Kawasaki nearest-neighbour swaps under a cluster energy.

Any lattice, any number of species, any energy given as a table over one cluster shape
(:class:`ClusterEnergy`: e.g. triangles for a charge-neutrality energy, bonds for an Ising model). Metropolis
acceptance, stepwise temperature :class:`Schedule`, records of all pair and triplet concentrations,
bit-for-bit determinism per seed, checkpoint/resume (:class:`AnnealRun`), and the data backend object
(:class:`AnnealBackend`). The numba kernels live in :mod:`latticeclosure.anneal._kernels` and are
compiled (and cached on disk) on first use; importing this package does not import numba.
"""

from __future__ import annotations

from .backend import AnnealBackend
from .energy import ClusterEnergy, EnergyError
from .schedule import Schedule, ScheduleError

__all__ = ["AnnealBackend", "AnnealRun", "ClusterEnergy", "EnergyError", "Schedule", "ScheduleError"]


def __getattr__(name: str):
    if name == "AnnealRun":
        from .engine import AnnealRun

        return AnnealRun
    raise AttributeError(name)
