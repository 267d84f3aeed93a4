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
    """Return :class:`latticeclosure.lattice.Lattice` objects this plugin contributes."""


@hookspec
def latticeclosure_cluster_enumerators() -> Sequence[Any]:
    """Return cluster enumerators (objects with ``name`` and ``enumerate(lattice, max_size)``)."""


@hookspec
def latticeclosure_dynamics() -> Sequence[Any]:
    """Return reaction generators (objects with ``name`` and ``generate(...)``)."""


@hookspec
def latticeclosure_closures() -> Sequence[Any]:
    """Return closure families (objects with ``name`` and ``close(...)``)."""


@hookspec
def latticeclosure_data_backends() -> Sequence[Any]:
    """Return data backends (simulators or importers producing trajectory datasets)."""


@hookspec
def latticeclosure_models() -> Sequence[Any]:
    """Return models: a lattice, species, energy, dynamics, rate naming and presets bundled."""


@hookspec
def latticeclosure_rate_namings() -> Sequence[Any]:
    """Return rate/variable namings (objects with ``name``, ``applies(...)``, ``rate_name(...)``).

    A naming replaces the generic deterministic ``k1 … kN`` labels of generated rate constants
    (and optionally the variable symbols) for the setting it applies to, e.g. the paper's
    ``k1 … k8`` for the triangular pair window with ``exclude_closed``.
    """


@hookspec
def latticeclosure_closure_presets() -> Sequence[Any]:
    """Return named closure presets (a configured closure family under a new name, e.g. "SA")."""


@hookspec
def latticeclosure_cli_commands() -> Sequence[Any]:
    """Return CLI subcommands: objects with ``name``, ``help``, ``add_arguments(parser)`` and
    ``run(args) -> int``."""
