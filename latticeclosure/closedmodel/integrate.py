"""Integrate a closed model: compiled Dormand–Prince by default, scipy's stiff solvers as fallback.

:func:`solve` (also :meth:`ClosedModel.solve`) integrates the reduced state and returns every window
class (the normalisation-eliminated ones reconstructed) at the requested times.

Methods
    ``"auto"`` (default)
        The compiled Dormand–Prince 5(4) integrator (:mod:`latticeclosure.closedmodel.dopri`) with
        dense output. If it detects stiffness (Hairer's test, when more than 1000 explicit steps would
        remain), exhausts ``max_steps``, sees its step
        size collapse, or fails in any other way, the problem is handed to
        :func:`scipy.integrate.solve_ivp` with ``stiff_method`` (default ``"Radau"``) and the
        compiled Jacobian; :attr:`Solution.method` and :attr:`Solution.message` say so.
    ``"dopri5"``
        The compiled integrator only (no fallback).
    ``"RK45"``, ``"RK23"``, ``"DOP853"``, ``"Radau"``, ``"BDF"``, ``"LSODA"``
        :func:`scipy.integrate.solve_ivp` with the compiled right-hand side (and Jacobian for the
        implicit ones).

Failure detection
    After every step the full window-class vector is checked. A concentration below
    ``-positivity_tol`` is a *loss of positivity*; a non-finite value or one beyond ``max_value`` in
    magnitude is a *blow-up*. Either stops the integration at the time it happened (located by
    bisection on the dense interpolant, or by a terminal event in scipy) and, with
    ``on_failure="raise"`` (default), raises :class:`IntegrationError` whose ``t`` attribute and
    message give that time; ``"warn"`` issues an :class:`IntegrationWarning` and returns the partial
    :class:`Solution` (NaN after the failure); ``"ignore"`` returns it silently.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DataError, IntegrationError
from .vectors import initial_vectors

__all__ = ["solve", "Solution", "IntegrationError", "IntegrationWarning", "STATUS", "SCIPY_METHODS"]

#: Status codes of the compiled integrator.
STATUS = {0: "success", 1: "max_steps", 2: "step_size", 3: "stiff", 4: "positivity", 5: "blow-up"}
SCIPY_METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")
_IMPLICIT = ("Radau", "BDF", "LSODA")


class IntegrationWarning(UserWarning):
    """Issued instead of :class:`IntegrationError` with ``on_failure="warn"``."""


@dataclass
class Solution:
    """Concentrations of every window class at the output times.

    Attributes
    ----------
    t : ndarray (n_times,)
    y : ndarray (n_times, n_classes)
        Column ``j`` is the class ``names[j]`` (all window classes, eliminated ones reconstructed);
        NaN after a failure.
    names : list of str
    status : str
        ``"success"`` or the failure (see :class:`IntegrationError`).
    message : str
    method : str
        What actually integrated (e.g. ``"dopri5"``, or ``"Radau (fallback: stiff at t=0.37)"``).
    t_failure : float or None
    nfev, nsteps, nrejected : int
    """

    t: np.ndarray
    y: np.ndarray
    names: list[str]
    status: str
    message: str
    method: str
    t_failure: float | None = None
    nfev: int = 0
    nsteps: int = 0
    nrejected: int = 0
    state_names: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.status == "success"

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.y[:, self.names.index(name)]
        except ValueError:
            raise KeyError(f"{name!r} is not in the solution; it holds {self.names}") from None

    def as_dict(self) -> dict[str, np.ndarray]:
        return {n: self.y[:, j] for j, n in enumerate(self.names)}

    @property
    def state(self) -> np.ndarray:
        """Columns of the state variables only (``state_names`` order)."""
        return self.y[:, [self.names.index(n) for n in self.state_names]]


def _times(t_eval: Any) -> np.ndarray:
    t = np.array(t_eval, dtype=np.float64).reshape(-1)  # a writable copy: the compiled solver needs one
    if t.size == 0:
        raise DataError("t_eval is empty")
    if not np.isfinite(t).all():
        raise DataError("t_eval must be finite")
    if t.size > 1 and not (t[1:] > t[:-1]).all():
        raise DataError("t_eval must be strictly increasing (the first entry is the initial time)")
    return t


# ------------------------------------------------------------------------------------ scipy path
def _solve_scipy(compiled, t, y0, p, method, rtol, atol, neg_tol, max_value, max_steps) -> tuple[str, np.ndarray, float | None, str, int, int]:
    from scipy.integrate import solve_ivp

    mod = compiled.module
    n = compiled.n_state
    nfull = compiled.n_full
    F, g = compiled.F, compiled.g

    def fun(tt, y):
        out = np.empty(n)
        mod.rhs(float(tt), np.ascontiguousarray(y, dtype=np.float64), p, out)
        return out

    def jac(tt, y):
        out = np.empty((n, n))
        mod.jac(float(tt), np.ascontiguousarray(y, dtype=np.float64), p, out)
        return out

    def full_of(y):
        return F @ y + g

    def positivity(tt, y):
        return float(np.min(full_of(y)) + neg_tol)

    positivity.terminal = True
    positivity.direction = -1

    def bounds(tt, y):
        f = full_of(y)
        if not np.all(np.isfinite(f)):
            return -1.0
        return float(max_value - np.max(np.abs(f)))

    bounds.terminal = True
    bounds.direction = -1
    kwargs: dict[str, Any] = {"rtol": rtol, "atol": atol, "t_eval": t, "events": [positivity, bounds]}
    if method in _IMPLICIT:
        kwargs["jac"] = jac
    with np.errstate(all="ignore"):
        try:
            sol = solve_ivp(fun, (float(t[0]), float(t[-1])), y0, method=method, **kwargs)
        except (ValueError, np.linalg.LinAlgError) as exc:
            # scipy's implicit methods refuse a non-finite Jacobian (a closure dividing by a vanishing
            # concentration): that is a failed integration, not a crash
            return ("failed", np.full((len(t), nfull), np.nan), float(t[0]),
                    f"{method} failed: {exc}", 0, 0)
    Y = np.full((len(t), nfull), np.nan)
    k = sol.y.shape[1]
    if k:
        Y[:k] = compiled.full_state(sol.y.T)
    nsteps = int(getattr(sol, "nfev", 0))
    if sol.status == 1:
        if len(sol.t_events[0]):
            te = float(sol.t_events[0][0])
            return "positivity", Y, te, f"a concentration fell below -{neg_tol:g} at t = {te:.10g}", sol.nfev, nsteps
        te = float(sol.t_events[1][0])
        return "blow-up", Y, te, f"a concentration left [-{max_value:g}, {max_value:g}] at t = {te:.10g}", sol.nfev, nsteps
    if sol.status < 0:
        te = float(sol.t[-1]) if len(sol.t) else float(t[0])
        f = full_of(sol.y[:, -1]) if sol.y.shape[1] else np.array([np.nan])
        status = "blow-up" if not np.all(np.isfinite(f)) else "failed"
        return status, Y, te, f"{method} failed at t = {te:.10g}: {sol.message}", sol.nfev, nsteps
    return "success", Y, None, str(sol.message), sol.nfev, nsteps


# ------------------------------------------------------------------------------------ solve
def solve(
    model: Any,
    t_eval: Any,
    initial_state: Any,
    rates: Any,
    closure_params: Any = None,
    *,
    method: str = "auto",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    stiff_method: str = "Radau",
    dense: bool = True,
    first_step: float | None = None,
    max_steps: int = 100000,
    positivity_tol: float | None = 1e-6,
    max_value: float = 1e3,
    on_failure: str = "raise",
    cache_dir: Any = None,
) -> Solution:
    """Integrate a closed model from ``t_eval[0]`` and return every window class at ``t_eval``.

    Parameters
    ----------
    model : ClosedModel
    t_eval : array_like
        Strictly increasing output times; the first is the initial time.
    initial_state : mapping or array
        Every window class (checked against the normalisation) or only the state variables.
    rates : mapping or array
        Rate constants by name (or in :attr:`ClosedModel.rate_names` order); a mapping may also hold
        the closure parameters.
    closure_params : mapping or array, optional
        Values of the free closure parameters (:attr:`ClosedModel.closure_parameter_names`).
    method : str
        ``"auto"``, ``"dopri5"`` or a :func:`scipy.integrate.solve_ivp` method (module docs).
    rtol, atol : float
        Tolerances (both integrators use the mixed criterion ``atol + rtol·|y|``).
    stiff_method : str
        The scipy method ``"auto"`` falls back to.
    dense : bool
        Compiled integrator: interpolate at ``t_eval`` (True) or step exactly onto every output time.
    first_step : float, optional
        Initial step size (default: Hairer's estimate).
    max_steps : int
        Step budget of the compiled integrator (``"auto"`` falls back when it is exhausted).
    positivity_tol : float or None
        A concentration below ``-positivity_tol`` stops the integration (None: never).
    max_value : float
        A concentration beyond this magnitude (or non-finite) is a blow-up.
    on_failure : {"raise", "warn", "ignore"}
    cache_dir : path, optional
        Compilation cache root (:func:`latticeclosure.closedmodel.compile.cache_directory`).

    Returns
    -------
    Solution

    Raises
    ------
    IntegrationError
        On loss of positivity, blow-up or when no method finishes (with ``on_failure="raise"``).
    DataError
        Bad times, initial state or parameters.
    """
    if on_failure not in ("raise", "warn", "ignore"):
        raise DataError(f"on_failure must be 'raise', 'warn' or 'ignore', got {on_failure!r}")
    valid = ("auto", "dopri5") + SCIPY_METHODS
    if method not in valid:
        raise DataError(f"unknown integration method {method!r}; choose one of {list(valid)}")
    if stiff_method not in SCIPY_METHODS:
        raise DataError(f"unknown stiff method {stiff_method!r}; choose one of {list(SCIPY_METHODS)}")
    if not (rtol > 0 and atol > 0):
        raise DataError(f"rtol and atol must be positive, got rtol={rtol!r}, atol={atol!r}")
    t = _times(t_eval)
    y0, _ = initial_vectors(model, initial_state)
    p = np.ascontiguousarray(model.parameter_vector(rates, closure_params), dtype=np.float64)
    compiled = model.compile(cache_dir)
    neg_tol = np.inf if positivity_tol is None else float(positivity_tol)

    notes = []
    if method in ("auto", "dopri5"):
        status_code, Y, info = compiled.solve_raw(
            t, y0, p, rtol, atol, first_step=first_step or 0.0, max_steps=max_steps, neg_tol=neg_tol,
            max_value=max_value, dense=dense, detect_stiff=(method == "auto"),
        )
        status = STATUS[status_code]
        t_stop = float(info[0])
        sol = Solution(
            t, Y, list(compiled.window_names), status, "", "dopri5",
            None if status == "success" else t_stop, int(info[3]), int(info[1]), int(info[2]), list(compiled.state_names),
        )
        if status == "success":
            sol.message = f"dopri5: {int(info[1])} steps ({int(info[2])} rejected), {int(info[3])} evaluations"
            return sol
        sol.message = _describe(status, t_stop, neg_tol, max_value, "dopri5", max_steps)
        if method == "dopri5":
            return _fail(sol, on_failure)
        notes.append(f"{STATUS[status_code]} at t={t_stop:.6g}")
        run = stiff_method
    else:
        run = method
    status, Y, t_fail, message, nfev, nsteps = _solve_scipy(
        compiled, t, y0, p, run, rtol, atol, neg_tol, max_value, max_steps
    )
    label = run + (f" (fallback: dopri5 {notes[0]})" if notes else "")
    sol = Solution(t, Y, list(compiled.window_names), status, message, label, t_fail, nfev, nsteps, 0, list(compiled.state_names))
    if status != "success":
        if notes:
            sol.message = f"{message} (after the compiled integrator reported {notes[0]})"
        return _fail(sol, on_failure)
    return sol


def _describe(status: str, t: float, neg_tol: float, max_value: float, method: str, max_steps: int) -> str:
    if status == "positivity":
        return f"loss of positivity: a concentration fell below -{neg_tol:g} at t = {t:.10g} ({method})"
    if status == "blow-up":
        return f"blow-up: a concentration became non-finite or exceeded {max_value:g} at t = {t:.10g} ({method})"
    if status == "stiff":
        return f"stiffness detected at t = {t:.10g}: use a stiff method (method='Radau', 'BDF' or 'LSODA')"
    if status == "max_steps":
        return f"{method} took {max_steps} steps and stopped at t = {t:.10g}"
    return f"step size collapsed at t = {t:.10g} ({method})"


def _fail(sol: Solution, on_failure: str) -> Solution:
    if on_failure == "raise":
        raise IntegrationError(sol.message, sol.status, float(sol.t_failure if sol.t_failure is not None else np.nan), sol)
    if on_failure == "warn":
        warnings.warn(sol.message, IntegrationWarning, stacklevel=3)
    return sol
