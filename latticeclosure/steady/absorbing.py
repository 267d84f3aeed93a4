"""Absorbing states: uniform configurations in which no event of the dynamics can happen.

A uniform configuration of species ``s`` has every cluster concentration equal to 1 for the
uniform class of ``s`` and 0 for every other class. It is *absorbing* when the exact (unclosed)
hierarchy vanishes there identically in the rates: no spontaneous change of ``s`` and no change
of ``s`` catalysed by ``s``. The test uses the generated equations, not a closure, so it is a
property of the process (the contact process and SIS: all susceptible; the voter model: both
uniform states). Whether a closed model keeps the state as a fixed point is checked separately,
when its limit there is taken (:mod:`latticeclosure.steady.singular`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..errors import SteadyStateError

__all__ = ["AbsorbingState", "GrowthMode", "absorbing_states", "select_absorbing_state", "growth_mode", "state_limit",
           "PerturbationCone", "neutral_directions"]


@dataclass(frozen=True)
class AbsorbingState:
    """A uniform absorbing state of a closed model.

    Attributes
    ----------
    species : str
        The species filling the lattice.
    full_state : ndarray
        Every window class (``model.window_names`` order): 1 for the uniform classes of ``species``.
    state : tuple of sympy.Integer
        The reduced state (``model.state_names`` order), exact.
    vanishing : tuple of bool
        Per window class: whether it is zero at the state (the classes a perturbation must increase).
    """

    species: str
    full_state: np.ndarray
    state: tuple
    vanishing: tuple[bool, ...]

    @property
    def state_vector(self) -> np.ndarray:
        """The reduced state as floats."""
        return np.array([float(v) for v in self.state])


def _uniform(cls: Any, index: int) -> bool:
    return all(s == index for s in cls.pattern)


def absorbing_states(model: Any) -> list[AbsorbingState]:
    """The uniform absorbing states of a closed model's process, in species order.

    Parameters
    ----------
    model : ClosedModel
        Built from generated equations (``model.equations`` with ``rhs``, ``species`` and classes).

    Returns
    -------
    list of AbsorbingState
        Empty when no uniform configuration is absorbing.
    """
    eqs = model.equations
    species = list(eqs.species)
    classes = [c for size in range(1, eqs.index.max_size + 1) for c in eqs.index.classes_of_size(size)]
    out = []
    for i, s in enumerate(species):
        values = {sp.Symbol(c.name): sp.Integer(1 if _uniform(c, i) else 0) for c in classes}
        absorbing = True
        for expr in eqs.rhs.values():
            expr = sp.sympify(expr)
            if sp.expand(expr.xreplace(values)) != 0:
                absorbing = False
                break
        if not absorbing:
            continue
        full = np.array([1.0 if _uniform(c, i) else 0.0 for c in model.window_classes])
        state = tuple(sp.Integer(1 if _uniform(model.window_classes[model.window_names.index(n)], i) else 0)
                      for n in model.state_names)
        out.append(AbsorbingState(s, full, state, tuple(bool(v == 0.0) for v in full)))
    return out


def select_absorbing_state(model: Any, species: str | None = None) -> AbsorbingState:
    """The absorbing state a threshold refers to.

    Parameters
    ----------
    model : ClosedModel
    species : str, optional
        Its species; needed when the process has more than one uniform absorbing state.

    Raises
    ------
    SteadyStateError
        No absorbing state (a threshold is undefined), several and none chosen, or the chosen
        species' uniform state is not absorbing.
    """
    found = absorbing_states(model)
    names = [a.species for a in found]
    if not found:
        raise SteadyStateError(
            "the model has no absorbing state (every uniform configuration can change: some species "
            "flips spontaneously or catalyses itself), so it has no threshold; use fixed points or "
            "continuation instead"
        )
    if species is None:
        if len(found) > 1:
            raise SteadyStateError(
                f"the model has several absorbing states (uniform {', '.join(names)}); choose one "
                "(--absorbing SPECIES)"
            )
        return found[0]
    if species not in names:
        raise SteadyStateError(
            f"the uniform state of {species!r} is not absorbing; absorbing: {', '.join(names) or 'none'}"
        )
    return found[names.index(species)]


# ---------------------------------------------------------------------------- perturbation modes
@dataclass
class GrowthMode:
    """The dominant perturbation mode of an absorbing state: ``F1(v) = rate · v`` in the physical cone.

    Attributes
    ----------
    rate : float
        Growth rate μ: perturbations along ``direction`` grow like ``exp(μ t)``; the absorbing
        state is stable when μ < 0.
    direction : ndarray
        ``v`` (reduced coordinates), normalised to unit total weight of the vanishing classes.
    scale : float
        Size of ``∂F1/∂v`` (for the tolerance that decides μ ≈ 0).
    linear : bool
        The right-hand side is differentiable at the state (``F1(v) = J v``; μ is an eigenvalue of J).
    attracting : bool
        Every other eigenvalue of ``∂F1/∂v`` at ``v`` has a smaller real part: nearby perturbations
        turn towards ``v`` (``v`` is the dominant mode, not a saddle ray).
    """

    rate: float
    direction: np.ndarray
    scale: float
    linear: bool
    attracting: bool


#: Directional limits per closed model and absorbing species (symbolic work done once per model).
_LIMITS: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()


def state_limit(model: Any, absorbing: AbsorbingState) -> Any:
    """The :class:`~latticeclosure.steady.singular.DirectionalLimit` of ``model`` at ``absorbing`` (cached)."""
    from .singular import directional_limit

    per_model = _LIMITS.setdefault(model, {})
    if absorbing.species not in per_model:
        per_model[absorbing.species] = directional_limit(model, list(absorbing.state))
    return per_model[absorbing.species]


class PerturbationCone:
    """The physical perturbations of an absorbing state: the classes that vanish there may only grow.

    Attributes
    ----------
    weights : ndarray
        ``N`` with ``N·v`` the total (multiplicity-weighted) change of the vanishing classes;
        mode directions are normalised to ``N·v = 1``.
    start : ndarray
        An interior direction: every vanishing class grows by the same amount.
    """

    def __init__(self, problem: Any, absorbing: AbsorbingState) -> None:
        model = problem.model
        F = np.asarray(problem.compiled.F, dtype=float)
        self.zero = np.array(absorbing.vanishing, dtype=bool)
        mult = np.array([c.multiplicity for c in model.window_classes], dtype=float)
        self.F_zero = F[self.zero]
        self.mult_zero = mult[self.zero]
        self.weights = self.mult_zero @ self.F_zero  # N: N·v = total weight of the vanishing classes
        # interior start: every vanishing class +1, the uniform classes take up the normalisation
        delta = np.where(self.zero, 1.0, 0.0)
        shapes = [c.shape.name for c in model.window_classes]
        for shape in set(shapes):
            members = [i for i, s in enumerate(shapes) if s == shape]
            keep = [i for i in members if not self.zero[i]]
            if keep:
                delta[keep] = -float(np.dot(mult[members], delta[members])) / float(mult[keep].sum())
        idx = [model.window_names.index(n) for n in model.state_names]
        self.start = self.normalise(delta[idx])

    def normalise(self, v: np.ndarray) -> np.ndarray:
        total = float(self.weights @ v)
        if total == 0.0:
            raise SteadyStateError("perturbation of the absorbing state has no weight on its vanishing classes")
        return v / total

    def contains(self, v: np.ndarray, tol: float = 1e-9, ignore: np.ndarray | None = None) -> bool:
        """Whether ``v`` increases every vanishing class (except those flagged in ``ignore``)."""
        ok = self.F_zero @ v >= -tol * max(1.0, float(np.abs(v).max()))
        if ignore is not None:
            ok = ok | np.asarray(ignore, dtype=bool)
        return bool(ok.all())


def _newton_mode(limit: Any, p: np.ndarray, cone: PerturbationCone, v: np.ndarray, tol: float = 1e-13,
                 max_iter: int = 50) -> tuple[np.ndarray, float] | None:
    d = len(v)
    v = cone.normalise(v)
    mu = float(cone.weights @ limit(v, p))
    for _ in range(max_iter):
        r = np.concatenate([limit(v, p) - mu * v, [cone.weights @ v - 1.0]])
        if not np.isfinite(r).all():
            return None
        jac = np.zeros((d + 1, d + 1))
        jac[:d, :d] = limit.jacobian(v, p) - mu * np.eye(d)
        jac[:d, d] = -v
        jac[d, :d] = cone.weights
        if not np.isfinite(jac).all():
            return None
        try:
            step = np.linalg.solve(jac, -r)
        except np.linalg.LinAlgError:
            return None
        v = v + step[:d]
        mu += step[d]
        if np.abs(step).max() <= tol * max(1.0, abs(mu), float(np.abs(v).max())):
            return v, mu
    return None


def _flow_mode(limit: Any, p: np.ndarray, cone: PerturbationCone, v: np.ndarray, scale: float,
               max_steps: int = 200000) -> np.ndarray:
    """Integrate the ray flow ``v' = F1(v) − (N·F1(v)) v`` (the continuous power iteration)."""
    dt = 0.25 / max(scale, 1e-300)
    v = cone.normalise(v)

    def flow(u: np.ndarray) -> np.ndarray:
        g = limit(u, p)
        return g - float(cone.weights @ g) * u

    for step in range(max_steps):
        k1 = flow(v)
        if not np.isfinite(k1).all():
            raise SteadyStateError(_FACE_MESSAGE)
        if step % 50 == 0:
            mu = float(cone.weights @ limit(v, p))
            if np.abs(k1).max() <= 1e-7 * max(scale, abs(mu)) * max(1.0, float(np.abs(v).max())):
                break
        k2 = flow(v + 0.5 * dt * k1)
        k3 = flow(v + 0.5 * dt * k2)
        k4 = flow(v + dt * k3)
        v = cone.normalise(v + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4))
    return v


