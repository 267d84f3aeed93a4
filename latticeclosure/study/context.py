"""What the steps of a study share: the model, the trajectories, the equations and every result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = ["StudyContext", "ClosureErrors"]


@dataclass
class ClosureErrors:
    """E (eq. 30) and J_i per class of one closure label at every grid point.

    Attributes
    ----------
    label : str
    E : list of float
        One value per grid point, in grid order.
    J : list of dict
        Class name → J_i, one mapping per grid point.
    note : str
        What the label means (shown under the error table).
    fitted_at : float or None
        The grid value the closure was fitted at (``None`` for fixed closures and cross-validation).
    """

    label: str
    E: list[float]
    J: list[dict[str, float]]
    note: str = ""
    fitted_at: float | None = None

    @property
    def total(self) -> float:
        return float(np.sum(self.E))


@dataclass
class StudyContext:
    """The state of a running study; steps read what earlier steps stored and add their own.

    Attributes
    ----------
    model, spec
        The model and its :class:`~latticeclosure.study.spec.StudySpec`.
    out_dir : Path
    grid : list of float
        Target grid values, in order.
    trajectories : list of Trajectory
        One per grid value (same order).
    sweep : SweepResult
    equations : RateEquations or None
        Set by the equations step.
    errors : dict
        Closure label → :class:`ClosureErrors`, in the order they were recorded.
    closures : dict
        Closure label → closure object (fits: their pinned closure).
    fits : dict
        Fit label → :class:`~latticeclosure.closures.CalibrationResult`.
    results : dict
        Step name → whatever the step keeps for its report, figures and summary.
    files : dict
        File key → path of everything written (the report lists them).
    log : callable
        One-line progress messages.
    """

    model: Any
    spec: Any
    out_dir: Path
    grid: list[float]
    trajectories: list[Any]
    sweep: Any = None
    seeds: tuple[int, ...] = (0,)
    progress: bool = False
    equations: Any = None
    errors: dict[str, ClosureErrors] = field(default_factory=dict)
    closures: dict[str, Any] = field(default_factory=dict)
    fits: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    log: Callable[[str], None] = print

    # ------------------------------------------------------------------ lookups
    @property
    def parameter(self) -> str:
        return self.spec.grid.parameter

    @property
    def index(self) -> Any:
        """The class index of the equations (classes up to the window size + 1)."""
        if self.equations is None:
            raise RuntimeError("the study has no equations yet: put an Equations step first")
        return self.equations.index

    def nearest(self, value: float) -> int:
        """Index of the grid value nearest to ``value``."""
        return min(range(len(self.grid)), key=lambda i: abs(self.grid[i] - float(value)))

    def realised(self) -> list[float | None]:
        """Realised grid values where the trajectories record them (``x_realised``), else ``None``."""
        return [t.metadata.get("x_realised") if self.parameter == "x" else None for t in self.trajectories]

    def point_label(self, i: int) -> str:
        return f"{self.grid[i]:.3g}"

    # ------------------------------------------------------------------ recording
    def record_errors(self, label: str, closure: Any, note: str = "", fitted_at: float | None = None) -> ClosureErrors:
        """Evaluate ``closure`` on every trajectory (J_i, E) and keep it under ``label``."""
        from ..closures import evaluate

        E, J = [], []
        for traj in self.trajectories:
            ev = evaluate(closure, traj, self.index)
            (name,) = ev.J.keys()
            E.append(ev.E[name])
            J.append(ev.J[name])
        return self.add_errors(ClosureErrors(label, E, J, note, fitted_at), closure)

    def add_errors(self, errors: ClosureErrors, closure: Any = None) -> ClosureErrors:
        """Keep already computed errors under their label (a label may be recorded once)."""
        if errors.label in self.errors:
            raise ValueError(f"closure label {errors.label!r} recorded twice in the study")
        self.errors[errors.label] = errors
        if closure is not None:
            self.closures[errors.label] = closure
        return errors

    def write_text(self, key: str, name: str, text: str) -> Path:
        """Write ``text`` atomically to ``out_dir/name`` and list it under ``key``."""
        from ..io import write_text_atomic

        path = self.out_dir / name
        write_text_atomic(path, text)
        self.files[key] = path
        return path
