"""``latticeclosure run``: the main job on its embedded default (the paper's NMC model)."""

from __future__ import annotations

import argparse

__all__ = ["COMMAND", "RunCommand"]


class RunCommand:
    """Anneal, derive equations, calibrate and compare closures, write report/figures/summary."""

    name = "run"
    help = "the main job: anneal the NMC model at ten stoichiometries, fit and compare closures, write a report"
    description = (
        "Run the reference job end to end: the triangular NMC model annealed at the paper's ten "
        "stoichiometries (L = 48, seed 0 by default), the pair-level window equations, the paper's "
        "closures (PA, OA-hard, OA-soft, SA) and cross-validated data-driven closures, evaluated on every "
        "stoichiometry. Writes datasets, report.md, PNG figures and summary.json into the output directory "
        "(default: a new time-stamped directory)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--out", metavar="DIR", help="output directory (default: ./latticeclosure-run-<timestamp>)")
        parser.add_argument("--model", default="nmc", help="registered model (default: nmc)")
        parser.add_argument("--size", "-L", type=int, default=None, metavar="L", help="lattice side (default: the model's, 48)")
        parser.add_argument("--seed", type=int, default=0, help="seed of every annealing run (default 0)")
        parser.add_argument("--stoichiometries", type=float, nargs="+", metavar="X", help="default: the paper's ten")
        parser.add_argument("--workers", type=int, default=None, help="parallel annealing processes (default: CPU cores)")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--overwrite", action="store_true", help="reuse a non-empty output directory, replacing results")
        group.add_argument("--resume", action="store_true", help="continue an interrupted run in DIR, keeping finished datasets")
        parser.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(self, args: argparse.Namespace) -> int:
        from ..errors import LatticeClosureError
        from ..pipeline import run_main_job

        if args.workers is not None and args.workers < 1:
            raise LatticeClosureError(f"--workers must be at least 1, got {args.workers}")
        if (args.resume or args.overwrite) and args.out is None:
            raise LatticeClosureError("--resume/--overwrite need --out DIR (the default directory is always new)")
        result = run_main_job(
            args.out,
            model=args.model,
            L=args.size,
            seed=args.seed,
            stoichiometries=args.stoichiometries,
            workers=args.workers,
            overwrite=args.overwrite,
            resume=args.resume,
            progress=False if args.no_progress else None,
            figures=not args.no_figures,
        )
        s = result.summary
        print("")
        print(f"results in {result.out_dir}/")
        for key in ("report", "summary"):
            print(f"  {key:<8} {result.files[key]}")
        print(f"  datasets {result.out_dir / 'datasets'}/")
        if (result.out_dir / "figures").exists():
            print(f"  figures  {result.out_dir / 'figures'}/")
        totals = {k: sum(v) for k, v in s["E"].items()}
        print("total E over the stoichiometries: " + ", ".join(f"{k} {v:.3g}" for k, v in totals.items()))
        print(f"best cross-validated family: {s['best_cv_family']}")
        return 0


COMMAND = RunCommand()
