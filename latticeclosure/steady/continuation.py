"""Pseudo-arclength continuation of fixed points in one named rate, with stability and bifurcations.

Unknowns ``z = (x, p̃)``: the reduced state and the varied rate scaled by the width of the range
(``p = s·p̃``), so that one unit of arclength means as much in either. The branch solves
``H(z) = [Q f(x, p); W x − c] = 0`` (conservation laws eliminated as in
:mod:`latticeclosure.steady.fixedpoints`). Each step predicts along the unit tangent ``τ``
(null vector of ``∂H/∂z``, oriented continuously) and corrects with Newton on
``[H(z); τ·(z − z_pred)] = 0`` (Keller's pseudo-arclength condition), so folds are passed where
continuation in ``p`` itself would fail. Step lengths adapt to the corrector's effort.

Every accepted point gets the eigenvalues of the Jacobian within the leaf. Between two points
whose stability differs the change is classified and located by bisection on the arclength step
(each trial point corrected onto the branch) to ``|Δp| ≤ 10⁻¹²·max(1, |p|)``:

* ``fold`` — the tangent's ``p``-component changes sign (a real eigenvalue passes 0 at a turning point);
* ``hopf`` — a complex pair crosses the imaginary axis;
* ``branch-point`` — a real eigenvalue passes 0 without a fold (transcritical, pitchfork).

A branch stops where it leaves the range (the end point solved at the bound); where it meets an
absorbing state (kind ``meets-absorbing``, the end solved exactly in blown-up coordinates: it is
the threshold of :mod:`latticeclosure.steady.threshold`); where it leaves the physical domain
elsewhere (a concentration reaches zero: ``meets-boundary``, located by warm-started Newton steps in
the rate); where its fixed points stop being isolated (``degenerate``); or after ``max_steps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import SteadyStateError
from .conservation import ConservationLaws, conservation_laws
from .fixedpoints import classify
from .problem import SingularStateError, SteadyProblem

__all__ = ["BranchPoint", "Bifurcation", "Branch", "continue_branch", "BISECTION_TOL"]

#: Relative accuracy in the rate of located bifurcations and branch ends.
BISECTION_TOL = 1e-12


@dataclass
class BranchPoint:
    """One point of a branch of fixed points."""

    value: float
    state: np.ndarray
    full_state: np.ndarray
    eigenvalues: np.ndarray
    stability: str
    tangent_p: float


@dataclass
class Bifurcation:
    """A located change along a branch.

    Attributes
    ----------
    kind : str
        ``"fold"``, ``"hopf"``, ``"branch-point"`` or ``"meets-boundary"``.
    value : float
        The rate.
    state : ndarray
        Reduced state there.
    full_state : ndarray
    """

    kind: str
    value: float
    state: np.ndarray
    full_state: np.ndarray

    def to_json(self, names: list[str] | None = None) -> dict[str, Any]:
        state = {n: float(v) for n, v in zip(names, self.full_state)} if names else [float(v) for v in self.full_state]
        return {"kind": self.kind, "value": self.value, "state": state}


@dataclass
class Branch:
    """A continued branch of fixed points.

    Attributes
    ----------
    rate : str
    points : list of BranchPoint
        In arclength order.
    bifurcations : list of Bifurcation
    end : str
        Why it stopped at its far end: ``"range"``, ``"boundary"``, ``"max_steps"``, ``"step_size"``.
    """

    rate: str
    points: list[BranchPoint] = field(default_factory=list)
    bifurcations: list[Bifurcation] = field(default_factory=list)
    end: str = ""

    @property
    def values(self) -> np.ndarray:
        return np.array([pt.value for pt in self.points])

    @property
    def full_states(self) -> np.ndarray:
        return np.array([pt.full_state for pt in self.points])

    @property
    def stabilities(self) -> list[str]:
        return [pt.stability for pt in self.points]

    def to_json(self, names: list[str] | None = None, density: Callable[[np.ndarray], float] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rate": self.rate,
            "end": self.end,
            "values": [float(v) for v in self.values],
            "stability": self.stabilities,
            "bifurcations": [b.to_json(names) for b in self.bifurcations],
        }
        if density is not None:
            out["density"] = [float(density(pt.full_state)) for pt in self.points]
        return out


class _Degenerate(Exception):
    """The solution set is not a curve here (non-isolated fixed points)."""


class _Continuation:
    """The extended system of one continuation run."""

    def __init__(self, problem: SteadyProblem, laws: ConservationLaws, c: np.ndarray, scale: float,
                 boundary_tol: float, absorbing: list[np.ndarray]) -> None:
        self.absorbing_states = absorbing
        self.absorbing = [np.asarray(a.full_state, dtype=float) for a in absorbing]
        self.problem = problem
        self.laws = laws
        self.c = c
        self.scale = scale
        self.boundary_tol = boundary_tol
        self.d = problem.n_state

    def rate(self, z: np.ndarray) -> float:
        return float(z[-1] * self.scale)

    def H(self, z: np.ndarray) -> np.ndarray:
        x, p = z[:-1], self.rate(z)
        return np.concatenate([self.laws.complement @ self.problem.rhs(x, p), self.laws.laws @ x - self.c])

    def dH(self, z: np.ndarray) -> np.ndarray:
        x, p = z[:-1], self.rate(z)
        jx = self.problem.jacobian(x, p)
        jp = self.problem.rate_derivative(x, p) * self.scale
        top = np.hstack([self.laws.complement @ jx, (self.laws.complement @ jp)[:, None]])
        bottom = np.hstack([self.laws.laws, np.zeros((self.laws.count, 1))])
        return np.vstack([top, bottom])

    def tangent(self, z: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
        jac = self.dH(z)
        t = None
        if previous is not None:
            try:
                t = np.linalg.solve(np.vstack([jac, previous]), np.concatenate([np.zeros(self.d), [1.0]]))
            except np.linalg.LinAlgError:
                t = None
        if t is None or not np.isfinite(t).all():
            _, sing, vt = np.linalg.svd(jac)
            if len(sing) >= self.d and sing[-1] <= 1e-12 * max(float(sing[0]), 1e-300):
                raise _Degenerate()  # a plane of solutions, not a curve: no unique tangent
            t = vt[-1]
        t = t / np.linalg.norm(t)
        if previous is not None and float(t @ previous) < 0:
            t = -t
        return t

    def correct(self, pred: np.ndarray, tangent: np.ndarray, tol: float = 1e-11,
                max_iter: int = 12) -> tuple[np.ndarray, int] | None:
        z = pred.copy()
        for it in range(1, max_iter + 1):
            try:
                r = np.concatenate([self.H(z), [tangent @ (z - pred)]])
                jac = np.vstack([self.dH(z), tangent])
            except SingularStateError:
                return None
            if not np.isfinite(r).all():
                return None
            try:
                step = np.linalg.solve(jac, -r)
            except np.linalg.LinAlgError:
                return None
            z = z + step
            if np.abs(step).max() <= 1e-13 * max(1.0, float(np.abs(z).max())):
                try:
                    if np.abs(self.H(z)).max() <= tol:
                        return z, it
                except SingularStateError:
                    return None
        try:
            if np.abs(self.H(z)).max() <= tol:
                return z, max_iter
        except SingularStateError:
            pass
        return None

    def point(self, z: np.ndarray, tangent: np.ndarray) -> BranchPoint:
        x, p = z[:-1], self.rate(z)
        jac = self.laws.reduced_jacobian(self.problem.jacobian(x, p))
        eig = np.linalg.eigvals(jac) if jac.size else np.zeros(0, dtype=complex)
        verdict = classify(eig, float(np.abs(jac).max()) if jac.size else 1.0)
        return BranchPoint(p, x.copy(), self.problem.full_state(x), eig, verdict, float(tangent[-1]))

    def absorbing_distance(self, z: np.ndarray) -> float:
        if not self.absorbing:
            return np.inf
        full = self.problem.full_state(z[:-1])
        return min(float(np.abs(full - a).max()) for a in self.absorbing)

    def physical_margin(self, z: np.ndarray) -> float:
        return float(self.problem.full_state(z[:-1]).min())


def _counts(eig: np.ndarray, scale: float) -> tuple[int, int]:
    """(real eigenvalues with Re > 0, complex pairs with Re > 0)."""
    eps = 1e-9 * max(scale, 1e-300)
    real = eig[np.abs(eig.imag) <= eps]
    cplx = eig[(np.abs(eig.imag) > eps) & (eig.imag > 0)]
    return int((real.real > eps).sum()), int((cplx.real > eps).sum())


def continue_branch(
    problem: SteadyProblem,
    x0: np.ndarray,
    value0: float,
    lo: float,
    hi: float,
    *,
    direction: int = -1,
    laws: ConservationLaws | None = None,
    step: float = 0.02,
    max_step: float = 0.05,
    min_step: float = 1e-9,
    max_steps: int = 2000,
    boundary_tol: float = 1e-12,
    absorbing: list[Any] | None = None,
    absorbing_tol: float = 1e-6,
) -> Branch:
    """Continue the branch through the fixed point ``x0`` at ``value0`` within ``[lo, hi]``.

    Parameters
    ----------
    problem : SteadyProblem
        With ``free`` the varied rate.
    x0 : ndarray
        A fixed point (reduced state) at ``value0``, e.g. from
        :func:`~latticeclosure.steady.fixedpoints.integrate_to_fixed_point`.
    lo, hi : float
        The range of the rate; the branch stops at its bounds.
    direction : {-1, +1}
        Initial direction in the rate.
    step, max_step, min_step : float
        Arclength steps (in units where the range has width 1).
    max_steps : int
    boundary_tol : float
        A concentration below ``-boundary_tol`` has left the physical domain.
    absorbing : list of AbsorbingState, optional
        A branch that comes within ``absorbing_tol`` of one of them (or leaves the physical domain
        next to it) ends there, kind ``meets-absorbing``, instead of running on along the trivial
        branch. The meeting point is solved for exactly in blown-up coordinates
        ``x = x* + r u`` (``N·u = 1``): at ``r = 0`` the branch satisfies ``F1(u; p) = 0``, the
        threshold system of :mod:`latticeclosure.steady.threshold`, whose Newton solution from the
        branch's last direction and rate is the end point.

    Returns
    -------
    Branch
    """
    if problem.free is None:
        raise SteadyStateError("continuation needs a varied rate")
    laws = conservation_laws(problem) if laws is None else laws
    scale = float(hi - lo)
    x0 = np.asarray(x0, dtype=float)
    cont = _Continuation(problem, laws, laws.laws @ x0, scale, boundary_tol, list(absorbing or []))
    z = np.concatenate([x0, [value0 / scale]])
    branch = Branch(problem.free)
    try:
        _run(cont, branch, z, lo, hi, direction, step, max_step, min_step, max_steps, boundary_tol, absorbing_tol)
    except _Degenerate:
        branch.end = "degenerate"
    return branch


def _run(cont: _Continuation, branch: Branch, z: np.ndarray, lo: float, hi: float, direction: int, step: float,
         max_step: float, min_step: float, max_steps: int, boundary_tol: float, absorbing_tol: float) -> None:
    scale = cont.scale
    tangent = cont.tangent(z, None)
    if np.sign(tangent[-1]) != np.sign(direction) and tangent[-1] != 0:
        tangent = -tangent
    branch.points.append(cont.point(z, tangent))
    h = float(step)
    for _ in range(max_steps):
        pred = z + h * tangent
        got = cont.correct(pred, tangent)
        if got is None:
            h *= 0.5
            if h < min_step:
                if cont.absorbing_distance(z) <= 1e-3 or cont.physical_margin(z) <= 1e-3:
                    # stuck next to the boundary (a closure that is 0/0 there): finish in the rate
                    _finish_at_boundary(cont, branch, z, cont.rate(z) + np.sign(tangent[-1]) * 1e-3 * scale,
                                        absorbing_tol)
                    branch.end = "boundary"
                else:
                    branch.end = "step_size"
                return
            continue
        z_new, iters = got
        p_new = cont.rate(z_new)
        # the physical domain and the range, located on the step that leaves them
        if cont.physical_margin(z_new) < -boundary_tol or cont.absorbing_distance(z_new) <= absorbing_tol:
            _finish_at_boundary(cont, branch, z, p_new, absorbing_tol)
            branch.end = "boundary"
            return
        if p_new < lo or p_new > hi:
            bound = lo if p_new < lo else hi
            located = _bisect(cont, z, tangent, h, lambda zz: lo <= cont.rate(zz) <= hi, exact_rate=bound)
            branch.points.append(cont.point(located, tangent))
            branch.end = "range"
            return
        tangent_new = cont.tangent(z_new, tangent)
        point = cont.point(z_new, tangent_new)
        _detect(cont, branch, z, tangent, h, branch.points[-1], point)
        branch.points.append(point)
        z, tangent = z_new, tangent_new
        h = min(max_step, h * 1.5) if iters <= 3 else (h * 0.7 if iters > 6 else h)
    branch.end = "max_steps"


def _bisect(cont: _Continuation, z: np.ndarray, tangent: np.ndarray, h: float,
            inside: Callable[[np.ndarray], bool], exact_rate: float | None = None) -> np.ndarray:
    """The last point of the step ``z → z + h τ`` (corrected) for which ``inside`` holds."""
    a, b = 0.0, h
    za = z
    while b - a > BISECTION_TOL * max(1.0, abs(h)):
        m = 0.5 * (a + b)
        got = cont.correct(z + m * tangent, tangent)
        if got is None:
            b = m
            continue
        if inside(got[0]):
            a, za = m, got[0]
        else:
            b = m
    if exact_rate is not None:
        # finish on the bound itself: Newton in the state at the fixed rate
        from .fixedpoints import newton_fixed_point

        try:
            fp = newton_fixed_point(cont.problem, za[:-1], exact_rate, laws=cont.laws, conserved=cont.c)
            return np.concatenate([fp.state, [exact_rate / cont.scale]])
        except SteadyStateError:
            return za
    return za


def _newton_at(cont: _Continuation, x: np.ndarray, p: float, max_iter: int = 30) -> np.ndarray | None:
    """Newton in the state at a fixed rate, converged *relative to the distance from the boundary*
    (states next to an absorbing state have tiny residuals whatever their accuracy)."""
    laws = cont.laws
    x = np.array(x, dtype=float)
    for _ in range(max_iter):
        try:
            g = np.concatenate([laws.complement @ cont.problem.rhs(x, p), laws.laws @ x - cont.c])
            jac = np.vstack([laws.complement @ cont.problem.jacobian(x, p), laws.laws])
            step = np.linalg.solve(jac, -g)
        except (SingularStateError, np.linalg.LinAlgError):
            return None
        if not np.isfinite(step).all():
            return None
        x = x + step
        size = max(cont.absorbing_distance(np.concatenate([x, [0.0]])) if cont.absorbing else 1.0, 1e-300)
        if np.abs(step).max() <= max(1e-10 * min(1.0, size), 1e-17):
            return x
    return None


def _finish_at_boundary(cont: _Continuation, branch: Branch, z_good: np.ndarray, p_bad: float,
                        absorbing_tol: float) -> None:
    """End the branch where it leaves the physical domain: at an absorbing state if it is near one."""
    if cont.absorbing and cont.absorbing_distance(z_good) <= 0.05 and _finish_at_absorbing(cont, branch, z_good):
        return
    _finish_by_rate(cont, branch, z_good, p_bad, absorbing_tol)


def _finish_at_absorbing(cont: _Continuation, branch: Branch, z_good: np.ndarray) -> bool:
    """Blow-up: solve ``F1(u; p) = 0, N·u = 1`` from the branch's last direction and rate."""
    from .absorbing import PerturbationCone
    from .singular import SingularLimitError
    from .threshold import _augmented_newton

    x_good, p_good = z_good[:-1], cont.rate(z_good)
    full = cont.problem.full_state(x_good)
    k = int(np.argmin([float(np.abs(full - a).max()) for a in cont.absorbing]))
    state = cont.absorbing_states[k]
    cone = PerturbationCone(cont.problem, state)
    u = x_good - state.state_vector
    r = float(cone.weights @ u)
    if r <= 0:
        return False
    try:
        found = _augmented_newton(cont.problem, state, u / r, p_good)
    except (SingularLimitError, SteadyStateError):
        return False
    if found is None:
        return False
    v, pc = found
    # the branch approaches x* linearly: its rate may differ from p_c by O(r), not more
    if abs(pc - p_good) > max(10.0 * r, 1e-9) * max(1.0, cont.scale) or not cone.contains(v):
        return False
    x_end = state.state_vector
    branch.points.append(BranchPoint(pc, x_end.copy(), cont.problem.full_state(x_end), np.zeros(0, dtype=complex),
                                     "neutral", 0.0))
    branch.bifurcations.append(Bifurcation("meets-absorbing", pc, x_end.copy(), cont.problem.full_state(x_end)))
    return True


