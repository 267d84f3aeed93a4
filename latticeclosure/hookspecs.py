"""The whole plugin contract of latticeclosure.

Every hook returns a sequence of objects of one kind; the kind is the hook's name without the
``latticeclosure_`` prefix, and the return type names the :mod:`latticeclosure.protocols` protocol
its objects must satisfy (checked when the registry collects them). Each object has a unique
``name`` within its kind. The plugin sets shipped with latticeclosure implement exactly these hooks
and are registered through the ``latticeclosure`` entry-point group like any third-party plugin.

Objects are configured through their constructor parameters or ``configure(**options)`` (which
returns a configured copy), never through module globals.
"""

from __future__ import annotations

from typing import Sequence

import pluggy

from .protocols import (
    CliCommand,
    Closure,
    ClusterEnumerator,
    DataBackend,
    Dynamics,
    Lattice,
    Model,
    RateNaming,
)

PROJECT_NAME = "latticeclosure"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def latticeclosure_lattices() -> Sequence[Lattice]:
    """Return lattices (usually :class:`latticeclosure.lattice.Lattice` objects).

    A lattice is defined by Bravais vectors, basis and its bonds; symmetry, supercells and clusters
    are computed from it.
    """


@hookspec
def latticeclosure_cluster_enumerators() -> Sequence[ClusterEnumerator]:
    """Return cluster enumerators (:class:`latticeclosure.protocols.ClusterEnumerator`)."""


@hookspec
def latticeclosure_dynamics() -> Sequence[Dynamics]:
    """Return reaction generators for the window method.

    Either one rate constant per reaction orbit (:class:`~latticeclosure.protocols.OrbitDynamics`,
    like ``swap``) or named rates given by rules (:class:`~latticeclosure.protocols.RuleDynamics`,
    like ``flip``).
    """


@hookspec
def latticeclosure_closures() -> Sequence[Closure]:
    """Return closure families (:class:`latticeclosure.protocols.Closure`).

    Families that also satisfy :class:`~latticeclosure.protocols.FittableClosure` can be calibrated
    on data.
    """


@hookspec
def latticeclosure_data_backends() -> Sequence[DataBackend]:
    """Return data backends: simulators producing trajectory datasets (:class:`~latticeclosure.protocols.DataBackend`)."""


@hookspec
def latticeclosure_models() -> Sequence[Model]:
    """Return models (usually :class:`latticeclosure.model.Model` objects).

    A model bundles a lattice, species, energy, dynamics, rate naming, closure presets and the study
    that ``latticeclosure run --model NAME`` performs. At most one registered model may declare
    ``default = True``: the model ``latticeclosure run`` uses without ``--model``.
    """


@hookspec
def latticeclosure_rate_namings() -> Sequence[RateNaming]:
    """Return rate namings (:class:`latticeclosure.protocols.RateNaming`).

    A naming that applies replaces the generic deterministic ``k1 … kN``; it must name every
    reaction uniquely.
    """


@hookspec
def latticeclosure_closure_presets() -> Sequence[Closure]:
    """Return named closure presets: configured closure families under a new name.

    Same protocol as :func:`latticeclosure_closures`; :meth:`latticeclosure.registry.Registry.resolve`
    looks a closure name up among the closures first, then among the presets.
    """


@hookspec
def latticeclosure_cli_commands() -> Sequence[CliCommand]:
    """Return CLI subcommands (:class:`latticeclosure.protocols.CliCommand`).

    Keep heavy imports (numba, sympy, matplotlib) inside ``run``.
    """
