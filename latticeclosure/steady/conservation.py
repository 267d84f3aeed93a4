"""Linear conservation laws of a reduced closed model, beyond the normalisations already eliminated.

A closed model's state has one class per window shape eliminated through ``Σ_c m_c C_c = 1``. Some
dynamics conserve more: Kawasaki swaps conserve the composition when the rates satisfy the drift
relations, and then every fixed point lies on a whole line (plane, …) of fixed points and the
Jacobian is singular along it. Newton and continuation then work on one leaf ``W x = c``.

The laws are found numerically: ``w`` with ``w · f(x) = 0`` at random interior states and random
values of the varied rate span the null space of the sampled right-hand sides; each law is
accepted only if it also holds, to rounding, at fresh random states.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ConservationLaws", "conservation_laws", "random_interior_states"]


@dataclass(frozen=True)
class ConservationLaws:
    """Orthonormal bases of the conserved directions and of their complement.

    Attributes
    ----------
    laws : ndarray, shape (k, d)
        ``W``: ``d/dt (W x) = 0`` for every state ``x``.
    complement : ndarray, shape (d - k, d)
        ``Q``: orthonormal rows spanning the orthogonal complement; ``f(x)`` lies in its span.
    """

    laws: np.ndarray
    complement: np.ndarray

    @property
    def count(self) -> int:
        """Number of conservation laws ``k``."""
        return int(self.laws.shape[0])

    def reduced_jacobian(self, jacobian: np.ndarray) -> np.ndarray:
        """``Q J Qᵀ``: the Jacobian on a leaf (its eigenvalues decide stability within the leaf)."""
        return self.complement @ jacobian @ self.complement.T


def random_interior_states(model: object, count: int, rng: np.random.Generator) -> np.ndarray:
    """Reduced states with every window class positive and every window shape normalised.

    Parameters
    ----------
    model : ClosedModel
    count : int
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (count, number of state variables)
    """
    classes = model.window_classes
    mult = np.array([c.multiplicity for c in classes], dtype=float)
    shape_of = [c.shape.name for c in classes]
    idx = [model.window_names.index(n) for n in model.state_names]
    out = np.empty((count, len(idx)))
    for r in range(count):
        full = rng.uniform(0.2, 1.0, size=len(classes))
        for shape in set(shape_of):
            members = [i for i, s in enumerate(shape_of) if s == shape]
            full[members] /= float(np.dot(mult[members], full[members]))
        out[r] = full[idx]
    return out


def conservation_laws(problem: object, seed: int = 0, tol: float = 1e-9) -> ConservationLaws:
    """The linear conservation laws of a :class:`~latticeclosure.steady.problem.SteadyProblem`.

    Parameters
    ----------
    problem : SteadyProblem
    seed : int
        Seed of the random sample states.
    tol : float
        Relative size below which a singular value (and a check residual) counts as zero.

    Returns
    -------
    ConservationLaws
    """
    d = problem.n_state
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x5EED,)))
    states = random_interior_states(problem.model, 2 * d + 6, rng)

    def sample_value() -> float | None:
        return None if problem.free is None else float(rng.uniform(0.1, 4.0))

    rows = np.array([problem.rhs(x, sample_value()) for x in states])
    scale = np.abs(rows).max() if rows.size else 0.0
    if d == 0 or scale == 0.0:
        return ConservationLaws(np.zeros((0, d)), np.eye(d))
    _, sing, vt = np.linalg.svd(rows / scale)
    sing = np.concatenate([sing, np.zeros(d - len(sing))])
    null = vt[sing < tol]
    if len(null):
        check = np.array([problem.rhs(x, sample_value()) for x in random_interior_states(problem.model, 4, rng)])
        resid = np.abs(check @ null.T) / (np.abs(check).max(axis=1, keepdims=True) + 1e-300)
        null = null[(resid < 1e-8).all(axis=0)]
    if len(null) == 0:
        return ConservationLaws(np.zeros((0, d)), np.eye(d))
    q, _ = np.linalg.qr(np.concatenate([null.T, np.eye(d)], axis=1))
    k = len(null)
    return ConservationLaws(q[:, :k].T.copy(), q[:, k:d].T.copy())
