"""Marginal consistency: does summing a closed class over an end site give back the smaller class?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...io import format_table

__all__ = ["MarginalChecks"]


@dataclass
class MarginalChecks:
    """The marginal identities checked on the data and on closures at one grid point.

    Parameters
    ----------
    at : float
        Grid value (nearest point).
    closures : tuple of str
        Labels recorded by earlier steps.
    """

    at: float = 0.5
    closures: tuple[str, ...] = ()
    name: str = "marginals"
    title: str = "Marginal consistency (Σ over an end site of a closed class = the smaller class)"

    def run(self, context: Any) -> None:
        from ...closures.diagnostics import marginal_consistency

        i = context.nearest(self.at)
        traj = context.trajectories[i]
        reports = {"data": marginal_consistency(None, context.index, traj)}
        for label in self.closures:
            reports[label] = marginal_consistency(context.closures[label], context.index, traj)
        context.results[self.name] = {"at": context.grid[i], "reports": reports}

    def render(self, context: Any) -> str:
        res = context.results[self.name]
        rows = [[label, "yes" if rep.consistent else "no", len(rep.violated()), len(rep.checks), rep.worst()]
                for label, rep in res["reports"].items()]
        return "\n".join([
            f"## {self.title}", "",
            format_table(["closure", "consistent", "violated identities", "identities", "max |violation|"], rows,
                         markdown=True), "",
            f"Evaluated on the {context.parameter} = {res['at']:.3g} data; `data` checks the measured concentrations "
            "themselves (exact identities).", "",
        ])
