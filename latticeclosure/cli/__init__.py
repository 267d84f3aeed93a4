"""The ``latticeclosure`` command line.

Every subcommand is a *command object* with this protocol (see :class:`Command`):

``name`` : str
    The subcommand, e.g. ``"lattices"``.
``help`` : str
    One line for ``latticeclosure --help``. An optional ``description`` (str) is shown by
    ``latticeclosure NAME --help``.
``add_arguments(parser)``
    Add the command's options to its :class:`argparse.ArgumentParser`.
``run(args) -> int``
    Do the work and return the exit status (``None`` counts as 0). User errors are raised as
    :class:`latticeclosure.errors.LatticeClosureError`; :func:`latticeclosure.cli.main.main` turns
    them into ``error: ...`` on stderr and exit status 2.

Built-in commands live in one module each, ``latticeclosure/cli/<name>.py``, exposing the object as
``COMMAND``, and are listed in :data:`latticeclosure.cli.main.BUILTIN_COMMANDS`. Plugins contribute
commands through the ``latticeclosure_cli_commands`` hook. Command modules are imported every time
the CLI starts (to build ``--help``), so they must import heavy dependencies (numba, sympy, scipy,
matplotlib) inside ``run``, never at module level.
"""

from __future__ import annotations

import argparse
from typing import Protocol, runtime_checkable

__all__ = ["Command"]


@runtime_checkable
class Command(Protocol):
    """A ``latticeclosure`` subcommand (built-in or contributed by a plugin)."""

    name: str
    help: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's options and positional arguments to ``parser``."""

    def run(self, args: argparse.Namespace) -> int:
        """Run the command with the parsed ``args``; return the exit status."""