def _finish_by_rate(cont: _Continuation, branch: Branch, z_good: np.ndarray, p_bad: float,
                    absorbing_tol: float) -> None:
    """Locate where the branch leaves the physical domain, stepping in the rate itself.

    Near an absorbing state the trivial branch (the absorbing state, a solution at every rate) is
    close by and the arclength corrector may converge onto it; at a fixed rate, warm-started Newton
    stays on the active branch. A rate is *inside* when Newton finds a physical state that is not
    the absorbing state, next to the extrapolated one.
    """
    p_good, x_good = cont.rate(z_good), z_good[:-1].copy()
    slope = None
    if branch.points and branch.points[-1].value != p_good:
        last = branch.points[-1]
        slope = (x_good - last.state) / (p_good - last.value)
    elif len(branch.points) >= 2 and branch.points[-1].value != branch.points[-2].value:
        slope = (branch.points[-1].state - branch.points[-2].state) / (branch.points[-1].value - branch.points[-2].value)

    def inside(p: float) -> np.ndarray | None:
        guess = x_good + (p - p_good) * slope if slope is not None else x_good
        x = _newton_at(cont, guess, p)
        if x is None:
            return None
        zz = np.concatenate([x, [p / cont.scale]])
        if cont.physical_margin(zz) < 0.0:
            return None
        near = cont.absorbing_distance(np.concatenate([x_good, [0.0]]))
        if np.isfinite(near) and cont.absorbing_distance(zz) < 0.5 * near:
            return None  # jumped towards the absorbing state (the trivial branch is a solution too)
        allowed = 0.5 * float(np.abs(guess - x_good).max()) if slope is not None else 0.05
        if float(np.abs(x - guess).max()) > max(allowed, 1e-9 * max(1.0, float(np.abs(x_good).max()))):
            return None  # a correction larger than the predicted change: another branch
        return x

    def accept(p: float, x: np.ndarray) -> None:
        nonlocal p_good, x_good, slope
        if p != p_good:
            slope = (x - x_good) / (p - p_good)
        p_good, x_good = p, x

    sign = np.sign(p_bad - p_good) or 1.0
    delta = max(abs(p_bad - p_good) / 4.0, 1e-9 * max(1.0, abs(p_good)))
    # natural-parameter steps towards the boundary, warm-started from the last accepted state; a
    # failed step is halved (Newton failing is not proof of being outside), so the accepted states
    # march up to the boundary and the last one lies within the final step of it
    while delta > BISECTION_TOL * max(1.0, abs(p_good)):
        trial = p_good + sign * delta
        x = inside(trial)
        if x is None:
            delta *= 0.5
        else:
            accept(trial, x)
            delta *= 1.2
    located = np.concatenate([x_good, [p_good / cont.scale]])
    kind = "meets-absorbing" if cont.absorbing_distance(located) <= absorbing_tol else "meets-boundary"
    try:
        branch.points.append(cont.point(located, np.array([0.0] * cont.d + [np.sign(p_good - cont.rate(z_good)) or 1.0])))
    except (SingularStateError, np.linalg.LinAlgError):
        pass
    branch.bifurcations.append(Bifurcation(kind, p_good, x_good.copy(), cont.problem.full_state(x_good)))


