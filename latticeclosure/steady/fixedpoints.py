"""Fixed points of closed models: by integration to long times and by Newton, with their stability.

Both work on the reduced system ``f(x) = 0`` of :class:`~latticeclosure.steady.problem.SteadyProblem`
(normalisations already eliminated). Further linear conservation laws ``W x = c``
(:mod:`latticeclosure.steady.conservation`) are eliminated too: Newton solves
``[Q f(x); W x − c] = 0`` with ``Q`` an orthonormal basis of the complement of ``W`` and ``c`` the
conserved values of the starting state, and stability is decided by the eigenvalues of
``Q J Qᵀ``, the Jacobian within the leaf.

A state where a closure is 0/0 (an absorbing state) has no Jacobian; its stability is the growth
rate of its dominant perturbation mode (:func:`latticeclosure.steady.absorbing.growth_mode`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..errors import SteadyStateError
from .conservation import ConservationLaws, conservation_laws
from .problem import SingularStateError, SteadyProblem

__all__ = [
    "FixedPoint",
    "newton_fixed_point",
    "integrate_to_fixed_point",
    "fixed_point_stability",
    "classify",
    "STABILITY_TOL",
]

#: Relative size of an eigenvalue's real part (against the Jacobian's scale) below which it counts as 0.
STABILITY_TOL = 1e-9


def classify(eigenvalues: np.ndarray, scale: float = 1.0, tol: float = STABILITY_TOL) -> str:
    """``"stable"`` (all real parts < 0), ``"unstable"`` (one > 0) or ``"neutral"`` (largest ≈ 0)."""
    if eigenvalues.size == 0:
        return "stable"
    top = float(np.max(eigenvalues.real))
    eps = tol * max(scale, 1e-300)
    if top > eps:
        return "unstable"
    if top < -eps:
        return "stable"
    return "neutral"


@dataclass
class FixedPoint:
    """A fixed point of a closed model and its stability.

    Attributes
    ----------
    state : ndarray
        Reduced state (``model.state_names`` order).
    full_state : ndarray
        Every window class (``model.window_names`` order).
    value : float or None
        The varied rate, when the problem has one.
    residual : float
        ``max |f(x)|`` (0 at a singular state, where it is the limit).
    eigenvalues : ndarray or None
        Of the Jacobian within the conservation leaf; None at a singular state.
    stability : str
        ``"stable"``, ``"unstable"`` or ``"neutral"`` (``"undefined"`` at a singular state where
        the closed right-hand side has no first-order limit).
    singular : bool
        A closure is 0/0 at the state: stability comes from the dominant perturbation mode.
    growth_rate : float or None
        At a singular state: the growth rate of its dominant perturbation mode.
    method : str
        How it was found (``"newton"``, ``"integration+newton"``, ``"absorbing"``).
    iterations : int
    """

    state: np.ndarray
    full_state: np.ndarray
    value: float | None
    residual: float
    eigenvalues: np.ndarray | None
    stability: str
    singular: bool = False
    growth_rate: float | None = None
    method: str = "newton"
    iterations: int = 0
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def stable(self) -> bool:
        """True when every perturbation decays."""
        return self.stability == "stable"

    def to_json(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """A JSON-ready summary (``names``: window class names for ``full_state``)."""
        out: dict[str, Any] = {
            "value": self.value,
            "residual": self.residual,
            "stability": self.stability,
            "singular": self.singular,
            "method": self.method,
        }
        if names is not None:
            out["state"] = {n: float(v) for n, v in zip(names, self.full_state)}
        else:
            out["state"] = [float(v) for v in self.full_state]
        if self.eigenvalues is not None:
            out["eigenvalues"] = [[float(e.real), float(e.imag)] for e in self.eigenvalues]
        if self.growth_rate is not None:
            out["growth_rate"] = self.growth_rate
        return out


def fixed_point_stability(problem: SteadyProblem, x: np.ndarray, value: float | None = None,
                          laws: ConservationLaws | None = None) -> tuple[np.ndarray, str]:
    """Eigenvalues of the Jacobian within the conservation leaf at ``x``, and their verdict.

    Raises
    ------
    SingularStateError
        The Jacobian does not exist at ``x`` (a closure is 0/0 there).
    """
    laws = conservation_laws(problem) if laws is None else laws
    jac = problem.jacobian(x, value)
    reduced = laws.reduced_jacobian(jac)
    eig = np.linalg.eigvals(reduced) if reduced.size else np.zeros(0, dtype=complex)
    scale = float(np.abs(reduced).max()) if reduced.size else 1.0
    return eig, classify(eig, scale)


def _residual(problem: SteadyProblem, laws: ConservationLaws, x: np.ndarray, c: np.ndarray,
              value: float | None) -> np.ndarray:
    f = problem.rhs(x, value)
    return np.concatenate([laws.complement @ f, laws.laws @ x - c])


def newton_fixed_point(
    problem: SteadyProblem,
    x0: Sequence[float],
    value: float | None = None,
    *,
    laws: ConservationLaws | None = None,
    conserved: Sequence[float] | None = None,
    tol: float = 1e-12,
    max_iter: int = 60,
) -> FixedPoint:
    """Newton's method (with backtracking) on the reduced system from ``x0``.

    Parameters
    ----------
    problem : SteadyProblem
    x0 : sequence of float
        Starting state (reduced); it also fixes the conserved values unless ``conserved`` is given.
    value : float, optional
        The varied rate.
    laws : ConservationLaws, optional
        Computed when not given.
    conserved : sequence of float, optional
        ``c`` in ``W x = c``.
    tol : float
        Convergence: ``max |residual| ≤ tol`` and a last step below ``sqrt(tol)``.
    max_iter : int

    Returns
    -------
    FixedPoint

    Raises
    ------
    SteadyStateError
        No convergence (the message gives the last residual).
    """
    laws = conservation_laws(problem) if laws is None else laws
    x = np.array(x0, dtype=float)
    if x.shape != (problem.n_state,):
        raise SteadyStateError(f"starting state has shape {x.shape}; expected ({problem.n_state},)")
    c = laws.laws @ x if conserved is None else np.asarray(conserved, dtype=float)
    try:
        g = _residual(problem, laws, x, c, value)
    except SingularStateError:
        raise SteadyStateError("Newton cannot start at a state where a closure is 0/0; start next to it") from None
    norm = float(np.abs(g).max())
    it = 0
    for it in range(1, max_iter + 1):
        jac = np.vstack([laws.complement @ problem.jacobian(x, value), laws.laws])
        try:
            step = np.linalg.solve(jac, -g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(jac, -g, rcond=None)[0]
        lam = 1.0
        accepted = False
        for _ in range(40):
            trial = x + lam * step
            try:
                gt = _residual(problem, laws, trial, c, value)
            except SingularStateError:
                lam *= 0.5
                continue
            nt = float(np.abs(gt).max())
            if np.isfinite(nt) and (nt < norm or nt <= tol):
                accepted = True
                break
            lam *= 0.5
        if not accepted:
            break
        x, g, norm = trial, gt, nt
        if norm <= tol and float(np.abs(lam * step).max()) <= max(np.sqrt(tol), 1e-6) * max(1.0, float(np.abs(x).max())):
            return _finish(problem, laws, x, value, norm, "newton", it)
    raise SteadyStateError(
        f"Newton did not converge from the given state (residual {norm:.3g} after {it} iterations); "
        "start closer to a fixed point (e.g. integrate to long times first)"
    )


def _finish(problem: SteadyProblem, laws: ConservationLaws, x: np.ndarray, value: float | None,
            residual: float, method: str, iterations: int) -> FixedPoint:
    eig, verdict = fixed_point_stability(problem, x, value, laws)
    return FixedPoint(x, problem.full_state(x), value, residual, eig, verdict, method=method, iterations=iterations)


def integrate_to_fixed_point(
    problem: SteadyProblem,
    initial: Any,
    value: float | None = None,
    *,
    laws: ConservationLaws | None = None,
    t_first: float = 10.0,
    t_max: float = 1e6,
    switch_tol: float = 1e-6,
    tol: float = 1e-12,
    absorbing_tol: float = 1e-9,
) -> FixedPoint:
    """Integrate to long times, then polish the end state with Newton.

    The integration runs over windows of doubling length (``t_first``, 2·``t_first``, …) until
    ``max |f| ≤ switch_tol``; Newton then converges to the fixed point the trajectory approaches
    (its result is accepted only if it lies next to the end state). A trajectory that ends within
    ``absorbing_tol`` of a uniform absorbing state returns that state.

    Parameters
    ----------
    problem : SteadyProblem
    initial : mapping or array
        Initial state (every window class or the reduced state; see ``ClosedModel.solve``).
    value : float, optional
        The varied rate.
    t_first, t_max : float
        Length of the first window; total time after which the search gives up.

    Returns
    -------
    FixedPoint

    Raises
    ------
    SteadyStateError
        No fixed point reached by ``t_max`` (a limit cycle, or very slow convergence).
    IntegrationError
        The integration itself failed (loss of positivity, blow-up).
    """
    from .absorbing import absorbing_states

    laws = conservation_laws(problem) if laws is None else laws
    model = problem.model
    x = model.initial_state(initial) if not isinstance(initial, np.ndarray) or initial.shape != (problem.n_state,) \
        else np.array(initial, dtype=float)
    params = dict(zip(model.parameter_names, problem.vector(value)))
    c = laws.laws @ x
    absorbing = absorbing_states(model)
    elapsed, window = 0.0, float(t_first)
    while elapsed < t_max:
        sol = model.solve(np.array([0.0, window]), x, params, rtol=1e-10, atol=1e-13)
        x = sol.y[-1][[model.window_names.index(n) for n in model.state_names]]
        elapsed += window
        full = problem.full_state(x)
        for a in absorbing:
            if np.abs(full - a.full_state).max() <= absorbing_tol:
                return _absorbing_fixed_point(problem, a, value)
        try:
            res = float(np.abs(problem.rhs(x, value)).max())
        except SingularStateError:
            res = np.inf
        if res <= switch_tol:
            try:
                fp = newton_fixed_point(problem, x, value, laws=laws, conserved=c, tol=tol)
            except SteadyStateError:
                fp = None
            if fp is not None and np.abs(fp.state - x).max() <= max(1e3 * res, 1e-8):
                for a in absorbing:
                    if np.abs(fp.full_state - a.full_state).max() <= absorbing_tol:
                        return _absorbing_fixed_point(problem, a, value)
                fp.method = "integration+newton"
                return fp
        window *= 2.0
    raise SteadyStateError(
        f"no fixed point reached by t = {elapsed:g} (max |dC/dt| = {res:.3g}); the trajectory may approach "
        "a limit cycle or converge very slowly (near a threshold)"
    )


def _absorbing_fixed_point(problem: SteadyProblem, absorbing: Any, value: float | None) -> FixedPoint:
    from .absorbing import growth_mode

    x = absorbing.state_vector
    try:
        return _finish(problem, conservation_laws(problem), x, value, float(np.abs(problem.rhs(x, value)).max()),
                       "absorbing", 0)
    except SingularStateError:
        from .singular import SingularLimitError

        try:
            mode = growth_mode(problem, absorbing, value)
        except SingularLimitError:
            # the closure stays finite at the state: no first-order limit, stability undefined
            return FixedPoint(x, problem.full_state(x), value, 0.0, None, "undefined", singular=True,
                              method="absorbing")
        verdict = classify(np.array([mode.rate]), mode.scale)
        return FixedPoint(x, problem.full_state(x), value, 0.0, None, verdict, singular=True,
                          growth_rate=mode.rate, method="absorbing")

