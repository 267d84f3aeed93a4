"""Threshold analysis of one closed model: critical rate, active branch, bifurcation diagram data.

:func:`analyse_threshold` puts the pieces together for one closed model and one varied rate:

1. the absorbing state (:mod:`latticeclosure.steady.absorbing`) and its critical rates in the range
   (:func:`latticeclosure.steady.threshold.critical_rate`);
2. the branch of active fixed points: integrated to long times at the end of the range where the
   absorbing state is unstable (or at both ends when it is stable throughout), polished by
   Newton, and continued across the range (:func:`latticeclosure.steady.continuation.continue_branch`)
   until it meets the absorbing state, leaves the physical domain or the range;
3. when the closed model has no first-order limit at the absorbing state (a closure that stays
   finite there, e.g. Kirkwood superposition of square plaquettes at window 3 on the square
   lattice), the absorbing state's stability is undefined; the reported critical rate is then the
   end of the active branch — the lowest rate at which a physical active steady state exists —
   and the result says so (``method = "branch-end"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import IntegrationError, SteadyStateError
from .absorbing import AbsorbingState, select_absorbing_state
from .conservation import conservation_laws
from .continuation import Branch, continue_branch
from .fixedpoints import integrate_to_fixed_point
from .problem import SteadyProblem
from .singular import SingularLimitError
from .threshold import Threshold, check_range, critical_rate

__all__ = ["ThresholdAnalysis", "analyse_threshold", "analyse_many", "product_state", "default_range"]


@dataclass
class ThresholdAnalysis:
    """Everything :func:`analyse_threshold` found for one closed model.

    Attributes
    ----------
    closure : str
        The model's closure label.
    window : int
    rate : str
    range : tuple of float
    absorbing : str
        Species of the absorbing state.
    critical : float or None
        The critical rate (first crossing, or branch end when ``method == "branch-end"``).
    method : str
        ``"threshold"`` (the absorbing state's exchange of stability) or ``"branch-end"``.
    threshold : Threshold or None
        The crossings (None when the limit at the absorbing state does not exist).
    branches : list of Branch
        Active branches.
    note : str
        Why ``method`` is ``branch-end``, or what was not found.
    """

    closure: str
    window: int
    rate: str
    range: tuple[float, float]
    absorbing: str
    critical: float | None
    method: str
    threshold: Threshold | None
    branches: list[Branch] = field(default_factory=list)
    note: str = ""
    problem: SteadyProblem | None = field(default=None, repr=False)

    def density(self, full_state: np.ndarray) -> float:
        """Fraction of sites not in the absorbing species."""
        assert self.problem is not None
        species = list(self.problem.model.equations.species)
        return float(1.0 - self.problem.species_fractions(full_state)[species.index(self.absorbing)])

    def trivial_branch(self) -> tuple[np.ndarray, list[str]]:
        """Rates and the absorbing state's stability on the threshold's sampling grid."""
        if self.threshold is None:
            return np.zeros(0), []
        values = np.array([p for p, _ in self.threshold.samples])
        return values, [self.threshold.stability_at(float(p)) for p in values]

    def to_json(self) -> dict[str, Any]:
        names = self.problem.model.window_names if self.problem is not None else None
        return {
            "closure": self.closure,
            "window": self.window,
            "rate": self.rate,
            "range": list(self.range),
            "absorbing": self.absorbing,
            "critical": self.critical,
            "method": self.method,
            "note": self.note,
            "threshold": None if self.threshold is None else self.threshold.to_json(),
            "branches": [b.to_json(names, self.density) for b in self.branches],
        }


def product_state(model: Any, fractions: Mapping[str, float]) -> np.ndarray:
    """Every window class of the uncorrelated (product) state with the given site fractions.

    Raises
    ------
    SteadyStateError
        Unknown species, negative fractions, or fractions that do not sum to one.
    """
    species = list(model.equations.species)
    unknown = sorted(set(fractions) - set(species))
    if unknown:
        raise SteadyStateError(f"initial fractions for unknown species {unknown}; species: {species}")
    values = np.array([float(fractions.get(s, 0.0)) for s in species])
    if (values < 0).any() or not np.isfinite(values).all():
        raise SteadyStateError(f"initial fractions must be non-negative numbers, got {dict(fractions)}")
    if abs(values.sum() - 1.0) > 1e-9:
        raise SteadyStateError(f"initial fractions must sum to 1, got {values.sum():.6g} ({dict(fractions)})")
    return np.array([float(np.prod(values[list(c.pattern)])) for c in model.window_classes])


def _default_initial(model: Any, absorbing: AbsorbingState) -> dict[str, float]:
    # mostly active, but every class positive (closures divide by singlets and pairs)
    others = [s for s in model.equations.species if s != absorbing.species]
    return {absorbing.species: 0.1, **{s: 0.9 / len(others) for s in others}}


def default_range(problem: SteadyProblem, absorbing: AbsorbingState, start: float = 1.0,
                  limit: float = 2.0**20) -> tuple[float, float]:
    """``(0, b)`` with ``b`` twice the first power of two ≥ ``start`` at which the absorbing state is
    unstable (its dominant mode grows), so the diagram shows both sides of the threshold.

    Raises
    ------
    SteadyStateError
        The absorbing state stays stable up to ``limit``.
    """
    from .absorbing import growth_mode

    b = float(start)
    while b <= limit:
        if growth_mode(problem, absorbing, b).rate > 0:
            return 0.0, 2.0 * b
        b *= 2.0
    raise SteadyStateError(
        f"the absorbing state stays stable for {problem.free} up to {limit:g}; give --range a:b"
    )


def analyse_threshold(
    model: Any,
    rate: str,
    rates: Mapping[str, float] | None = None,
    value_range: tuple[float, float] | None = None,
    *,
    absorbing: str | None = None,
    initial: Mapping[str, float] | None = None,
    samples: int = 41,
) -> ThresholdAnalysis:
    """Critical rate and active branch of a closed model in one named rate.

    Parameters
    ----------
    model : ClosedModel
    rate : str
        The varied rate (a parameter of the model).
    rates : mapping, optional
        Values of the other parameters.
    value_range : (float, float), optional
        The range of ``rate``; by default ``(0, b)`` from :func:`default_range`.
    absorbing : str, optional
        Species of the absorbing state, if the process has several.
    initial : mapping, optional
        Site fractions of the uncorrelated state the active branch is integrated from.
    samples : int
        Grid of the growth-rate scan.

    Returns
    -------
    ThresholdAnalysis

    Raises
    ------
    SteadyStateError
        ``rate`` is not a parameter, a parameter has no value, a bad range, no absorbing state.
    """
    problem = SteadyProblem.from_model(model, rates, rate)
    state = select_absorbing_state(model, absorbing)
    label = str(model.closure_label)
    window = int(model.window_size)
    threshold: Threshold | None = None
    note = ""
    try:
        lo, hi = check_range(*value_range) if value_range is not None else default_range(problem, state)
        threshold = critical_rate(problem, state, lo, hi, samples=samples)
    except SingularLimitError as exc:
        note = f"no first-order limit at the absorbing state ({exc}); critical rate = end of the active branch"
        if value_range is None:
            raise SteadyStateError(
                f"closure {label!r}, window {window}: the closed model has no first-order limit at the "
                "absorbing state; give --range a:b to locate the end of its active branch"
            ) from None
        lo, hi = check_range(*value_range)
    laws = conservation_laws(problem)
    start_fractions = dict(initial) if initial else _default_initial(model, state)
    y0 = product_state(model, start_fractions)
    if threshold is not None:
        ends = [v for v in (lo, hi) if threshold.stability_at(v) == "unstable"] or [hi, lo]
    else:
        ends = [hi, lo]
    branches: list[Branch] = []
    for end in ends:
        try:
            fp = integrate_to_fixed_point(problem, y0, end, laws=laws)
        except (SteadyStateError, IntegrationError):
            continue
        if fp.method == "absorbing":
            continue
        if fp.stability == "neutral":
            # a family of fixed points (SIR: every susceptible/removed mixture is absorbing)
            note = (note + "; " if note else "") + f"the long-time state at {rate} = {end:g} is not an isolated fixed point: no branch continued"
            continue
        if any(_on_branch(b, fp.state, end) for b in branches):
            continue
        branches.append(continue_branch(problem, fp.state, end, lo, hi, direction=-1 if end == hi else 1,
                                        laws=laws, absorbing=[state]))
    critical: float | None
    if threshold is not None:
        critical, method = threshold.critical, "threshold"
        if critical is None:
            note = note or threshold.status()
    else:
        ends_found = [b.bifurcations[-1].value for b in branches
                      if b.bifurcations and b.bifurcations[-1].kind.startswith("meets")]
        critical = min(ends_found) if ends_found else None
        method = "branch-end"
        if critical is None:
            note += "; no end of an active branch in the range"
    return ThresholdAnalysis(label, window, rate, (lo, hi), state.species, critical, method, threshold,
                             branches, note, problem)


def _on_branch(branch: Branch, x: np.ndarray, value: float) -> bool:
    for pt in branch.points:
        if abs(pt.value - value) <= 1e-9 * max(1.0, abs(value)) and np.abs(pt.state - x).max() <= 1e-7:
            return True
    return False


def analyse_many(models: Sequence[Any], rate: str, rates: Mapping[str, float] | None = None,
                 value_range: tuple[float, float] | None = None, **options: Any) -> list[ThresholdAnalysis]:
    """:func:`analyse_threshold` for several closed models over one common range.

    Without a range, the common range is the widest default range of the models that have a
    first-order limit at their absorbing state.
    """
    if value_range is None:
        his = []
        for model in models:
            problem = SteadyProblem.from_model(model, rates, rate)
            state = select_absorbing_state(model, options.get("absorbing"))
            try:
                his.append(default_range(problem, state)[1])
            except SingularLimitError:
                continue
        if his:
            value_range = (0.0, max(his))
    return [analyse_threshold(m, rate, rates, value_range, **options) for m in models]