def _detect(cont: _Continuation, branch: Branch, z: np.ndarray, tangent: np.ndarray, h: float,
            before: BranchPoint, after: BranchPoint) -> None:
    if before.stability == after.stability and _counts(before.eigenvalues, 1.0) == _counts(after.eigenvalues, 1.0):
        return
    scale = max(float(np.abs(before.eigenvalues).max(initial=0.0)), float(np.abs(after.eigenvalues).max(initial=0.0)), 1e-300)
    r0, c0 = _counts(before.eigenvalues, scale)
    r1, c1 = _counts(after.eigenvalues, scale)
    if np.sign(before.tangent_p) != np.sign(after.tangent_p):
        kind = "fold"

        def side(zz: np.ndarray) -> bool:
            t = cont.tangent(zz, tangent)
            return bool(np.sign(t[-1]) == np.sign(before.tangent_p))
    elif c0 != c1:
        kind = "hopf"

        def side(zz: np.ndarray) -> bool:
            pt = cont.point(zz, tangent)
            return _counts(pt.eigenvalues, scale)[1] == c0
    elif r0 != r1:
        kind = "branch-point"

        def side(zz: np.ndarray) -> bool:
            pt = cont.point(zz, tangent)
            return _counts(pt.eigenvalues, scale)[0] == r0
    else:
        return
    located = _bisect(cont, z, tangent, h, side)
    branch.bifurcations.append(Bifurcation(kind, cont.rate(located), located[:-1].copy(),
                                           cont.problem.full_state(located[:-1])))
