"""The lattice options shared by every command that takes a lattice.

One of ``--lattice NAME`` (registered), ``--lattice-file FILE.toml`` (see
:mod:`latticeclosure.latticefile`) or ``--structure FILE`` (a crystal structure, with ``--sites``,
optionally ``--layer``, ``--stacking-axis``, ``--layer-tolerance``; needs the ``[ase]`` extra), and
``--sublattices`` to keep a larger cell with distinct sublattices. A cell reduced to its primitive
cell is reported with a one-line notice on stderr.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

__all__ = ["add_lattice_arguments", "lattice_from_arguments", "lattice_given", "parse_sublattices"]


def add_lattice_arguments(parser: argparse.ArgumentParser, required: bool = True, lattice_help: str | None = None) -> None:
    """Add ``--lattice | --lattice-file | --structure`` and their companions to ``parser``."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument(
        "--lattice", default=None, metavar="NAME",
        help=lattice_help or "registered lattice name (see 'latticeclosure lattices')",
    )
    group.add_argument(
        "--lattice-file", default=None, metavar="FILE",
        help="lattice file (TOML: name, vectors, basis, [bonds] shells/cutoff/explicit); "
        "'latticeclosure lattices --show NAME --format toml' writes one",
    )
    group.add_argument(
        "--structure", default=None, metavar="FILE",
        help="crystal structure (CIF, POSCAR, ... via ASE, extra [ase]); use with --sites and --layer",
    )
    parser.add_argument(
        "--sites", default=None, metavar="EL[,EL...]",
        help="with --structure: chemical symbols whose sites make the lattice, e.g. Mn,Li",
    )
    parser.add_argument(
        "--layer", type=float, default=None, metavar="X",
        help="with --structure: keep the layer at fractional coordinate X along the stacking axis",
    )
    parser.add_argument(
        "--stacking-axis", choices=("a", "b", "c"), default="c",
        help="with --structure --layer: the cell vector across the layers (default c)",
    )
    parser.add_argument(
        "--layer-tolerance", type=float, default=0.05, metavar="T",
        help="with --structure --layer: largest fractional distance of a layer site (default 0.05)",
    )
    parser.add_argument(
        "--sublattices", default=None, metavar="SPEC",
        help="keep a larger cell with distinct sublattices: labels per basis site (A,B,B) or a "
        "supercell matrix with rows separated by ';' (e.g. '1,1;-1,2' for sqrt3 x sqrt3 triangular)",
    )


def lattice_given(args: argparse.Namespace) -> bool:
    """Whether any lattice source option was given."""
    return any(getattr(args, k, None) is not None for k in ("lattice", "lattice_file", "structure"))


def parse_sublattices(text: str) -> Any:
    """``"A,B,B"`` → labels; ``"1,1;-1,2"`` → integer matrix rows."""
    from ..errors import GeometryError

    parts = [p.strip() for p in text.split(";")]
    if len(parts) == 1 and not any(ch.isdigit() for ch in parts[0].replace("-", "")):
        labels = [x for x in parts[0].replace(",", " ").split() if x]
        if labels:
            return labels
    rows = []
    for p in parts:
        try:
            rows.append([int(x) for x in p.replace(",", " ").split()])
        except ValueError:
            if len(parts) == 1:
                return [x for x in p.replace(",", " ").split() if x]
            raise GeometryError(
                f"--sublattices {text!r}: give labels (A,B,B) or integer matrix rows separated by ';'"
            ) from None
    return rows


def lattice_from_arguments(args: argparse.Namespace) -> Any:
    """Build the lattice the options describe; print a reduction notice on stderr if there is one.

    Raises
    ------
    LatticeClosureError
        Unknown lattice, bad lattice or structure file, structure options without ``--structure``.
    """
    from ..errors import LatticeClosureError
    from ..lattice import PrimitiveCellNotice

    structure = getattr(args, "structure", None)
    if structure is None:
        extras = [f"--{k.replace('_', '-')}" for k in ("sites", "layer") if getattr(args, k, None) is not None]
        if extras:
            raise LatticeClosureError(f"{' and '.join(extras)} only apply with --structure FILE")
    elif getattr(args, "sites", None) is None:
        raise LatticeClosureError("--structure needs --sites, the chemical symbols of the lattice sites (e.g. Mn,Li)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PrimitiveCellNotice)
        lattice = _build(args)
        sub = getattr(args, "sublattices", None)
        if sub is not None:
            lattice = lattice.configure(sublattices=parse_sublattices(sub))
    notices = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, PrimitiveCellNotice)))
    for note in notices:
        print(note, file=sys.stderr)
    for w in caught:
        if not issubclass(w.category, PrimitiveCellNotice):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return lattice


def _build(args: argparse.Namespace) -> Any:
    if getattr(args, "lattice_file", None) is not None:
        from ..latticefile import read_lattice_file

        return read_lattice_file(args.lattice_file)
    if getattr(args, "structure", None) is not None:
        from ..structure import lattice_from_structure

        sites = [s for s in args.sites.replace(",", " ").split() if s]
        return lattice_from_structure(
            args.structure, sites, layer=args.layer, axis=args.stacking_axis, layer_tolerance=args.layer_tolerance
        )
    from ..registry import get_lattice

    return get_lattice(args.lattice)
