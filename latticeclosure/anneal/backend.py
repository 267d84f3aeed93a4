"""The annealer as a data backend: ``backend.run(model, x, L, seed, schedule, record_every) -> Trajectory``.

Registered by model plugins through the ``latticeclosure_data_backends`` hook (the NMC plugin registers
it as ``"nmc-anneal"`` with the NMC model as default). Generic: it anneals any model that has a
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

    Parameters
    ----------
    name : str
        Registered name, e.g. ``"nmc-anneal"``.
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
        ConfigurationError, GeometryError, SpeciesError, DataError
            On bad input, or a checkpoint written for another run.
        """
        from ..errors import DataError
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
                raise DataError(
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

    def __repr__(self) -> str:
        model = getattr(self.default_model, "name", self.default_model)
        return f"AnnealBackend({self.name!r}, model={model!r}, kernel={self.kernel!r})"
