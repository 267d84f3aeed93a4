"""What a model's study is: its data backend and grid, and the ordered steps of its analysis and report.

A model plugin declares a :class:`StudySpec` as its model's ``study``; ``latticeclosure run --model
NAME`` then simulates the grid with the backend, runs every step (each computes its results on the
:class:`~latticeclosure.study.context.StudyContext` and renders its report section) and writes the
report, figures and ``summary.json``. Steps are plain objects with the members of
:class:`latticeclosure.protocols.StudyStep`; the core ships general ones in
:mod:`latticeclosure.study.steps` and a plugin may add its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError
from ..protocols import StudyStep, describe_protocol, missing_members

__all__ = ["Grid", "StudySpec", "ClosureUse", "FitUse", "FamilyUse"]


@dataclass(frozen=True)
class Grid:
    """The study's parameter grid: one parameter and its values.

    Parameters
    ----------
    parameter : str
        The grid parameter the data backend understands (``x``: a stoichiometry of a
        composition-conserving model; a rate name; ``initial.S``).
    values : tuple of float
        Its values; empty: the model's ``stoichiometries``.
    label : str
        Axis label in figures (default: the parameter name).
    """

    parameter: str = "x"
    values: tuple[float, ...] = ()
    label: str = ""

    def resolved_values(self, model: Any) -> tuple[float, ...]:
        """The values, or the model's stoichiometries when none are given."""
        values = self.values or tuple(getattr(model, "stoichiometries", ()) or ())
        return tuple(float(v) for v in values)

    @property
    def axis_label(self) -> str:
        return self.label or self.parameter


@dataclass(frozen=True)
class ClosureUse:
    """A closure evaluated under a report label: ``ClosureUse("PA", "pair", note="...")``."""

    label: str
    closure: Any
    options: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class FitUse:
    """A calibratable closure fitted at one grid point and evaluated at every point."""

    label: str
    closure: Any
    at: float
    options: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class FamilyUse:
    """A calibratable family compared by cross-validation, under a label."""

    label: str
    closure: Any
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StudySpec:
    """A model's study.

    Parameters
    ----------
    backend : str
        Registered data backend producing the trajectories.
    steps : tuple of StudyStep
        Analysis and report steps, in order: every step's ``run`` is called in this order, then
        figures are drawn, then every step's ``render`` in this order makes the report.
    grid : Grid
    seeds : tuple of int
    size : int, optional
        Supercell side (default: the model's ``default_size``).
    settings : mapping
        Backend settings (e.g. an annealing schedule); the backend fills in its defaults.
    title : str
        Report title.
    introduction : str
        Markdown paragraph after the report's standard introduction.
    headline : tuple of str
        Closure labels reported under ``E`` in ``summary.json`` (the others under ``E_extra``).
    styles : mapping
        Plot style per closure label (``{"PA": {"color": "black", "marker": "o"}}``).
    temperature_label : str
        Axis label of temperatures in figures (their unit).
    """

    backend: str
    steps: tuple[Any, ...]
    grid: Grid = Grid()
    seeds: tuple[int, ...] = (0,)
    size: int | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""
    introduction: str = ""
    headline: tuple[str, ...] = ()
    styles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    temperature_label: str = "temperature"

    def __post_init__(self) -> None:
        if not isinstance(self.backend, str) or not self.backend:
            raise ConfigurationError("a study needs the name of its data backend")
        object.__setattr__(self, "steps", tuple(self.steps))
        for step in self.steps:
            missing = missing_members(step, StudyStep)
            if missing:
                raise ConfigurationError(
                    f"study step {getattr(step, 'name', step)!r} lacks {', '.join(missing)}; a step needs "
                    f"{describe_protocol(StudyStep)}"
                )
        names = [s.name for s in self.steps]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigurationError(f"study steps must have distinct names; repeated: {', '.join(dup)}")

    def with_nested(self, nested: bool) -> "StudySpec":
        """A copy whose cross-validation steps select their family by nested cross-validation (or not)."""
        import dataclasses

        steps = tuple(dataclasses.replace(s, nested=nested) if hasattr(s, "nested") and dataclasses.is_dataclass(s) else s
                      for s in self.steps)
        return self.replace(steps=steps)

    def replace(self, **changes: Any) -> "StudySpec":
        """A copy with some fields replaced."""
        import dataclasses

        return dataclasses.replace(self, **changes)
