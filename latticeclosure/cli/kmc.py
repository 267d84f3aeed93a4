"""``latticeclosure kmc``: exact kinetic Monte Carlo of a flip or swap process, saved as a trajectory dataset."""

from __future__ import annotations

import argparse
import os
import math
import sys
from pathlib import Path
from typing import Any

__all__ = ["COMMAND", "KMCCommand"]


def _name_value(kind: str, value_type: str):
    """argparse type for ``NAME=VALUE`` with a numeric VALUE."""

    def parse(text: str) -> tuple[str, float]:
        name, sep, value = text.rpartition("=")
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"{kind} must be NAME=VALUE, got {text!r}")
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{kind} {name!r}: {value_type} must be a number, got {value!r}") from None
        return name.strip(), number

    return parse


def _collect(pairs: list[tuple[str, float]] | None, option: str) -> dict[str, float]:
    from ..errors import ConfigurationError

    out: dict[str, float] = {}
    for name, value in pairs or []:
        if name in out:
            raise ConfigurationError(f"{option} {name} is given twice ({out[name]:g} and {value:g}); give it once")
        out[name] = value
    return out


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative number of seconds, got {text!r}")
    return value


class KMCCommand:
    """Simulate a model's microscopic process exactly and save the trajectory (npz)."""

    name = "kmc"
    help = "exact kinetic Monte Carlo of a flip or swap process; saves the trajectory dataset"
    description = (
        "Rejection-free continuous-time kinetic Monte Carlo (numba) of flip dynamics (the flip spec the "
        "equations command reads) or swap dynamics (a rate table --rate a,b=R, the pair hierarchy's "
        "--rate k1=..., or Metropolis rates --rate temperature=T from a model's energy). Records the "
        "concentrations of every class up to --max-class-size sites on a regular grid of physical time "
        "as a .npz dataset (see docs/kmc.md and docs/data-format.md). Long runs checkpoint; --resume "
        "continues from the checkpoint bit for bit."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--model", default=None, help="registered model (its lattice, species, dynamics, rates, initial condition, size)")
        parser.add_argument("--lattice", default=None, help="registered lattice (without --model, or to override the model's)")
        parser.add_argument("--species", nargs="+", default=None, metavar="S", help="the states (default: + -, or the model's)")
        parser.add_argument("--dynamics", choices=("flip", "swap"), default=None,
                            help="flip or swap (default: the model's; flip with --flip-spec, else swap)")
        parser.add_argument("--flip-spec", default=None, metavar="FILE", help="TOML/JSON flip rules (flip dynamics)")
        parser.add_argument("--rate", action="append", type=_name_value("--rate", "the rate"), metavar="NAME=VALUE",
                            help="a rate value (repeat): flip-spec parameters; swap: a,b=R per pair, k1=... or temperature=T")
        parser.add_argument("--initial", action="append", type=_name_value("--initial", "the fraction"), metavar="S=F",
                            help="initial site fraction of a species (repeat; summing to 1; sites drawn independently)")
        parser.add_argument("-L", "--size", type=int, default=None, metavar="L", help="lattice side (default: the model's, else 48)")
        parser.add_argument("--time", type=float, default=10.0, metavar="T", help="physical end time (default 10)")
        parser.add_argument("--record-every", type=float, default=None, metavar="DT",
                            help="record interval in physical time (default: T/100)")
        parser.add_argument("--max-class-size", type=int, default=3, metavar="N",
                            help="record every class of up to N sites, singlets included (default 3)")
        parser.add_argument("--replicas", type=int, default=1, metavar="R", help="independent replicas, run in parallel (default 1)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        from .executor_options import add_executor_arguments

        add_executor_arguments(parser, workers_default="the CPU cores, at most one per replica", what="replicas")
        parser.add_argument("-o", "--out", default=None, metavar="FILE.npz",
                            help="output file (default: <model>-seed<seed>.npz in the current directory)")
        parser.add_argument("--save-configurations", action="store_true", help="store the configuration at every record (replica 0)")
        parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
        parser.add_argument("--resume", action="store_true", help="continue from the checkpoint(s) <out>.checkpoint*.npz")
        parser.add_argument("--checkpoint-every", type=_seconds, default=60.0, metavar="SECONDS",
                            help="seconds between checkpoints of a running replica (default 60)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--format", choices=("table", "json"), default="table", help="summary format")

    # ------------------------------------------------------------------ setup
    def _spec(self, args: argparse.Namespace) -> Any:
        import dataclasses

        from ..errors import ConfigurationError
        from ..kmc.spec import make_spec, spec_from_model

        rates = _collect(args.rate, "--rate")
        initial = _collect(args.initial, "--initial")
        common = dict(time=args.time, record_every=args.record_every, max_class_size=args.max_class_size,
                      save_configurations=args.save_configurations)
        if args.model is not None:
            from ..registry import get_lattice, get_model

            model = get_model(args.model)
            changes: dict[str, Any] = {}
            if args.lattice is not None:
                changes["lattice"] = get_lattice(args.lattice)
            if args.species is not None:
                changes["species"] = tuple(args.species)
            if args.dynamics is not None:
                changes["dynamics"] = args.dynamics
            if changes:
                model = dataclasses.replace(model, **changes)
            return spec_from_model(model, size=args.size, rates=rates, initial=initial or None,
                                   flip_spec=args.flip_spec, **common)
        if args.lattice is None:
            raise ConfigurationError("give --model NAME, or --lattice with --species and the dynamics")
        dynamics = args.dynamics or ("flip" if args.flip_spec is not None else "swap")
        return make_spec(lattice=args.lattice, species=args.species or ["+", "-"], dynamics=dynamics,
                         flip_spec=args.flip_spec, rates=rates, initial=initial,
                         size=48 if args.size is None else args.size, **common)

    @staticmethod
    def _window_rate_lines(spec: Any) -> list[str]:
        """The pair hierarchy's rate constants a swap rate table implies, grouped by value."""
        if not spec.window_rates:
            return []
        groups: dict[float, list[str]] = {}
        for name, value in spec.window_rates.items():
            groups.setdefault(value, []).append(name)
        return ["window rate constants the table implies (pair hierarchy): "
                + "; ".join(" = ".join(names) + f" = {value:g}" for value, names in groups.items())]

    # ------------------------------------------------------------------ run
    def run(self, args: argparse.Namespace) -> int:
        from ..errors import ConfigurationError, LatticeClosureError
        from ..io.outdir import check_output_name, ensure_directory
        from ..io.runlock import RunLock
        from ..kmc.simulate import check_simulation_memory, replica_checkpoint
        from ..simulation.workers import exit_status
        from .executor_options import executor_from_arguments

        given = check_output_name(args.out, "--out")
        executor = executor_from_arguments(args)
        spec = self._spec(args)
        if isinstance(args.replicas, bool) or args.replicas < 1:
            raise ConfigurationError(f"--replicas must be a positive integer, got {args.replicas}")
        if args.seed < 0:
            raise ConfigurationError(f"--seed must be a non-negative integer, got {args.seed}")
        label = spec.model or "kmc"
        out = given if given is not None else Path(f"{label}-seed{args.seed}.npz")
        if out.suffix != ".npz":
            out = out.with_name(out.name + ".npz")
        if out.is_dir():
            raise ConfigurationError(f"output file {out} is a directory")
        if out.exists() and not args.overwrite:
            raise LatticeClosureError(f"output file {out} exists; use --overwrite to replace it")
        if out.parent.exists() and not out.parent.is_dir():
            raise ConfigurationError(f"output path {out.parent} exists and is not a directory")
        checkpoint = out.with_name(out.stem + ".checkpoint.npz")
        existing = [p for r in range(args.replicas) if (p := replica_checkpoint(checkpoint, r, args.replicas)).exists()]
        if existing and not args.resume:
            raise LatticeClosureError(
                f"checkpoint {existing[0]} exists from an unfinished run; use --resume to continue it "
                "or delete it to start afresh"
            )
        lines = self._window_rate_lines(spec) if spec.dynamics == "swap" else []
        check_simulation_memory(spec, copies=min(args.replicas, os.cpu_count() or 1))
        ensure_directory(out.parent)
        with RunLock(out.parent, "kmc", name=f".{out.name}.lock"):
            return self._simulate(args, spec, label, out, checkpoint, lines, exit_status, executor)

    def _simulate(self, args: argparse.Namespace, spec: Any, label: str, out: Path, checkpoint: Path,
                  lines: list[str], exit_status: Any, executor: Any) -> int:
        from ..kmc.simulate import remove_checkpoints, simulate
        from ..parallel import open_executor
        from .output import write_json

        if args.format != "json":
            for line in lines:
                print(line)
        bars: list[Any] = []

        def progress(done: float, total: float) -> None:
            if bars:
                bars[0].update(done - bars[0].n)

        try:
            with open_executor(executor, tasks=args.replicas) as session:
                if sys.stderr.isatty() and not args.no_progress:  # after the executor: workers fork first
                    from tqdm import tqdm

                    total = spec.time if args.replicas == 1 else args.replicas
                    bars.append(tqdm(total=total, unit="t" if args.replicas == 1 else "replica", desc=f"kmc {label}",
                                     file=sys.stderr))
                traj = simulate(spec, args.seed, args.replicas, checkpoint=checkpoint.absolute(),
                                checkpoint_every=args.checkpoint_every, progress=progress,
                                executor=None if session.runs_inline else session)
        except KeyboardInterrupt as exc:
            for bar in bars:
                bar.close()
            how = "terminated" if getattr(exc, "signum", None) else "interrupted"
            print(f"{how}; the checkpoints next to {out} keep the run so far (continue with the same command "
                  "and --resume)", file=sys.stderr)
            return exit_status(exc)
        for bar in bars:
            bar.close()
        traj.save(out)
        remove_checkpoints(checkpoint, args.replicas)
        summary = self._summary(spec, traj, args, out)
        if lines:
            summary["window_rates"] = lines[0]
        if args.format == "json":
            write_json(summary)
        else:
            meta = traj.metadata
            print(f"{label}: {spec.dynamics} dynamics on {spec.lattice.name}, L = {list(spec.size)} "
                  f"({meta['n_sites']} sites), {args.replicas} replica(s), seed {args.seed}: "
                  f"{meta['events']} events up to t = {spec.time:g}")
            final = ", ".join(
                f"{name} = {v:.6g}" + (f" ± {se:.2g}" if se is not None else "")
                for name, (v, se) in summary["final_singlets"].items()
            )
            print(f"final singlet concentrations: {final}" + (" (± standard error over replicas)" if args.replicas > 1 else ""))
            print(f"wrote {out}")
        return 0

    @staticmethod
    def _summary(spec: Any, traj: Any, args: argparse.Namespace, out: Path) -> dict[str, Any]:
        import numpy as np

        singlets = [c["name"] for c in traj.classes if c["size"] == 1]
        reps = traj.arrays.get("replica_concentrations")
        final: dict[str, tuple[float, float | None]] = {}
        for name in singlets:
            k = traj.class_names.index(name)
            if reps is not None:
                vals = reps[:, -1, k]
                final[name] = (float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(len(vals))))
            else:
                final[name] = (float(traj.concentrations[-1, k]), None)
        return {
            "model": spec.model,
            "lattice": spec.lattice.name,
            "dynamics": spec.dynamics,
            "L": list(spec.size),
            "seed": args.seed,
            "replicas": args.replicas,
            "rates": dict(spec.rates),
            "initial": dict(spec.initial),
            "time": spec.time,
            "records": traj.n_records,
            "events": traj.metadata["events"],
            "final_singlets": final,
            "output": str(out),
        }


COMMAND = KMCCommand()
