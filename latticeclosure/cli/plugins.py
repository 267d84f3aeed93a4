"""``latticeclosure plugins``: everything registered, grouped by kind, with its source."""

from __future__ import annotations

import argparse

from ..registry import KINDS, get_registry
from .output import add_format_argument, format_table, write_json

__all__ = ["COMMAND", "PluginsCommand"]


class PluginsCommand:
    """List the loaded plugins and every object they register, by kind."""

    name = "plugins"
    help = "list plugins and everything they register, by kind and source"
    description = (
        "List the loaded plugins (entry-point group 'latticeclosure') and every object they "
        "register, grouped by kind, with the distribution and module that contributed it."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_format_argument(parser)
        parser.add_argument(
            "--kind",
            choices=KINDS,
            action="append",
            help="only this kind (repeatable; default: all kinds)",
        )

    def run(self, args: argparse.Namespace) -> int:
        listing = get_registry().listing()
        kinds = list(args.kind) if args.kind else list(KINDS)
        listing["kinds"] = {kind: listing["kinds"][kind] for kind in kinds}
        if args.format == "json":
            write_json(listing)
            return 0
        print("plugins:")
        print(
            format_table(
                ["PLUGIN", "DISTRIBUTION", "MODULE"],
                [
                    [
                        p["plugin"],
                        f"{p['distribution']} {p['version']}" if p["distribution"] else "(run time)",
                        p["module"],
                    ]
                    for p in listing["plugins"]
                ],
                indent="  ",
            )
        )
        for kind in kinds:
            entries = listing["kinds"][kind]
            print()
            if not entries:
                print(f"{kind}: none")
                continue
            print(f"{kind} ({len(entries)}):")
            rows = [
                [
                    e["name"],
                    e["plugin"],
                    e["distribution"] or "(run time)",
                    e["module"],
                    e["description"],
                ]
                for e in entries
            ]
            print(
                format_table(
                    ["NAME", "PLUGIN", "DISTRIBUTION", "MODULE", "DESCRIPTION"], rows, indent="  "
                )
            )
        return 0


COMMAND = PluginsCommand()
