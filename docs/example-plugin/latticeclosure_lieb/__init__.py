"""Lieb lattice plugin for latticeclosure: an example of a third-party plugin distribution.

It contributes a lattice (``lieb``), a calibratable closure (``scaled-pair``) and a CLI command.

The module is the plugin: its ``@hookimpl`` functions are the hooks it implements. It is found
through the ``latticeclosure`` entry-point group declared in ``pyproject.toml``. Keep this module
cheap to import (the CLI imports every plugin on start-up): import what the hooks need inside them.
"""

from __future__ import annotations

from latticeclosure.hookspecs import hookimpl

__all__ = ["latticeclosure_lattices", "latticeclosure_closures", "latticeclosure_cli_commands"]


@hookimpl
def latticeclosure_lattices():
    """Contribute the Lieb lattice (``name = "lieb"``)."""
    from .lattice import lieb_lattice

    return [lieb_lattice()]


@hookimpl
def latticeclosure_closures():
    """Contribute the calibratable closure ``scaled-pair`` (written against the protocol only)."""
    from .closures import ScaledPairClosure

    return [ScaledPairClosure()]


@hookimpl
def latticeclosure_cli_commands():
    """Contribute the ``latticeclosure lieb-info`` subcommand."""
    from .command import LiebInfoCommand

    return [LiebInfoCommand()]
