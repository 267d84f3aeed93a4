"""Leave-one-grid-point-out cross-validation of calibratable closure families."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...io import format_table
from .report_util import point_cell, total_cell
from ..context import ClosureErrors
from ..spec import FamilyUse

__all__ = ["CrossValidateClosures"]


@dataclass
class CrossValidateClosures:
    """Fit each family jointly on all grid points but one and evaluate it on the held-out point.

    Every family's held-out errors are recorded as ``cv:<label>``; ``aliases`` records some of them
    under other labels too (e.g. a family the report discusses by name), and ``best_label`` the family
    with the lowest total held-out E. That choice is made on the same folds, so it is not nested: its
    total is optimistic by the selection, and the report says so.

    Parameters
    ----------
    families : tuple of FamilyUse
    aliases : mapping label → family label
    best_label : str or None
    notes : mapping label → note
        Notes of the alias and best labels for the error table.
    reference : str, optional
        A recorded label shown beside the held-out errors (e.g. the pair approximation).
    """

    families: tuple[FamilyUse, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    best_label: str | None = "best-cv"
    notes: dict[str, str] = field(default_factory=dict)
    reference: str | None = None
    nested: bool = False
    name: str = "cross-validation"
    title: str = "Leave-one-point-out cross-validation"

    needs_several_points = True

    def run(self, context: Any) -> None:
        from ...closures import cross_validate
        from ...registry import get_registry

        registry = get_registry()
        how = "nested " if self.nested else ""
        context.log(f"      {how}leave-one-{context.parameter}-out cross-validation of {len(self.families)} "
                    "calibratable families")
        families = [_labelled(registry.resolve("closures", f.closure, **dict(f.options)), f.label) for f in self.families]
        # every seed of a grid point is held out together: the fit never sees the held-out point
        flat = [context.data[s][i] for i in range(len(context.grid)) for s in range(context.n_seeds)]
        groups = [i for i in range(len(context.grid)) for _ in range(context.n_seeds)]
        cv = cross_validate(families, flat, context.index, groups=groups, nested=self.nested,
                            executor=getattr(context, "executor", None), progress=context.progress)
        labels = [f.label for f in self.families]
        best = cv.best()

        def series(label: str, values: list[float], Js: list[dict[str, float]], note: str = "") -> ClosureErrors:
            # flat order is point-major, seed-minor: back to [seed][point]
            n, S = len(context.grid), context.n_seeds
            return ClosureErrors(label, [[values[i * S + s] for i in range(n)] for s in range(S)],
                                 [[Js[i * S + s] for i in range(n)] for s in range(S)], note)

        def family(label: str, fam: str, note: str = "") -> ClosureErrors:
            return series(label, [f["E"][fam] for f in cv.folds], [f["J"][fam] for f in cv.folds], note)

        fold_closures = {name: {g: fit.closure() for g, fit in zip(cv.groups, fits)} for name, fits in cv.fits.items()}

        def held_out(name: str) -> dict[int, Any]:
            return fold_closures.get(name, {g: next(f for f in families if f.name == name) for g in cv.groups})

        for alias, fam in self.aliases.items():
            context.add_errors(family(alias, fam, self.notes.get(alias, "")))
            context.point_closures[alias] = held_out(fam)
        if self.best_label:
            base = self.notes.get(self.best_label, "") or "best calibratable family by held-out E"
            if self.nested:
                chosen = [cv.chosen(f["group"]) for f in cv.folds]
                note = f"{base}; chosen by nested cross-validation in each fold"
                context.add_errors(series(self.best_label, cv.nested_E(),
                                          [f["J"][c] for f, c in zip(cv.folds, chosen)], note))
                context.point_closures[self.best_label] = {g: held_out(cv.chosen(g))[g] for g in cv.groups}
            else:
                context.add_errors(family(self.best_label, best, f"{base} (selection not nested)"))
                context.point_closures[self.best_label] = held_out(best)
        for label in labels:
            context.add_errors(family(f"cv:{label}", label, f"{label}, leave-one-{context.parameter}-out"))
            context.point_closures[f"cv:{label}"] = held_out(label)
        context.results[self.name] = {"cv": cv, "best": best, "labels": labels,
                                      "totals": {k: context.errors[f"cv:{k}"].total for k in labels}}

    def render(self, context: Any) -> str:
        res = context.results[self.name]
        cv = res["cv"]
        labels = res["labels"]
        ref = context.errors.get(self.reference) if self.reference else None
        headers = [f"held-out {context.parameter}"] + labels + ([f"{self.reference} (no fit)"] if ref else [])
        headers += ["chosen (nested)"] if self.nested else []
        rows = []
        for i, x in enumerate(context.grid):
            row = [f"{x:.3g}"] + [point_cell(context.errors[f"cv:{k}"], i) for k in labels] + ([point_cell(ref, i)] if ref else [])
            if self.nested:
                row.append(cv.chosen(i))
            rows.append(row)
        rows.append(["**total**"] + [total_cell(context.errors[f"cv:{k}"]) for k in labels] + ([total_cell(ref)] if ref else [])
                    + ([""] if self.nested else []))
        n_train = len(context.grid) - 1
        seeds = f" (all {context.n_seeds} seeds of a point held out together)" if context.n_seeds > 1 else ""
        text = [
            f"## {self.title}", "", format_table(headers, rows, markdown=True), "",
            f"Each column is fitted jointly on the {n_train} other grid points{seeds} and evaluated on the held-out one.",
        ]
        if self.best_label and self.nested:
            text[-1] += (f" {self.best_label} is the family an inner leave-one-out cross-validation on the training "
                         "points chose in each fold (nested: the choice never sees the held-out point).")
        elif self.best_label:
            text[-1] += (f" The {self.best_label} choice ({res['best']}) is made on these same folds (not nested), "
                         "so its total is optimistic by the selection among the families listed; "
                         "`latticeclosure run --nested` makes the selection nested.")
        negative = {k: v for k, v in cv.negative().items() if v}
        if negative:
            text.append("")
            text.append("Held-out predictions below zero (records × classes; positivity is enforced on the training "
                        "records only): " + ", ".join(f"{k}: {v}" for k, v in negative.items()) + ".")
        return "\n".join(text + [""])

    def summary(self, context: Any) -> dict[str, Any]:
        res = context.results[self.name]
        cv = res["cv"]
        out = {"best_cv_family": res["best"], "cv_selection_nested": self.nested, "cv_totals": res["totals"],
               "cv_negative_predictions": cv.negative()}
        if self.nested:
            out["cv_nested_choices"] = {f"{context.grid[n['group']]:g}": n["chosen"] for n in cv.nested}
        return out


def _labelled(closure: Any, label: str) -> Any:
    """The closure under the name ``label`` (cross-validation keys its results by closure name)."""
    if getattr(closure, "name", None) == label:
        return closure
    renamed = getattr(closure, "renamed", None)
    if not callable(renamed):
        from ...errors import ConfigurationError

        raise ConfigurationError(
            f"closure {closure.name!r} cannot be renamed to {label!r} (it has no renamed method); "
            f"use its own name as the label"
        )
    return renamed(label)
