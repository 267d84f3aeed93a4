"""Stepwise temperature schedules: a list of temperature levels, each held for a number of sweeps.

A *sweep* is ``N`` attempted swaps on an ``N``-site supercell, so a schedule means the same thing on
every lattice size. Temperatures are in the model's energy unit (k_B = 1), e.g. the oxygen energy of
the model; ``T = 0`` is allowed (a quench: only ΔE ≤ 0 is accepted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ConfigurationError

__all__ = ["Schedule", "ScheduleError"]


class ScheduleError(ConfigurationError):
    """An empty schedule, a negative or non-finite temperature, a non-positive level length."""


@dataclass(frozen=True)
class Schedule:
    """A stepwise temperature schedule.

    Parameters
    ----------
    temperatures : sequence of float
        Temperature of each level, in order; finite and ≥ 0.
    sweeps : float or sequence of float
        Length of each level in sweeps (attempted swaps per site); one number for all levels.

    Raises
    ------
    ScheduleError
        On an empty schedule, negative/non-finite temperatures, or non-positive/non-finite lengths.

    Examples
    --------
    >>> Schedule([1.0, 0.5, 0.25], 100).sweeps
    (100.0, 100.0, 100.0)
    >>> Schedule.parse("2:50,0.5:100").temperatures
    (2.0, 0.5)
    """

    temperatures: tuple[float, ...]
    sweeps: tuple[float, ...]

    def __init__(self, temperatures: Sequence[float] | float, sweeps: Sequence[float] | float) -> None:
        temps = _floats(temperatures, "temperatures")
        if not temps:
            raise ScheduleError("the temperature schedule is empty; give at least one level")
        bad = [t for t in temps if not math.isfinite(t) or t < 0]
        if bad:
            raise ScheduleError(f"temperatures must be finite and ≥ 0, got {bad[0]!r}")
        lengths = _floats(sweeps, "sweeps")
        if len(lengths) == 1 and len(temps) > 1:
            lengths = lengths * len(temps)
        if len(lengths) != len(temps):
            raise ScheduleError(
                f"the schedule has {len(temps)} temperature levels but {len(lengths)} level lengths"
            )
        badl = [s for s in lengths if not math.isfinite(s) or s <= 0]
        if badl:
            raise ScheduleError(f"level lengths (sweeps) must be finite and > 0, got {badl[0]!r}")
        object.__setattr__(self, "temperatures", tuple(temps))
        object.__setattr__(self, "sweeps", tuple(lengths))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def geometric(cls, t_high: float, t_low: float, levels: int, sweeps: float | Sequence[float]) -> "Schedule":
        """``levels`` temperatures from ``t_high`` down to ``t_low``, equally spaced in log T."""
        if int(levels) != levels or levels < 1:
            raise ScheduleError(f"number of levels must be a positive integer, got {levels!r}")
        if not (math.isfinite(t_high) and math.isfinite(t_low)) or t_high <= 0 or t_low <= 0:
            raise ScheduleError(f"geometric schedule needs finite positive end temperatures, got {t_high}, {t_low}")
        temps = np.geomspace(t_high, t_low, int(levels)) if levels > 1 else np.array([t_high])
        return cls([float(t) for t in temps], sweeps)

    @classmethod
    def constant(cls, temperature: float, sweeps: float) -> "Schedule":
        """One level."""
        return cls([temperature], [sweeps])

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Schedule":
        """Inverse of :meth:`to_json`."""
        try:
            return cls(data["temperatures"], data["sweeps"])
        except (KeyError, TypeError) as exc:
            raise ScheduleError(f"a schedule needs 'temperatures' and 'sweeps', got {dict(data)!r}") from exc

    @classmethod
    def parse(cls, text: str) -> "Schedule":
        """Parse ``"T1:S1,T2:S2,..."`` (temperature:sweeps) or ``"geometric:THIGH:TLOW:LEVELS:SWEEPS"``.

        Raises
        ------
        ScheduleError
            On malformed text.
        """
        if not isinstance(text, str):
            raise ScheduleError(f"a schedule must be text like '2:100,1:100', got {type(text).__name__}")
        if len(text) > 100_000:
            raise ScheduleError("the schedule text is longer than 100000 characters")
        text = text.strip()
        try:
            if text.startswith("geometric:"):
                _, th, tl, n, s = text.split(":")
                th_f, tl_f, n_i, s_f = float(th), float(tl), int(n), float(s)
            else:
                temps, lengths = [], []
                for part in text.split(","):
                    t, s = part.split(":")
                    temps.append(float(t))
                    lengths.append(float(s))
        except ValueError as exc:
            raise ScheduleError(
                f"cannot parse schedule {text!r}; use 'T1:SWEEPS1,T2:SWEEPS2,...' or "
                "'geometric:T_HIGH:T_LOW:LEVELS:SWEEPS'"
            ) from exc
        if text.startswith("geometric:"):
            return cls.geometric(th_f, tl_f, n_i, s_f)  # its own, specific errors
        return cls(temps, lengths)

    # ------------------------------------------------------------------ queries
    @property
    def n_levels(self) -> int:
        return len(self.temperatures)

    @property
    def total_sweeps(self) -> float:
        return float(sum(self.sweeps))

    def level_steps(self, n_sites: int) -> np.ndarray:
        """Attempted swaps per level on ``n_sites`` sites: ``round(sweeps·N)``, at least 1."""
        steps = [s * n_sites for s in self.sweeps]
        if not sum(steps) < 2.0**62:
            raise ScheduleError(
                f"schedule of {self.total_sweeps:.3g} sweeps on {n_sites} sites needs {sum(steps):.3g} "
                "attempted swaps, more than the annealer can count (2^62); use shorter levels"
            )
        return np.array([max(1, int(round(v))) for v in steps], dtype=np.int64)

    def scaled(self, factor: float) -> "Schedule":
        """The same temperatures with every level ``factor`` times as long."""
        if not math.isfinite(factor) or factor <= 0:
            raise ScheduleError(f"scale factor must be finite and > 0, got {factor!r}")
        return Schedule(self.temperatures, [s * factor for s in self.sweeps])

    def to_json(self) -> dict[str, Any]:
        return {"temperatures": list(self.temperatures), "sweeps": list(self.sweeps)}


def _floats(value: Any, what: str) -> list[float]:
    if isinstance(value, (int, float, np.integer, np.floating)):
        return [float(value)]
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError) as exc:
        raise ScheduleError(f"schedule {what} must be numbers, got {value!r}") from exc
