"""``latticeclosure clusters``: cluster shapes of a lattice and, with species, their decorated classes.

JSON output (``--format json``) is a public contract, schema ``latticeclosure.clusters/1``::

    {"schema": "latticeclosure.clusters/1",
     "lattice": {"name": str, "dimension": int, "vectors": [[...]], "basis": [[...]]},
     "enumerator": str, "species": [str, ...] or null,
     "shapes": [{"name": str, "size": int, "sites": [[x, y(, z)], ...], "embeddings_per_site": number,
                 "classes": [{"name": str, "states": [str, ...], "multiplicity": int}, ...]}, ...]}

``classes`` is empty when no species are given; ``states`` are aligned with the shape's ``sites``
(Cartesian coordinates of one representative embedding).

Only geometry is computed (numpy, networkx-free); numba is never imported by this command.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import SizeLimitError
from .output import add_format_argument, format_table, write_json

__all__ = ["COMMAND", "ClustersCommand", "SCHEMA", "clusters_document"]

SCHEMA = "latticeclosure.clusters/1"


def clusters_document(
    lattice: Any, enumerator: Any, max_size: int, species: list[str] | None
) -> tuple[dict[str, Any], list[Any]]:
    """The JSON document of the ``clusters`` command and the enumerated shapes.

    Parameters
    ----------
    lattice : Lattice
    enumerator : cluster enumerator (``name``, ``enumerate(lattice, max_size)``)
    max_size : int
    species : list of str or None

    Returns
    -------
    (dict, list of Shape)
    """
    from ..clusters import check_class_request, enumerate_classes, validate_species

    sp = list(validate_species(species)) if species is not None else None
    if sp is not None:
        check_class_request(enumerator, lattice, max_size, len(sp))
    shapes = enumerator.enumerate(lattice, max_size)
    records = []
    for shape in shapes:
        rec = shape.to_json()
        rec["classes"] = [c.to_json() for c in enumerate_classes(shape, sp)] if sp is not None else []
        records.append(rec)
    doc = {
        "schema": SCHEMA,
        "lattice": lattice.to_json(),
        "enumerator": str(enumerator.name),
        "species": sp,
        "shapes": records,
    }
    return doc, shapes


def _number(value: float) -> str:
    """Compact exact-looking rendering: 3, 1.5, 0.4, 0.333333."""
    return f"{value:.6g}"


class ClustersCommand:
    """List cluster shapes up to a size and, with species, their decorated classes."""

    name = "clusters"
    help = "cluster shapes of a lattice up to a size, with their classes for given species"
    description = (
        "Enumerate the cluster shapes of a lattice up to --max-size (connected site-sets or "
        "self-avoiding chains, up to the lattice's computed symmetry group) with their embeddings "
        "per lattice site and shape fractions; with --species, list the decorated classes of each "
        "shape with their multiplicities. JSON output follows the schema latticeclosure.clusters/1."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from .lattice_options import add_lattice_arguments

        add_lattice_arguments(parser)
        parser.add_argument(
            "--max-size", required=True, type=int, metavar="N", help="largest cluster size (number of sites)"
        )
        parser.add_argument(
            "--species",
            nargs="+",
            metavar="S",
            default=None,
            help='species (states), e.g. --species + -  ("+" and "-" are fine as values)',
        )
        parser.add_argument(
            "--enumerator",
            default="connected",
            metavar="NAME",
            help="registered cluster enumerator: connected (lattice animals, default) or chains",
        )
        parser.add_argument(
            "--max-shapes",
            type=int,
            default=None,
            metavar="M",
            help="refuse requests expected to produce more shapes than this (enumerator default: 20000)",
        )
        add_format_argument(parser)

    def run(self, args: argparse.Namespace) -> int:
        from ..registry import get_cluster_enumerator
        from .lattice_options import lattice_from_arguments

        lattice = lattice_from_arguments(args)
        options = {} if args.max_shapes is None else {"max_shapes": args.max_shapes}
        enumerator = get_cluster_enumerator(args.enumerator, **options)
        if args.max_size < 1:
            raise SizeLimitError(f"--max-size must be a positive integer, got {args.max_size}")
        doc, shapes = clusters_document(lattice, enumerator, args.max_size, args.species)
        if args.format == "json":
            write_json(doc)
            return 0
        self._print_table(lattice, doc, shapes)
        return 0

    @staticmethod
    def _print_table(lattice: Any, doc: dict[str, Any], shapes: list[Any]) -> None:
        species = doc["species"]
        print(
            f"lattice {lattice.name}: {lattice.dimension}D, {lattice.n_basis} basis site(s), "
            f"coordination {'/'.join(str(z) for z in lattice.coordination)}, "
            f"point group order {lattice.symmetry.point_group_order}"
            + (f", bond kinds {', '.join(lattice.bond_kinds)}" if lattice.bond_kinds else "")
            + (f", sublattices {''.join(lattice.sublattice_labels)}" if lattice.sublattice_labels else "")
        )
        print(
            f"enumerator {doc['enumerator']}; species {' '.join(species) if species else '(none)'}; "
            f"{len(shapes)} shape(s)"
        )
        print()
        headers = ["SHAPE", "SIZE", "BONDS", "EMB/SITE", "FRACTION"]
        if species:
            headers += ["CLASSES", "MEMBERS (multiplicity)"]
        rows = []
        for shape, rec in zip(shapes, doc["shapes"]):
            row: list[Any] = [
                shape.name,
                shape.size,
                len(shape.bonds),
                _number(shape.embeddings_per_site),
                _number(shape.fraction),
            ]
            if species:
                row += [
                    len(rec["classes"]),
                    ", ".join(f"{c['name']}:{c['multiplicity']}" for c in rec["classes"]),
                ]
            rows.append(row)
        print(format_table(headers, rows))
        print()
        print(
            "EMB/SITE: distinct embeddings per lattice site (averaged over the basis); FRACTION: share "
            "of the shape among all shapes of its size, by embeddings."
        )
        if species:
            print(
                "multiplicity m_c: patterns on one embedding that belong to the class; "
                "concentrations satisfy sum_c m_c C_c = 1 per shape."
            )


COMMAND = ClustersCommand()
