"""One simulation: a model at one grid point with one seed, size and the backend's settings."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError
from ..io.jsonsafe import to_jsonable

__all__ = ["SimulationTask", "point_stem"]


def point_stem(point: Mapping[str, float]) -> str:
    """File-name stem of a grid point: ``{"x": 0.25}`` → ``"x0.25"`` (values to 6 significant digits)."""
    return "_".join(f"{name}{float(value):.6g}" for name, value in point.items())


@dataclass(frozen=True)
class SimulationTask:
    """What a data backend needs to produce one trajectory.

    Parameters
    ----------
    model : Model
        The model object (plain, picklable data).
    point : mapping str → float
        The grid point, e.g. ``{"x": 0.25}`` (a stoichiometry) or ``{"tau": 0.5}`` (a rate); the
        backend says which names it understands.
    seed : int
        Seed of the task's random stream.
    size : int or tuple of int, optional
        Supercell side(s); ``None``: the model's default size.
    settings : mapping
        Backend settings (e.g. an annealing schedule and record interval); ``check_task`` fills in
        the defaults.
    backend : str
        Name of the data backend (recorded in manifests and dataset metadata).
    """

    model: Any
    point: Mapping[str, float]
    seed: int = 0
    size: Any = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    backend: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.point, Mapping) or not self.point:
            raise ConfigurationError(f"a grid point must be a non-empty mapping of names to numbers, got {self.point!r}")
        clean: dict[str, float] = {}
        for name, value in self.point.items():
            if not isinstance(name, str) or not all(part.isidentifier() for part in name.split(".")):
                raise ConfigurationError(f"grid parameter names must be (dotted) identifiers such as tau or "
                                         f"initial.I, got {name!r}")
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise ConfigurationError(f"grid parameter {name} = {value!r} is not a number") from None
            if not math.isfinite(v):
                raise ConfigurationError(f"grid parameter {name} = {value!r} must be finite")
            clean[name] = v
        object.__setattr__(self, "point", clean)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigurationError(f"seed {self.seed!r} must be a non-negative integer")
        object.__setattr__(self, "settings", dict(self.settings))

    @property
    def stem(self) -> str:
        """File-name stem, e.g. ``x0.25_seed0``."""
        return f"{point_stem(self.point)}_seed{self.seed}"

    @property
    def filename(self) -> str:
        return self.stem + ".npz"

    @property
    def checkpoint_name(self) -> str:
        return self.stem + ".checkpoint.npz"

    @property
    def sort_key(self) -> tuple:
        return (tuple(self.point.items()), self.seed)

    def value(self, name: str) -> float:
        """The value of grid parameter ``name``."""
        return self.point[name]

    def replace(self, **changes: Any) -> "SimulationTask":
        """A copy with some fields replaced (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """Everything that defines the result, as plain data (compared on resume)."""
        fingerprint = getattr(self.model, "fingerprint", None)
        return {
            "model": getattr(self.model, "name", str(self.model)),
            "model_fingerprint": fingerprint() if callable(fingerprint) else None,
            "backend": self.backend,
            "point": dict(self.point),
            "seed": self.seed,
            "size": to_jsonable(self.size),
            "settings": to_jsonable(self.settings),
        }

    def describe(self) -> str:
        """``"x=0.25, seed 0"``."""
        return ", ".join(f"{k}={v:g}" for k, v in self.point.items()) + f", seed {self.seed}"
