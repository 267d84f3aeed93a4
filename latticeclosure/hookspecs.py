"""The whole plugin contract of latticeclosure.

Every hook returns a sequence of objects of one kind. Each object has a unique ``name`` within its
kind. Built-in plugins (``latticeclosure_std``, ``latticeclosure_nmc``) implement exactly these hooks
and are registered through the ``latticeclosure`` entry-point group like any third-party plugin.

Objects are configured through their constructor parameters or an ``options`` mapping given to
:meth:`configure`, never through module globals.
"""

from __future__ import annotations

from typing import Any, Sequence

import pluggy

PROJECT_NAME = "latticeclosure"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def latticeclosure_lattices() -> Sequence[Any]:
    """Return :class:`latticeclosure.lattice.Lattice` objects.

    A lattice is defined only by Bravais vectors, basis and the nearest-neighbour rule; symmetry,
    supercells and clusters are computed from it. ``configure(**options)`` returns a modified copy.
    """


@hookspec
def latticeclosure_cluster_enumerators() -> Sequence[Any]:
    """Return cluster enumerators.

    Protocol: ``name``, ``description``, ``path_based`` (bool), ``enumerate(lattice, max_size) ->
    list[Shape]`` (see :class:`latticeclosure.clusters.Shape`; raise ``SizeLimitError`` beyond a
    configurable limit), ``configure(**options)``.
    """


@hookspec
def latticeclosure_dynamics() -> Sequence[Any]:
    """Return reaction generators (dynamics) for the window method.

    Protocol (see :mod:`latticeclosure.equations.dynamics`): ``name``, ``description``,
    ``exclude_closed``, ``configure(**options)`` and either ``events(lattice, window, pattern, q,
    bonds)`` yielding :class:`~latticeclosure.equations.dynamics.Event` records (one rate constant per
    reaction orbit, like ``swap``) or ``rules(species)`` + ``events_for(...)`` (named rates, like
    ``flip``).
    """


@hookspec
def latticeclosure_closures() -> Sequence[Any]:
    """Return closure families (see :class:`latticeclosure.closures.base.ClosureFamily`).

    Protocol: ``name``, ``description``, ``configure(**options)``, ``can_close(cls, index)``,
    ``parameters(cls, index) -> list[sympy.Symbol]`` (free parameters; empty for fixed closures),
    ``expression(cls, index, params=None) -> sympy.Expr`` in symbols named by class names (singlets
    included). Parametric families (:class:`~latticeclosure.closures.base.ParametricClosure`) can be
    calibrated on data.
    """


@hookspec
def latticeclosure_data_backends() -> Sequence[Any]:
    """Return data backends: simulators producing trajectory datasets.

    Protocol (see :class:`latticeclosure.anneal.backend.AnnealBackend`): ``name``, ``description``,
    ``configure(**options)``, ``run(model, x, L, seed, schedule, record_every, ...) -> Trajectory``.
    """


@hookspec
def latticeclosure_models() -> Sequence[Any]:
    """Return models (:class:`latticeclosure.model.Model`).

    A model bundles a lattice name, species (with their properties), an energy table over an energy
    cluster shape, the dynamics name, a rate-naming name, closure-preset names, default schedule,
    size and stoichiometries. ``configure(**options)`` returns a modified model.
    """


@hookspec
def latticeclosure_rate_namings() -> Sequence[Any]:
    """Return rate/variable namings.

    Protocol: ``name``, ``description``, ``applies(*, lattice, species, dynamics, window_size) ->
    bool`` and ``rate_name(reaction) -> str | None`` (``reaction`` is a
    :class:`latticeclosure.equations.Reaction`). A naming that applies replaces the generic
    deterministic ``k1 … kN``, e.g. the paper's ``k1 … k8`` for the triangular pair window with
    ``exclude_closed``; it must name every reaction uniquely.
    """


@hookspec
def latticeclosure_closure_presets() -> Sequence[Any]:
    """Return named closure presets: configured closure families under a new name (e.g. ``SA``).

    Same protocol as :func:`latticeclosure_closures`; the registry looks a closure name up among the
    closures first, then among the presets.
    """


@hookspec
def latticeclosure_cli_commands() -> Sequence[Any]:
    """Return CLI subcommands (:class:`latticeclosure.cli.Command`).

    Protocol: ``name``, ``help``, optional ``description``, ``add_arguments(parser)`` and
    ``run(args) -> int``. Keep heavy imports (numba, sympy, matplotlib) inside ``run``.
    """
