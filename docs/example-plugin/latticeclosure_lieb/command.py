"""``latticeclosure lieb-info``: an example plugin CLI command."""

from __future__ import annotations

import argparse

__all__ = ["LiebInfoCommand"]


class LiebInfoCommand:
    """Print the nearest-neighbour distance and the coordination of each basis site of ``lieb``."""

    name = "lieb-info"
    help = "show nearest-neighbour facts of the Lieb lattice (example plugin command)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="multiply the Bravais vectors and basis by this factor (default 1)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from .lattice import lieb_lattice

        base = lieb_lattice()
        # Options go through configure(), which returns a new object; the registered one is untouched.
        lattice = base.configure(vectors=base.vectors * args.scale, basis=base.basis * args.scale)
        coordination = ", ".join(str(c) for c in lattice.coordination)
        print(f"lattice: {lattice.name}")
        print(f"nearest-neighbour distance: {lattice.nearest_neighbour_distance:g}")
        print(f"coordination per basis site: {coordination}")
        return 0
