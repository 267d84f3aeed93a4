"""``latticeclosure anneal``: one simulated-annealing run of a model, saved as a trajectory dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ["COMMAND", "AnnealCommand", "add_model_arguments", "add_run_arguments", "resolve_backend_and_model"]


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--backend``, ``--species``, ``--model-option`` (shared with ``sweep``)."""
    from .output import parse_key_value

    parser.add_argument("--model", default=None, help="registered model (default: the default model; see 'latticeclosure plugins')")
    parser.add_argument("--backend", default=None, help="registered data backend (default: the one the model's study declares)")
    parser.add_argument("--species", nargs="+", metavar="S", help="model option: species names (e.g. + - n)")
    parser.add_argument(
        "--model-option", action="append", default=[], type=parse_key_value, metavar="KEY=VALUE",
        help="an option of the model's configure() (VALUE read as JSON when it is JSON), repeatable; e.g. "
        "cations='{\"+\": \"Mn\", \"-\": \"Li\", \"n\": \"Ni\"}'",
    )


def _seconds(text: str) -> float:
    """A non-negative finite number of seconds (argparse type)."""
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative number of seconds, got {text!r}")
    return value


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Size, schedule, recording and kernel options (shared with ``sweep``)."""
    parser.add_argument("-L", "--size", type=int, default=None, metavar="L", help="lattice side (default: the model's)")
    parser.add_argument(
        "--schedule",
        default=None,
        metavar="SPEC",
        help="temperature schedule: 'T1:SWEEPS1,T2:SWEEPS2,...' or 'geometric:T_HIGH:T_LOW:LEVELS:SWEEPS' "
        "(temperatures in the model's energy unit; default: the model's schedule)",
    )
    parser.add_argument(
        "--schedule-scale", type=float, default=None, metavar="F",
        help="multiply every level length of the schedule by F (e.g. 0.1 for a quick run)",
    )
    parser.add_argument("--record-every", type=float, default=None, metavar="SWEEPS",
                        help="record interval in sweeps (default: 200 records over the run)")
    parser.add_argument("--kernel", default=None, choices=("auto", "mask", "stencil", "clusters"),
                        help="swap kernel (default auto: the fastest that applies)")
    parser.add_argument("--checkpoint-every", type=_seconds, default=60.0, metavar="SECONDS",
                        help="seconds between checkpoints of a running job (default 60)")


def _composition(values: list[float], species: Sequence[str]) -> dict[str, float]:
    """``--composition`` values (one per species, in species order) as a mapping."""
    from ..errors import ConfigurationError

    if len(values) != len(species):
        raise ConfigurationError(
            f"--composition needs one value per species {list(species)} (in that order), got {len(values)}"
        )
    return dict(zip(species, values))


def resolve_backend_and_model(args: argparse.Namespace) -> tuple[Any, Any]:
    """The backend and the (configured) model from ``--backend``, ``--model`` and model options."""
    from ..registry import get_registry
    from ..simulation.sweep import resolve_backend_model

    model_name = args.model
    if model_name is None and args.backend is None:
        model_name = get_registry().default_model().name
    backend, model = resolve_backend_model(model_name, args.backend)
    options: dict[str, Any] = dict(args.model_option)
    if args.species:
        options["species"] = list(args.species)
    if options:
        model = model.configure(**options)
    return backend, model


def schedule_from_args(args: argparse.Namespace, model: Any) -> Any:
    """The schedule of ``--schedule``/``--schedule-scale`` (or the model's default)."""
    from ..anneal.schedule import Schedule, ScheduleError

    if args.schedule is not None:
        schedule = Schedule.parse(args.schedule)
    else:
        schedule = model.default_schedule
        if schedule is None:
            raise ScheduleError(f"model {model.name!r} has no default schedule; give --schedule")
    if args.schedule_scale is not None:
        schedule = schedule.scaled(args.schedule_scale)
    return schedule


class AnnealCommand:
    """Anneal a model at one stoichiometry and save the trajectory (npz, optionally CSV)."""

    name = "anneal"
    help = "simulated annealing of a model at one stoichiometry; saves the trajectory dataset"
    description = (
        "Run the numba simulated annealer (Kawasaki nearest-neighbour swaps, Metropolis acceptance, "
        "stepwise temperature schedule) of a model at one stoichiometry x and save the trajectory of "
        "energy, temperature, acceptance and all pair and triplet concentrations as a .npz dataset "
        "(see docs/data-format.md). Long runs checkpoint; --resume continues from the checkpoint."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        comp = parser.add_mutually_exclusive_group(required=True)
        comp.add_argument("-x", "--x", type=float, help="stoichiometry: site fraction of the model's x species")
        comp.add_argument("--composition", nargs="+", type=float, metavar="F",
                          help="site fraction of every species in species order, for models with more than "
                          "two species (e.g. 0.5 0.3 0.2)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        add_model_arguments(parser)
        add_run_arguments(parser)
        parser.add_argument("-o", "--out", default=None, metavar="FILE.npz",
                            help="output file (default: <model>-x<x>-seed<seed>.npz in the current directory)")
        parser.add_argument("--csv", default=None, metavar="FILE.csv", help="also export the trajectory as CSV")
        parser.add_argument("--save-configurations", action="store_true", help="store the configuration at every record")
        parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
        parser.add_argument("--resume", action="store_true", help="continue from the checkpoint <out>.checkpoint.npz")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--format", choices=("table", "json"), default="table", help="summary format")

    def run(self, args: argparse.Namespace) -> int:
        from ..errors import CheckpointError, CheckpointMismatchError, ConfigurationError, LatticeClosureError
        from ..io.outdir import check_output_name, ensure_directory
        from ..io.runlock import RunLock
        from ..io.tables import format_duration
        from ..simulation.sweep import LONG_RUN_SECONDS, set_aside
        from ..simulation.workers import exit_status

        given = check_output_name(args.out, "--out")
        csv = check_output_name(args.csv, "--csv")
        backend, model = resolve_backend_and_model(args)
        if not callable(getattr(backend, "prepare", None)):
            raise ConfigurationError(
                f"data backend {backend.name!r} of model {model.name!r} is not an annealer; use "
                "'latticeclosure sweep' or the backend's own command"
            )
        if args.seed < 0:
            raise ConfigurationError(f"--seed must be a non-negative integer, got {args.seed}")
        schedule = schedule_from_args(args, model)
        x: Any = args.x if args.composition is None else _composition(args.composition, model.species)
        label = f"x{args.x:.6g}" if args.composition is None else "c" + "_".join(f"{v:g}" for v in x.values())
        out = given if given is not None else Path(f"{model.name}-{label}-seed{args.seed}.npz")
        if out.suffix != ".npz":
            out = out.with_name(out.name + ".npz")
        checkpoint = out.with_name(out.stem + ".checkpoint.npz")
        from ..data.csvio import sidecar_path

        # the CSV's metadata goes beside it: refuse to overwrite that file silently too
        targets = [out] + ([csv, sidecar_path(csv)] if csv is not None else [])
        if csv is not None and csv.resolve() == out.resolve():
            raise ConfigurationError(f"--csv {csv} is the output file itself")
        for target in targets:
            if target.is_dir():
                raise ConfigurationError(f"output file {target} is a directory")
            if target.exists() and not args.overwrite:
                raise LatticeClosureError(f"output file {target} exists; use --overwrite to replace it")
            if target.parent.exists() and not target.parent.is_dir():
                raise ConfigurationError(f"output path {target.parent} exists and is not a directory")
        if checkpoint.exists() and not args.resume:
            raise LatticeClosureError(
                f"checkpoint {checkpoint} exists from an unfinished run; use --resume to continue it "
                "or delete it to start afresh"
            )

        def prepare(resume_from: Path | None) -> Any:
            return backend.prepare(
                model, x, args.size, args.seed, schedule, args.record_every,
                kernel=args.kernel, save_configurations=args.save_configurations, checkpoint=resume_from,
            )

        run = prepare(None)  # every input is checked before anything is created
        for target in targets:
            ensure_directory(target.parent)
        with RunLock(out.parent, "anneal", name=f".{out.name}.lock"):
            if args.resume and checkpoint.exists():
                try:
                    run = prepare(checkpoint)
                except CheckpointMismatchError:
                    raise  # the user asked to continue *this* checkpoint with other parameters
                except CheckpointError as exc:
                    moved = set_aside(checkpoint)
                    print(f"warning: {exc}; set aside as {moved.name}; the run starts afresh", file=sys.stderr)
            seconds = run.estimated_seconds()
            if seconds > LONG_RUN_SECONDS:
                print(f"notice: this run attempts {run.total_steps - run.step:.3g} swaps and will take "
                      f"{format_duration(seconds)} (a rough estimate); it checkpoints to {checkpoint} every "
                      f"{args.checkpoint_every:g} s and continues with --resume", file=sys.stderr)
            return self._run(args, run, model, out, csv, checkpoint, label, exit_status)

    def _run(self, args: argparse.Namespace, run: Any, model: Any, out: Path, csv: Path | None,
             checkpoint: Path, label: str, exit_status: Any) -> int:
        from .output import write_json

        from ..progress import progress_enabled

        show = progress_enabled(False if args.no_progress else None)
        bar = None
        if show:
            from tqdm import tqdm

            bar = tqdm(total=run.total_steps, initial=run.step, unit="swap", unit_scale=True,
                       desc=f"anneal {label}", file=sys.stderr)

        def progress(step: int, total: int) -> None:
            if bar is not None:
                bar.update(step - bar.n)

        try:
            traj = run.run(checkpoint=checkpoint, checkpoint_every=args.checkpoint_every, progress=progress)
        except KeyboardInterrupt as exc:
            if bar is not None:
                bar.close()
            how = "terminated" if getattr(exc, "signum", None) else "interrupted"
            print(f"{how} at step {run.step} of {run.total_steps}; the last checkpoint is "
                  f"{checkpoint} (continue with --resume)" if checkpoint.exists() else
                  f"{how} before the first checkpoint; nothing was saved", file=sys.stderr)
            return exit_status(exc)
        if bar is not None:
            bar.close()
        traj.save(out)
        if csv is not None:
            traj.to_csv(csv)
        if checkpoint.exists():
            checkpoint.unlink()
        meta = traj.metadata
        summary = {
            "model": model.name,
            "x_target": meta["x_target"],
            "x_realised": meta["x_realised"],
            "L": meta["supercell"],
            "seed": meta["seed"],
            "kernel": meta["kernel"],
            "total_steps": meta["total_steps"],
            "records": traj.n_records,
            "final_energy_per_site": float(traj.energy_per_site[-1]),
            "lower_bound_per_site": meta["energy"]["lower_bound_per_site"],
            "output": str(out),
            "csv": args.csv,
        }
        if args.format == "json":
            write_json(summary)
        else:
            lb = summary["lower_bound_per_site"]
            comp = ", ".join(f"{k}: {v}" for k, v in meta["composition"].items())
            print(f"model {model.name}: x = {summary['x_realised']:.6g} ({comp} sites), L = {summary['L']}, "
                  f"seed {args.seed}, {summary['total_steps']} attempted swaps ({summary['kernel']} kernel)")
            print(f"final energy per site {summary['final_energy_per_site']:.6g}"
                  + (f" (lower bound {lb:.6g})" if lb is not None else ""))
            print(f"wrote {out}" + (f" and {args.csv}" if args.csv else ""))
        return 0


COMMAND = AnnealCommand()
