"""``latticeclosure lattices``: the registered lattices with dimension, basis size and source."""

from __future__ import annotations

import argparse
from typing import Any

from ..registry import get_registry
from .output import add_format_argument, format_table, write_json

__all__ = ["COMMAND", "LatticesCommand"]


class LatticesCommand:
    """List registered lattices: name, dimension, basis sites, source, description."""

    name = "lattices"
    help = "list registered lattices (name, dimension, basis sites, source, description)"
    description = (
        "List the registered lattices: name, dimension, number of basis sites, the plugin "
        "distribution/module that contributed it, and a description."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_format_argument(parser)

    def run(self, args: argparse.Namespace) -> int:
        rows: list[dict[str, Any]] = []
        for entry in get_registry().entries("lattices").values():
            lattice = entry.obj
            rows.append(
                {
                    "name": entry.name,
                    "dimension": int(lattice.dimension),
                    "n_basis": int(len(lattice.basis)),
                    "description": str(getattr(lattice, "description", "") or ""),
                    "source": entry.source.as_dict(),
                }
            )
        if args.format == "json":
            write_json(rows)
            return 0
        if not rows:
            print("no lattices registered")
            return 0
        print(
            format_table(
                ["NAME", "DIM", "BASIS", "SOURCE", "DESCRIPTION"],
                [
                    [
                        r["name"],
                        r["dimension"],
                        r["n_basis"],
                        _source_text(r["source"]),
                        r["description"],
                    ]
                    for r in rows
                ],
            )
        )
        return 0


def _source_text(source: dict[str, Any]) -> str:
    dist = source["distribution"] or "(run time)"
    return f"{dist}:{source['module']}"


COMMAND = LatticesCommand()
