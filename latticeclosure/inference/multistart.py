"""Multi-start bounded least squares: every local minimum of F(K), kept, clustered and reported.

Starts: the reference point (every rate equal to the best common rate ``k_ref`` of a 1-D scan of
F(k·1) over ten decades; for rate combinations, the best of ``±a`` on the same scan) followed by a
scrambled Latin hypercube (``scipy.stats.qmc``) in ``[k_ref/10, 10·k_ref]`` per rate, uniform in
log K (combinations: uniform in ``[−10 a_ref, 10 a_ref]``), seeded from
``SeedSequence(seed, spawn_key=(1, 0))``. Each start is a trust-region-reflective
``scipy.optimize.least_squares`` fit with ``K ≥ 0`` (``log_parameters=True``: in ``θ = log K``,
unbounded) and the Jacobian of the forward sensitivities; the fits run in parallel on an executor.

Minima: two fits belong to the same minimum when their F agree to ``f_rtol`` (relative) and their
predicted trajectories to ``c_atol`` (max abs difference of every window class on every record) —
points along a valley of equally good rates (non-identifiable directions) are one minimum. Clusters
are sorted by F; :attr:`Minimum.spread` gives each rate's range over a cluster's fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigurationError
from .parallel import STREAM_STARTS, local_executor, map_tasks, task_seed

__all__ = ["LocalFit", "Minimum", "MultistartResult", "multistart_fit", "start_design", "reference_scale", "local_fit"]


@dataclass
class LocalFit:
    """One local least-squares fit."""

    index: int
    start: np.ndarray
    x: np.ndarray
    F: float
    success: bool
    status: int
    message: str
    nfev: int
    njev: int


@dataclass
class Minimum:
    """A cluster of fits that reached the same local minimum."""

    F: float
    x: np.ndarray
    members: list[int]
    spread: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class MultistartResult:
    """All local fits of a multi-start and their clusters.

    Attributes
    ----------
    parameter_names : list of str
    fits : list of LocalFit
        In start order.
    minima : list of Minimum
        Distinct local minima, best first.
    starts : ndarray (n_starts, d)
    reference : float
        The common scale of the start box (``k_ref`` or ``a_ref``).
    """

    parameter_names: list[str]
    fits: list[LocalFit]
    minima: list[Minimum]
    starts: np.ndarray
    reference: float
    design: str

    @property
    def best(self) -> Minimum:
        if not self.minima:
            raise ConfigurationError("no local fit converged to a finite F")
        return self.minima[0]

    @property
    def n_minima(self) -> int:
        return len(self.minima)

    def sorted_F(self) -> np.ndarray:
        """Final F of every fit, sorted (the waterfall plot)."""
        return np.sort(np.array([f.F for f in self.fits], dtype=float))

    def to_json(self, max_minima: int = 20) -> dict[str, Any]:
        names = self.parameter_names
        return {
            "n_starts": len(self.fits),
            "design": self.design,
            "reference_scale": self.reference,
            "n_converged": sum(1 for f in self.fits if math.isfinite(f.F)),
            "n_minima": self.n_minima,
            "best": {"F": self.best.F, "parameters": dict(zip(names, map(float, self.best.x)))} if self.minima else None,
            "minima": [
                {"F": m.F, "count": len(m.members), "parameters": dict(zip(names, map(float, m.x))), "spread": m.spread}
                for m in self.minima[:max_minima]
            ],
            "sorted_F": [float(v) for v in self.sorted_F()],
        }


def reference_scale(objective: Any, decades: tuple[float, float] = (-4.0, 4.0), n: int = 33) -> tuple[float, np.ndarray]:
    """The best common scale of a 1-D scan: ``(scale, point)`` minimising F over ``k·1`` (or ``±a·1``)."""
    grid = np.logspace(decades[0], decades[1], n)
    d = objective.n_parameters
    signs = [1.0] if np.all(objective.lower_bounds >= 0) else [1.0, -1.0]
    best = (math.inf, grid[n // 2], np.full(d, grid[n // 2]))
    for s in signs:
        for k in grid:
            x = np.full(d, s * k)
            f = objective.value(x)
            if f < best[0]:
                best = (f, k, x)
    return float(best[1]), best[2]


def start_design(objective: Any, n_starts: int, seed: int, design: str = "lhs", reference: float | None = None
                 ) -> tuple[np.ndarray, float]:
    """``(starts (n_starts, d), reference scale)``: the reference point, then a space-filling design."""
    from scipy.stats import qmc

    if isinstance(n_starts, bool) or not isinstance(n_starts, (int, np.integer)) or int(n_starts) < 1:
        raise ConfigurationError(f"the number of starts must be a positive integer, got {n_starts!r}")
    d = objective.n_parameters
    if reference is None:
        reference, ref_point = reference_scale(objective)
    else:
        ref_point = np.full(d, reference)
    ss = task_seed(seed, STREAM_STARTS, 0)
    gen = np.random.Generator(np.random.PCG64(ss))
    samplers = {"lhs": qmc.LatinHypercube, "sobol": qmc.Sobol, "halton": qmc.Halton}
    if design not in samplers:
        raise ConfigurationError(f"start design must be one of {sorted(samplers)}, got {design!r}")
    try:
        sampler = samplers[design](d=d, scramble=True, rng=gen)
    except TypeError:  # older scipy
        sampler = samplers[design](d=d, scramble=True, seed=gen)
    m = int(n_starts) - 1
    # candidates in design order; those where F is infinite (the model leaves the physical region)
    # are skipped, up to 4x oversampling
    u = sampler.random(4 * m) if m > 0 else np.zeros((0, d))
    if np.all(objective.lower_bounds >= 0):
        cand = reference * 10.0 ** (2.0 * u - 1.0)
    else:
        cand = reference * 10.0 * (2.0 * u - 1.0)
    chosen = [c for c in cand if math.isfinite(objective.value(c))][:m]
    if len(chosen) < m:
        chosen += [c for c in cand if not math.isfinite(objective.value(c))][: m - len(chosen)]
    starts = np.array(chosen).reshape(-1, d)
    return np.vstack([ref_point[None, :], starts]), float(reference)


def local_fit(objective: Any, index: int, x0: np.ndarray, log_parameters: bool = False, max_nfev: int = 200) -> LocalFit:
    """One bounded trust-region least-squares fit from ``x0`` (never raises on a failed solve)."""
    from scipy.optimize import least_squares

    from .objective import LogParameterisation

    x0 = np.asarray(x0, dtype=float)
    lo, hi = objective.lower_bounds, objective.upper_bounds
    target = objective
    if log_parameters and np.all(lo >= 0):
        target = LogParameterisation(objective)
        z0 = np.log(np.maximum(x0, 1e-300))
        bounds = (-np.inf, np.inf)
    else:
        log_parameters = False
        z0 = np.clip(x0, lo, hi)
        bounds = (lo, hi)
    n_res = len(objective.residuals(x0)) if np.all(np.isfinite(x0)) else 1
    penalty = np.full(n_res, 1e3)

    def fun(z: np.ndarray) -> np.ndarray:
        r = target.residuals(z)
        return r if np.all(np.isfinite(r)) else penalty

    def jac(z: np.ndarray) -> np.ndarray:
        J = target.jacobian(z)
        return J if np.all(np.isfinite(J)) else np.zeros((n_res, len(z)))

    try:
        res = least_squares(fun, z0, jac=jac, bounds=bounds, method="trf", x_scale="jac", ftol=1e-12, xtol=1e-12,
                            gtol=1e-12, max_nfev=max_nfev)
        x = np.exp(res.x) if log_parameters else res.x
        F = objective.value(x)
        return LocalFit(index, x0, np.asarray(x, float), float(F), bool(res.success) and math.isfinite(F),
                        int(res.status), str(res.message), int(res.nfev), int(res.njev or 0))
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        return LocalFit(index, x0, x0.copy(), math.inf, False, -10, f"failed: {exc}", 0, 0)


def _fit_task(objective: Any, index: int, x0: np.ndarray, log_parameters: bool, max_nfev: int) -> LocalFit:
    return local_fit(objective, index, x0, log_parameters, max_nfev)


def cluster_fits(objective: Any, fits: Sequence[LocalFit], f_rtol: float = 1e-4, c_atol: float = 1e-3) -> list[Minimum]:
    """Group fits reaching the same minimum (see the module documentation); best first."""
    good = sorted((f for f in fits if math.isfinite(f.F)), key=lambda f: (f.F, f.index))
    reps: list[tuple[Minimum, np.ndarray]] = []
    for f in good:
        pred = np.concatenate([p.reshape(-1) for p in objective.predict(f.x)])
        for m, mp in reps:
            if abs(f.F - m.F) <= f_rtol * max(abs(m.F), 1e-300) + 1e-300 and np.nanmax(np.abs(pred - mp)) <= c_atol:
                m.members.append(f.index)
                break
        else:
            reps.append((Minimum(f.F, f.x.copy(), [f.index]), pred))
    names = objective.parameter_names
    by_index = {f.index: f for f in fits}
    out = []
    for m, _ in reps:
        X = np.array([by_index[i].x for i in m.members])
        spread = {}
        for j, n in enumerate(names):
            col = X[:, j]
            mean = float(col.mean())
            spread[n] = {
                "min": float(col.min()), "max": float(col.max()), "mean": mean, "sd": float(col.std()),
                "relative_range": float((col.max() - col.min()) / abs(mean)) if mean != 0 else float("nan"),
            }
        m.spread = spread
        out.append(m)
    return out


def multistart_fit(
    objective: Any,
    n_starts: int = 16,
    *,
    seed: int = 0,
    design: str = "lhs",
    log_parameters: bool = False,
    reference: float | None = None,
    executor: Any = None,
    workers: int = 1,
    f_rtol: float = 1e-4,
    c_atol: float = 1e-3,
    max_nfev: int = 200,
) -> MultistartResult:
    """Fit F from ``n_starts`` starts and cluster the local minima (see the module documentation).

    Parameters
    ----------
    objective : RateObjective or CombinationObjective
    n_starts : int
        Number of starts (the reference point counts as one).
    seed : int
        Root seed of the start design.
    design : {"lhs", "sobol", "halton"}
    log_parameters : bool
        Fit in ``θ = log K`` (rates only).
    reference : float, optional
        Common scale of the start box (default: from a 1-D scan).
    executor : concurrent.futures.Executor, optional
        Where the fits run (default: a local pool of ``workers`` processes; inline for 1).
    f_rtol, c_atol : float
        Clustering tolerances.
    max_nfev : int
        Function evaluations per local fit.

    Returns
    -------
    MultistartResult
    """
    starts, ref = start_design(objective, n_starts, seed, design, reference)
    tasks = [(objective, i, starts[i], bool(log_parameters), int(max_nfev)) for i in range(len(starts))]
    with local_executor(executor, workers) as ex:
        fits = map_tasks(_fit_task, tasks, ex)
    minima = cluster_fits(objective, fits, f_rtol, c_atol)
    return MultistartResult(list(objective.parameter_names), list(fits), minima, starts, ref, design)
