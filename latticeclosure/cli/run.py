"""``latticeclosure run``: a registered model's study (by default the default model's)."""

from __future__ import annotations

import argparse

__all__ = ["COMMAND", "RunCommand"]


class RunCommand:
    """Simulate a model's parameter grid, derive its equations, evaluate, fit and compare closures."""

    name = "run"
    help = "the main job: a model's study (simulations, equations, closures fitted and compared, a report)"
    description = (
        "Run the study a model declares, end to end: its data backend simulates the parameter grid "
        "(stoichiometries, rates, ...), the window-method equations are generated, closures are "
        "evaluated, fitted and cross-validated on the data, and report.md, PNG figures and "
        "summary.json are written into the output directory (default: a new time-stamped directory) "
        "with the datasets. Without --model, the default model (declared by a plugin) is studied; "
        "'latticeclosure plugins --kind models' lists the models."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--out", metavar="DIR", help="output directory (default: ./latticeclosure-run-<timestamp>)")
        parser.add_argument("--model", default=None, help="registered model (default: the default model)")
        parser.add_argument("--size", "-L", type=int, default=None, metavar="L", help="lattice side (default: the study's)")
        seeds = parser.add_mutually_exclusive_group()
        seeds.add_argument("--seed", type=int, default=None, help="seed of every simulation (default: the study's, 0)")
        seeds.add_argument("--seeds", type=int, nargs="+", default=None, metavar="S",
                           help="independent seeds per grid point (as in 'sweep --seeds'): every error is reported "
                           "as mean ± standard error over them")
        parser.add_argument("--grid", "--stoichiometries", dest="grid", type=float, nargs="+", metavar="VALUE",
                            help="grid values (stoichiometries for composition-conserving models; default: the study's)")
        from .executor_options import add_executor_arguments

        add_executor_arguments(parser, workers_default="the CPU cores, at most one per simulation",
                               what="simulations and cross-validation folds")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--overwrite", action="store_true", help="reuse a non-empty output directory, replacing results")
        group.add_argument("--resume", action="store_true", help="continue an interrupted run in DIR, keeping finished datasets")
        nest = parser.add_mutually_exclusive_group()
        nest.add_argument("--nested", action="store_true",
                          help="choose the cross-validated family by nested cross-validation (slower; honest)")
        nest.add_argument("--no-nested", action="store_true",
                          help="choose it on the same folds that report its error (faster; optimistic)")
        parser.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--study-option", action="append", default=[], metavar="NAME=VALUE",
                            help="an option a step of the study declares (repeatable), e.g. inference.samples=100000; "
                                 "an unknown name lists the study's options")

    def run(self, args: argparse.Namespace) -> int:
        from ..errors import LatticeClosureError
        from ..io.outdir import check_output_name, default_output_directory
        from ..simulation.workers import exit_status
        from ..study import run_study
        from .executor_options import executor_from_arguments

        given = check_output_name(args.out, "--out")
        executor = executor_from_arguments(args)
        if args.seed is not None and args.seed < 0:
            raise LatticeClosureError(f"--seed must be a non-negative integer, got {args.seed}")
        if args.size is not None and args.size < 1:
            raise LatticeClosureError(f"--size must be a positive integer, got {args.size}")
        if (args.resume or args.overwrite) and given is None:
            raise LatticeClosureError("--resume/--overwrite need --out DIR (the default directory is always new)")
        options = {}
        for item in args.study_option:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise LatticeClosureError(f"--study-option expects NAME=VALUE, got {item!r}")
            options[name.strip()] = value.strip()
        out = given if given is not None else default_output_directory()
        try:
            result = run_study(
                args.model,
                out,
                size=args.size,
                seed=args.seed,
                seeds=args.seeds,
                values=args.grid,
                nested=True if args.nested else False if args.no_nested else None,
                executor=executor,
                overwrite=args.overwrite,
                resume=args.resume,
                progress=False if args.no_progress else None,
                figures=not args.no_figures,
                options=options,
            )
        except KeyboardInterrupt as exc:
            import sys

            how = "terminated" if getattr(exc, "signum", None) else "interrupted"
            saved = (f"finished simulations are saved in {out / 'datasets'}" if (out / "datasets").is_dir()
                     else "nothing was saved yet")
            print(f"{how}: {saved}; continue with the same command and --out {out} --resume", file=sys.stderr)
            return exit_status(exc)
        s = result.summary
        print("")
        print(f"results in {result.out_dir}/")
        for key in ("report", "summary"):
            print(f"  {key:<8} {result.files[key]}")
        print(f"  datasets {result.out_dir / 'datasets'}/")
        if (result.out_dir / "figures").exists():
            print(f"  figures  {result.out_dir / 'figures'}/")
        totals = {k: s["E_total"][k] for k in s["E"]}
        print(f"total E over the {s['grid']['parameter']} grid: " + ", ".join(f"{k} {v:.3g}" for k, v in totals.items()))
        if "best_cv_family" in s:
            print(f"best cross-validated family: {s['best_cv_family']}")
        return 0


COMMAND = RunCommand()
