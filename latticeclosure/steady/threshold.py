"""The critical rate of an absorbing state: where its dominant perturbation mode stops decaying.

For a rate ``p`` in a range ``[a, b]`` the absorbing state's growth rate ``μ(p)`` (the dominant mode
of :func:`latticeclosure.steady.absorbing.growth_mode`) is sampled on a grid; every sign change
brackets a critical rate. It is then solved for exactly, with Newton on the augmented system

    F1(v; p) = 0,     N · v = 1

in the mode direction ``v`` and the rate ``p`` together (``F1`` the first-order limit of the
right-hand side at the state, ``N`` the total weight of the vanishing classes). For a
differentiable right-hand side this is ``J(p) v = 0``: the transcritical point where the branch of
active states leaves the absorbing one. The solution is accepted only when ``μ`` has opposite signs
at ``p_c ∓ δ`` with ``δ = 10⁻⁹·max(1, |p_c|)``, which proves the location to that accuracy;
otherwise the bracket is refined by Brent's method on ``μ(p)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SteadyStateError
from .absorbing import AbsorbingState, GrowthMode, PerturbationCone, growth_mode, neutral_directions, state_limit
from .problem import SteadyProblem

__all__ = ["Threshold", "Crossing", "critical_rate", "check_range", "LOCATION_TOL"]

#: Relative accuracy to which every critical rate is verified.
LOCATION_TOL = 1e-9


@dataclass
class Crossing:
    """One change of stability of the absorbing state.

    Attributes
    ----------
    value : float
        The critical rate.
    direction : ndarray
        The critical mode ``v`` (reduced coordinates, ``N·v = 1``).
    loses_stability_above : bool
        The absorbing state is stable just below ``value`` and unstable just above.
    verified : float
        ``δ`` such that ``μ(value − δ)`` and ``μ(value + δ)`` have opposite signs.
    method : str
        ``"newton"`` (augmented system) or ``"brent"`` (bracket refinement of μ).
    """

    value: float
    direction: np.ndarray
    loses_stability_above: bool
    verified: float
    method: str


@dataclass
class Threshold:
    """Critical rates of an absorbing state in a range of one rate.

    Attributes
    ----------
    rate : str
        The varied rate.
    absorbing : str
        Species of the absorbing state.
    range : tuple of float
    crossings : list of Crossing
        In increasing order of the rate.
    samples : list of (float, float)
        ``(p, μ(p))`` on the sampling grid.
    linear : bool
        The right-hand side is differentiable at the absorbing state.
    """

    rate: str
    absorbing: str
    range: tuple[float, float]
    crossings: list[Crossing]
    samples: list[tuple[float, float]] = field(default_factory=list)
    linear: bool = True

    @property
    def critical(self) -> float | None:
        """The first critical rate in the range (None when the stability never changes)."""
        return self.crossings[0].value if self.crossings else None

    def stability_at(self, value: float) -> str:
        """``"stable"`` or ``"unstable"`` for the absorbing state at ``value`` (from the crossings)."""
        lo = self.samples[0][1] if self.samples else -1.0
        stable = lo < 0
        for c in self.crossings:
            if value > c.value:
                stable = not stable
        return "stable" if stable else "unstable"

    def status(self) -> str:
        """A one-phrase summary (for ranges without a crossing)."""
        if self.crossings:
            return "crosses"
        signs = {np.sign(m) for _, m in self.samples}
        if signs == {-1.0}:
            return "stable throughout the range"
        if signs == {1.0}:
            return "unstable throughout the range"
        return ("marginal in the range (a perturbation mode with growth rate 0: a family of absorbing "
                "states next to this one)")

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "absorbing": self.absorbing,
            "range": list(self.range),
            "critical": self.critical,
            "differentiable": self.linear,
            "crossings": [
                {
                    "value": c.value,
                    "loses_stability_above": c.loses_stability_above,
                    "verified_to": c.verified,
                    "method": c.method,
                    "mode": [float(x) for x in c.direction],
                }
                for c in self.crossings
            ],
            "status": self.status(),
            "growth_rates": [[float(p), float(m)] for p, m in self.samples],
        }


def check_range(lo: float, hi: float) -> tuple[float, float]:
    """Validate a rate range: finite, non-negative, non-empty and increasing.

    Raises
    ------
    SteadyStateError
    """
    for v in (lo, hi):
        if not np.isfinite(v):
            raise SteadyStateError(f"range bounds must be finite numbers, got {lo}:{hi}")
    if lo < 0:
        raise SteadyStateError(f"rates are non-negative: the range {lo:g}:{hi:g} starts below 0")
    if hi == lo:
        raise SteadyStateError(f"the range {lo:g}:{hi:g} is empty; give a:b with a < b")
    if hi < lo:
        raise SteadyStateError(f"the range {lo:g}:{hi:g} is reversed; give a:b with a < b")
    return float(lo), float(hi)


def _mu(problem: SteadyProblem, absorbing: AbsorbingState, p: float, start: np.ndarray | None) -> GrowthMode:
    return growth_mode(problem, absorbing, p, start)


def _augmented_newton(problem: SteadyProblem, absorbing: AbsorbingState, v: np.ndarray, p: float,
                      max_iter: int = 40) -> tuple[np.ndarray, float] | None:
    limit = state_limit(problem.model, absorbing)
    cone = PerturbationCone(problem, absorbing)
    k = problem.free_index
    d = len(v)
    v = cone.normalise(np.asarray(v, dtype=float))
    for _ in range(max_iter):
        params = problem.vector(p)
        r = np.concatenate([limit(v, params), [cone.weights @ v - 1.0]])
        jac = np.zeros((d + 1, d + 1))
        jac[:d, :d] = limit.jacobian(v, params)
        jac[:d, d] = limit.parameter_derivative(v, params)[:, k]
        jac[d, :d] = cone.weights
        if not (np.isfinite(jac).all() and np.isfinite(r).all()):
            return None
        try:
            step = np.linalg.solve(jac, -r)
        except np.linalg.LinAlgError:
            return None
        if not np.isfinite(step).all():
            return None
        v = v + step[:d]
        p = p + step[d]
        if abs(step[d]) <= 1e-15 * max(1.0, abs(p)) and np.abs(step[:d]).max() <= 1e-14 * max(1.0, np.abs(v).max()):
            return v, float(p)
    return None


def critical_rate(
    problem: SteadyProblem,
    absorbing: AbsorbingState,
    lo: float,
    hi: float,
    *,
    samples: int = 41,
) -> Threshold:
    """Every rate in ``[lo, hi]`` at which the absorbing state changes stability.

    Parameters
    ----------
    problem : SteadyProblem
        With ``free`` the varied rate.
    absorbing : AbsorbingState
    lo, hi : float
        The range (validated by :func:`check_range`).
    samples : int
        Grid points on which μ is sampled to bracket the crossings.

    Returns
    -------
    Threshold

    Raises
    ------
    SteadyStateError
        No varied rate; a bad range.
    SingularLimitError
        The closed model has no first-order limit at the absorbing state (a closure that stays
        finite there): its stability, hence a threshold, is undefined.
    """
    if problem.free is None:
        raise SteadyStateError("a threshold needs a varied rate")
    lo, hi = check_range(lo, hi)
    limit = state_limit(problem.model, absorbing)
    grid = np.linspace(lo, hi, int(samples))
    modes: list[GrowthMode] = []
    start = None
    for p in grid:
        mode = _mu(problem, absorbing, float(p), start)
        modes.append(mode)
        start = mode.direction
    mus = np.array([m.rate for m in modes])
    scales = np.array([m.scale for m in modes])
    zero = np.abs(mus) <= 1e-13 * scales
    if not limit.linear:
        for p, mode, z in zip(grid, modes, zero):
            if z and _neutral_mode(problem, limit, mode, float(p)):
                raise SteadyStateError(
                    "the absorbing state has neutral perturbations (a family of absorbing states next to it, "
                    "as in SIR) and the closure is not differentiable there, so they hide its threshold; "
                    "use a closure that is (e.g. pair:loop=chain)"
                )
    crossings: list[Crossing] = []
    for i in range(len(grid) - 1):
        a, b = mus[i], mus[i + 1]
        if zero[i] and i > 0 and not zero[i - 1] and np.sign(mus[i - 1]) != np.sign(b) and not zero[i + 1]:
            lo_i, hi_i = i - 1, i + 1  # a grid point exactly on the threshold
        elif not zero[i] and not zero[i + 1] and np.sign(a) != np.sign(b):
            lo_i, hi_i = i, i + 1
        else:
            continue
        crossing = _locate(problem, absorbing, grid, modes, lo_i, hi_i)
        if not any(abs(c.value - crossing.value) <= LOCATION_TOL * max(1.0, abs(c.value)) for c in crossings):
            crossings.append(crossing)
    crossings.sort(key=lambda c: c.value)
    return Threshold(problem.free, absorbing.species, (lo, hi), crossings,
                     [(float(p), float(m)) for p, m in zip(grid, mus)], limit.linear)


def _neutral_mode(problem: SteadyProblem, limit: Any, mode: GrowthMode, p: float) -> bool:
    """A mode with F1(v) = 0 at other rates too: a direction along a family of absorbing states."""
    for shift in (1.0, 2.718281828):
        value = limit(mode.direction, problem.vector(p + shift))
        if not np.isfinite(value).all() or np.abs(value).max() > 1e-10 * mode.scale:
            return False
    return True


def _locate(problem: SteadyProblem, absorbing: AbsorbingState, grid: np.ndarray, modes: list[GrowthMode],
            i: int, j: int) -> Crossing:
    pa, pb = float(grid[i]), float(grid[j])
    ma, mb = modes[i].rate, modes[j].rate
    guess = pa + (pb - pa) * ma / (ma - mb)
    near = modes[i] if abs(ma) <= abs(mb) else modes[j]
    limit = state_limit(problem.model, absorbing)
    # neutral directions solve F1(v) = 0 at every rate: the augmented system is then not regular
    neutral = limit.linear and neutral_directions(problem, limit, problem.vector(guess)).shape[1] > 0
    found = None if neutral else _augmented_newton(problem, absorbing, near.direction, guess)
    method = "newton"
    if found is not None and pa - 1e-12 <= found[1] <= pb + 1e-12:
        v, pc = found
        delta = _verified(problem, absorbing, pc, v)
        if delta is not None:
            return Crossing(pc, v, ma < 0 < mb, delta, method)
    # Brent on μ(p): robust when the augmented Newton wanders (e.g. near a switch of dominant mode)
    from scipy.optimize import brentq

    state = {"v": near.direction}

    def mu(p: float) -> float:
        m = _mu(problem, absorbing, p, state["v"])
        state["v"] = m.direction
        return m.rate

    pc = float(brentq(mu, pa, pb, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=200))
    v = _mu(problem, absorbing, pc, state["v"]).direction
    delta = _verified(problem, absorbing, pc, v)
    if delta is None:
        raise SteadyStateError(
            f"the critical rate near {pc:.12g} could not be verified to {LOCATION_TOL:g} (the growth rate "
            "does not change sign across it)"
        )
    return Crossing(pc, v, ma < 0 < mb, delta, "brent")


def _verified(problem: SteadyProblem, absorbing: AbsorbingState, pc: float, v: np.ndarray) -> float | None:
    """δ at which μ(pc − δ) and μ(pc + δ) have opposite signs, if δ = LOCATION_TOL·max(1, |pc|) works."""
    delta = LOCATION_TOL * max(1.0, abs(pc))
    below = _mu(problem, absorbing, pc - delta, v).rate
    above = _mu(problem, absorbing, pc + delta, v).rate
    if np.sign(below) != np.sign(above) and below != 0.0 and above != 0.0:
        return delta
    return None
