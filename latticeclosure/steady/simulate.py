"""The simulated critical rate: stationary densities from the kinetic Monte Carlo backend.

The simulator is the data backend registered as ``"kmc"`` (the package ``latticeclosure.kmc``);
this module only asks it for trajectories, through :func:`kmc_backend` and the data-backend
protocol (``check_task`` when the backend has it, then ``run_task``), with one
:class:`~latticeclosure.simulation.SimulationTask` per run::

    SimulationTask(model, point={rate: value}, seed=..., size=L, backend="kmc",
                   settings={"rates": {other rates}, "initial": {species: fraction},
                             "time": T, "record_every": dt, "max_class_size": 1, "replicas": 1})

and reads the density of non-absorbing sites from the returned
:class:`~latticeclosure.data.Trajectory` (physical time, singlets among its classes).

Estimate (:func:`simulated_threshold`): for every size ``L`` and every rate ``p`` of a grid above
the closures' thresholds, ``replicas`` runs start fully active; the density averaged over the
second half of each run, then over replicas (mean and standard error), is the quasi-stationary
density ``ρ_L(p)``. On the largest size the points with ``ρ > 0`` are fitted with
``ρ = A (p − p_c)^β`` (``A``, ``p_c``, ``β`` free; weighted least squares); ``p_c`` and its standard
error are the estimate, and the fit on every other size shows the finite-size drift. Finite
systems eventually fall into the absorbing state, and the power law holds only near ``p_c``: the
estimate is approximate and reported as measured, never adjusted.

Seeds: every run's seed comes from ``numpy.random.SeedSequence(seed, spawn_key=(L, k, r))`` with
``k`` the rate's index and ``r`` the replica — a stable task key, so results do not depend on the
order in which runs are done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import SteadyStateError, UnknownNameError

__all__ = ["kmc_backend", "SimulatedPoint", "SimulatedThreshold", "simulated_threshold", "fit_power_law",
           "task_seed"]


def kmc_backend() -> Any:
    """The registered ``"kmc"`` data backend.

    Raises
    ------
    SteadyStateError
        When no backend of that name is registered (the KMC package is not installed), or it has
        no ``run_task`` method; the message names the missing piece.
    """
    from ..registry import get_registry

    registry = get_registry()
    try:
        backend = registry.get("data_backends", "kmc")
    except UnknownNameError:
        known = ", ".join(registry.names("data_backends")) or "none"
        raise SteadyStateError(
            "--simulate needs the kinetic Monte Carlo data backend 'kmc' (package latticeclosure.kmc), "
            f"which is not installed; registered data backends: {known}"
        ) from None
    if not callable(getattr(backend, "run_task", None)):
        raise SteadyStateError("the data backend 'kmc' has no run_task(task) method; it cannot simulate a threshold")
    return backend


def task_seed(seed: int, size: int, rate_index: int, replica: int) -> int:
    """Seed of one run, keyed by (size, rate index, replica) — never by submission order."""
    seq = np.random.SeedSequence(int(seed), spawn_key=(int(size), int(rate_index), int(replica)))
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(2))  # below 2^62: a valid task seed


@dataclass
class SimulatedPoint:
    """Quasi-stationary density at one rate and size."""

    size: int
    value: float
    density: float
    error: float
    survived: int
    replicas: int


@dataclass
class SimulatedThreshold:
    """The simulated estimate.

    Attributes
    ----------
    critical : float or None
        ``p_c`` of the fit on the largest size.
    error : float or None
        Its standard error from the fit.
    exponent : float or None
        The fitted ``β``.
    per_size : dict
        Size → fitted ``p_c`` (None where the fit failed).
    points : list of SimulatedPoint
    """

    critical: float | None
    error: float | None
    exponent: float | None
    per_size: dict[int, float | None]
    points: list[SimulatedPoint] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "critical": self.critical,
            "error": self.error,
            "exponent": self.exponent,
            "per_size": {str(k): v for k, v in self.per_size.items()},
            "points": [p.__dict__ for p in self.points],
        }


def fit_power_law(values: np.ndarray, densities: np.ndarray, errors: np.ndarray | None = None
                  ) -> tuple[float, float, float] | None:
    """Fit ``ρ = A (p − p_c)^β`` to points with ``ρ > 0``; returns ``(p_c, σ(p_c), β)`` or None.

    Needs at least four points with positive density.
    """
    from scipy.optimize import curve_fit

    v = np.asarray(values, float)
    d = np.asarray(densities, float)
    keep = d > 0
    if keep.sum() < 4:
        return None
    v, d = v[keep], d[keep]
    sigma = None
    if errors is not None:
        e = np.asarray(errors, float)[keep]
        sigma = np.where(e > 0, e, max(float(e[e > 0].min()) if (e > 0).any() else 1e-3, 1e-6))

    def model(p: np.ndarray, a: float, pc: float, beta: float) -> np.ndarray:
        return a * np.clip(p - pc, 1e-300, None) ** beta

    span = float(v.max() - v.min()) or 1.0
    p0 = (float(d.max()) / max(span, 1e-12) ** 0.5, float(v.min()) - 0.1 * span, 0.5)
    bounds = ([0.0, float(v.min()) - 10 * span, 0.05], [np.inf, float(v.min()) - 1e-12 * span, 3.0])
    try:
        popt, pcov = curve_fit(model, v, d, p0=p0, sigma=sigma, absolute_sigma=sigma is not None,
                               bounds=bounds, maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    err = float(np.sqrt(pcov[1, 1])) if np.isfinite(pcov[1, 1]) else float("nan")
    return float(popt[1]), err, float(popt[2])


def simulated_threshold(
    model: Any,
    rate: str,
    rates: Mapping[str, float],
    values: Sequence[float],
    *,
    absorbing: str,
    sizes: Sequence[int] = (32, 64),
    replicas: int = 4,
    time: float = 200.0,
    record_every: float = 1.0,
    seed: int = 0,
    backend: Any = None,
    singlet: str | None = None,
) -> SimulatedThreshold:
    """Quasi-stationary densities from the KMC backend and the fitted critical rate.

    Parameters
    ----------
    model : Model
        The lattice model (lattice, species, flip rules) handed to the backend.
    rate : str
        The varied rate.
    rates : mapping
        Values of the other rates.
    values : sequence of float
        Rates at which to simulate (above the threshold, where densities are positive).
    absorbing : str
        Species of the absorbing state (the density is the fraction of the other species).
    sizes : sequence of int
        Side lengths ``L``.
    replicas : int
    time, record_every : float
        Physical run length and record interval.
    seed : int
    backend : optional
        The backend (default: :func:`kmc_backend`).
    singlet : str, optional
        Class name of the absorbing species' singlet in the trajectories (default ``C<species>``).

    Returns
    -------
    SimulatedThreshold
    """
    from ..simulation import SimulationTask

    if backend is None:
        backend = kmc_backend()
    if replicas < 1 or time <= 0 or record_every <= 0:
        raise SteadyStateError("simulation needs replicas ≥ 1, a positive time and a positive record interval")
    species = list(model.species)
    if absorbing not in species:
        raise SteadyStateError(f"absorbing species {absorbing!r} is not one of {species}")
    others = [s for s in species if s != absorbing]
    start = {absorbing: 0.0, **{s: 1.0 / len(others) for s in others}}
    # the simulator reads known rates and the initial condition from the model, the varied rate from the point
    model = model.configure(rates={**dict(getattr(model, "rates", {}) or {}), **dict(rates)}, initial=start)
    points: list[SimulatedPoint] = []
    for size in sizes:
        for k, value in enumerate(values):
            means = []
            for r in range(replicas):
                task = SimulationTask(
                    model=model,
                    point={rate: float(value)},
                    seed=task_seed(seed, size, k, r),
                    size=int(size),
                    settings={"time": float(time), "record_every": float(record_every), "max_class_size": 1,
                              "replicas": 1},
                    backend=str(getattr(backend, "name", "kmc")),
                )
                if callable(getattr(backend, "check_task", None)):
                    task = backend.check_task(task)
                traj = backend.run_task(task)
                means.append(_late_density(traj, singlet or f"C{absorbing}"))
            arr = np.array(means)
            err = float(arr.std(ddof=1) / np.sqrt(len(arr))) if len(arr) > 1 else 0.0
            points.append(SimulatedPoint(int(size), float(value), float(arr.mean()), err,
                                         int((arr > 0).sum()), int(replicas)))
    per_size: dict[int, float | None] = {}
    best = None
    for size in sizes:
        pts = [p for p in points if p.size == size]
        fit = fit_power_law(np.array([p.value for p in pts]), np.array([p.density for p in pts]),
                            np.array([p.error for p in pts]))
        per_size[int(size)] = None if fit is None else fit[0]
        if size == max(sizes):
            best = fit
    if best is None:
        return SimulatedThreshold(None, None, None, per_size, points)
    return SimulatedThreshold(best[0], best[1], best[2], per_size, points)


def _late_density(traj: Any, singlet: str) -> float:
    """Mean fraction of non-absorbing sites over the second half of the run."""
    t = np.asarray(traj.time, dtype=float)
    names = list(traj.class_names)
    if singlet not in names:
        raise SteadyStateError(
            f"the simulated trajectory has no singlet class {singlet!r}; its classes: {', '.join(names[:8])}"
        )
    rho = 1.0 - np.asarray(traj.concentration(singlet), dtype=float)
    late = t >= 0.5 * t[-1]
    return float(rho[late].mean())
