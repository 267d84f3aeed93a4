"""Triangular NMC reference plugin set (Ahmadi, Foster, Protas 2022).

Registered through the ``latticeclosure`` entry-point group; uses only the public hooks of
:mod:`latticeclosure.hookspecs`, exactly as a third-party plugin would. Keep this module a thin list of
``@hookimpl`` functions that import their objects lazily.
"""

from __future__ import annotations

from latticeclosure.hookspecs import hookimpl


@hookimpl
def latticeclosure_models():
    """The triangular NMC model ``nmc`` (Mn⁴⁺ "+", Li⁺ "-", Pauling oxygen energy)."""
    from .model import nmc_model

    return [nmc_model()]


@hookimpl
def latticeclosure_data_backends():
    """The annealer ``nmc-anneal`` (default model: ``nmc``)."""
    from .backend import nmc_backend

    return [nmc_backend()]


@hookimpl
def latticeclosure_rate_namings():
    """The paper's k1…k8 (eq. 5) for the triangular pair window with ``exclude_closed``."""
    from .naming import TriangularPairNaming

    return [TriangularPairNaming()]


@hookimpl
def latticeclosure_closure_presets():
    """The paper's closures as presets: SA (Table III), OA-hard and OA-soft (degree 1 everywhere)."""
    from .presets import nmc_closure_presets

    return nmc_closure_presets()
