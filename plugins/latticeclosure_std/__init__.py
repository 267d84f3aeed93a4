"""Standard plugin set of latticeclosure: lattices, cluster enumerators, dynamics, closures, the KMC backend.

It is registered through the ``latticeclosure`` entry-point group and uses only the public hooks of
:mod:`latticeclosure.hookspecs`, exactly as a third-party plugin would.
"""

from __future__ import annotations

from latticeclosure.hookspecs import hookimpl


@hookimpl
def latticeclosure_lattices():
    from .lattices import standard_lattices

    return standard_lattices()


@hookimpl
def latticeclosure_cluster_enumerators():
    from latticeclosure.clusters import ChainEnumerator, ConnectedEnumerator

    return [ConnectedEnumerator(), ChainEnumerator()]


@hookimpl
def latticeclosure_dynamics():
    from latticeclosure.equations.dynamics import FlipDynamics, SwapDynamics

    return [SwapDynamics(), FlipDynamics()]


@hookimpl
def latticeclosure_closures():
    from .closures import standard_closures

    return standard_closures()


@hookimpl
def latticeclosure_data_backends():
    from latticeclosure.kmc.backend import KMCBackend

    return [KMCBackend()]
