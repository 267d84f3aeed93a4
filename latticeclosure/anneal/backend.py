"""The annealer as a data backend: ``backend.run(model, x, L, seed, schedule, record_every) -> Trajectory``.

Registered by model plugins through the ``latticeclosure_data_backends`` hook, each under its own
name with its model as the default model. Generic: it anneals any model that has a
cluster energy, on any lattice.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from ..errors import ConfigurationError
from .plans import KERNELS

if TYPE_CHECKING:  # pragma: no cover
    from ..data import Trajectory
    from ..model import Model
    from .engine import AnnealRun
    from .schedule import Schedule

__all__ = ["AnnealBackend"]


class AnnealBackend:
    """Simulated annealing (Kawasaki swaps, Metropolis, stepwise schedule) as a data backend.

    It satisfies :class:`latticeclosure.protocols.DataBackend` (``check_task``/``run_task`` on
    :class:`~latticeclosure.simulation.SimulationTask` objects with grid parameter ``x``) and offers
    :meth:`run` for one annealing run given directly.

    Parameters
    ----------
    name : str
        Registered name, e.g. ``"ising-anneal"``.
    model : Model or str, optional
        Default model (object or registered name) used when :meth:`run` gets none.
    kernel : str, default "auto"
        Default swap kernel (``auto``, ``mask``, ``stencil``, ``clusters``).
    description : str
    """

    kind = "simulator"

    def __init__(
        self,
        name: str = "anneal",
        model: "Model | str | None" = None,
        kernel: str = "auto",
        description: str = "",
    ) -> None:
        if kernel not in KERNELS:
            raise ConfigurationError(f"unknown annealing kernel {kernel!r}; known: {', '.join(KERNELS)}")
        self.name = name
        self.default_model = model
        self.kernel = kernel
        self.description = description or (
            "numba simulated annealer: Kawasaki nearest-neighbour swaps, Metropolis acceptance, "
            "stepwise temperature schedule; records pair and triplet concentrations"
        )

    def configure(self, **options: Any) -> "AnnealBackend":
        """A copy with ``name``, ``model``, ``kernel`` or ``description`` replaced."""
        allowed = {"name", "model", "kernel", "description"}
        unknown = set(options) - allowed
        if unknown:
            raise ConfigurationError(
                f"data backend {self.name!r}: unknown option(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        kw = {"name": self.name, "model": self.default_model, "kernel": self.kernel, "description": self.description}
        kw.update(options)
        return AnnealBackend(**kw)

    def resolve_model(self, model: "Model | str | None" = None) -> "Model":
        """The model object for a model, a registered model name, or ``None`` (the default model)."""
        from ..model import Model

        model = self.default_model if model is None else model
        if model is None:
            raise ConfigurationError(f"data backend {self.name!r} has no default model; give one")
        if isinstance(model, Model):
            return model
        from ..registry import get_model

        return get_model(str(model))

    def prepare(
        self,
        model: "Model | str | None" = None,
        x: float | Mapping[str, float] | None = None,
        L: Any = None,
        seed: int = 0,
        schedule: "Schedule | None" = None,
        record_every: float | None = None,
        *,
        kernel: str | None = None,
        class_sizes: Sequence[int] = (1, 2, 3),
        save_configurations: bool = False,
        checkpoint: str | os.PathLike | None = None,
    ) -> "AnnealRun":
        """Set up a run (or resume it from ``checkpoint`` when that file exists) without running it.

        Raises
        ------
        ConfigurationError, GeometryError, SpeciesError
            On bad input.
        CheckpointError
            A checkpoint that is corrupt or was written for another run.
        """
        from ..errors import CheckpointMismatchError
        from .engine import AnnealRun

        mdl = self.resolve_model(model)
        if x is None:
            raise ConfigurationError("give the stoichiometry x")
        kw = dict(
            kernel=kernel or self.kernel,
            class_sizes=class_sizes,
            save_configurations=save_configurations,
            backend=self.name,
        )
        fresh = AnnealRun(mdl, x, L, seed, schedule, record_every, **kw)
        if checkpoint is not None and Path(checkpoint).exists():
            resumed = AnnealRun.from_checkpoint(checkpoint, mdl)
            if resumed.spec() != fresh.spec():
                raise CheckpointMismatchError(
                    f"checkpoint {checkpoint} belongs to another run (different x, size, seed, schedule "
                    "or recording); remove it or use another checkpoint path"
                )
            return resumed
        return fresh

    def run(
        self,
        model: "Model | str | None" = None,
        x: float | Mapping[str, float] | None = None,
        L: Any = None,
        seed: int = 0,
        schedule: "Schedule | None" = None,
        record_every: float | None = None,
        *,
        kernel: str | None = None,
        class_sizes: Sequence[int] = (1, 2, 3),
        save_configurations: bool = False,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: float = 60.0,
        progress: Callable[[int, int], None] | None = None,
    ) -> "Trajectory":
        """Anneal and return the trajectory.

        Parameters
        ----------
        model : Model or str, optional
            Default: the backend's model.
        x : float or mapping
            Stoichiometry (fraction of the model's composition species) or species → fraction.
        L : int or sequence of int, optional
            Supercell side(s); default the model's ``default_size``.
        seed : int, default 0
        schedule : Schedule, optional
            Default: the model's default schedule.
        record_every : float, optional
            Record interval in sweeps (default: 200 intervals over the run).
        kernel : str, optional
            Swap kernel; default the backend's.
        class_sizes : sequence of int, default (1, 2, 3)
            Recorded connected cluster sizes.
        save_configurations : bool, default False
            Also store the configuration at every record.
        checkpoint : path-like, optional
            Checkpoint file: resumed from when it exists, rewritten every ``checkpoint_every``
            seconds. The caller removes it once the result is safely stored.
        checkpoint_every : float, default 60
        progress : callable, optional
            ``progress(step, total_steps)``.

        Returns
        -------
        Trajectory
        """
        run = self.prepare(
            model, x, L, seed, schedule, record_every, kernel=kernel, class_sizes=class_sizes,
            save_configurations=save_configurations, checkpoint=checkpoint,
        )
        return run.run(checkpoint=checkpoint, checkpoint_every=checkpoint_every, progress=progress)

    # ------------------------------------------------------------------ data-backend protocol
    #: Settings a task may carry, with their defaults (``schedule``: the model's default schedule).
    SETTINGS: dict[str, Any] = {
        "schedule": None,
        "record_every": None,
        "kernel": None,
        "class_sizes": (1, 2, 3),
        "save_configurations": False,
    }

    def check_task(self, task: Any) -> Any:
        """Validate a :class:`~latticeclosure.simulation.SimulationTask` and fill in the defaults.

        The grid parameter is ``x`` (the stoichiometry). The run is set up once (not run) so that
        sizes, schedules and compositions that cannot work are refused before anything starts.

        Raises
        ------
        ConfigurationError, GeometryError, SpeciesError
        """
        from .engine import AnnealRun

        if set(task.point) != {"x"}:
            raise ConfigurationError(
                f"data backend {self.name!r} takes the stoichiometry x as its grid parameter, got "
                f"{', '.join(task.point)}"
            )
        unknown = sorted(set(task.settings) - set(self.SETTINGS))
        if unknown:
            raise ConfigurationError(
                f"data backend {self.name!r}: unknown setting(s) {unknown}; allowed: {sorted(self.SETTINGS)}"
            )
        model = self.resolve_model(task.model)
        settings = {**self.SETTINGS, **{k: v for k, v in task.settings.items() if v is not None}}
        settings["schedule"] = settings["schedule"] if settings["schedule"] is not None else model.default_schedule
        settings["kernel"] = settings["kernel"] or self.kernel
        settings["class_sizes"] = tuple(settings["class_sizes"])
        settings["save_configurations"] = bool(settings["save_configurations"])
        size = model.default_size if task.size is None else task.size
        size = [int(v) for v in size] if isinstance(size, (list, tuple)) else size
        probe = AnnealRun(model, task.point["x"], size, task.seed, settings["schedule"], settings["record_every"],
                          kernel=settings["kernel"], class_sizes=settings["class_sizes"], backend=self.name)
        model.composition(task.point["x"], probe.n_sites)
        settings["schedule"] = probe.schedule
        return task.replace(model=model, size=size, settings=settings, backend=self.name)

    def estimate_seconds(self, task: Any) -> float:
        """Rough wall time of one checked task on one core (attempted swaps / nominal throughput)."""
        import numpy as np

        from .engine import estimated_seconds

        model = self.resolve_model(task.model)
        lattice = model.lattice_object()
        size = task.size if task.size is not None else model.default_size
        sides = [int(v) for v in size] if isinstance(size, (list, tuple)) else [int(size)] * lattice.dimension
        n_sites = int(np.prod(sides)) * len(lattice.basis)
        schedule = task.settings.get("schedule") or model.default_schedule
        return estimated_seconds(int(np.sum(schedule.level_steps(n_sites))))

    def warm_up(self, task: Any) -> None:
        """Load (or compile) the annealing kernels in this process, e.g. before forking workers."""
        from ..errors import LatticeClosureError
        from .schedule import Schedule

        s = task.settings
        try:
            self.run(task.model, task.point["x"], task.size, 0, Schedule([1.0], [1.0 / 64]), None,
                     kernel=s.get("kernel"), class_sizes=s.get("class_sizes", (1, 2, 3)))
        except LatticeClosureError:
            pass  # the real task will report the error

    def run_task(
        self,
        task: Any,
        *,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: float = 60.0,
        progress: Callable[[int, int], None] | None = None,
    ) -> "Trajectory":
        """Anneal one checked task (:meth:`check_task`); the trajectory records the task in its metadata."""
        from ..data import Trajectory

        s = task.settings
        traj = self.run(
            task.model, task.point["x"], task.size, task.seed, s["schedule"], s["record_every"],
            kernel=s["kernel"], class_sizes=s["class_sizes"], save_configurations=s["save_configurations"],
            checkpoint=checkpoint, checkpoint_every=checkpoint_every, progress=progress,
        )
        return Trajectory({**traj.metadata, "task": task.to_json()}, traj.arrays, source=traj.source)

    def __repr__(self) -> str:
        model = getattr(self.default_model, "name", self.default_model)
        return f"AnnealBackend({self.name!r}, model={model!r}, kernel={self.kernel!r})"
