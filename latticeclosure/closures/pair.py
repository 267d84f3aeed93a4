"""``pair``: the pair approximation — Bethe rule on trees, a selectable rule on closed loops.

For a cluster with bonds B and site degrees d_i (per-shape normalised concentrations)

.. math:: C_S \\approx \\frac{\\prod_{(ij)\\in B} C_{ij}}{\\prod_i C_i^{\\,d_i-1}}

which for a chain x–y–z is ``C_xy C_yz / C_y`` and for a triangle (``loop="kirkwood"``, the default)
is Kirkwood's superposition ``C_xy C_yz C_zx / (C_x C_y C_z)``. Degree (numerator minus denominator
exponents) = sites − bonds: 1 on trees, 0 on a triangle. The other loop rules:

* ``loop="tree-mean"`` — geometric mean of the Bethe products over all spanning trees of the cluster
  (a degree-1 closure of loops; for a triangle ``(C_xy C_yz C_zx)^{2/3} / (C_x C_y C_z)^{1/3}``);
* ``loop="refuse"`` — closed clusters cannot be closed (``ClosureError``).
"""

from __future__ import annotations

import itertools
from typing import Any, Mapping

import sympy

from ..errors import ClosureError
from .base import ClosureFamily, class_symbol, geometry, resolve_class

__all__ = ["PairClosure", "LOOP_RULES", "pair_exponents"]

LOOP_RULES = ("kirkwood", "tree-mean", "refuse")


def _spanning_trees(n: int, bonds: tuple[tuple[int, int], ...]) -> list[tuple[tuple[int, int], ...]]:
    trees = []
    for sub in itertools.combinations(bonds, n - 1):
        parent = list(range(n))

        def find(v: int) -> int:
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        ok = True
        for a, b in sub:
            ra, rb = find(a), find(b)
            if ra == rb:
                ok = False
                break
            parent[ra] = rb
        if ok:
            trees.append(sub)
    return trees


def pair_exponents(cls: Any, index: Any, loop: str = "kirkwood") -> dict[str, sympy.Rational]:
    """Exponent of every pair and singlet class in the pair approximation of ``cls``.

    Positive exponents are numerator factors, negative ones denominator factors.
    """
    geo = geometry(cls, index)
    out: dict[str, sympy.Rational] = {}

    def add(name: str, v: Any) -> None:
        out[name] = out.get(name, sympy.Integer(0)) + v

    if not geo.closed or loop == "kirkwood":
        for p in geo.bond_classes:
            add(p, sympy.Integer(1))
        for s, d in zip(geo.site_classes, geo.degrees):
            add(s, -sympy.Integer(d - 1))
    elif loop == "tree-mean":
        trees = _spanning_trees(geo.size, geo.bonds)
        t = sympy.Integer(len(trees))
        for tree in trees:
            for b in tree:
                add(geo.bond_classes[geo.bonds.index(b)], 1 / t)
            for i, s in enumerate(geo.site_classes):
                deg = sum(i in b for b in tree)
                add(s, -sympy.Integer(deg - 1) / t)
    else:
        raise ClosureError(
            f"the pair closure with loop={loop!r} cannot close the closed cluster class "
            f"{geo.cls.name!r}; use loop='kirkwood' or 'tree-mean'"
        )
    return {k: v for k, v in out.items() if v != 0}


class PairClosure(ClosureFamily):
    """Pair approximation: Bethe products on trees; Kirkwood superposition (or another rule) on loops."""

    name = "pair"
    description = "pair approximation: C_xy C_yz / C_y on chains, Kirkwood superposition on loops"
    OPTIONS: dict[str, Any] = {"loop": "kirkwood"}

    def _validate(self) -> None:
        if not isinstance(self.options["loop"], str) or self.options["loop"] not in LOOP_RULES:
            raise ClosureError(
                f"closure {self.name!r}: unknown loop rule {self.options['loop']!r}; choose one of {list(LOOP_RULES)}"
            )

    def check(self, cls: Any, index: Any) -> None:
        super().check(cls, index)
        cls = resolve_class(cls, index)
        if index.max_size < 2:
            raise ClosureError(f"closure {self.name!r} needs pair classes to close {cls.name!r}")
        if geometry(cls, index).closed and self.options["loop"] == "refuse":
            raise ClosureError(
                f"closure {self.name!r} (loop='refuse') cannot close the closed cluster class {cls.name!r}"
            )

    def exponents(self, cls: Any, index: Any) -> dict[str, sympy.Rational]:
        """Exponent of each input class (negative: denominator)."""
        self.check(cls, index)
        return pair_exponents(resolve_class(cls, index), index, self.options["loop"])

    def expression(self, cls: Any, index: Any, params: Mapping[Any, float] | None = None) -> sympy.Expr:
        exps = self.exponents(cls, index)
        return sympy.Mul(*[class_symbol(n) ** e for n, e in exps.items()])
