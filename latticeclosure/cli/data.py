"""``latticeclosure data``: show, validate, export (CSV) and import trajectory datasets."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["COMMAND", "DataCommand"]


def _check_target(path: Path, overwrite: bool) -> None:
    from ..errors import ConfigurationError, LatticeClosureError

    if path.is_dir():
        raise ConfigurationError(f"output file {path} is a directory")
    if path.exists() and not overwrite:
        raise LatticeClosureError(f"output file {path} exists; use --overwrite to replace it")
    if not path.parent.exists():
        raise ConfigurationError(f"output directory {path.parent} does not exist")


class DataCommand:
    """Trajectory datasets: ``show``, ``validate``, ``export`` to CSV, ``import`` from CSV."""

    name = "data"
    help = "trajectory datasets: show, validate, export to CSV, import CSV from other simulators"
    description = (
        "Inspect and convert trajectory datasets (.npz, see docs/data-format.md). 'import' reads a "
        "CSV with one column per cluster class (named like C++, C+-, L+-+, T---) written by this "
        "package or by another simulator, validates it and writes a .npz dataset."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
        show = sub.add_parser("show", help="summarise a dataset (metadata, classes, first/last records)")
        show.add_argument("file", help=".npz or .csv trajectory")
        show.add_argument("--format", choices=("table", "json"), default="table")
        val = sub.add_parser("validate", help="load and validate datasets; exit 2 on the first invalid one")
        val.add_argument("files", nargs="+")
        exp = sub.add_parser("export", help="export a .npz dataset as CSV")
        exp.add_argument("file", help=".npz trajectory")
        exp.add_argument("-o", "--out", default=None, metavar="FILE.csv", help="default: FILE with suffix .csv")
        exp.add_argument("--classes", nargs="+", default=None, metavar="NAME", help="only these classes")
        exp.add_argument("--overwrite", action="store_true")
        imp = sub.add_parser("import", help="import a CSV (this package's or another simulator's) as .npz")
        imp.add_argument("file", help="CSV file with one column per class")
        imp.add_argument("-o", "--out", default=None, metavar="FILE.npz", help="default: FILE with suffix .npz")
        from .lattice_options import add_lattice_arguments

        add_lattice_arguments(imp, required=False, lattice_help="lattice name (needed without a metadata header)")
        imp.add_argument("--species", nargs="+", default=None, metavar="S", help="species (needed without a metadata header)")
        imp.add_argument("--max-size", type=int, default=3, help="largest class size to match columns against (default 3)")
        imp.add_argument("--x", type=float, default=None, help="record this stoichiometry as x_realised")
        imp.add_argument("--model", default=None, help="record this model name")
        imp.add_argument("--rescale-time", action="store_true", help="map the time (or step) column onto [0, 1]")
        imp.add_argument("--overwrite", action="store_true")

    def run(self, args: argparse.Namespace) -> int:
        return getattr(self, "_" + args.data_command)(args)

    # ------------------------------------------------------------------ actions
    def _show(self, args: argparse.Namespace) -> int:
        from ..data import load_trajectory
        from .output import format_table, write_json

        traj = load_trajectory(args.file)
        meta = traj.metadata
        info: dict[str, Any] = {
            "file": args.file,
            "schema": meta["schema"],
            "model": meta["model"],
            "lattice": meta["lattice"]["name"],
            "supercell": meta["supercell"],
            "species": meta["species"],
            "x_target": meta["x_target"],
            "x_realised": meta["x_realised"],
            "seed": meta["seed"],
            "records": traj.n_records,
            "classes": traj.class_names,
            "time_unit": meta["time_unit"],
        }
        if traj.energy_per_site is not None:
            info["final_energy_per_site"] = float(traj.energy_per_site[-1])
            info["lower_bound_per_site"] = (meta.get("energy") or {}).get("lower_bound_per_site")
        if args.format == "json":
            info["final_concentrations"] = dict(zip(traj.class_names, traj.concentrations[-1].tolist()))
            write_json(info)
            return 0
        for key in ("file", "model", "lattice", "supercell", "species", "x_target", "x_realised", "seed",
                    "records", "time_unit", "final_energy_per_site", "lower_bound_per_site"):
            if key in info:
                print(f"{key:22s} {info[key]}")
        print()
        print(format_table(
            ["CLASS", "SHAPE", "M", "FIRST", "LAST"],
            [[c["name"], c["shape"], c["multiplicity"], f"{traj.concentrations[0, k]:.6f}",
              f"{traj.concentrations[-1, k]:.6f}"] for k, c in enumerate(traj.classes)],
        ))
        return 0

    def _validate(self, args: argparse.Namespace) -> int:
        from ..data import load_trajectory

        for name in args.files:
            traj = load_trajectory(name)
            print(f"{name}: ok ({traj.n_records} records, {len(traj.class_names)} classes)")
        return 0

    def _export(self, args: argparse.Namespace) -> int:
        from ..data import Trajectory
        from ..io.outdir import check_output_name

        given = check_output_name(args.out, "--out")
        traj = Trajectory.load(args.file)
        if args.classes:
            traj = traj.select(args.classes)
        out = given if given is not None else Path(args.file).with_suffix(".csv")
        from ..data.csvio import sidecar_path

        _check_target(out, args.overwrite)
        _check_target(sidecar_path(out), args.overwrite)
        traj.to_csv(out)
        print(f"wrote {out} ({traj.n_records} rows, {len(traj.class_names)} classes) and its metadata "
              f"{sidecar_path(out)}")
        return 0

    def _import(self, args: argparse.Namespace) -> int:
        from ..data import read_csv
        from ..io.outdir import check_output_name

        given = check_output_name(args.out, "--out")
        extra: dict[str, Any] = {}
        if args.x is not None:
            extra["x_realised"] = args.x
        if args.model is not None:
            extra["model"] = args.model
        from .lattice_options import lattice_from_arguments, lattice_given

        lattice = lattice_from_arguments(args) if lattice_given(args) and args.lattice is None else args.lattice
        traj = read_csv(args.file, lattice=lattice, species=args.species, metadata=extra or None,
                        max_size=args.max_size, rescale_time=args.rescale_time)
        out = given if given is not None else Path(args.file).with_suffix(".npz")
        _check_target(out, args.overwrite)
        traj.save(out)
        print(f"wrote {out} ({traj.n_records} records, {len(traj.class_names)} classes)")
        return 0


COMMAND = DataCommand()
