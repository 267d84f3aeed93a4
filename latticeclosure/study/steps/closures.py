"""Closures evaluated at every grid point, and closures fitted at one point and evaluated everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..spec import ClosureUse, FitUse

__all__ = ["EvaluateClosures", "FitClosures"]


@dataclass
class EvaluateClosures:
    """E and J_i (eq. 30) of fixed closures at every grid point, each under its label."""

    uses: tuple[ClosureUse, ...] = ()
    name: str = "evaluate"

    def run(self, context: Any) -> None:
        from ...registry import get_registry

        registry = get_registry()
        for use in self.uses:
            closure = registry.resolve("closures", use.closure, **dict(use.options))
            context.record_errors(use.label, closure, use.note)

    def render(self, context: Any) -> str:
        return ""


@dataclass
class FitClosures:
    """Calibrate closures at one grid point each (nearest to ``at``) and evaluate them at every point."""

    fits: tuple[FitUse, ...] = ()
    name: str = "fits"

    def run(self, context: Any) -> None:
        from ...closures import calibrate

        for use in self.fits:
            i = context.nearest(use.at)
            context.log(f"      fitting {use.label} at {context.parameter} = {context.grid[i]:g}"
                        + (f" (each of {context.n_seeds} seeds on its own data)" if context.n_seeds > 1 else ""))
            fits = [calibrate(use.closure, row[i], context.index, progress=context.progress, **dict(use.options))
                    for row in context.data]
            context.fits[use.label] = fits[0]
            context.fits_by_seed[use.label] = fits
            context.record_errors(use.label, [f.closure() for f in fits], use.note, fitted_at=context.grid[i])

    def render(self, context: Any) -> str:
        return ""

    def summary(self, context: Any) -> dict[str, Any]:
        return {"fits": {u.label: {"at": context.grid[context.nearest(u.at)]} for u in self.fits}}
