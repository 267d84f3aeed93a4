"""``mean-field``: a cluster as a product of its sites' singlet concentrations.

``C_{s_1 … s_m} ≈ Π_k C_{s_k}`` — exact for uncorrelated (random) configurations, blind to every
correlation. Degree m (one per site).
"""

from __future__ import annotations

from typing import Any, Mapping

import sympy

from .base import ClosureFamily, class_symbol, geometry, resolve_class

__all__ = ["MeanFieldClosure"]


class MeanFieldClosure(ClosureFamily):
    """Product of the singlet concentrations of the cluster's sites."""

    name = "mean-field"
    description = "product of singlet concentrations (exact only without correlations)"
    OPTIONS: dict[str, Any] = {}

    def expression(self, cls: Any, index: Any, params: Mapping[Any, float] | None = None) -> sympy.Expr:
        self.check(cls, index)
        geo = geometry(cls, index)
        return sympy.Mul(*[class_symbol(s) for s in geo.site_classes])

    def exponents(self, cls: Any, index: Any) -> dict[str, float]:
        """Exponent of every input class (for tables and the power-law comparison)."""
        geo = geometry(resolve_class(cls, index), index)
        out: dict[str, float] = {}
        for s in geo.site_classes:
            out[s] = out.get(s, 0.0) + 1.0
        return out
