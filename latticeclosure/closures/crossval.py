"""Leave-one-group-out cross-validation of closures, and the nested selection of a family.

Each fold holds out one *group* of datasets — by default each dataset is its own group; a study
groups the seeds of one grid point, so a stoichiometry is held out with all its seeds — fits every
calibratable family jointly on the other groups, and evaluates it on the held-out datasets. Fixed
closures (e.g. ``pair``, a preset) are just evaluated.

Choosing the family with the lowest total held-out error on the same folds is optimistic: the
selection has seen the held-out data. With ``nested=True`` every outer fold also runs a complete
inner cross-validation on its training groups only, picks the family there, and reports the picked
family's error on the outer held-out group: an honest estimate of "fit the family that
cross-validation picks", which is what a user of the selection does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable, Sequence

import numpy as np

from ..errors import ClosureError, DataError
from ..progress import progress_bar
from ..protocols import FittableClosure, conforms
from . import calibration
from .calibration import format_rows, resolve_closure, target_classes
from .dataset import as_datasets
from .evaluation import evaluate

__all__ = ["CrossValidation", "cross_validate", "run_fold", "FoldOutcome"]


@dataclass
class CrossValidation:
    """Held-out errors of each closure, one entry per held-out dataset, and the nested selection.

    Attributes
    ----------
    closures : list of str
    folds : list of dict
        Per held-out dataset: ``{"held_out": name, "group": g, "x": x, "E": {closure: E},
        "J": {closure: {class: J}}, "negative": {closure: records with a negative prediction}}``,
        in group order.
    fits : dict
        Per family, its fit on the training groups of every fold (in group order).
    groups : list
        The held-out groups, in order.
    nested : list of dict or None
        Per outer group (``nested=True``): ``{"group": g, "chosen": family, "inner_totals": {family:
        total inner held-out E}}``; the chosen family's held-out errors are :meth:`nested_E`.
    """

    closures: list[str]
    folds: list[dict[str, Any]]
    fits: dict[str, list[Any]]
    groups: list[Hashable] = field(default_factory=list)
    nested: list[dict[str, Any]] | None = None

    def mean(self) -> dict[str, float]:
        return {c: float(np.mean([f["E"][c] for f in self.folds])) for c in self.closures}

    def totals(self) -> dict[str, float]:
        """Sum of the held-out E over every held-out dataset, per closure."""
        return {c: float(np.sum([f["E"][c] for f in self.folds])) for c in self.closures}

    def best(self) -> str:
        """The closure with the lowest total held-out E (selected on the same folds: not nested)."""
        totals = self.totals()
        return min(self.closures, key=lambda c: totals[c])

    def chosen(self, group: Hashable) -> str:
        """The family the inner cross-validation of ``group``'s outer fold picked."""
        if self.nested is None:
            raise ClosureError("the cross-validation was not nested (nested=True)")
        return next(n["chosen"] for n in self.nested if n["group"] == group)

    def nested_E(self) -> list[float]:
        """Per held-out dataset: the held-out E of the family its outer fold's inner loop picked."""
        return [f["E"][self.chosen(f["group"])] for f in self.folds]

    def negative(self) -> dict[str, int]:
        """Held-out records where a closure predicts a negative concentration, per closure."""
        return {c: int(sum(f["negative"][c] for f in self.folds)) for c in self.closures}

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for f in self.folds:
            row = {"held_out": f["held_out"], "x": f["x"]}
            row.update({c: f["E"][c] for c in self.closures})
            if self.nested is not None:
                chosen = self.chosen(f["group"])
                row.update({"nested": f["E"][chosen], "chosen": chosen})
            rows.append(row)
        mean = {"held_out": "mean", "x": None}
        mean.update(self.mean())
        if self.nested is not None:
            mean["nested"] = float(np.mean(self.nested_E()))
        rows.append(mean)
        return rows

    def to_json(self) -> dict[str, Any]:
        out = {"closures": self.closures, "folds": self.folds, "mean_E": self.mean(), "best": self.best(),
               "negative_predictions": self.negative(), "nested": self.nested}
        if self.nested is not None:
            out["nested_mean_E"] = float(np.mean(self.nested_E()))
        return out

    def format(self) -> str:
        extra = ["nested", "chosen"] if self.nested is not None else []
        return format_rows(self.table(), ["held_out", "x"] + self.closures + extra)


