"""What the steps of a study share: the model, the trajectories, the equations and every result.

A study may run several independent seeds per grid point. Every error is then kept per seed and
reported as the mean over seeds with its standard error (the sample standard deviation over
``sqrt(number of seeds)``); with one seed the standard errors are ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["StudyContext", "ClosureErrors", "mean_and_se"]


def mean_and_se(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and standard error of the mean (``None`` for a single value)."""
    arr = np.asarray(values, dtype=float)
    mean = float(np.mean(arr))
    if arr.size < 2:
        return mean, None
    return mean, float(np.std(arr, ddof=1) / math.sqrt(arr.size))


@dataclass
class ClosureErrors:
    """E (eq. 30) and J_i per class of one closure label at every grid point, for every seed.

    Attributes
    ----------
    label : str
    by_seed : list of list of float
        ``by_seed[s][i]``: E of seed ``s`` at grid point ``i``.
    J_by_seed : list of list of dict
        Class name → J_i, per seed and grid point.
    note : str
        What the label means (shown under the error table).
    fitted_at : float or None
        The grid value the closure was fitted at (``None`` for fixed closures and cross-validation).
    """

    label: str
    by_seed: list[list[float]]
    J_by_seed: list[list[dict[str, float]]]
    note: str = ""
    fitted_at: float | None = None

    @property
    def n_seeds(self) -> int:
        return len(self.by_seed)

    @property
    def E(self) -> list[float]:
        """Mean over seeds of E at every grid point."""
        return [float(np.mean(col)) for col in zip(*self.by_seed)]

    @property
    def E_se(self) -> list[float | None]:
        """Standard error over seeds of E at every grid point (``None`` with one seed)."""
        return [mean_and_se(col)[1] for col in zip(*self.by_seed)]

    @property
    def totals(self) -> list[float]:
        """E summed over the grid, per seed."""
        return [float(np.sum(row)) for row in self.by_seed]

    @property
    def total(self) -> float:
        """Mean over seeds of the total E."""
        return mean_and_se(self.totals)[0]

    @property
    def total_se(self) -> float | None:
        return mean_and_se(self.totals)[1]

    @property
    def J(self) -> list[dict[str, float]]:
        """Mean over seeds of J_i per class at every grid point."""
        return [{c: float(np.mean([js[c] for js in col])) for c in col[0]} for col in zip(*self.J_by_seed)]


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
    seeds : tuple of int
    data : list of list of Trajectory
        ``data[s][i]``: the trajectory of seed ``seeds[s]`` at grid point ``i``.
    sweep : SweepResult
    equations : RateEquations or None
        Set by the equations step.
    errors : dict
        Closure label → :class:`ClosureErrors`, in the order they were recorded.
    closures : dict
        Closure label → closure object (fits: the first seed's pinned closure).
    point_closures : dict
        Label → {grid point: closure} for labels whose closure depends on the point (cross-validation:
        the fold's closure, fitted without that point); see :meth:`closure_at`.
    fits : dict
        Fit label → :class:`~latticeclosure.closures.CalibrationResult` of the first seed;
        ``fits_by_seed`` holds one per seed.
    results : dict
        Step name → whatever the step keeps for its report, figures and summary.
    files : dict
        File key → path of everything written (the report lists them).
    log : callable
        One-line progress messages.
    executor : ExecutorSession or None
        Where steps run independent tasks (:mod:`latticeclosure.parallel`); ``None``: in this process.
    options : dict
        Study options given to the run (``--study-option NAME=VALUE``), name → text; steps read
        the ones they declare.
    """

    model: Any
    spec: Any
    out_dir: Path
    grid: list[float]
    data: list[list[Any]]
    seeds: tuple[int, ...] = (0,)
    sweep: Any = None
    progress: bool = False
    equations: Any = None
    errors: dict[str, ClosureErrors] = field(default_factory=dict)
    closures: dict[str, Any] = field(default_factory=dict)
    fits: dict[str, Any] = field(default_factory=dict)
    fits_by_seed: dict[str, list[Any]] = field(default_factory=dict)
    point_closures: dict[str, dict[int, Any]] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    log: Callable[[str], None] = print
    executor: Any = None
    options: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ lookups
    @property
    def parameter(self) -> str:
        return self.spec.grid.parameter

    @property
    def trajectories(self) -> list[Any]:
        """The first seed's trajectories, one per grid point (illustrations use one seed)."""
        return self.data[0]

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

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
        """Realised grid values of the first seed where the trajectories record them (``x_realised``)."""
        return [t.metadata.get("x_realised") if self.parameter == "x" else None for t in self.trajectories]

    def closure_at(self, label: str, i: int) -> Any:
        """The closure of ``label`` used at grid point ``i``: a cross-validated label's fold closure
        (fitted without point ``i``), else the label's one closure."""
        per_point = self.point_closures.get(label)
        if per_point is not None and i in per_point:
            return per_point[i]
        return self.closures[label]

    def seed_note(self) -> str:
        """``"seed 0"`` or ``"mean ± standard error over 3 seeds"`` for captions."""
        return f"seed {self.seeds[0]}" if self.n_seeds == 1 else f"mean ± standard error over {self.n_seeds} seeds"

    # ------------------------------------------------------------------ recording
    def record_errors(self, label: str, closure: Any, note: str = "", fitted_at: float | None = None) -> ClosureErrors:
        """Evaluate a closure on every trajectory (J_i, E) and keep it under ``label``.

        ``closure`` is one closure for every seed, or a list with one closure per seed (fits made on
        each seed's own data).
        """
        from ..closures import evaluate

        per_seed = list(closure) if isinstance(closure, (list, tuple)) else [closure] * self.n_seeds
        E, J = [], []
        for c, row in zip(per_seed, self.data):
            e_row, j_row = [], []
            for traj in row:
                ev = evaluate(c, traj, self.index)
                (name,) = ev.J.keys()
                e_row.append(ev.E[name])
                j_row.append(ev.J[name])
            E.append(e_row)
            J.append(j_row)
        return self.add_errors(ClosureErrors(label, E, J, note, fitted_at), per_seed[0])

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
