"""``sparse``: a power-law closure with a fixed exponent pattern, and automatic sparsification.

A sparse closure is configured with ``pattern = {class name: {input class name: exponent}}``:

.. math:: g_S = \\prod_k C_k^{e_{S,k}}

(negative exponents are denominator factors). Classes absent from the pattern cannot be closed.
Inputs must be classes smaller than the closed class; with ``strict=True`` only the distinct bond
pair classes and the singlet classes of the cluster (the power-law ansatz) are allowed.

:func:`sparsify` starts from a fitted power-law closure (a :class:`~.calibration.CalibrationResult`)
and, per class, enumerates small integer (optionally half-integer) exponent patterns that satisfy the
same constraints (degree and bounds), ordered from simplest (fewest non-zero exponents, then smallest
Σ|e|, then closest to the fitted exponents, then closest to the pair approximation — which settles ties
along non-identifiable directions such as the singlet split at x = 1/2), and keeps the first whose error J is within the stated
tolerance ``J ≤ J_fit (1 + rtol) + atol`` of the fitted one. The paper did this by hand (Table III);
a plugin may ship such a pattern as a named preset.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import sympy

from ..errors import ClosureError
from .base import ClosureFamily, class_symbol, geometry, resolve_class

__all__ = ["SparseClosure", "sparsify", "SparsifyResult", "pattern_expression"]


from .numeric import exact_number as _exact


def pattern_expression(exponents: Mapping[str, float]) -> sympy.Expr:
    """``Π C_k^{e_k}`` with exact rationals for (half-)integer exponents; zero exponents dropped."""
    return sympy.Mul(*[class_symbol(k) ** _exact(float(e)) for k, e in exponents.items() if float(e) != 0.0])


class SparseClosure(ClosureFamily):
    """Fixed monomial closures given per class (``pattern``)."""

    name = "sparse"
    description = "power law with a fixed exponent pattern per class (e.g. a sparse closure read off a fit)"
    OPTIONS: dict[str, Any] = {"pattern": None, "strict": False}

    def _validate(self) -> None:
        pat = self.options["pattern"]
        if pat is None:
            self.options["pattern"] = {}
            return
        if not isinstance(pat, Mapping):
            raise ClosureError(f"closure {self.name!r}: pattern must map class name → {{input class: exponent}}")
        clean: dict[str, dict[str, float]] = {}
        for cname, exps in pat.items():
            if not isinstance(exps, Mapping):
                raise ClosureError(f"closure {self.name!r}: pattern of {cname!r} must map input class → exponent")
            row = {}
            for k, v in exps.items():
                try:
                    fv = float(v)
                except (TypeError, ValueError):
                    raise ClosureError(
                        f"closure {self.name!r}: exponent of {k!r} in the pattern of {cname!r} must be a number, got {v!r}"
                    ) from None
                if not np.isfinite(fv):
                    raise ClosureError(f"closure {self.name!r}: exponent of {k!r} for {cname!r} is not finite")
                row[str(k)] = fv
            clean[str(cname)] = row
        self.options["pattern"] = clean

    @property
    def pattern(self) -> dict[str, dict[str, float]]:
        return self.options["pattern"]

    def check(self, cls: Any, index: Any) -> None:
        super().check(cls, index)
        cls = resolve_class(cls, index)
        if cls.name not in self.pattern:
            raise ClosureError(
                f"closure {self.name!r} has no pattern for class {cls.name!r}; it closes "
                f"{sorted(self.pattern) or 'nothing (empty pattern)'}"
            )
        allowed = _allowed_inputs(cls, index, bool(self.options["strict"]))
        for k in self.pattern[cls.name]:
            if k not in allowed:
                raise ClosureError(
                    f"closure {self.name!r}, class {cls.name!r}: input {k!r} is not allowed; allowed: {sorted(allowed)}"
                )

    def exponents(self, cls: Any, index: Any) -> dict[str, float]:
        self.check(cls, index)
        return dict(self.pattern[resolve_class(cls, index).name])

    def expression(self, cls: Any, index: Any, params: Mapping[Any, float] | None = None) -> sympy.Expr:
        return pattern_expression(self.exponents(cls, index))


def _allowed_inputs(cls: Any, index: Any, strict: bool) -> set[str]:
    if strict:
        geo = geometry(cls, index)
        return set(geo.pair_classes) | set(geo.singlet_classes)
    return {c.name for s in index.shapes if s.size < cls.size for c in index.classes_of[s.name]}


# --------------------------------------------------------------------------------- sparsification
@dataclass
class SparseChoice:
    """The outcome of sparsification for one class."""

    class_name: str
    exponents: dict[str, float]
    J: float
    J_fit: float
    within_tolerance: bool
    n_candidates: int
    fitted: dict[str, float] = field(default_factory=dict)

    @property
    def complexity(self) -> tuple[int, float]:
        return (sum(v != 0 for v in self.exponents.values()), sum(abs(v) for v in self.exponents.values()))

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.class_name,
            "exponents": self.exponents,
            "J": self.J,
            "J_fit": self.J_fit,
            "within_tolerance": self.within_tolerance,
            "n_candidates": self.n_candidates,
            "fitted": self.fitted,
        }


@dataclass
class SparsifyResult:
    """Per-class sparse patterns chosen from a fitted power law."""

    choices: dict[str, SparseChoice]
    rtol: float
    atol: float
    step: float

    def closure(self, name: str = "sparse") -> SparseClosure:
        return SparseClosure(
            pattern={c: dict(ch.exponents) for c, ch in self.choices.items()}, name=name
        )

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for ch in self.choices.values():
            rows.append(
                {
                    "class": ch.class_name,
                    "closure": str(pattern_expression(ch.exponents)),
                    "J_sparse": ch.J,
                    "J_fit": ch.J_fit,
                    "ratio": ch.J / ch.J_fit if ch.J_fit > 0 else float("inf") if ch.J > 0 else 1.0,
                    "within_tolerance": ch.within_tolerance,
                }
            )
        return rows

    def to_json(self) -> dict[str, Any]:
        return {
            "rtol": self.rtol,
            "atol": self.atol,
            "step": self.step,
            "classes": [ch.to_json() for ch in self.choices.values()],
        }


def _grid(lo: float, hi: float, step: float, cap: float) -> np.ndarray:
    lo = max(lo, -cap)
    hi = min(hi, cap)
    start = np.ceil(lo / step - 1e-9) * step
    return np.arange(start, hi + 1e-9, step)


def sparsify(
    fit: Any,
    data: Any = None,
    index: Any = None,
    *,
    rtol: float = 0.25,
    atol: float = 0.0,
    half_integers: bool = False,
    max_abs: float = 3.0,
    classes: Sequence[str] | None = None,
    normalisation: str = "all",
) -> SparsifyResult:
    """Simplest small-integer exponent pattern per class whose J is within tolerance of the fit.

    Parameters
    ----------
    fit : CalibrationResult
        A fitted ``power-law`` closure (its family's constraints are the search space).
    data : datasets, optional
        Default: the datasets the fit was made on (kept by the result).
    index : ClassIndex, optional
        Default: the fit's index.
    rtol, atol : float
        Tolerance: accept a pattern when ``J ≤ J_fit·(1 + rtol) + atol``.
    half_integers : bool
        Also try exponents in steps of 1/2.
    max_abs : float
        Largest ``|exponent|`` tried (also capped by the family's bounds).

    Returns
    -------
    SparsifyResult
        Its :meth:`~SparsifyResult.closure` is a :class:`SparseClosure`. Classes with no candidate
        within tolerance keep the best candidate found and are flagged ``within_tolerance=False``.
    """
    from .fitter import objective_value, prepare_class_data
    from .dataset import as_datasets
    from .powerlaw import PowerLawClosure

    family = fit.family
    if not isinstance(family, PowerLawClosure):
        raise ClosureError(f"sparsify needs a fitted power-law closure, got {family.name!r}")
    index = index if index is not None else fit.index
    datasets = fit.datasets if data is None else as_datasets(data, index, normalisation=normalisation)
    step = 0.5 if half_integers else 1.0
    choices: dict[str, SparseChoice] = {}
    names = list(classes) if classes is not None else list(fit.classes)
    for cname in names:
        if cname not in fit.classes:
            raise ClosureError(f"class {cname!r} was not fitted; fitted classes: {sorted(fit.classes)}")
        cf = fit.classes[cname]
        ansatz = family.ansatz(cname, index)
        prepared = prepare_class_data(ansatz, datasets)
        J_fit = objective_value(ansatz, prepared, cf.values)
        grids = [_grid(lo, hi, step, max_abs) for lo, hi in zip(ansatz.lower, ansatz.upper)]
        A, b = ansatz.A_eq, ansatz.b_eq
        cands = []
        if len(A) == 0:
            cands = [np.array(th, dtype=float) for th in itertools.product(*grids)]
        # enumerate all but the last coordinate; solve the equality for the last one
        for head in (itertools.product(*grids[:-1]) if len(A) else ()):
            head = np.array(head, dtype=float)
            last = (b[0] - A[0, :-1] @ head) / A[0, -1]
            if not (ansatz.lower[-1] - 1e-12 <= last <= ansatz.upper[-1] + 1e-12):
                continue
            if abs(last / step - round(last / step)) > 1e-9 or abs(last) > max_abs + 1e-9:
                continue
            theta = np.append(head, round(last / step) * step)
            cands.append(theta)
        if not cands:
            raise ClosureError(
                f"sparsify: no exponent pattern with step {step:g} and |e| ≤ {max_abs:g} satisfies the "
                f"constraints of class {cname!r} ({ansatz.describe_bounds()})"
            )
        cands.sort(
            key=lambda th: (
                int(np.count_nonzero(th)),
                float(np.abs(th).sum()),
                round(float(np.linalg.norm(th - cf.values)), 9),
                float(np.linalg.norm(th - ansatz.reference)),
            )
        )
        limit = J_fit * (1.0 + rtol) + atol
        chosen, best = None, None
        for th in cands:
            J = objective_value(ansatz, prepared, th)
            if best is None or J < best[1]:
                best = (th, J)
            if J <= limit:
                chosen = (th, J)
                break
        ok = chosen is not None
        th, J = chosen if ok else best
        exps = _exponent_pattern(ansatz, th)
        choices[cname] = SparseChoice(
            class_name=cname,
            exponents=exps,
            J=float(J),
            J_fit=float(J_fit),
            within_tolerance=ok,
            n_candidates=len(cands),
            fitted=dict(zip(ansatz.labels, cf.values.tolist())),
        )
    return SparsifyResult(choices=choices, rtol=rtol, atol=atol, step=step)


def _exponent_pattern(ansatz: Any, theta: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {}
    for kind, key, v in zip(ansatz.kinds, ansatz.keys, theta):
        e = float(v) if kind == "gamma" else -float(v)
        if e != 0.0:
            out[key] = out.get(key, 0.0) + e
    return out