def cross_validate(
    families: Any,
    data: Any,
    index: Any,
    classes: Iterable[Any] | None = None,
    *,
    groups: Sequence[Hashable] | None = None,
    nested: bool = False,
    normalisation: str = "all",
    rescale_time: bool = True,
    extra: str = "error",
    executor: Any = None,
    progress: bool | None = False,
    **fit_kwargs: Any,
) -> CrossValidation:
    """Leave-one-group-out cross-validation (see the module docstring).

    Parameters
    ----------
    families : closure, name, or list of them
        Compare several at once, e.g. ``["pair", "power-law", "pair-corrected"]``.
    data : list of datasets
        At least two groups; the same data twice is refused.
    groups : sequence, optional
        One group label per dataset (datasets of a group are held out together); default: every
        dataset its own group. Folds follow the order of first appearance of the groups.
    nested : bool
        Also select the family by an inner cross-validation in every outer fold (the inner loop
        never sees the outer held-out group).
    executor : ExecutorSpec, ExecutorSession or concurrent.futures.Executor, optional
        Runs the folds — every outer fold and, with ``nested``, every inner fold is an independent
        task (:mod:`latticeclosure.parallel`); default: one after the other in this process. The
        result is the same whatever runs it.
    progress : bool, optional
        A progress bar over the folds (outer and inner) (``None``: when stderr is a terminal; see
        :func:`latticeclosure.progress.progress_enabled`). Default off.
    **fit_kwargs
        Passed to :func:`~latticeclosure.closures.calibrate` (``n_starts``, ``seed`` …).
    """
    fams = [resolve_closure(f) for f in (families if isinstance(families, (list, tuple)) else [families])]
    names = [f.name for f in fams]
    if len(set(names)) != len(names):
        raise ClosureError(f"closures to compare must have distinct names, got {names}")
    datasets = as_datasets(data, index, normalisation=normalisation, rescale_time=rescale_time, extra=extra)
    labels = list(range(len(datasets))) if groups is None else list(groups)
    if len(labels) != len(datasets):
        raise DataError(f"groups: {len(labels)} labels for {len(datasets)} datasets")
    order = list(dict.fromkeys(labels))
    if len(order) < 2:
        raise DataError("cross-validation needs at least two groups of datasets to hold out in turn")
    if nested and len(order) < 3:
        raise DataError("nested cross-validation needs at least three groups (two to cross-validate inside)")
    cls_names = target_classes(index, datasets, classes)
    fitted = [conforms(fam, FittableClosure) and not _fully_pinned(fam, cls_names, index) for fam in fams]

    # Every fold is a task: the outer fold of group g trains on every other group and is evaluated
    # on g; with nested, the inner fold (g, h) trains on every group but g and h and is evaluated on
    # h. Keys are the held-out groups, so the result never depends on which task finishes first.
    jobs: list[tuple[Hashable, tuple]] = []
    for g in order:
        jobs.append(((g,), _fold_args(fams, fitted, datasets, labels, {g}, g, index, cls_names, fit_kwargs)))
    if nested:
        for g in order:
            for h in order:
                if h != g:
                    jobs.append(((g, h), _fold_args(fams, fitted, datasets, labels, {g, h}, h, index, cls_names,
                                                    fit_kwargs)))
    outcome: dict[Hashable, FoldOutcome] = {}
    from ..parallel import open_executor, run_keyed

    bar = progress_bar(total=len(jobs), desc="cross-validation", unit="fold", enabled=progress)

    def finished(key: Hashable, result: FoldOutcome) -> None:
        outcome[key] = result
        bar.update(1)

    try:
        with open_executor(executor, tasks=len(jobs)) as session:
            run_keyed(session, run_fold, jobs, finished,
                      describe=lambda key: "cross-validation fold holding out " + " then ".join(map(str, key[::-1])))
    finally:
        bar.close()

    folds, fits = [], {n: [] for n in names}
    for g in order:
        result = outcome[(g,)]
        folds.extend({"group": g, **row} for row in result.rows)
        for name, fit in result.fits.items():
            fits[name].append(fit)
    selection: list[dict[str, Any]] | None = None
    if nested:
        selection = []
        for g in order:
            # the inner cross-validation's totals, summed in its fold order as a sequential run would
            inner = [row for h in order if h != g for row in outcome[(g, h)].rows]
            totals = {n: float(np.sum([row["E"][n] for row in inner])) for n in names}
            selection.append({"group": g, "chosen": min(names, key=lambda n: totals[n]), "inner_totals": totals})
    return CrossValidation(names, [_ordered(f) for f in folds], fits, order, selection)


@dataclass
class FoldOutcome:
    """What one fold gives: a row per held-out dataset (name, x, E, J, negatives) and the fits."""

    rows: list[dict[str, Any]]
    fits: dict[str, Any]


def _fold_args(fams: list, fitted: list[bool], datasets: list, labels: list, out: set, held: Hashable, index: Any,
               classes: list[str], fit_kwargs: dict[str, Any]) -> tuple:
    train = [d for d, lab in zip(datasets, labels) if lab not in out]
    test = [d for d, lab in zip(datasets, labels) if lab == held]
    return (fams, fitted, train, test, index, classes, dict(fit_kwargs))


def run_fold(fams: list, fitted: list[bool], train: list, test: list, index: Any, classes: list[str],
             fit_kwargs: dict[str, Any]) -> FoldOutcome:
    """Fit every fittable family on ``train``, evaluate every family on each dataset of ``test``.

    A module-level function of plain data, so that any executor's workers can run it.
    """
    closures, fits = {}, {}
    for fam, fit in zip(fams, fitted):
        if fit:
            res = calibration.calibrate(fam, train, index, classes, **fit_kwargs)
            closures[fam.name] = res.closure()
            fits[fam.name] = res
        else:
            closures[fam.name] = fam
    rows = []
    for d in test:
        E, J, neg = {}, {}, {}
        for name, closure in closures.items():
            ev = evaluate(closure, d, index, classes)
            J[name], E[name], neg[name] = ev.J[d.name], ev.E[d.name], ev.negative[d.name]
        rows.append({"held_out": d.name, "x": d.x, "E": E, "J": J, "negative": neg})
    return FoldOutcome(rows, fits)


def _ordered(fold: dict[str, Any]) -> dict[str, Any]:
    """A fold record with its keys in the documented order."""
    return {k: fold[k] for k in ("held_out", "group", "x", "E", "J", "negative")}


def _fully_pinned(fam: Any, classes: Sequence[str], index: Any) -> bool:
    return all(fam.pinned(c, index) is not None for c in classes)
