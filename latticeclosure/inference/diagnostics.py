"""Chain diagnostics with ArviZ: rank-normalised split-R̂, bulk/tail ESS, Monte-Carlo standard errors.

ArviZ is imported lazily (install the ``[arviz]`` extra: ``pip install 'latticeclosure[arviz]'``).
Without it, :func:`chain_diagnostics` still returns means, standard deviations, coefficients of
variation and quantiles, with ``r_hat``/``ess_*``/``mcse_*`` set to None and a warning saying so.

Warnings are issued (and listed) when R̂ > 1.01 or a bulk or tail ESS < 400 (Vehtari et al. 2021).
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

__all__ = ["chain_diagnostics", "to_arviz", "arviz_available", "RHAT_LIMIT", "ESS_LIMIT"]

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


def chain_diagnostics(chains: np.ndarray, names: Sequence[str]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Per parameter: mean, sd, CV, quantiles, R̂, ESS (bulk, tail), MCSE; and the warnings.

    Parameters
    ----------
    chains : ndarray (n_chains, n_draws, d)
        Post burn-in draws.
    names : sequence of str
    """
    chains = np.asarray(chains, dtype=float)
    n_chains, n_draws, d = chains.shape
    try:
        az = _arviz()
    except ImportError:
        az = None
    out: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    if az is None:
        notes.append("ArviZ is not installed (pip install 'latticeclosure[arviz]'): no R-hat, ESS or MCSE")
    for j, n in enumerate(names):
        x = chains[:, :, j]
        flat = x.reshape(-1)
        mean = float(flat.mean())
        sd = float(flat.std(ddof=1)) if flat.size > 1 else 0.0
        row: dict[str, Any] = {
            "mean": mean, "sd": sd, "cv": (sd / abs(mean)) if mean != 0 else float("nan"),
            "q05": float(np.quantile(flat, 0.05)), "q50": float(np.quantile(flat, 0.5)), "q95": float(np.quantile(flat, 0.95)),
            "r_hat": None, "ess_bulk": None, "ess_tail": None, "mcse_mean": None, "mcse_sd": None,
        }
        if az is not None and n_draws >= 4:
            with warnings.catch_warnings():
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
                notes.append(f"{n}: R-hat = {rh:.3f} > {RHAT_LIMIT} (chains disagree: not converged)")
            low = [f"{k} ESS = {v:.0f}" for k, v in (("bulk", eb), ("tail", et)) if v is not None and not (v >= ESS_LIMIT)]
            if low:
                notes.append(f"{n}: {', '.join(low)} < {ESS_LIMIT:.0f} (too few effective samples)")
        out[n] = row
    for msg in notes:
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return out, notes
