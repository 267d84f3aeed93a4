"""The simulator as a data backend for the plugin registry (hook ``latticeclosure_data_backends``).

A thin adapter over :func:`~latticeclosure.kmc.spec.spec_from_model` and
:func:`~latticeclosure.kmc.simulate.simulate`: a study hands it tasks and gets trajectory datasets.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from ..data import Trajectory

__all__ = ["KMCBackend", "SETTINGS"]

#: Task settings the backend reads, with their defaults.
SETTINGS: dict[str, Any] = {
    "time": 10.0,
    "record_every": None,
    "max_class_size": 3,
    "replicas": 1,
    "save_configurations": False,
}


class KMCBackend:
    """Exact lattice kinetic Monte Carlo of a model's flip or swap dynamics.

    Parameters
    ----------
    executor : concurrent.futures.Executor, optional
        Runs the replicas of a task (default: a local process pool when there are several).
    """

    name = "kmc"
    description = (
        "exact rejection-free kinetic Monte Carlo (numba) of a model's flip or swap dynamics with known "
        "rates; records every class up to a chosen size on a grid of physical time"
    )
    kind = "simulator"

    def __init__(self, executor: Executor | None = None) -> None:
        self.executor = executor

    def configure(self, **options: Any) -> "KMCBackend":
        """A copy with ``executor`` replaced.

        Raises
        ------
        ConfigurationError
            For an unknown option.
        """
        unknown = sorted(set(options) - {"executor"})
        if unknown:
            raise ConfigurationError(f"data backend 'kmc': unknown option(s) {unknown}; allowed: ['executor']")
        return KMCBackend(options.get("executor", self.executor))

    def spec(self, task: Any) -> Any:
        """The validated simulation setting of a task (see :meth:`run_task`)."""
        settings = {**SETTINGS, **dict(getattr(task, "settings", None) or {})}
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            raise ConfigurationError(f"data backend 'kmc': unknown setting(s) {unknown}; allowed: {sorted(SETTINGS)}")
        from .spec import spec_from_model

        point: Mapping[str, Any] = dict(getattr(task, "point", None) or {})
        return spec_from_model(
            task.model,
            point=point,
            size=getattr(task, "size", None),
            time=settings["time"],
            record_every=settings["record_every"],
            max_class_size=settings["max_class_size"],
            save_configurations=settings["save_configurations"],
        )

    def check_task(self, task: Any) -> Any:
        """Validate a :class:`~latticeclosure.simulation.SimulationTask` and fill in the defaults.

        Every setting, rate and initial fraction is checked (:meth:`spec`) before anything runs.
        """
        self.spec(task)
        settings = {**SETTINGS, **dict(task.settings or {})}
        size = task.size if task.size is not None else getattr(task.model, "default_size", None)
        return task.replace(settings=settings, size=size, backend=self.name)

    def run_task(
        self,
        task: Any,
        *,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: float = 60.0,
        progress: Callable[[float, float], None] | None = None,
    ) -> "Trajectory":
        """Simulate one task and return its trajectory dataset.

        Parameters
        ----------
        task : object
            With ``model`` (a :class:`~latticeclosure.model.Model` with ``dynamics`` ``"flip"`` or
            ``"swap"``, ``dynamics_options`` such as ``{"rules": <flip spec>}``, known ``rates`` and
            ``initial`` fractions), ``point`` (rate names → values and ``"initial.<species>"`` →
            fractions overriding the model's for this grid point), ``seed`` (int), ``size`` (L) and
            ``settings`` (``time``, ``record_every``, ``max_class_size``, ``replicas``,
            ``save_configurations``; defaults :data:`SETTINGS`).
        checkpoint : path-like, optional
            Checkpoint file (one per replica; resumed from when present).
        checkpoint_every : float, default 60
        progress : callable, optional
            ``progress(done, total)``.
        """
        from .simulate import simulate

        spec = self.spec(task)
        settings = {**SETTINGS, **dict(getattr(task, "settings", None) or {})}
        traj = simulate(
            spec,
            seed=getattr(task, "seed", 0),
            replicas=settings["replicas"],
            executor=self.executor,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            progress=progress,
        )
        to_json = getattr(task, "to_json", None)
        if not callable(to_json):
            return traj
        from ..data import Trajectory

        # the task in the metadata lets a resumed sweep tell whether a finished file is this task's
        return Trajectory({**traj.metadata, "task": to_json()}, traj.arrays, source=traj.source)

    def __repr__(self) -> str:
        return "KMCBackend()"
