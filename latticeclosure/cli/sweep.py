"""``latticeclosure sweep``: anneal a model at many stoichiometries and seeds in parallel."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .anneal import add_model_arguments, add_run_arguments, resolve_backend_and_model, schedule_from_args
from .executor_options import add_executor_arguments, executor_from_arguments

__all__ = ["COMMAND", "SweepCommand"]


class SweepCommand:
    """Run the annealer over stoichiometries × seeds on the local cores or a Dask cluster; resumable."""

    name = "sweep"
    help = "anneal a model at many stoichiometries and seeds in parallel (resumable)"
    description = (
        "Run one annealing job per stoichiometry and seed on the local cores (or a Dask cluster: "
        "--executor) and save every trajectory into the output directory as soon as it finishes, with "
        "a manifest.json. An interrupted sweep loses no finished result: continue it with --resume. "
        "By default the model's stoichiometries and seed 0."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("-x", "--x", nargs="+", type=float, default=None, metavar="X",
                            help="stoichiometries (default: the model's)")
        parser.add_argument("--seeds", nargs="+", type=int, default=[0], metavar="S", help="seeds (default 0)")
        add_model_arguments(parser)
        add_run_arguments(parser)
        add_executor_arguments(parser, workers_default=f"all local cores, here {os.cpu_count()}", what="simulations",
                               short_workers=True)
        parser.add_argument("-o", "--out", default=None, metavar="DIR",
                            help="output directory (default: a new time-stamped sweep-<model>-<time> directory)")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--resume", action="store_true", help="continue a sweep in OUT: keep finished runs")
        group.add_argument("--overwrite", action="store_true", help="allow a non-empty OUT and replace its results")
        parser.add_argument("--save-configurations", action="store_true", help="store the configuration at every record")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--format", choices=("table", "json"), default="table", help="summary format")

    def run(self, args: argparse.Namespace) -> int:
        from ..errors import ConfigurationError
        from ..io.outdir import check_output_name
        from ..simulation import run_sweep
        from ..simulation.workers import exit_status
        from .output import format_table, write_json

        given = check_output_name(args.out, "--out")
        backend, model = resolve_backend_and_model(args)
        schedule = schedule_from_args(args, model)
        executor = executor_from_arguments(args)
        out = given if given is not None else Path(f"sweep-{model.name}-{time.strftime('%Y%m%d-%H%M%S')}")
        if args.resume and not out.exists():
            raise ConfigurationError(f"--resume: output directory {out} does not exist")
        try:
            settings = {"schedule": schedule, "record_every": args.record_every, "kernel": args.kernel,
                        "save_configurations": args.save_configurations}
            result = run_sweep(
                model, args.x, args.seeds, args.size,
                out_dir=out, backend=backend, settings=settings, executor=executor, resume=args.resume,
                overwrite=args.overwrite, progress=False if args.no_progress else None,
                checkpoint_every=args.checkpoint_every,
            )
        except KeyboardInterrupt as exc:
            print(interrupted_message(out, exc), file=sys.stderr)
            return exit_status(exc)
        rows = [result.summaries[t.filename] for t in result.tasks]
        if args.format == "json":
            write_json({"out": str(out), "ran": len(result.ran), "skipped": len(result.skipped), "runs": rows})
            return 0
        print(format_table(
            ["X", "X_REALISED", "SEED", "E_FINAL", "E_BOUND", "FILE"],
            [[f"{r['point']['x']:g}", None if r["x_realised"] is None else f"{r['x_realised']:.6g}", r["seed"],
              None if r["final_energy_per_site"] is None else f"{r['final_energy_per_site']:.6g}",
              None if r["lower_bound_per_site"] is None else f"{r['lower_bound_per_site']:.6g}",
              r["file"]] for r in rows],
        ))
        print(f"{len(result.ran)} run(s) done, {len(result.skipped)} already finished; results in {out}/ "
              f"(manifest.json lists them)")
        return 0


def interrupted_message(out: Path, exc: BaseException) -> str:
    """One line after Ctrl-C or SIGTERM: what is saved and how to continue (read from the manifest)."""
    from ..io.reading import load_json
    from ..errors import LatticeClosureError
    from ..simulation.sweep import MANIFEST

    how = "terminated" if getattr(exc, "signum", None) else "interrupted"
    try:
        manifest = load_json(out / MANIFEST, what="sweep manifest")
        tasks = manifest.get("tasks", []) if isinstance(manifest, dict) else []
        done = sum(1 for t in tasks if isinstance(t, dict) and t.get("status") == "done")
        saved = f"{done} of {len(tasks)} run(s) are finished and saved in {out}"
    except LatticeClosureError:
        saved = f"nothing was saved in {out} yet"
    return (f"{how}: {saved} (manifest.json lists them; running runs keep their last checkpoint); "
            f"continue with the same command and --resume --out {out}")


COMMAND = SweepCommand()
