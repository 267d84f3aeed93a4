"""A calibratable closure written against the protocol only: the pair approximation times a factor.

``scaled-pair`` closes a class ``c`` as ``a_c · PA(c)`` with one factor ``a_c ≥ 0`` per class, fitted on
data. It subclasses nothing of latticeclosure: it has the members of
:class:`latticeclosure.protocols.FittableClosure` (``name``, ``description``, ``configure``,
``can_close``, ``parameters``, ``expression``, ``ansatz``, ``pinned``, ``with_values``) and builds its
numeric :class:`~latticeclosure.closures.numeric.Ansatz` from the pair approximation's expression.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import sympy

__all__ = ["ScaledPairClosure"]


class ScaledPairClosure:
    """``a_c`` × the pair approximation of every class ``c`` (``a_c = 1`` is the pair approximation)."""

    name = "scaled-pair"
    description = "pair approximation times a fitted factor per class (example plugin)"

    def __init__(self, values: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self.values = {c: dict(v) for c, v in (values or {}).items()}

    # -- configuration
    def configure(self, **options: Any) -> "ScaledPairClosure":
        unknown = set(options) - {"values"}
        if unknown:
            from latticeclosure.errors import ClosureError

            raise ClosureError(f"closure 'scaled-pair': unknown option(s) {sorted(unknown)}; accepted: values")
        return ScaledPairClosure(options.get("values", self.values))

    def with_values(self, values: Mapping[str, Mapping[str, float]]) -> "ScaledPairClosure":
        return ScaledPairClosure(values)

    # -- the closure
    @staticmethod
    def _pair() -> Any:
        from latticeclosure.closures import PairClosure

        return PairClosure()

    @staticmethod
    def _name(cls: Any) -> str:
        return getattr(cls, "name", cls)

    def _symbol(self, cls: Any) -> sympy.Symbol:
        return sympy.Symbol(f"a[{self._name(cls)};scale]")

    def can_close(self, cls: Any, index: Any) -> bool:
        return self._pair().can_close(cls, index)

    def pinned(self, cls: Any, index: Any) -> dict[sympy.Symbol, float] | None:
        table = self.values.get(self._name(cls))
        if table is None:
            return None
        return {self._symbol(cls): float(next(iter(table.values())))}

    def parameters(self, cls: Any, index: Any) -> list[sympy.Symbol]:
        return [] if self.pinned(cls, index) else [self._symbol(cls)]

    def expression(self, cls: Any, index: Any, params: Mapping[Any, float] | None = None) -> sympy.Expr:
        a: Any = self._symbol(cls)
        pinned = self.pinned(cls, index)
        if pinned:
            a = sympy.Float(pinned[a])
        elif params and (str(a) in {str(k) for k in params}):
            a = sympy.Float(next(v for k, v in params.items() if str(k) == str(a)))
        return a * self._pair().expression(cls, index)

    def ansatz(self, cls: Any, index: Any) -> Any:
        from latticeclosure.closures.numeric import Ansatz

        pa = self._pair().expression(cls, index)
        inputs = sorted(str(s) for s in pa.free_symbols)
        f = sympy.lambdify([sympy.Symbol(k) for k in inputs], pa, modules="numpy")

        def prepare(X: Mapping[str, np.ndarray]) -> np.ndarray:
            n = len(next(iter(X.values())))
            with np.errstate(all="ignore"):
                values = np.broadcast_to(np.asarray(f(*[X[k] for k in inputs]), dtype=float), (n,))
            return np.where(np.isfinite(values), values, 0.0)

        def value(theta: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return theta[0] * P, P[:, None]

        sym = self._symbol(cls)
        return Ansatz(
            class_name=self._name(cls), symbols=[sym], keys=["scale"], kinds=["a"],
            lower=np.array([0.0]), upper=np.array([np.inf]), A_eq=np.zeros((0, 1)), b_eq=np.zeros(0),
            inputs=inputs, expression=sym * pa, prepare=prepare, value=value, reference=np.array([1.0]),
        )
