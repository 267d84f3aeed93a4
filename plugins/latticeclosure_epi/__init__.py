"""Epidemics and contact processes on lattices: SIS, SIR, the contact process and the voter model.

A plugin set for other domains than the reference model, registered through the ``latticeclosure``
entry-point group and using only the public hooks, exactly as a third-party plugin would. Each model
has known rates, a lattice, a size, an initial condition and a parameter grid, and a study:
``latticeclosure run --model sis`` simulates it with the exact kinetic Monte Carlo backend
(``kmc``), closes the window-method equations with several closures at windows 1–3, integrates them
with the known rates and reports each closure's dynamical error against the simulation.
"""

from __future__ import annotations

from latticeclosure.hookspecs import hookimpl


@hookimpl
def latticeclosure_models():
    """The models ``sis``, ``sir``, ``contact-process`` and ``voter``."""
    from .models import epidemic_models

    return epidemic_models()
