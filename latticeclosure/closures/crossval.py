"""Leave-one-dataset-out cross-validation of closures (fit on the others jointly, evaluate the held-out one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import ClosureError, DataError
from ..progress import progress_bar
from ..protocols import FittableClosure, conforms
from .calibration import calibrate, format_rows, resolve_closure, target_classes
from .dataset import as_datasets
from .evaluation import evaluate

__all__ = ["CrossValidation", "cross_validate"]


# ---------------------------------------------------------------------------------- cross-validation
@dataclass
class CrossValidation:
    """Leave-one-dataset-out errors: E on each held-out dataset for each closure."""

    closures: list[str]
    folds: list[dict[str, Any]]       # {"held_out": name, "x": x, "E": {closure: E}, "J": {closure: {class: J}}}
    fits: dict[str, list[Any]]

    def mean(self) -> dict[str, float]:
        return {c: float(np.mean([f["E"][c] for f in self.folds])) for c in self.closures}

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for f in self.folds:
            row = {"held_out": f["held_out"], "x": f["x"]}
            row.update({c: f["E"][c] for c in self.closures})
            rows.append(row)
        mean = {"held_out": "mean", "x": None}
        mean.update(self.mean())
        rows.append(mean)
        return rows

    def to_json(self) -> dict[str, Any]:
        return {"closures": self.closures, "folds": self.folds, "mean_E": self.mean()}

    def format(self) -> str:
        return format_rows(self.table(), ["held_out", "x"] + self.closures)


def cross_validate(
    families: Any,
    data: Any,
    index: Any,
    classes: Iterable[Any] | None = None,
    *,
    normalisation: str = "all",
    rescale_time: bool = True,
    extra: str = "error",
    progress: bool | None = False,
    **fit_kwargs: Any,
) -> CrossValidation:
    """Leave-one-dataset-out: fit each parametric closure on the other datasets jointly, evaluate E
    on the held-out one; fixed closures (e.g. ``pair``, a preset) are just evaluated.

    Parameters
    ----------
    families : closure, name, or list of them
        Compare several at once, e.g. ``["pair", "power-law", "pair-corrected"]``.
    data : list of datasets (at least two)
    index : ClassIndex
    classes : iterable, optional
        Classes to close (default: every class of the index's largest size present in the data).
    normalisation, rescale_time, extra
        Passed to :func:`~latticeclosure.closures.dataset.as_dataset`.
    progress : bool, optional
        A progress bar over the folds × closures (``None``: when stderr is a terminal; see
        :func:`latticeclosure.progress.progress_enabled`). Default off.
    **fit_kwargs
        Passed to :func:`~latticeclosure.closures.calibration.calibrate`.

    Returns
    -------
    CrossValidation
    """
    fams = [resolve_closure(f) for f in (families if isinstance(families, (list, tuple)) else [families])]
    names = [f.name for f in fams]
    if len(set(names)) != len(names):
        raise ClosureError(f"closures to compare must have distinct names, got {names}")
    datasets = as_datasets(data, index, normalisation=normalisation, rescale_time=rescale_time, extra=extra)
    if len(datasets) < 2:
        raise DataError("leave-one-dataset-out cross-validation needs at least two datasets")
    cls_names = target_classes(index, datasets, classes)
    folds, fits = [], {n: [] for n in names}
    bar = progress_bar(total=len(datasets) * len(fams), desc="cross-validation", unit="fit", enabled=progress)
    for k, held in enumerate(datasets):
        train = [d for j, d in enumerate(datasets) if j != k]
        E, J = {}, {}
        for fam in fams:
            if conforms(fam, FittableClosure) and not _fully_pinned(fam, cls_names, index):
                res = calibrate(fam, train, index, cls_names, **fit_kwargs)
                closure = res.closure()
                fits[fam.name].append(res)
            else:
                closure = fam
            ev = evaluate(closure, held, index, cls_names)
            J[fam.name] = ev.J[held.name]
            E[fam.name] = ev.E[held.name]
            bar.set_postfix_str(f"{fam.name}, without {held.name}")
            bar.update(1)
        folds.append({"held_out": held.name, "x": held.x, "E": E, "J": J})
    bar.close()
    return CrossValidation(names, folds, fits)


def _fully_pinned(fam: Any, classes: Sequence[str], index: Any) -> bool:
    return all(fam.pinned(c, index) is not None for c in classes)


