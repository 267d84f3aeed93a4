"""Simulation tasks and resumable parallel sweeps over any data backend.

A :class:`SimulationTask` is plain data — model, grid point, seed, size and backend settings — that
any :class:`~latticeclosure.protocols.DataBackend` can check and run. :func:`run_tasks` runs a list
of them in parallel, writing every trajectory atomically as soon as it finishes (so an interrupted
sweep resumes without losing finished work); :func:`run_sweep` builds the tasks of a model's
parameter grid × seeds and runs them.
"""

from .sweep import MANIFEST, MANIFEST_SCHEMA, SweepResult, run_sweep, run_tasks, sweep_tasks
from .task import SimulationTask, point_stem

__all__ = [
    "SimulationTask",
    "point_stem",
    "SweepResult",
    "run_sweep",
    "run_tasks",
    "sweep_tasks",
    "MANIFEST",
    "MANIFEST_SCHEMA",
]
