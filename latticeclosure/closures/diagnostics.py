"""Diagnostics of closures: marginal consistency (symbolic and on data) and error per class.

**Marginal consistency.** For a cluster shape S of size n+1 and a site e whose removal leaves a
connected sub-cluster R, every measure satisfies

.. math:: \\sum_{s} C_S(p \\cup \\{e \\mapsto s\\}) = C_R(p)

for every pattern p on R (per-shape normalised concentrations counted on a periodic configuration
are averages over the symmetry group of one configuration, hence exact marginals). A closure that
replaces C_S by g_S should respect it: the *violation* is ``Σ_s g_S(p ∪ s) − C_R(p)``.

* :func:`marginal_consistency` (``data=None``) checks it symbolically, with every class smaller than
  the window replaced by its exact marginal of window classes (``C+ = C++ + C+-``; for larger
  windows recursively, :func:`~latticeclosure.closures.base.class_marginals`, and the window classes
  reduced modulo the linear relations that marginal consistency imposes among them,
  :func:`~latticeclosure.closures.base.window_relations`): the pair approximation satisfies it identically on trees (Σ_z C_xy
  C_yz / C_y = C_xy), Kirkwood's triangle does not, and a sparse closure such as chain x–y–z ≈ C_yz violates it
  by exactly the complementary class (Σ_z L_{++z} ≈ C₊₊ + C₊₋ = C₊ instead of C₊₊).
* With ``data`` it reports, per check and dataset, the largest absolute violation and
  ``½∫ violation² dt`` on the records; with ``closure=None`` it checks the data themselves (exact
  counts pass to rounding).

:func:`class_errors` is the error per class of a closure on a dataset (J_i, eq. 15) — the thin
wrapper over :func:`~latticeclosure.closures.evaluation.evaluate`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import sympy

from ..errors import ClosureError
from .base import class_marginals, class_symbol, connected_subsets, window_relations

__all__ = ["MarginalCheck", "MarginalReport", "marginal_checks", "marginal_consistency", "class_errors"]


@dataclass
class MarginalCheck:
    """One marginal identity: ``Σ_s C[terms[s]] = C[sub_class]`` on a shape, summing over site ``site``."""

    shape: str
    site: int
    sub_class: str
    terms: list[str]
    residual: sympy.Expr | None = None
    consistent: bool | None = None
    max_abs: dict[str, float] = field(default_factory=dict)
    J: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def identity(self) -> str:
        return " + ".join(self.terms) + f" = {self.sub_class}"

    def to_json(self) -> dict[str, Any]:
        return {
            "shape": self.shape,
            "site": self.site,
            "identity": self.identity,
            "residual": None if self.residual is None else str(self.residual),
            "consistent": self.consistent,
            "max_abs": self.max_abs,
            "J": self.J,
            "note": self.note,
        }


@dataclass
class MarginalReport:
    closure: str
    checks: list[MarginalCheck]

    @property
    def consistent(self) -> bool:
        """True when no check is (symbolically or numerically) violated."""
        return all(c.consistent is not False for c in self.checks)

    def violated(self) -> list[MarginalCheck]:
        return [c for c in self.checks if c.consistent is False]

    def worst(self) -> float:
        vals = [v for c in self.checks for v in c.max_abs.values()]
        return max(vals) if vals else 0.0

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for c in self.checks:
            row = {
                "identity": c.identity,
                "consistent": c.consistent,
                "residual": None if c.residual is None else str(c.residual),
                "max_abs": max(c.max_abs.values()) if c.max_abs else None,
            }
            if c.note:
                row["note"] = c.note
            rows.append(row)
        return rows

    def to_json(self) -> dict[str, Any]:
        return {"closure": self.closure, "consistent": self.consistent, "checks": [c.to_json() for c in self.checks]}


def marginal_checks(index: Any, size: int | None = None) -> list[MarginalCheck]:
    """The distinct marginal identities of all shapes of ``size`` (default: the index's largest)."""
    size = index.max_size if size is None else int(size)
    if size < 2:
        raise ClosureError("marginal checks need clusters of at least two sites")
    out: list[MarginalCheck] = []
    seen: set[tuple] = set()
    for shape in index.shapes_of_size(size):
        subsets = set(connected_subsets(shape.size, shape.bonds, shape.size - 1))
        for e in range(shape.size):
            rest = tuple(k for k in range(shape.size) if k != e)
            if rest not in subsets:
                continue
            rest_keys = [shape.sites[k] for k in rest]
            for sub_pattern in itertools.product(range(index.q), repeat=len(rest)):
                sub = index.classify(rest_keys, sub_pattern)
                terms = []
                for s in range(index.q):
                    full = [0] * shape.size
                    for k, v in zip(rest, sub_pattern):
                        full[k] = v
                    full[e] = s
                    terms.append(index.classify(list(shape.sites), full).name)
                key = (shape.name, sub.name, tuple(sorted(terms)))
                if key in seen:
                    continue
                seen.add(key)
                out.append(MarginalCheck(shape=shape.name, site=e, sub_class=sub.name, terms=terms))
    return out


def marginal_consistency(
    closure: Any,
    index: Any,
    data: Any = None,
    *,
    size: int | None = None,
    symbolic: bool | None = None,
    atol: float = 1e-9,
    normalisation: str = "all",
) -> MarginalReport:
    """Check ``Σ_s g_S(p ∪ s) = C_R(p)`` for a closure (or, with ``closure=None``, for the data).

    Parameters
    ----------
    closure : closure family, name, CalibrationResult, or None (check the data themselves)
    index : ClassIndex
    data : dataset(s), optional
        Without data the check is symbolic; with data it is numerical (and symbolic too when
        ``symbolic=True``).
    size : int, optional
        Size of the closed shapes (default: the index's largest).
    atol : float
        Numerical violations above ``atol`` make a check inconsistent.

    Returns
    -------
    MarginalReport
    """
    from .calibration import CalibrationResult, resolve_closure
    from .dataset import as_datasets
    from .evaluation import closure_values

    if isinstance(closure, CalibrationResult):
        closure = closure.closure()
    fam = None if closure is None else resolve_closure(closure)
    checks = marginal_checks(index, size)
    if symbolic is None:
        symbolic = data is None
    if symbolic and fam is None:
        raise ClosureError("the symbolic marginal check needs a closure (the data check needs data)")
    check_size = index.max_size if size is None else int(size)
    marg = class_marginals(index, check_size - 1) if symbolic else {}
    relations = window_relations(index, check_size - 1) if symbolic else {}
    for chk in checks:
        if symbolic:
            try:
                total = sum((fam.expression(t, index) for t in chk.terms), sympy.Integer(0))
            except ClosureError as exc:
                chk.note = f"not closable: {exc}"
                continue
            resid = (total - class_symbol(chk.sub_class)).xreplace(marg)
            if relations:
                resid = resid.xreplace(relations)
            resid = sympy.factor(sympy.cancel(sympy.together(resid)))
            chk.residual = resid
            chk.consistent = bool(resid == 0)
    if data is not None:
        datasets = as_datasets(data, index, normalisation=normalisation)
        for chk in checks:
            if chk.note:
                continue
            for d in datasets:
                try:
                    if fam is None:
                        d.require(chk.terms + [chk.sub_class], "the marginal check")
                        total = sum(d.columns[t] for t in chk.terms)
                    else:
                        d.require([chk.sub_class], "the marginal check")
                        total = sum(closure_values(fam, t, index, d) for t in chk.terms)
                except ClosureError as exc:
                    chk.note = f"not closable: {exc}"
                    break
                v = total - d.columns[chk.sub_class]
                chk.max_abs[d.name] = float(np.max(np.abs(v)))
                chk.J[d.name] = 0.5 * float(np.sum(d.weights * v * v))
            if chk.max_abs:
                ok = max(chk.max_abs.values()) <= atol
                chk.consistent = ok if chk.consistent is None else (chk.consistent and ok)
    name = "data" if fam is None else fam.name
    return MarginalReport(name, checks)


def class_errors(closure: Any, data: Any, index: Any, classes: Iterable[Any] | None = None, **kwargs: Any) -> dict[str, dict[str, float]]:
    """J_i per class (dataset → class → J) of a closure; see :func:`.evaluation.evaluate`."""
    from .evaluation import evaluate

    return evaluate(closure, data, index, classes, **kwargs).J
