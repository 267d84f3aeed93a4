"""Calibration of closures on concentration time series (eqs. 15, 16).

For a parametric closure (``power-law``, ``pair-corrected``) each class's parameters θ are fitted
by minimising

.. math:: J_i(θ) = \\tfrac12 \\sum_{d} \\int_0^1 \\big(g_i(C_d(t); θ) - C_{i,d}(t)\\big)^2\\,dt

(trapezoid over the recorded points, time = fraction of the run, summed over the datasets d for a
joint fit) under the family's constraints (bounds, degree equality, data inequalities) with SciPy's
SLSQP from several start points: the pair approximation's parameters projected onto the constraints,
the log-space least-squares solution (for log-linear ansätze, ``log g = Σγ log C_p − Σξ log C_s``,
zero concentrations excluded) and ``n_starts`` random feasible points.

**Identifiability.** At the optimum the Jacobian of the weighted residuals is restricted to the
tangent space of the equality constraints; directions with singular value ≤ ``rcond``·σ_max are
reported as *non-identifiable* (e.g. the split ξ₊/ξ₋ at x = 1/2, where C₊ = C₋; any direction when a
class never occurs in the data), those ≤ ``weak``·σ_max as *weakly identified* (near x = 1/2). Instead
of an arbitrary split, the returned point is the *canonical* one among the (numerically) equally good
points: the feasible point of ``θ* + span(null directions)`` closest to the origin
(``canonical="min-norm"``, the default) or to the pair approximation (``canonical="pair"``). Note:
one swap run has constant singlets, so the data see the denominator only through
``Σ_s ξ_s log C_s``; with the degree constraint this fixes the split except at x = 1/2 — the
Jacobian test finds exactly that.

Evaluation (:mod:`~latticeclosure.closures.evaluation`), cross-validation
(:mod:`~latticeclosure.closures.crossval`) and exponent tables (:mod:`~latticeclosure.closures.exponents`)
build on :func:`calibrate`; the numerical fitter is :mod:`~latticeclosure.closures.fitter`.
"""


from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import sympy

from ..errors import ClosureError, DataError
from ..io.tables import format_table
from ..protocols import FittableClosure, conforms
from .base import resolve_class
from .dataset import Dataset, as_datasets
from ..progress import track
from .fitter import ClassFit, fit_class

__all__ = ["CalibrationResult", "calibrate", "calibrate_each", "target_classes", "resolve_closure", "format_rows"]


def resolve_closure(closure: Any, **options: Any) -> Any:
    """The closure object for a registered name (closures, then presets) or an object (configured by options)."""
    from ..registry import get_registry

    return get_registry().resolve("closures", closure, **options)


def format_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Plain aligned text table of ``rows`` (mappings) with ``columns`` and a rule under the headers."""
    from ..io.tables import format_number

    return format_table(list(columns), [[r.get(c) for c in columns] for r in rows], rule=True,
                        number=lambda v: format_number(v, 4))


def target_classes(index: Any, datasets: Sequence[Dataset], classes: Iterable[Any] | None = None) -> list[str]:
    """The classes to fit/evaluate: given ones, or every class of the index's largest size in the data."""
    if classes is not None:
        names = [resolve_class(c, index).name for c in classes]
        for d in datasets:
            d.require(names, "the requested classes")
        return names
    top = index.max_size
    names = [c.name for c in index.classes_of_size(top) if all(c.name in d.columns for d in datasets)]
    if not names:
        raise DataError(
            f"the datasets contain no class of size {top} (the classes to close); "
            f"they have {sorted(datasets[0].columns)}"
        )
    return names


@dataclass
class CalibrationResult:
    """Fitted parameters of a closure family on one or several datasets (jointly)."""

    family: Any
    index: Any
    datasets: list[Dataset]
    classes: dict[str, ClassFit]
    options: dict[str, Any]

    def closure(self, name: str | None = None) -> Any:
        """The family with every fitted class pinned (no free parameters left for those classes).

        ``name`` renames it where the family supports renaming (``renamed``).
        """
        table = {c: {str(s): v for s, v in f.by_symbol.items()} for c, f in self.classes.items()}
        fam = self.family.with_values(table)
        if name and callable(getattr(fam, "renamed", None)):
            fam = fam.renamed(name)
        return fam

    def values(self) -> dict[sympy.Symbol, float]:
        """All fitted parameters by symbol (for sensitivities of an unpinned closed model)."""
        out: dict[sympy.Symbol, float] = {}
        for f in self.classes.values():
            out.update(f.by_symbol)
        return out

    @property
    def J(self) -> dict[str, float]:
        return {c: f.J for c, f in self.classes.items()}

    @property
    def E(self) -> float:
        """Mean J over the fitted classes (summed over the datasets of a joint fit)."""
        return float(np.mean([f.J for f in self.classes.values()])) if self.classes else float("nan")

    def nonidentifiable(self) -> dict[str, list[dict[str, Any]]]:
        return {c: f.nonidentifiable for c, f in self.classes.items() if f.nonidentifiable}

    def table(self) -> list[dict[str, Any]]:
        """One row per (class, parameter): value, pair-approximation value, flags, J."""
        rows = []
        for c, f in self.classes.items():
            ans = self.family.ansatz(c, self.index)
            flagged = {lab for d in f.nonidentifiable for lab, v in d["direction"].items() if abs(v) > 1e-9}
            weak = {lab for d in f.weak for lab, v in d["direction"].items() if abs(v) > 1e-9}
            for lab, v, ref in zip(f.labels, f.values.tolist(), ans.reference.tolist()):
                rows.append(
                    {
                        "class": c,
                        "parameter": lab,
                        "value": v,
                        "pair_approximation": ref,
                        "identified": "no" if lab in flagged else ("weak" if lab in weak else "yes"),
                        "J": f.J,
                        "J_pair_approximation": f.J_reference,
                    }
                )
        return rows

    def to_json(self) -> dict[str, Any]:
        return {
            "closure": self.family.name,
            "options": {k: v for k, v in getattr(self.family, "options", {}).items() if k != "exponents"},
            "datasets": [d.name for d in self.datasets],
            "fit_options": self.options,
            "E": self.E,
            "classes": [f.to_json() for f in self.classes.values()],
            "exponents": {c: f.params for c, f in self.classes.items()},
        }

    def format(self) -> str:
        return format_rows(
            self.table(), ["class", "parameter", "value", "pair_approximation", "identified", "J", "J_pair_approximation"]
        )