def growth_mode(problem: Any, absorbing: AbsorbingState, value: float | None = None,
                start: np.ndarray | None = None) -> GrowthMode:
    """The dominant perturbation mode of an absorbing state and its growth rate.

    ``F1(v) = lim f(x* + t v)/t`` (:func:`state_limit`) is positively homogeneous of degree one; a
    physical perturbation increases only classes that vanish at ``x*``. The dominant mode is the
    ray ``F1(v) = μ v`` of that cone that attracts the others: for a differentiable right-hand side
    the leading eigenvector of the Jacobian, otherwise found by integrating the ray flow (the
    continuous analogue of power iteration) and refined by Newton on ``(v, μ)``.

    Parameters
    ----------
    problem : SteadyProblem
    absorbing : AbsorbingState
    value : float, optional
        The varied rate.
    start : ndarray, optional
        A nearby mode direction (warm start, e.g. at a neighbouring rate).

    Returns
    -------
    GrowthMode
    """
    limit = state_limit(problem.model, absorbing)
    p = problem.vector(value)
    cone = PerturbationCone(problem, absorbing)
    if limit.linear:
        found = _linear_mode(problem, limit, cone, p)
        if found is not None:
            return found
    v = cone.start if start is None else np.asarray(start, dtype=float)
    scale = float(np.abs(limit.jacobian(cone.normalise(v), p)).max()) or 1.0
    found = _newton_mode(limit, p, cone, v) if start is not None else None
    if found is None or not _attracting(limit, p, *found, scale):
        v = _flow_mode(limit, p, cone, v, scale)
        found = _newton_mode(limit, p, cone, v)
        if found is None:
            # a degenerate dominant mode (e.g. no infection at all: every one-site perturbation decays
            # alike) leaves Newton's system singular; the converged flow is then the answer
            mu = float(cone.weights @ limit(v, p))
            if np.abs(limit(v, p) - mu * v).max() > 1e-6 * max(scale, abs(mu)) * max(1.0, float(np.abs(v).max())):
                raise SteadyStateError("the dominant perturbation mode of the absorbing state did not converge")
            found = (v, mu)
    v, mu = found
    if not (np.isfinite(v).all() and np.isfinite(mu)):
        raise SteadyStateError(_FACE_MESSAGE)
    return GrowthMode(float(mu), v, float(np.abs(limit.jacobian(v, p)).max()) or 1.0, False,
                      _attracting(limit, p, v, mu, scale))


