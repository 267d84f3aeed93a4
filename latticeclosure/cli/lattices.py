"""``latticeclosure lattices``: the registered lattices; ``--show`` one lattice (text, JSON or TOML).

The listing gives name, dimension, basis size, source, computed point-group order, coordination,
bond kinds and description. ``--show NAME`` (or ``--show`` with ``--lattice-file`` / ``--structure``)
prints one lattice in full; ``--format toml`` writes it as a lattice file that ``--lattice-file``
reads back to the same lattice.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..registry import get_registry
from .output import FORMATS, format_table, write_json

__all__ = ["COMMAND", "LatticesCommand", "lattice_record"]


def lattice_record(lattice: Any) -> dict[str, Any]:
    """Plain-data description of one lattice (the JSON of ``--show``)."""
    rec = dict(lattice.to_json())
    rec.update(
        {
            "n_basis": int(lattice.n_basis),
            "coordination": [int(z) for z in lattice.coordination],
            "point_group_order": int(lattice.symmetry.point_group_order),
            "space_group_operations": len(lattice.symmetry),
            "bond_kinds": list(lattice.bond_kinds),
            "bonds_list": [b.to_dict() for b in lattice.bonds],
            "description": str(getattr(lattice, "description", "") or ""),
        }
    )
    if lattice.reduction_notice:
        rec["notice"] = lattice.reduction_notice
    return rec


class LatticesCommand:
    """List registered lattices, or show one of them (text, JSON, TOML lattice file)."""

    name = "lattices"
    help = "list registered lattices (name, dimension, basis, point group, bonds); --show one as TOML"
    description = (
        "List the registered lattices: name, dimension, number of basis sites, the plugin "
        "distribution/module that contributed it, the computed point-group order, coordination, "
        "bond kinds and a description. --show NAME prints one lattice in full; with --format toml "
        "it is written as a lattice file for --lattice-file."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--show", nargs="?", const="", default=None, metavar="NAME",
            help="show one lattice: a registered NAME, or the lattice of --lattice-file/--structure",
        )
        parser.add_argument("--lattice-file", default=None, metavar="FILE", help="with --show: a lattice file")
        parser.add_argument("--structure", default=None, metavar="FILE", help="with --show: a crystal structure (extra [ase])")
        parser.add_argument("--sites", default=None, metavar="EL[,EL...]", help="with --structure: species of the sites")
        parser.add_argument("--layer", type=float, default=None, metavar="X", help="with --structure: the layer to keep")
        parser.add_argument("--stacking-axis", choices=("a", "b", "c"), default="c", help="with --layer (default c)")
        parser.add_argument("--layer-tolerance", type=float, default=0.05, metavar="T", help="with --layer (default 0.05)")
        parser.add_argument("--sublattices", default=None, metavar="SPEC", help="with --show: keep a larger cell (A,B,B or '1,1;-1,2')")
        parser.add_argument(
            "--format", choices=tuple(FORMATS) + ("toml",), default="table",
            help="output format (default: table); toml with --show writes a lattice file",
        )

    def run(self, args: argparse.Namespace) -> int:
        from ..errors import LatticeClosureError

        if args.show is None:
            if args.lattice_file or args.structure or args.sublattices:
                raise LatticeClosureError("--lattice-file, --structure and --sublattices go with --show")
            if args.format == "toml":
                raise LatticeClosureError("--format toml writes one lattice: use it with --show NAME")
            return self._list(args)
        return self._show(args)

    def _show(self, args: argparse.Namespace) -> int:
        from ..errors import LatticeClosureError
        from ..latticefile import lattice_to_toml
        from .lattice_options import lattice_from_arguments

        sources = [bool(args.show), args.lattice_file is not None, args.structure is not None]
        if sum(sources) != 1:
            raise LatticeClosureError("--show needs exactly one lattice: a NAME, --lattice-file FILE or --structure FILE")
        ns = argparse.Namespace(**vars(args))
        ns.lattice = args.show or None
        lattice = lattice_from_arguments(ns)
        if args.format == "toml":
            print(lattice_to_toml(lattice), end="")
        elif args.format == "json":
            write_json(lattice_record(lattice))
        else:
            rec = lattice_record(lattice)
            print(f"lattice {rec['name']}: {rec['dimension']}D, {rec['n_basis']} basis site(s), "
                  f"coordination {'/'.join(map(str, rec['coordination']))}, point group order "
                  f"{rec['point_group_order']} ({rec['space_group_operations']} space-group operations modulo translations)")
            print(f"vectors: {rec['vectors']}")
            print(f"basis:   {rec['basis']}")
            if "sublattices" in rec:
                print(f"sublattices: {' '.join(rec['sublattices'])}")
            rule = rec.get("bonds", {"nearest": True})
            print(f"bond rule: {rule}")
            rows = [[b["from"], b["to"], b["offset"], b.get("kind", "")] for b in rec["bonds_list"]]
            print(format_table(["FROM", "TO", "OFFSET", "KIND"], rows))
            if rec["description"]:
                print(rec["description"])
        return 0

    def _list(self, args: argparse.Namespace) -> int:
        rows: list[dict[str, Any]] = []
        for entry in get_registry().entries("lattices").values():
            lattice = entry.obj
            rows.append(
                {
                    "name": entry.name,
                    "dimension": int(lattice.dimension),
                    "n_basis": int(len(lattice.basis)),
                    "point_group_order": int(lattice.symmetry.point_group_order),
                    "coordination": [int(z) for z in lattice.coordination],
                    "bond_kinds": list(lattice.bond_kinds),
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
                ["NAME", "DIM", "BASIS", "SOURCE", "POINT-GROUP", "COORD", "BOND-KINDS", "DESCRIPTION"],
                [
                    [
                        r["name"],
                        r["dimension"],
                        r["n_basis"],
                        _source_text(r["source"]),
                        r["point_group_order"],
                        "/".join(map(str, r["coordination"])),
                        ",".join(r["bond_kinds"]) or "-",
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