def calibrate(
    family: Any,
    data: Any,
    index: Any,
    classes: Iterable[Any] | None = None,
    *,
    n_starts: int = 8,
    seed: int = 0,
    rcond: float = 1e-7,
    weak: float = 1e-3,
    canonical: str = "min-norm",
    maxiter: int = 1000,
    normalisation: str = "all",
    rescale_time: bool = True,
    extra: str = "error",
    progress: bool | None = False,
    **family_options: Any,
) -> CalibrationResult:
    """Fit a parametric closure per class on one dataset or jointly on several.

    Parameters
    ----------
    family : str or fittable closure
        A registered name or an object satisfying :class:`latticeclosure.protocols.FittableClosure`,
        e.g. ``"power-law"`` (options such as ``preset="soft"``, ``degree="paper"`` go in
        ``family_options``) or ``"pair-corrected"``.
    data : dataset or list of datasets
        Anything :func:`~latticeclosure.closures.dataset.as_dataset` accepts; a list is fitted jointly.
    index : ClassIndex
        Up to the size of the classes to close.
    classes : iterable, optional
        Classes to fit (default: every class of the index's largest size present in the data).
    n_starts, seed : int
        Random feasible start points (besides the pair point and the log-space LS point) and seed.
    rcond, weak : float
        Relative singular-value thresholds for non-identifiable / weakly identified directions.
    canonical : {"min-norm", "pair"}
        Choice among equally good points along non-identifiable directions.
    normalisation, rescale_time, extra
        Passed to :func:`~latticeclosure.closures.dataset.as_dataset` (``extra="ignore"`` drops
        columns that are not classes of ``index``, e.g. larger clusters of a trajectory).
    progress : bool, optional
        A progress bar over the classes (``None``: when stderr is a terminal; see
        :func:`latticeclosure.progress.progress_enabled`). Default off.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    ClosureError
        Non-parametric family, empty constraint set.
    DataError
        Invalid data, missing classes.
    """
    fam = resolve_closure(family, **family_options)
    if not conforms(fam, FittableClosure):
        raise ClosureError(f"closure {fam.name!r} has no parameters to fit; use evaluate() instead")
    fam = fam.with_values({})  # refit from scratch: nothing pinned
    datasets = as_datasets(data, index, normalisation=normalisation, rescale_time=rescale_time, extra=extra)
    names = target_classes(index, datasets, classes)
    fits = {}
    for c in track(names, desc=f"fitting {fam.name}", unit="class", enabled=progress):
        _check_closable(fam, c, index)
        fits[c] = fit_class(
            fam.ansatz(c, index), datasets, n_starts=n_starts, seed=seed, rcond=rcond, weak=weak,
            canonical=canonical, maxiter=maxiter, family_name=fam.name,
        )
    opts = {"n_starts": n_starts, "seed": seed, "rcond": rcond, "weak": weak, "canonical": canonical, "joint": len(datasets) > 1}
    return CalibrationResult(fam, index, datasets, fits, opts)


def _check_closable(closure: Any, cls: Any, index: Any) -> None:
    """Raise :class:`ClosureError` when ``closure`` cannot close ``cls`` (its own message where it has ``check``)."""
    check = getattr(closure, "check", None)
    if callable(check):
        check(cls, index)
    elif not closure.can_close(cls, index):
        raise ClosureError(f"closure {closure.name!r} cannot close class {resolve_class(cls, index).name!r}")


def calibrate_each(family: Any, data: Any, index: Any, classes: Iterable[Any] | None = None, **kwargs: Any) -> list[CalibrationResult]:
    """One separate fit per dataset."""
    datasets = as_datasets(data, index, normalisation=kwargs.pop("normalisation", "all"), rescale_time=kwargs.pop("rescale_time", True))
    return [calibrate(family, d, index, classes, **kwargs) for d in datasets]


