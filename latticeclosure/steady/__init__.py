"""Steady states and thresholds of closed models.

Fixed points (long-time integration, Newton on the reduced system with conservation laws
eliminated) and their stability; limits at states where a closure is 0/0; pseudo-arclength
continuation in one named rate with stability and bifurcations; the critical rate at which an
absorbing state loses stability; the bifurcation diagram; the simulated estimate through the
kinetic Monte Carlo backend. See ``docs/thresholds.md``.

>>> from latticeclosure.steady import analyse_threshold        # doctest: +SKIP
>>> result = analyse_threshold(closed_model, "lam_z", {}, (0.0, 1.0))   # doctest: +SKIP
>>> result.critical                                              # doctest: +SKIP
0.3333333333333333

Importing this package imports sympy and numpy, not numba (compilation happens on first use).
"""

from .absorbing import AbsorbingState, GrowthMode, absorbing_states, growth_mode, select_absorbing_state
from .analysis import ThresholdAnalysis, analyse_many, analyse_threshold, default_range, product_state
from .conservation import ConservationLaws, conservation_laws
from .continuation import Bifurcation, Branch, BranchPoint, continue_branch
from .fixedpoints import FixedPoint, integrate_to_fixed_point, newton_fixed_point
from .problem import SingularStateError, SteadyProblem
from .singular import DirectionalLimit, SingularLimitError, directional_limit, regularised_limit
from .threshold import Crossing, Threshold, check_range, critical_rate

__all__ = [
    "AbsorbingState",
    "GrowthMode",
    "absorbing_states",
    "growth_mode",
    "select_absorbing_state",
    "ThresholdAnalysis",
    "analyse_threshold",
    "analyse_many",
    "default_range",
    "product_state",
    "ConservationLaws",
    "conservation_laws",
    "Bifurcation",
    "Branch",
    "BranchPoint",
    "continue_branch",
    "FixedPoint",
    "integrate_to_fixed_point",
    "newton_fixed_point",
    "SingularStateError",
    "SteadyProblem",
    "DirectionalLimit",
    "SingularLimitError",
    "directional_limit",
    "regularised_limit",
    "Crossing",
    "Threshold",
    "check_range",
    "critical_rate",
]
