"""The temperature s of the likelihood exp(−F/s): a number, or ``"auto"`` (from the best fit).

F = ½ Σ_i w_i r_i² sums the quadrature-weighted squared residuals r_i of every record and class
(eq. 17; w_i the trapezoid weights times the class weights). Read as a likelihood, exp(−F/s) is the
Gaussian model in which residual i has variance s/w_i:

    log L(K, s) = −F(K)/s − (n/2) log s + const,

with n the number of residual values. Maximising over s at the best fit gives

    s_auto = 2 F_min / n,

the maximum-likelihood noise variance σ̂² = Σ r_i²/n of equally weighted records (w_i = w) times
the quadrature weight w. With s = s_auto the posterior has the width the residuals of the best fit
justify; with s = 1 (the default) and time as the fraction of the run, F ~ 10⁻³ and the likelihood
is nearly flat, so chains explore the prior. n counts the residual values with positive weight
except each dataset's first record (the model starts from it, so its residuals vanish by
construction), plus the equilibrium-constant residuals when α > 0. The residuals of one trajectory
are correlated in time (model error rather than measurement noise) and the eliminated classes are
combinations of the others, so even s_auto overstates how much the data determine: read its
posterior widths as lower bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError

__all__ = ["Temperature", "resolve_temperature", "check_temperature", "AUTO"]

AUTO = "auto"


@dataclass(frozen=True)
class Temperature:
    """The temperature used for one closed model.

    Attributes
    ----------
    value : float
        s in exp(−F/s).
    setting : float or "auto"
        What was asked for.
    F_min : float
        The best fit's F (what ``auto`` used).
    n_residuals : int
        Residual values counted for ``auto``.
    """

    value: float
    setting: Any
    F_min: float
    n_residuals: int

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "setting": self.setting, "F_min": self.F_min, "n_residuals": self.n_residuals,
                "rule": "2 F_min / n" if self.setting == AUTO else "given"}

    def describe(self) -> str:
        if self.setting == AUTO:
            return f"s = 2·F_min/n = 2·{self.F_min:.4g}/{self.n_residuals} = {self.value:.4g} (auto)"
        return f"s = {self.value:g}"


def check_temperature(setting: Any) -> Any:
    """``setting`` validated: a positive finite number (returned as float) or ``"auto"``."""
    if isinstance(setting, str):
        if setting.strip().lower() == AUTO:
            return AUTO
        try:
            setting = float(setting)
        except ValueError:
            raise ConfigurationError(f"temperature must be a positive number or 'auto', got {setting!r}") from None
    if isinstance(setting, bool) or not isinstance(setting, (int, float)) or not math.isfinite(setting) or setting <= 0:
        raise ConfigurationError(f"temperature must be a positive number or 'auto', got {setting!r}")
    return float(setting)


def resolve_temperature(setting: Any, F_min: float, n_residuals: int) -> Temperature:
    """The temperature for a model whose best fit has ``F_min`` over ``n_residuals`` residual values."""
    setting = check_temperature(setting)
    if setting != AUTO:
        return Temperature(float(setting), setting, float(F_min), int(n_residuals))
    if not (math.isfinite(F_min) and F_min > 0):
        raise ConfigurationError(
            f"temperature 'auto' needs a best fit with 0 < F < inf (got F = {F_min!r}): the data are fitted exactly "
            "or not at all; give the temperature as a number"
        )
    if n_residuals < 1:
        raise ConfigurationError("temperature 'auto' needs at least one residual value")
    return Temperature(2.0 * float(F_min) / int(n_residuals), AUTO, float(F_min), int(n_residuals))
