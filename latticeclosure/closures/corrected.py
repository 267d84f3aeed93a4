"""``pair-corrected``: the pair approximation times a fitted correction (richer than one monomial).

With ``g_PA`` the pair approximation of the class (Bethe / Kirkwood, degree sites − bonds) and, for
each distinct pair class p = (s, t) on the cluster's bonds, the pair correlation ratio
``q_p = C_p / (C_s C_t)`` (degree 0; q = 1 without correlations)

.. math:: g_S = g^{PA}_S \\Big(1 + \\sum_j a_j\\, \\phi_j\\Big),\\qquad
          \\phi_j \\in \\{q_p - 1\\} \\;(\\texttt{terms="linear"})
          \\;\\cup\\; \\{(q_p-1)(q_r-1)\\} \\;(\\texttt{terms="quadratic"}).

Every correction term has degree 0, so the closure keeps the pair approximation's degree (the same
constraint as ``power-law``); a = 0 is exactly the pair approximation, and without correlations the
closure is exact whatever a. The model is *linear* in a, so calibration is a convex, well-conditioned
least-squares problem (unique optimum, no multi-start needed). Bounds ``|a_j| ≤ a_max``; with
``positive=True`` (default) calibration also requires the correction factor to stay ≥ 0 on every
calibration record.

Note: when the singlets are the pair marginals, ``Σ_t C_t (q_{st} − 1) = 0`` for each s, so in one
swap run (constant singlets) the linear terms of classes with two distinct pair classes are
collinear; joint fitting over several stoichiometries separates them (the fitter reports it).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

import numpy as np
import sympy

from ..errors import ClosureError
from .base import ParametricClosure, class_symbol, geometry, param_symbol, resolve_class
from .numeric import Ansatz, safe_log
from .pair import pair_exponents

__all__ = ["PairCorrectedClosure"]


class PairCorrectedClosure(ParametricClosure):
    """Pair approximation × (1 + Σ a_j φ_j), φ_j degree-0 functions of the pair correlation ratios."""

    name = "pair-corrected"
    description = "pair approximation × (1 + Σ a_j (q_p − 1) [+ quadratic terms]); linear in a, degree of PA"
    OPTIONS: dict[str, Any] = {"terms": "quadratic", "a_max": 10.0, "positive": True, "exponents": None}

    def _validate(self) -> None:
        if self.options["terms"] not in ("linear", "quadratic"):
            raise ClosureError(
                f"closure {self.name!r}: terms must be 'linear' or 'quadratic', got {self.options['terms']!r}"
            )
        try:
            amax = float(self.options["a_max"])
        except (TypeError, ValueError):
            raise ClosureError(f"closure {self.name!r}: a_max must be a number") from None
        if not amax > 0:
            raise ClosureError(f"closure {self.name!r}: a_max must be positive, got {amax:g}")
        self.options["a_max"] = amax

    def check(self, cls: Any, index: Any) -> None:
        super().check(cls, index)
        if index.max_size < 2:
            raise ClosureError(f"closure {self.name!r} needs pair classes")

    def ansatz(self, cls: Any, index: Any) -> Ansatz:
        cls = resolve_class(cls, index)
        return _corrected_ansatz(cls.name, index, self.options["terms"], self.options["a_max"], self.options["positive"])


def _pair_states(index: Any, cls: Any, pair_name: str) -> tuple[str, str]:
    """Singlet classes of the two sites of the first bond of ``cls`` showing ``pair_name``."""
    geo = geometry(cls, index)
    for (i, j), p in zip(geo.bonds, geo.bond_classes):
        if p == pair_name:
            return geo.site_classes[i], geo.site_classes[j]
    raise ClosureError(f"internal error: pair {pair_name} not on {cls.name}")  # pragma: no cover


@lru_cache(maxsize=4096)
def _corrected_ansatz(class_name: str, index: Any, terms: str, a_max: float, positive: bool) -> Ansatz:
    cls = index.by_name[class_name]
    geo = geometry(cls, index)
    pa = pair_exponents(cls, index, "kirkwood")
    pa_expr = sympy.Mul(*[class_symbol(n) ** e for n, e in pa.items()])
    pairs = list(geo.pair_classes)
    ends = {p: _pair_states(index, cls, p) for p in pairs}
    q_expr = {p: class_symbol(p) / (class_symbol(ends[p][0]) * class_symbol(ends[p][1])) for p in pairs}
    feats: list[tuple[str, ...]] = [(p,) for p in pairs]
    if terms == "quadratic":
        feats += [(pairs[i], pairs[j]) for i in range(len(pairs)) for j in range(i, len(pairs))]
    keys = ["*".join(f) for f in feats]
    symbols = [param_symbol("a", class_name, k) for k in keys]
    phi_expr = [sympy.Mul(*[(q_expr[p] - 1) for p in f]) for f in feats]
    expr = pa_expr * (1 + sum(s * f for s, f in zip(symbols, phi_expr)))
    inputs = sorted(set(pa) | set(pairs) | {s for p in pairs for s in ends[p]})
    pa_items = list(pa.items())
    singlets = list(geo.singlet_classes)

    def features(X: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(np.asarray(X[inputs[0]]))
        absent = np.zeros(n, dtype=bool)
        for s in singlets:
            absent |= ~(np.asarray(X[s]) > 0)
        logpa = np.zeros(n)
        dead = absent.copy()
        for name, e in pa_items:
            lg = safe_log(X[name])
            e = float(e)
            bad = ~np.isfinite(lg)
            if e > 0:
                dead |= bad
            logpa += np.where(bad, 0.0, e * lg)
        gpa = np.where(dead, 0.0, np.exp(np.where(dead, 0.0, np.minimum(logpa, 700.0))))
        q = {}
        with np.errstate(divide="ignore", invalid="ignore"):
            for p in pairs:
                den = np.asarray(X[ends[p][0]], float) * np.asarray(X[ends[p][1]], float)
                q[p] = np.where(den > 0, np.asarray(X[p], float) / np.where(den > 0, den, 1.0), 1.0)
        Phi = np.column_stack([np.prod([q[p] - 1.0 for p in f], axis=0) for f in feats])
        return gpa, Phi, dead

    def value(theta: np.ndarray, P):
        gpa, Phi, _ = P
        theta = np.asarray(theta, float)
        g = gpa * (1.0 + Phi @ theta)
        return g, gpa[:, None] * Phi

    def inequality(P):
        gpa, Phi, dead = P
        keep = ~dead & (gpa > 0)
        return Phi[keep], -np.ones(int(keep.sum()))

    aliases = {k: s for k, s in zip(keys, symbols)}
    aliases.update({f"a[{k}]": s for k, s in zip(keys, symbols)})
    n = len(symbols)
    return Ansatz(
        class_name=class_name,
        symbols=symbols,
        keys=keys,
        kinds=["a"] * n,
        lower=np.full(n, -a_max),
        upper=np.full(n, a_max),
        A_eq=np.zeros((0, n)),
        b_eq=np.zeros(0),
        inputs=inputs,
        expression=expr,
        prepare=features,
        value=value,
        reference=np.zeros(n),
        linear_design=None,
        inequality=inequality if positive else None,
        aliases=aliases,
    )
