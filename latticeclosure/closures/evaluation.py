"""Accuracy of a closure on data: J_i = ½∫(g_i − C_i)² dt per class and E = mean_i J_i (eq. 30)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from ..errors import ClosureError
from ..protocols import FittableClosure, conforms
from .base import geometry, match_parameters, resolve_class
from .calibration import CalibrationResult, resolve_closure, target_classes
from .dataset import Dataset, as_datasets
from .numeric import compile_expression

__all__ = ["Evaluation", "evaluate", "closure_values"]


# ---------------------------------------------------------------------------------- evaluation
def closure_values(closure: Any, cls: Any, index: Any, dataset: Dataset, params: Mapping[Any, float] | None = None) -> np.ndarray:
    """The closure of ``cls`` evaluated on the records of a dataset.

    Records where a singlet of the class vanishes (the class cannot occur) give 0; any other
    non-finite value is a :class:`ClosureError`.
    """
    cls = resolve_class(cls, index)
    if conforms(closure, FittableClosure):
        ans = closure.ansatz(cls, index)
        pinned = closure.pinned(cls, index) or {}
        vals = dict(zip(ans.symbols, ans.reference.tolist()))
        missing = [s for s in ans.symbols if s not in pinned]
        given = match_parameters(ans.symbols, ans.aliases, params, closure_name=closure.name,
                                 class_name=cls.name) if params else {}
        missing = [s for s in missing if s not in given]
        if missing:
            raise ClosureError(
                f"closure {closure.name!r}, class {cls.name!r}: parameters {[str(s) for s in missing]} have "
                "no values (fit the closure first, or pass params=...)"
            )
        vals.update(pinned)
        vals.update(given)
        dataset.require(ans.inputs, f"closure {closure.name!r} of {cls.name}")
        g, _ = ans.evaluate(np.array([vals[s] for s in ans.symbols]), {k: dataset.columns[k] for k in ans.inputs})
        return g
    expr = closure.expression(cls, index, params)
    inputs = sorted(str(s) for s in expr.free_symbols)
    dataset.require(inputs, f"closure {closure.name!r} of {cls.name}")
    f = compile_expression(expr, inputs)
    with np.errstate(all="ignore"):
        g = np.asarray(f(*[dataset.columns[k] for k in inputs]), dtype=float)
    g = np.broadcast_to(g, dataset.time.shape).astype(float)
    bad = ~np.isfinite(g)
    if bad.any():
        absent = np.zeros_like(bad)
        try:
            for s in geometry(cls, index).singlet_classes:
                if s in dataset.columns:
                    absent |= ~(dataset.columns[s] > 0)
        except ClosureError:
            pass
        if np.any(bad & ~absent):
            j = int(np.nonzero(bad & ~absent)[0][0])
            raise ClosureError(
                f"closure {closure.name!r} of class {cls.name!r} is not finite on dataset {dataset.name!r} at "
                f"record {j} (t = {dataset.time[j]:g}): {expr}"
            )
        g = np.where(bad, 0.0, g)
    return g


@dataclass
class Evaluation:
    """J_i per class and E per dataset for one closure (eq. 30)."""

    closure: str
    J: dict[str, dict[str, float]]          # dataset → class → J
    metadata: dict[str, dict[str, Any]]
    negative: dict[str, int] = field(default_factory=dict)   # dataset → records × classes predicted < 0

    @property
    def E(self) -> dict[str, float]:
        return {d: float(np.mean(list(js.values()))) for d, js in self.J.items()}

    @property
    def E_mean(self) -> float:
        """Mean of E over the datasets (the robustness figure of the paper's Fig. 11–12)."""
        return float(np.mean(list(self.E.values())))

    @property
    def E_total(self) -> float:
        return float(np.sum(list(self.E.values())))

    def per_class(self) -> dict[str, float]:
        """J of each class averaged over the datasets."""
        classes = next(iter(self.J.values())).keys()
        return {c: float(np.mean([js[c] for js in self.J.values()])) for c in classes}

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for d, js in self.J.items():
            row = {"dataset": d, "x": self.metadata.get(d, {}).get("x"), "E": float(np.mean(list(js.values())))}
            row.update(js)
            rows.append(row)
        return rows

    def to_json(self) -> dict[str, Any]:
        return {"closure": self.closure, "E": self.E, "E_mean": self.E_mean, "J": self.J, "negative_predictions": self.negative}


def evaluate(
    closure: Any,
    data: Any,
    index: Any,
    classes: Iterable[Any] | None = None,
    params: Mapping[Any, float] | None = None,
    *,
    normalisation: str = "all",
    rescale_time: bool = True,
    extra: str = "error",
) -> Evaluation:
    """J_i = ½∫(g_i − C_i)² dt per class and E = mean_i J_i per dataset, for any closure; also how many
    predicted values are negative (:attr:`Evaluation.negative`: a fitted closure extrapolating badly).

    ``closure`` may be a family object, a registered name, or a :class:`CalibrationResult` (its
    pinned closure). Parametric closures need fitted (pinned) parameters or ``params``.
    """
    if isinstance(closure, CalibrationResult):
        closure = closure.closure()
    fam = resolve_closure(closure)
    datasets = as_datasets(data, index, normalisation=normalisation, rescale_time=rescale_time, extra=extra)
    names = target_classes(index, datasets, classes)
    out: dict[str, dict[str, float]] = {}
    meta = {}
    negative: dict[str, int] = {}
    for d in datasets:
        js = {}
        neg = 0
        for c in names:
            g = closure_values(fam, c, index, d, params)
            js[c] = 0.5 * float(np.sum(d.weights * (g - d.columns[c]) ** 2))
            neg += int(np.count_nonzero(g < 0))
        out[d.name] = js
        meta[d.name] = {"x": d.x}
        negative[d.name] = neg
    return Evaluation(fam.name, out, meta, negative)


