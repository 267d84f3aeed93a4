"""Chain diagnostics with ArviZ: rank-normalised split-R̂, bulk/tail ESS, Monte-Carlo standard errors.

ArviZ is imported lazily (install the ``[arviz]`` extra: ``pip install 'latticeclosure[arviz]'``).
Without it, :func:`chain_diagnostics` still returns means, standard deviations, coefficients of
variation and quantiles, with ``r_hat``/``ess_*``/``mcse_*`` set to None and a warning saying so.

Warnings are issued (and listed) when R̂ > 1.01 or a bulk or tail ESS < 400 (Vehtari et al. 2021).
"""

from __future__ import annotations

import threading
import warnings
from contextlib import nullcontext
from typing import Any, Sequence

import numpy as np

__all__ = ["chain_diagnostics", "parameter_diagnostics", "to_arviz", "arviz_available", "RHAT_LIMIT", "ESS_LIMIT"]

RHAT_LIMIT = 1.01
ESS_LIMIT = 400.0


def _arviz() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ announces its refactor on import
        import arviz

    return arviz


def arviz_available() -> bool:
    try:
        _arviz()
        return True
    except ImportError:
        return False


def to_arviz(chains: np.ndarray, names: Sequence[str], values: np.ndarray | None = None, value_name: str = "F") -> Any:
    """The chains ``(n_chains, n_draws, d)`` as ArviZ's data structure via ``arviz.from_dict``.

    ``values`` (``(n_chains, n_draws)``, e.g. F along the chains) go to ``sample_stats``. Returns
    whatever the installed ArviZ returns (``InferenceData`` or a ``DataTree``).
    """
    az = _arviz()
    chains = np.asarray(chains, dtype=float)
    posterior = {n: chains[:, :, j] for j, n in enumerate(names)}
    if values is not None:
        return az.from_dict(posterior=posterior, sample_stats={value_name: np.asarray(values, float)})
    return az.from_dict(posterior=posterior)


def _scalar(v: Any) -> float:
    return float(np.asarray(v, dtype=float).reshape(-1)[0])


def chain_diagnostics(chains: np.ndarray, names: Sequence[str], executor: Any = None,
                      ) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Per parameter: mean, sd, CV, quantiles, R̂, ESS (bulk, tail), MCSE; and the warnings.

    Parameters
    ----------
    chains : ndarray (n_chains, n_draws, d)
        Post burn-in draws.
    names : sequence of str
    executor : concurrent.futures.Executor, optional
        Runs the parameters' diagnostics as independent tasks (ArviZ's ESS loops over lags in
        Python: for 10⁵-draw chains it costs seconds per parameter); default: one after the other in
        this process. The result is the same either way.
    """
    chains = np.asarray(chains, dtype=float)
    n_chains, n_draws, d = chains.shape
    if len(names) != d:
        raise ValueError(f"{len(names)} names for {d} parameters")
    jobs = [(np.ascontiguousarray(chains[:, :, j]), n) for j, n in enumerate(names)]
    if executor is None or d <= 1:
        results = [parameter_diagnostics(x, n) for x, n in jobs]
    else:
        futures = [executor.submit(parameter_diagnostics, x, n) for x, n in jobs]
        results = [f.result() for f in futures]
    out: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    if results and results[0][2] is False:
        notes.append("ArviZ is not installed (pip install 'latticeclosure[arviz]'): no R-hat, ESS or MCSE")
    for n, (row, row_notes, _) in zip(names, results):
        out[n] = row
        notes.extend(row_notes)
    for msg in notes:
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return out, notes


def parameter_diagnostics(x: np.ndarray, name: str) -> tuple[dict[str, Any], list[str], bool]:
    """The diagnostics of one parameter's draws ``x`` ``(n_chains, n_draws)``: its row, its warnings,
    and whether ArviZ was available (a module-level function, so that any executor can run it)."""
    try:
        az = _arviz()
    except ImportError:
        az = None
    x = np.asarray(x, dtype=float)
    n_draws = x.shape[1]
    notes: list[str] = []
    flat = x.reshape(-1)
    mean = float(flat.mean())
    sd = float(flat.std(ddof=1)) if flat.size > 1 else 0.0
    row: dict[str, Any] = {
        "mean": mean, "sd": sd, "cv": (sd / abs(mean)) if mean != 0 else float("nan"),
        "q05": float(np.quantile(flat, 0.05)), "q50": float(np.quantile(flat, 0.5)), "q95": float(np.quantile(flat, 0.95)),
        "r_hat": None, "ess_bulk": None, "ess_tail": None, "mcse_mean": None, "mcse_sd": None,
    }
    if az is not None and n_draws >= 4:
        # ArviZ's own warnings are silenced, but only on a main thread: the filters are process-wide,
        # and catch_warnings in concurrent threads restores them in the wrong order
        on_main = threading.current_thread() is threading.main_thread()
        with warnings.catch_warnings() if on_main else nullcontext():
            if on_main:
                warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                row["r_hat"] = _scalar(az.rhat(x, method="rank"))
                row["ess_bulk"] = _scalar(az.ess(x, method="bulk"))
                row["ess_tail"] = _scalar(az.ess(x, method="tail"))
                row["mcse_mean"] = _scalar(az.mcse(x, method="mean"))
                try:
                    row["mcse_sd"] = _scalar(az.mcse(x, method="sd"))
                except (TypeError, ValueError):  # some ArviZ/numpy combinations fail here
                    ess_sd = row["ess_bulk"]
                    row["mcse_sd"] = sd / np.sqrt(2.0 * ess_sd) if ess_sd and ess_sd > 0 else None
        rh, eb, et = row["r_hat"], row["ess_bulk"], row["ess_tail"]
        if rh is not None and not (rh <= RHAT_LIMIT):
            notes.append(f"{name}: R-hat = {rh:.3f} > {RHAT_LIMIT} (chains disagree: not converged)")
        low = [f"{k} ESS = {v:.0f}" for k, v in (("bulk", eb), ("tail", et)) if v is not None and not (v >= ESS_LIMIT)]
        if low:
            notes.append(f"{name}: {', '.join(low)} < {ESS_LIMIT:.0f} (too few effective samples)")
    return row, notes, az is not None
