"""``kirkwood``: generalised Kirkwood superposition over all connected sub-clusters.

The cluster-variation (Kikuchi) form: with F the connected sub-clusters of size ≤ m (default
m = size − 1, the largest available), coefficients ``a_T = 1 − Σ_{U ∈ F, U ⊋ T} a_U`` and

.. math:: C_S \\approx \\prod_{T \\in F} C_{T}^{\\,a_T}.

For size-3 clusters (m = 2) it coincides with the pair closure (chains ``C_xy C_yz / C_y``, triangles
``C_xy C_yz C_zx / (C_x C_y C_z)``); for a four-site chain with m = 3 it is ``C_012 C_123 / C_12``.
Degree ``Σ_T a_T``.
"""

from __future__ import annotations

from typing import Any, Mapping

import sympy

from ..errors import ClosureError
from .base import ClosureFamily, class_symbol, connected_subsets, resolve_class, sub_class

__all__ = ["KirkwoodClosure", "kikuchi_coefficients"]


def kikuchi_coefficients(n_sites: int, bonds, order: int) -> dict[tuple[int, ...], int]:
    """Kikuchi coefficients a_T of the connected sub-clusters of size ≤ order (zeros dropped)."""
    fam = connected_subsets(n_sites, bonds, order)
    fam.sort(key=len, reverse=True)
    coef: dict[tuple[int, ...], int] = {}
    for t in fam:
        st = set(t)
        coef[t] = 1 - sum(a for u, a in coef.items() if len(u) > len(t) and st < set(u))
    return {t: a for t, a in coef.items() if a != 0}


class KirkwoodClosure(ClosureFamily):
    """Superposition of all connected sub-clusters up to ``order`` sites with Kikuchi coefficients."""

    name = "kirkwood"
    description = "generalised Kirkwood superposition (Kikuchi coefficients over connected sub-clusters)"
    OPTIONS: dict[str, Any] = {"order": None}

    def _validate(self) -> None:
        order = self.options["order"]
        if order is not None and (int(order) != order or order < 1):
            raise ClosureError(f"closure {self.name!r}: order must be a positive integer, got {order!r}")

    def _order(self, cls: Any) -> int:
        order = self.options["order"]
        return cls.size - 1 if order is None else int(order)

    def check(self, cls: Any, index: Any) -> None:
        super().check(cls, index)
        cls = resolve_class(cls, index)
        order = self._order(cls)
        if order >= cls.size:
            raise ClosureError(
                f"closure {self.name!r}: order {order} must be smaller than the size {cls.size} of {cls.name!r}"
            )

    def exponents(self, cls: Any, index: Any) -> dict[str, int]:
        """Exponent of each input class (negative: denominator)."""
        self.check(cls, index)
        cls = resolve_class(cls, index)
        out: dict[str, int] = {}
        for t, a in kikuchi_coefficients(cls.size, cls.shape.bonds, self._order(cls)).items():
            name = sub_class(index, cls, t).name
            out[name] = out.get(name, 0) + a
        return {k: v for k, v in out.items() if v != 0}

    def expression(self, cls: Any, index: Any, params: Mapping[Any, float] | None = None) -> sympy.Expr:
        return sympy.Mul(*[class_symbol(n) ** e for n, e in self.exponents(cls, index).items()])
