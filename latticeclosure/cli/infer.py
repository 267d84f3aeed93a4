"""``latticeclosure infer``: fit the rate constants of closed models to trajectory data.

Examples::

    latticeclosure infer runs/x0.33_seed0.npz --closure pair kirkwood --out infer-x033
    latticeclosure infer runs/x0.33_seed0.npz --closure pair-corrected --method lsq --out fit-pc
    latticeclosure infer runs/x0.33_seed0.npz --closure pair --samples 100000 --chains 4 --workers 2 --out paper
    latticeclosure infer runs/x0.33_seed0.npz --closure pair --samples 100000 --out paper --resume
    latticeclosure infer runs/x0.33_seed0.npz --closure pair --chains 8 --executor dask --scheduler tcp://head:8786 --out big

The lattice and species come from the data; the model is the window-method hierarchy of
``--window-size`` (default 2) closed with each ``--closure`` (a closure family or preset; a
parametric family such as ``pair-corrected`` or ``power-law`` is first fitted to the same data).
Writes ``summary.json`` (schema ``latticeclosure.infer-summary/1``), ``report.md``, ``fits/*.npz``,
``chains/*.npz`` and ``figures/*.png`` into ``--out``. Bad input: ``error: …`` and exit status 2,
nothing written.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["COMMAND", "InferCommand"]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _temperature(text: str) -> Any:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text!r}") from None


class InferCommand:
    """Multi-start least squares, identifiability and DR-MH posteriors of rate constants."""

    name = "infer"
    help = "fit rate constants of closed models to data: least squares, DR-MH posteriors, identifiability"
    description = (
        "Minimise F(K) of eq. (17) (½∫|C(t;K) − C_data|² dt + α|Q(K) − Q_data|²) from a space-filling "
        "multi-start, analyse which rate combinations the data determine (Fisher information, structural "
        "combinations, drift relations), and sample the posterior ∝ exp(−F/s) with two-stage delayed-"
        "rejection Metropolis–Hastings (Algorithm 1; --adaptive: DRAM). Linear models are fitted in "
        "their rate combinations from the closed form."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("data", nargs="+", metavar="DATASET", help="trajectory files (.npz/.json/.csv)")
        parser.add_argument("--closure", nargs="+", required=True, metavar="NAME",
                            help="closure families or presets a model declares (e.g. pair kirkwood pair-corrected)")
        parser.add_argument("--window-size", type=_int, default=2, metavar="N", help="window size (default 2)")
        parser.add_argument("--exclude-closed", action="store_true",
                            help="drop outside partners adjacent to another window site (the paper's eq. 5)")
        parser.add_argument("--method", choices=("lsq", "mcmc"), default="mcmc", help="stop after least squares, or sample")
        parser.add_argument("--alpha", type=_float, default=0.0, metavar="A", help="weight of the Q term (default 0)")
        parser.add_argument("--q-data", choices=("triplets", "closure"), default="triplets",
                            help="Q_data from the measured triplets (default) or through the closure (the paper)")
        parser.add_argument("--variables", nargs="+", default=None, metavar="CLASS", help="window classes in F (default all)")
        parser.add_argument("--n-starts", type=_int, default=8, metavar="N", help="multi-start points (default 8)")
        parser.add_argument("--log-parameters", action="store_true", help="least squares in log K")
        parser.add_argument("--samples", type=_int, default=4000, metavar="N",
                            help="samples per chain (default 4000; the paper: 100000)")
        parser.add_argument("--chains", type=_int, default=2, metavar="C", help="chains (default 2)")
        parser.add_argument("--burn-in", type=_int, default=None, metavar="N", help="samples discarded before diagnostics")
        parser.add_argument("--adaptive", action="store_true", help="DRAM (adaptation stops after the burn-in)")
        parser.add_argument("--temperature", type=_temperature, default=1.0, metavar="S|auto",
                            help="likelihood exp(-F/S) (default 1); auto: S = 2 F_min / n from the best fit "
                                 "(n residual values; see docs/inference.md)")
        parser.add_argument("--profiles", action="store_true", help="profile likelihood of every rate")
        from .executor_options import add_executor_arguments

        add_executor_arguments(parser, workers_default="1", what="multi-start fits and chain segments")
        parser.add_argument("--seed", type=_int, default=0, metavar="S")
        parser.add_argument("--resume", action="store_true", help="continue the checkpointed chains in --out")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--out", required=True, metavar="DIR", help="output directory")

    def run(self, args: argparse.Namespace) -> int:
        from ..errors import ConfigurationError, OutputDirectoryError
        from ..inference.run import SETTINGS_FILE, InferenceSettings, run_inference
        from ..parallel import open_executor
        from .executor_options import executor_from_arguments
        from ..io.outdir import check_output_name
        from ..io.runlock import RunLock
        from ..simulation.workers import exit_status

        out = check_output_name(args.out, "--out")
        duplicated = sorted({c for c in args.closure if args.closure.count(c) > 1})
        if duplicated:
            raise ConfigurationError(f"--closure {' '.join(duplicated)} is given twice; give every closure once")
        if args.variables is not None and len(set(args.variables)) != len(args.variables):
            raise ConfigurationError("--variables lists a class twice; give every class once")

        executor = executor_from_arguments(args, default_workers=1)
        settings = InferenceSettings.make(
            method=args.method, alpha=args.alpha, q_data=args.q_data, variables=args.variables, n_starts=args.n_starts,
            log_parameters=args.log_parameters, samples=args.samples, chains=args.chains, burn_in=args.burn_in,
            adaptive=args.adaptive, temperature=args.temperature, profiles=args.profiles, workers=executor.workers or 1,
            seed=args.seed,
        )
        if args.window_size < 2:
            raise ConfigurationError(f"--window-size must be at least 2, got {args.window_size}")
        if out.exists() and not out.is_dir():
            raise OutputDirectoryError(f"--out {out} is a file, not a directory")
        if out.exists() and not args.resume and any(out.iterdir()):
            raise OutputDirectoryError(f"--out {out} exists and is not empty; use --resume to continue a run there or choose a new directory")
        if args.resume and not (out / SETTINGS_FILE).exists():
            raise OutputDirectoryError(f"--resume: {out} holds no inference run ({SETTINGS_FILE} missing)")
        trajectories = [self._load(p) for p in args.data]
        models = self._models(args, trajectories)
        progress: Any = False if args.no_progress else None
        created = not out.exists()
        try:
            from ..io.outdir import ensure_directory

            ensure_directory(out)
            with RunLock(out, "infer"), open_executor(executor) as session:
                result = run_inference(models, trajectories, settings, executor=session.executor, out_dir=out,
                                       resume=args.resume, progress=progress)
                paths = result.write(out)
        except KeyboardInterrupt as exc:
            import sys

            how = "terminated" if getattr(exc, "signum", None) else "interrupted"
            chains = sorted((out / "chains").glob("*.npz")) if (out / "chains").is_dir() else []
            saved = (f"{len(chains)} chain checkpoint(s) are saved in {out / 'chains'}; continue with the same "
                     "command and --resume" if chains else "no chain was checkpointed yet; run the command again")
            print(f"{how}: {saved}", file=sys.stderr)
            return exit_status(exc)
        except BaseException:
            if created and out.is_dir() and not any(p.name != ".latticeclosure.lock" for p in out.iterdir()):
                out.rmdir()  # nothing was written: leave no empty directory behind
            raise
        print(result.to_markdown())
        print(f"wrote {paths['summary']} and {len(paths) - 1} other file(s) in {out}")
        return 0

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _load(path: str) -> Any:
        from ..errors import DataError
        from .fit import read_data_file

        obj = read_data_file(path)
        if isinstance(obj, dict):
            cols = dict(obj["columns"])
            if "time" not in cols and "t" not in cols:
                raise DataError(f"data file {path} has no 'time' column")
            return {"__metadata__": obj.get("metadata", {}), **cols}
        return obj

    def _models(self, args: argparse.Namespace, trajectories: list[Any]) -> dict[str, Any]:
        from ..closedmodel import close_equations
        from ..closures.base import ParametricClosure
        from ..closures.calibration import calibrate, resolve_closure
        from ..errors import DataError
        from ..equations import generate_equations
        from ..registry import get_registry

        from ..similarity import check_lattice_label

        metas = [t.metadata if hasattr(t, "metadata") else t.get("__metadata__", {}) for t in trajectories]
        for path, m in zip(args.data, metas):
            sp = m.get("species")
            if sp is not None and (not isinstance(sp, list) or not all(isinstance(s, str) for s in sp)):
                raise DataError(f"data file {path}: 'species' metadata must be a list of names, got {sp!r:.60}")
            lat = m.get("lattice")
            if lat is not None and not (isinstance(lat, str) or isinstance(lat, dict) and isinstance(lat.get("name"), str)):
                raise DataError(f"data file {path}: 'lattice' metadata must be a name or a record with a name")
            if isinstance(lat, dict) and "vectors" in lat:
                check_lattice_label(lat, f"data file {path}", DataError)
        lattices = {self._lattice_name(m) for m in metas}
        species = {tuple(m.get("species") or ("+", "-")) for m in metas}
        if len(lattices) > 1:
            raise DataError(f"the datasets are on different lattices: {sorted(str(x) for x in lattices)}")
        if len(species) > 1:
            raise DataError(f"the datasets have different species: {sorted(species)}")
        lattice = next(iter(lattices)) or "triangular"
        dyn = {(m.get("model_info") or {}).get("dynamics", "swap") for m in metas}
        if len(dyn) > 1:
            raise DataError(f"the datasets come from different dynamics: {sorted(dyn)}")
        eqs = generate_equations(get_registry().get("lattices", lattice), list(next(iter(species))), next(iter(dyn)),
                                 args.window_size, exclude_closed=args.exclude_closed)
        for t in trajectories:
            if isinstance(t, dict):
                t.pop("__metadata__", None)
        models = {}
        for name in args.closure:
            family = resolve_closure(name)
            closure: Any = family
            if isinstance(family, ParametricClosure) and not family.options.get("exponents"):
                # a family with free parameters is fitted to the same data first (eq. 15-16)
                closure = calibrate(family, trajectories, eqs.index, extra="ignore").closure()
            models[name] = close_equations(eqs, closure)
        return models

    @staticmethod
    def _lattice_name(meta: dict[str, Any]) -> str | None:
        lat = meta.get("lattice")
        return lat.get("name") if isinstance(lat, dict) else lat


COMMAND = InferCommand()
