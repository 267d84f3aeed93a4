"""``latticeclosure equations``: generate mean-cluster rate equations with the window method."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["COMMAND", "EquationsCommand", "add_hierarchy_arguments", "equations_from_arguments"]


def add_hierarchy_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that define a hierarchy: lattice, species, dynamics, window, naming.

    Shared by every command that generates equations (``equations``, ``close``).
    """
    from .lattice_options import add_lattice_arguments

    add_lattice_arguments(parser)
    parser.add_argument("--species", nargs="+", default=["+", "-"], metavar="STATE", help="the states (default: + -)")
    parser.add_argument("--dynamics", default="swap", help="swap (default) or flip, or a plugin's dynamics")
    parser.add_argument("--flip-spec", metavar="FILE", help="TOML/JSON flip rules (required for --dynamics flip)")
    parser.add_argument("--window-size", type=int, default=2, metavar="N", help="window size n (default 2)")
    parser.add_argument(
        "--exclude-closed",
        action="store_true",
        help="drop outside neighbours adjacent to another window site (the paper's convention)",
    )
    parser.add_argument(
        "--bond-kinds",
        nargs="+",
        default=None,
        metavar="KIND",
        help="swap (or catalyse flips) only across bonds of these kinds (see 'latticeclosure lattices --show')",
    )
    parser.add_argument("--generic-names", action="store_true", help="ignore naming plugins; use k1…kN")


def equations_from_arguments(args: argparse.Namespace, **kwargs: Any) -> Any:
    """Generate the equations described by :func:`add_hierarchy_arguments` options."""
    from ..equations import generate_equations
    from ..errors import LatticeClosureError
    from ..registry import get_registry

    from .lattice_options import lattice_from_arguments

    registry = get_registry()
    lattice = lattice_from_arguments(args)
    dynamics = registry.get("dynamics", args.dynamics)
    options: dict[str, Any] = {"exclude_closed": args.exclude_closed}
    if getattr(args, "bond_kinds", None):
        options["bond_kinds"] = lattice.check_bond_kinds(args.bond_kinds, "--bond-kinds")
    if args.flip_spec is not None:
        if args.dynamics != "flip":
            raise LatticeClosureError("--flip-spec only applies to --dynamics flip")
        options["rules"] = args.flip_spec
    return generate_equations(
        lattice,
        args.species,
        dynamics=dynamics.configure(**options),
        window_size=args.window_size,
        naming=None if args.generic_names else "auto",
        **kwargs,
    )


class EquationsCommand:
    """Print the window-method hierarchy for a lattice, species and dynamics."""

    name = "equations"
    help = "generate mean-cluster rate equations (window method) for a lattice and dynamics"
    description = (
        "Generate dC/dt for every window class of size N in terms of size-N and size-(N+1) classes "
        "(the mean-cluster hierarchy), for swap (Kawasaki) or flip dynamics, and print it as text, "
        "LaTeX, JSON (schema latticeclosure.equations/1) or an importable Python module."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_hierarchy_arguments(parser)
        parser.add_argument("--format", choices=("text", "latex", "json", "python"), default="text")
        parser.add_argument(
            "--details",
            action="store_true",
            help="text format: also print conservation laws, composition drift, its rate relations, "
            "and equilibrium constants",
        )
        parser.add_argument("--max-window-size", type=int, default=None, help="raise the window-size limit")

    def run(self, args: argparse.Namespace) -> int:
        from ..equations.formats import to_json, to_latex, to_python, to_text

        kwargs = {}
        if args.max_window_size is not None:
            kwargs["max_window_size"] = args.max_window_size
        eqs = equations_from_arguments(args, **kwargs)
        if args.format == "json":
            print(to_json(eqs))
        elif args.format == "latex":
            print(to_latex(eqs))
        elif args.format == "python":
            print(to_python(eqs))
        else:
            print(to_text(eqs, details=args.details))
        return 0


COMMAND = EquationsCommand()
