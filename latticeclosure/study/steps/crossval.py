"""Leave-one-grid-point-out cross-validation of calibratable closure families."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...io import format_table
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
    name: str = "cross-validation"
    title: str = "Leave-one-point-out cross-validation"

    needs_several_points = True

    def run(self, context: Any) -> None:
        from ...closures import cross_validate
        from ...registry import get_registry

        registry = get_registry()
        context.log(f"      leave-one-{context.parameter}-out cross-validation of {len(self.families)} calibratable families")
        families = [_labelled(registry.resolve("closures", f.closure, **dict(f.options)), f.label) for f in self.families]
        cv = cross_validate(families, context.trajectories, context.index, progress=context.progress)
        labels = [f.label for f in self.families]
        totals = {label: float(np.sum([fold["E"][label] for fold in cv.folds])) for label in labels}
        best = min(labels, key=lambda k: totals[k])

        def series(label: str, family: str, note: str = "") -> ClosureErrors:
            return ClosureErrors(label, [f["E"][family] for f in cv.folds], [f["J"][family] for f in cv.folds], note)

        for alias, family in self.aliases.items():
            context.add_errors(series(alias, family, self.notes.get(alias, "")))
        if self.best_label:
            context.add_errors(series(self.best_label, best, self.notes.get(self.best_label, "")))
        for label in labels:
            context.add_errors(series(f"cv:{label}", label, f"{label}, leave-one-{context.parameter}-out"))
        context.results[self.name] = {"cv": cv, "best": best, "totals": totals, "labels": labels}

    def render(self, context: Any) -> str:
        res = context.results[self.name]
        labels = res["labels"]
        ref = context.errors.get(self.reference) if self.reference else None
        headers = [f"held-out {context.parameter}"] + labels + ([f"{self.reference} (no fit)"] if ref else [])
        rows = []
        for i, x in enumerate(context.grid):
            rows.append([f"{x:.3g}"] + [context.errors[f"cv:{k}"].E[i] for k in labels] + ([ref.E[i]] if ref else []))
        rows.append(["**total**"] + [context.errors[f"cv:{k}"].total for k in labels] + ([ref.total] if ref else []))
        n_train = len(context.grid) - 1
        text = [
            f"## {self.title}", "", format_table(headers, rows, markdown=True), "",
            f"Each column is fitted jointly on the {n_train} other grid points and evaluated on the held-out "
            "one.",
        ]
        if self.best_label:
            text[-1] += (f" The {self.best_label} choice ({res['best']}) is made on these same folds (not nested), "
                         "so its total is optimistic by the selection among the families listed.")
        return "\n".join(text + [""])

    def summary(self, context: Any) -> dict[str, Any]:
        res = context.results[self.name]
        return {"best_cv_family": res["best"], "cv_selection_nested": False,
                "cv_totals": res["totals"]}


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