_FACE_MESSAGE = (
    "the dominant perturbation mode of the absorbing state runs into a face where the closure's limit is "
    "itself 0/0 (next to a family of absorbing states, as in SIR); a threshold needs a closure that is "
    "differentiable there (e.g. pair:loop=chain)"
)


def _absorbing_of(problem: Any, limit: Any) -> AbsorbingState:
    for state in absorbing_states(problem.model):
        if np.array_equal(state.state_vector, limit.state):
            return state
    raise SteadyStateError("the limit was not taken at an absorbing state of this model")


def neutral_directions(problem: Any, limit: Any, p: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Orthonormal columns spanning the directions with ``J(p) v = 0`` at every value of the varied rate.

    They lead along a family of absorbing states (SIR: all-susceptible mixed with removed sites is
    absorbing too), decay at rate 0 whatever the rate, and carry no threshold.
    """
    start = PerturbationCone(problem, _absorbing_of(problem, limit)).start
    mats = [limit.jacobian(start, p)]
    if problem.free_index is not None:
        for shift in (1.0, 2.718281828):
            q = p.copy()
            q[problem.free_index] = p[problem.free_index] + shift
            mats.append(limit.jacobian(start, q))
    stack = np.vstack(mats)
    if not np.isfinite(stack).all():
        raise SteadyStateError(_FACE_MESSAGE)
    scale = float(np.abs(stack).max()) or 1.0
    _, sing, vt = np.linalg.svd(stack)
    sing = np.concatenate([sing, np.zeros(vt.shape[0] - len(sing))])
    return vt[sing <= tol * scale].T


def _linear_mode(problem: Any, limit: Any, cone: "PerturbationCone", p: np.ndarray) -> "GrowthMode | None":
    """Leading eigenvector of the Jacobian in the cone, neutral directions factored out."""
    jac = limit.jacobian(cone.start, p)
    if not np.isfinite(jac).all():
        raise SteadyStateError(_FACE_MESSAGE)
    scale = float(np.abs(jac).max()) or 1.0
    d = jac.shape[0]
    neutral = neutral_directions(problem, limit, p)
    if neutral.shape[1]:
        # J N = 0: the other eigenvalues are those of the map induced on the complement C
        basis, _ = np.linalg.qr(np.hstack([neutral, np.eye(d)]))
        comp = basis[:, neutral.shape[1]:d]
        eig, vec_c = np.linalg.eig(comp.T @ jac @ comp)
    else:
        comp = None
        eig, vec_c = np.linalg.eig(jac)
    order = np.argsort(-eig.real)
    for k in order:
        if abs(eig[k].imag) > 1e-12 * scale:
            continue
        mu = float(eig[k].real)
        u = np.real(vec_c[:, k])
        if comp is None:
            v = u
        else:
            # lift to an eigenvector of J: v = C u + N a with N a = (J C u − μ C u)/μ (μ ≠ 0)
            cu = comp @ u
            if abs(mu) <= 1e-12 * scale:
                v = cu
            else:
                v = cu + neutral @ (neutral.T @ (jac @ cu - mu * cu)) / mu
        # classes moved by neutral directions are not checked (a neutral shift can make them
        # positive) and do not count in the normalisation
        ignore = np.abs(cone.F_zero @ neutral).max(axis=1) > 1e-12 if neutral.shape[1] else None
        weights = cone.weights if ignore is None else cone.mult_zero[~ignore] @ cone.F_zero[~ignore]
        total = float(weights @ v)
        if total == 0.0:
            continue
        v = v / total
        if cone.contains(v, ignore=ignore):
            attracting = bool(k == order[0] or eig[order[0]].real <= mu + 1e-12 * scale)
            return GrowthMode(mu, v, scale, True, attracting)
    return None


def _attracting(limit: Any, p: np.ndarray, v: np.ndarray, mu: float, scale: float) -> bool:
    jac = limit.jacobian(v, p)
    if not np.isfinite(jac).all():
        return False
    eig = np.linalg.eigvals(jac)
    # one eigenvalue is μ itself (Euler: ∂F1/∂v · v = F1(v) = μ v); the others must lie below it
    k = int(np.argmin(np.abs(eig - mu)))
    others = np.delete(eig, k)
    return bool(others.size == 0 or others.real.max() < mu + 1e-9 * scale)
