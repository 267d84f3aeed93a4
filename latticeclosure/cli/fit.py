"""``latticeclosure fit``: calibrate a closure on trajectory files; cross-validate; Table II; sparsify.

Examples::

    latticeclosure fit runs/x*.npz --closure power-law --preset hard              # joint fit
    latticeclosure fit runs/x*.npz --closure power-law --per-dataset
    latticeclosure fit runs/x*.npz --closure pair-corrected --cv --compare pair power-law kirkwood
    latticeclosure fit runs/x0.50.npz --table-ii                                    # soft/hard/PA
    latticeclosure fit runs/x*.npz --closure power-law --degree paper --sparsify
    latticeclosure fit runs/x*.npz --closure kirkwood                               # evaluate only

Data files: whatever :mod:`latticeclosure.data` reads (trajectories written by the annealer), or
``.npz``/``.json``/``.csv`` with a ``time`` column and one column per class name (per-shape normalised).
Bad data or options give ``error: …`` and exit status 2.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from .output import parse_key_value

__all__ = ["COMMAND", "FitCommand", "read_data_file"]


def _degree(text: str) -> Any:
    if text in ("pair", "paper"):
        return text
    if text == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--degree must be pair, paper, none or a number, got {text!r}") from None


def read_data_file(path: str) -> Any:
    """A trajectory (via :mod:`latticeclosure.data` when it can read the file) or a plain mapping.

    Plain files: ``.npz`` with one array per column (and optionally a JSON ``metadata`` string),
    ``.json`` with an object ``{"time": [...], "columns": {...}, "metadata": {...}}`` (or the columns
    at the top level), ``.csv``/``.tsv``/``.txt`` with a header row. Everything is read with the size
    and nesting limits of :mod:`latticeclosure.io.reading` and the ``.npz`` checks of
    :mod:`latticeclosure.io.npzfile`.

    Raises
    ------
    DataError
    """
    from ..errors import DataError
    from ..io.npzfile import NpzReader
    from ..io.reading import data_limit, input_path, parse_json, read_text

    p = input_path(path, "data file", DataError)
    if not p.exists():
        raise DataError(f"data file {p} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".npz":
        with NpzReader(p, "data file", DataError, max_ndim=3) as z:
            if "metadata" in z and "concentrations" in z:
                is_trajectory = True
            else:
                is_trajectory = False
                cols = z.read_all([n for n in z.names if n != "metadata"])
                meta: Any = {}
                if "metadata" in z:
                    meta = parse_json(str(z.read("metadata")), f"data file {p}: metadata", DataError)
        if is_trajectory:
            from ..data import Trajectory

            return Trajectory.load(p)
        return {"columns": cols, "metadata": _metadata_object(meta, p)}
    if suffix in (".csv", ".tsv", ".txt"):
        from ..data import load_trajectory

        try:
            return load_trajectory(str(p))
        except DataError as exc:
            project_error = exc  # maybe a plain CSV: try below
        return _plain_csv(p, "\t" if suffix == ".tsv" else ",", project_error)
    if suffix == ".json":
        obj = parse_json(read_text(p, what="data file", limit=data_limit()), f"data file {p}", DataError)
        if not isinstance(obj, dict):
            raise DataError(f"data file {p} must hold a JSON object (time, columns, metadata), got a {type(obj).__name__}")
        cols = obj.get("columns") or obj.get("concentrations") or {
            k: v for k, v in obj.items() if k not in ("metadata", "time")
        }
        if not isinstance(cols, dict):
            raise DataError(f"data file {p}: 'columns' must be an object mapping class names to lists of numbers")
        cols = dict(cols)
        if "time" in obj:
            cols["time"] = obj["time"]
        return {"columns": cols, "metadata": _metadata_object(obj.get("metadata", {}), p)}
    raise DataError(f"cannot read data file {p}: unknown format {suffix!r} (use .npz, .json or .csv)")


def _metadata_object(meta: Any, path: Any) -> dict:
    from ..errors import DataError

    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise DataError(f"data file {path}: metadata must be a JSON object, got a {type(meta).__name__}")
    return meta


def _plain_csv(p: Path, delim: str, project_error: Any) -> dict:
    """A header row and numeric rows (another simulator's CSV)."""
    import io

    import numpy as np

    from ..errors import DataError
    from ..io.reading import data_limit, read_text

    text = read_text(p, what="data file", limit=data_limit())
    lines = text.splitlines()
    if not lines:
        raise project_error
    header = [h.strip() for h in lines[0].split(delim)]
    try:
        arr = np.loadtxt(io.StringIO(text), delimiter=delim, skiprows=1, ndmin=2)
    except ValueError:
        raise project_error from None
    if arr.shape[1] != len(header):
        raise DataError(f"{p}: {len(header)} header names but {arr.shape[1]} columns")
    return {"columns": {h: arr[:, k] for k, h in enumerate(header)}, "metadata": {}}


class FitCommand:
    """Calibrate closures on data files; evaluate, cross-validate, tabulate, sparsify."""

    name = "fit"
    help = "calibrate a closure (power-law, pair-corrected, ...) on trajectory files; --cv for leave-one-out"
    description = (
        "Fit a parametric closure per class by minimising J_i = ½∫(g_i − C_i)² dt (eq. 15) under its "
        "constraints, jointly on all given datasets (default) or per dataset; report parameters, J_i, "
        "E = mean J_i (eq. 30), the pair approximation beside them, and parameters the data do not "
        "identify. Fixed closures (pair, kirkwood, presets, ...) are evaluated. --cv: leave-one-dataset-out "
        "cross-validation against --compare closures. --table-ii: soft and hard power laws beside the "
        "pair approximation (the paper's Table II). --sparsify: simplest integer exponents within tolerance."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("data", nargs="+", metavar="DATA", help="trajectory files (.npz/.json/.csv or the data package's format)")
        parser.add_argument("--closure", default="power-law", metavar="NAME",
                            help="closure family or preset (default power-law)")
        parser.add_argument("--closure-option", action="append", default=[], type=parse_key_value, metavar="KEY=VALUE",
                            help="option for the closure's configure() (VALUE parsed as JSON when possible); repeatable")
        parser.add_argument("--preset", "--regularisation", "--regularization", dest="preset", choices=("soft", "hard"),
                            default=None, help="power-law preset (the closure option preset=): soft (β1=−∞, β2=∞, δ=6) "
                            "or hard (β1=0, β2=δ=2)")
        parser.add_argument("--degree", type=_degree, default=argparse.SUPPRESS,
                            help="power-law degree constraint: pair (default), paper (1 everywhere), none, or a number")
        parser.add_argument("--delta", type=float, default=None, help="upper bound of numerator exponents")
        parser.add_argument("--beta1", type=float, default=None, help="lower bound of denominator exponents")
        parser.add_argument("--beta2", type=float, default=None, help="upper bound of denominator exponents")
        from .lattice_options import add_lattice_arguments

        add_lattice_arguments(
            parser, required=False, lattice_help="lattice of the data (default: from the data, else triangular)"
        )
        parser.add_argument("--species", nargs="+", default=None, metavar="STATE", help="states (default: from the data, else + -)")
        parser.add_argument("--size", type=int, default=None, metavar="N",
                            help="size of the closed classes (default: the largest class size in the data)")
        parser.add_argument("--classes", nargs="+", default=None, metavar="CLASS", help="only these classes")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--per-dataset", action="store_true", help="fit each dataset separately")
        mode.add_argument("--cv", action="store_true",
                          help="leave-one-dataset-out cross-validation of --closure and --compare; the family is "
                          "chosen by nested cross-validation (the choice never sees the held-out dataset)")
        parser.add_argument("--no-nested", action="store_true",
                            help="with --cv: skip the nested selection (faster; the best family is then chosen on the "
                            "same folds, an optimistic estimate)")
        mode.add_argument("--table-ii", action="store_true", help="soft and hard power-law exponents beside PA")
        parser.add_argument("--compare", nargs="*", default=["pair"], metavar="NAME",
                            help="closures to compare with (evaluation and --cv; default: pair)")
        parser.add_argument("--sparsify", action="store_true", help="after a power-law fit, choose sparse integer exponents")
        parser.add_argument("--rtol", type=float, default=0.25, help="sparsify tolerance: J ≤ J_fit(1+rtol)+atol")
        parser.add_argument("--atol", type=float, default=0.0, help="sparsify absolute tolerance")
        parser.add_argument("--n-starts", type=int, default=8, help="random start points per class (default 8)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--canonical", choices=("min-norm", "pair"), default="min-norm",
                            help="choice along non-identifiable directions (default min-norm)")
        from .executor_options import add_executor_arguments

        add_executor_arguments(parser, workers_default="1", what="cross-validation folds (--cv)")
        parser.add_argument("--json", metavar="PATH", help="also write the full result as JSON to PATH")
        parser.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
        parser.add_argument("--format", choices=("table", "json"), default="table")

    # -- helpers
    def _family_options(self, args: argparse.Namespace) -> dict[str, Any]:
        opts = dict(args.closure_option)
        if args.preset:
            opts["preset"] = args.preset
        if hasattr(args, "degree"):
            opts["degree"] = args.degree
        for key in ("delta", "beta1", "beta2"):
            if getattr(args, key) is not None:
                opts[key] = getattr(args, key)
        return opts

    def _index(self, args: argparse.Namespace, raw: list[Any]) -> Any:
        from ..classindex import ClassIndex
        from ..clusters import ChainEnumerator
        from ..errors import ConfigurationError, DataError
        from ..registry import get_registry

        meta = {}
        for path, r in zip(args.data, raw):
            m = getattr(r, "metadata", None) if not isinstance(r, dict) else r.get("metadata")
            if not m:
                continue
            if not meta:
                meta, first = dict(m), path
                continue
            for key in ("lattice", "species"):
                if key in m and key in meta and m[key] != meta[key]:
                    raise DataError(f"data files {first} and {path} have different {key} metadata; fit data of one "
                                    "lattice and one set of species together")
        for key in ("lattice", "species"):
            if key in meta and meta[key] is not None and not isinstance(meta[key], (dict, list, str)):
                raise DataError(f"the data's {key} metadata has the wrong type ({type(meta[key]).__name__})")
        lat_meta = meta.get("lattice")
        data_lattice = lat_meta.get("name") if isinstance(lat_meta, dict) else lat_meta
        if args.lattice is not None and data_lattice and args.lattice != data_lattice:
            raise DataError(f"--lattice {args.lattice} contradicts the data, which are on lattice {data_lattice!r}")
        if args.species is not None and meta.get("species") and list(args.species) != list(meta["species"]):
            raise DataError(f"--species {' '.join(args.species)} contradicts the data, whose species are {list(meta['species'])}")
        lattice_name = args.lattice or (lat_meta.get("name") if isinstance(lat_meta, dict) else lat_meta) or "triangular"
        species = args.species or meta.get("species") or ["+", "-"]
        names = set()
        for r in raw:
            names |= set(r.class_names) if hasattr(r, "class_names") else set(r["columns"])
        registry = get_registry()
        given = None
        if getattr(args, "lattice_file", None) is not None or getattr(args, "structure", None) is not None:
            from ..similarity import same_geometry
            from .lattice_options import lattice_from_arguments

            given = lattice_from_arguments(args)
            if isinstance(lat_meta, dict) and "vectors" in lat_meta:
                from ..lattice import Lattice

                if not same_geometry(given, Lattice.from_json({**lat_meta, "name": lattice_name})):
                    raise DataError(
                        f"the given lattice {given.name!r} has another geometry than the data's lattice {data_lattice!r}"
                    )
        if given is not None:
            lattice = given
        elif (
            args.lattice is None
            and isinstance(lat_meta, dict)
            and lattice_name not in registry.names("lattices")
            and "vectors" in lat_meta
        ):
            from ..lattice import Lattice

            lattice = Lattice.from_json({**lat_meta, "name": lattice_name})
        else:
            lattice = registry.get("lattices", lattice_name)
            if isinstance(lat_meta, dict) and "vectors" in lat_meta:
                from ..similarity import check_lattice_label

                check_lattice_label({**lat_meta, "name": lattice_name}, "the data", DataError)
        enum = None
        if meta.get("enumerator") == "chains":
            enum = ChainEnumerator()
        largest = 2
        for k in (3, 4, 5):
            idx = ClassIndex(lattice, species, k, enum)
            if any(c.name in names for c in idx.classes_of_size(k)):
                largest = k
            else:
                break
        size = largest if args.size is None else args.size
        if not 2 <= size <= largest:
            raise ConfigurationError(
                f"--size {size}: the data hold classes up to size {largest}; the closed classes must have "
                f"a size between 2 and {largest}"
            )
        return ClassIndex(lattice, species, size, enum)

    def run(self, args: argparse.Namespace) -> int:
        from ..closures import CalibrationResult, Evaluation, calibrate, cross_validate, evaluate, exponent_table
        from ..closures.calibration import format_rows, resolve_closure
        from ..closures.dataset import as_dataset
        from ..io import dumps, write_text_atomic
        from ..protocols import FittableClosure, conforms
        from ..closures.sparse import sparsify
        from ..errors import ClosureError, ConfigurationError
        from .executor_options import executor_from_arguments

        executor = executor_from_arguments(args, default_workers=1)

        for opt, value, ok in (
            ("--seed", args.seed, args.seed >= 0),
            ("--n-starts", args.n_starts, args.n_starts >= 1),
            ("--rtol", args.rtol, math.isfinite(args.rtol) and args.rtol >= 0),
            ("--atol", args.atol, math.isfinite(args.atol) and args.atol >= 0),
        ):
            if not ok:
                need = "a positive integer" if opt == "--n-starts" else "non-negative and finite"
                raise ConfigurationError(f"{opt} must be {need}, got {value!r}")
        from ..io.outdir import check_output_name

        json_path = check_output_name(args.json, "--json")
        if json_path is not None:
            jp = json_path
            if jp.is_dir():
                raise ConfigurationError(f"--json {args.json} is a directory")
            if not jp.parent.is_dir():
                raise ConfigurationError(f"--json {args.json}: directory {jp.parent} does not exist")
            if jp.exists() and not args.overwrite:
                raise ConfigurationError(f"--json {args.json} exists; use --overwrite to replace it")
        raw = [read_data_file(p) for p in args.data]
        index = self._index(args, raw)
        datasets = []
        for path, r in zip(args.data, raw):
            if isinstance(r, dict) and "columns" in r:
                datasets.append(as_dataset(r["columns"], index, name=Path(path).stem, metadata=r.get("metadata"), extra="ignore"))
            else:
                datasets.append(as_dataset(r, index, name=getattr(r, "name", None) or Path(path).stem, extra="ignore"))
        # folds and tables in the order of the stoichiometry (then the file name)
        order = sorted(range(len(datasets)), key=lambda k: (datasets[k].x if datasets[k].x is not None else float("inf"),
                                                            datasets[k].name))
        datasets = [datasets[k] for k in order]
        files = [str(args.data[k]) for k in order]
        from ..closures.dataset import refuse_duplicates

        refuse_duplicates(datasets)
        fit_kw = {"n_starts": args.n_starts, "seed": args.seed, "canonical": args.canonical}
        family = resolve_closure(args.closure, **self._family_options(args))
        out: dict[str, Any] = {"closure": family.name, "datasets": [d.name for d in datasets], "files": files,
                               "lattice": index.lattice.name, "species": list(index.species)}
        text: list[str] = []
        if args.table_ii:
            degree = getattr(family, "options", {}).get("degree", "pair")
            table = exponent_table(datasets, index, args.classes, degree=degree, progress=None, **fit_kw)
            out["table_ii"] = table.to_json()
            text.append(table.format())
        elif args.cv:
            fams = [family] + [resolve_closure(n) for n in args.compare if n != family.name]
            nested = not args.no_nested and len(fams) > 1 and len(datasets) >= 3
            if not args.no_nested and len(fams) > 1 and len(datasets) < 3:
                text.append("note: the nested selection needs at least three datasets; this one is not nested")
            cv = cross_validate(fams, datasets, index, args.classes, nested=nested, executor=executor, progress=None,
                                **fit_kw)
            out["cross_validation"] = cv.to_json()
            out["cv_selection_nested"] = nested
            text.append("files: " + ", ".join(files))
            text.append("leave-one-dataset-out E (eq. 30) on each held-out dataset"
                        + (" ('nested': the family chosen by an inner cross-validation without that dataset):" if nested else ":"))
            text.append(cv.format())
            if nested:
                text.append(f"nested estimate of the selected family's held-out E: mean {out['cross_validation']['nested_mean_E']:.4g}")
            else:
                text.append(f"lowest mean held-out E: {cv.best()} (chosen on the same folds: not nested)")
            negative = {k: v for k, v in cv.negative().items() if v}
            if negative:
                text.append("held-out predictions below zero (records × classes): "
                            + ", ".join(f"{k}: {v}" for k, v in negative.items()))
        else:
            results: list[CalibrationResult] = []
            if conforms(family, FittableClosure):
                if args.per_dataset:
                    results = [calibrate(family, d, index, args.classes, progress=None, **fit_kw) for d in datasets]
                else:
                    results = [calibrate(family, datasets, index, args.classes, progress=None, **fit_kw)]
                out["fits"] = [r.to_json() for r in results]
                for r in results:
                    text.append(f"fit of {family.name} on {', '.join(d.name for d in r.datasets)}"
                                f"{' (joint)' if len(r.datasets) > 1 else ''}:")
                    text.append(r.format())
                    nonid = r.nonidentifiable()
                    if nonid:
                        text.append("not identified by these data (canonical choice " + args.canonical + "):")
                        for c, dirs in nonid.items():
                            for d in dirs:
                                text.append(f"  {c}: direction {d['direction']}")
                    text.append("")
                closures = [r.closure() for r in results]
            else:
                if args.sparsify:
                    raise ClosureError(f"--sparsify needs a fitted power-law closure, not {family.name!r}")
                closures = [family]
            # evaluation on every dataset, beside the comparison closures
            compare = [resolve_closure(n) for n in args.compare if n != family.name]
            evals = {}
            if len(closures) == 1:
                evals[family.name] = evaluate(closures[0], datasets, index, args.classes)
            else:
                # per-dataset fits: each closure on its own dataset
                Es: dict[str, Any] = {}
                for c, d in zip(closures, datasets):
                    Es.update(evaluate(c, d, index, args.classes).J)
                evals[family.name] = Evaluation(family.name, Es, {d.name: {"x": d.x} for d in datasets})
            for c in compare:
                if conforms(c, FittableClosure) and any(
                    c.can_close(k, index) and c.parameters(k, index) for k in index.classes_of_size(index.max_size)
                ):
                    continue  # an unfitted family has nothing to evaluate
                evals[c.name] = evaluate(c, datasets, index, args.classes)
            out["evaluation"] = {k: v.to_json() for k, v in evals.items()}
            rows = []
            for d in datasets:
                row = {"dataset": d.name, "x": d.x}
                row.update({k: v.E[d.name] for k, v in evals.items()})
                rows.append(row)
            mean = {"dataset": "mean", "x": None}
            mean.update({k: v.E_mean for k, v in evals.items()})
            rows.append(mean)
            text.append("E = mean_i J_i (eq. 30) per dataset:")
            text.append(format_rows(rows, ["dataset", "x"] + list(evals)))
            if args.sparsify:
                if len(results) != 1:
                    raise ClosureError("--sparsify works on a joint fit (drop --per-dataset)")
                sp = sparsify(results[0], rtol=args.rtol, atol=args.atol)
                out["sparsify"] = sp.to_json()
                text.append("")
                text.append(f"sparse exponents (simplest with J ≤ J_fit·(1+{args.rtol:g}) + {args.atol:g}):")
                text.append(format_rows(sp.table(), ["class", "closure", "J_sparse", "J_fit", "within_tolerance"]))
        if json_path is not None:
            write_text_atomic(json_path, dumps(out) + "\n")
        if args.format == "json":
            print(dumps(out))
        else:
            print("\n".join(text))
        return 0


COMMAND = FitCommand()
