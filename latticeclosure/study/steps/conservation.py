"""Which closed models keep the composition the exact hierarchy conserves, and what breaking it costs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from ...io import format_table

__all__ = ["ConservationChecks"]

#: Longest drift expression shown in the report (the full ones are in conservation.txt).
SHOWN = 160


@dataclass
class ConservationChecks:
    """Check the closures' closed models against the composition laws, under the drift relations.

    For every closure label, the closed model (on the study's equations) is checked symbolically; for
    each one that breaks a law, it is solved from the data's first record at the grid point where the
    closure was fitted (else ``at``) with rates on the drift-relation manifold (every free rate 1),
    with and without imposing the laws (``conserve=True``), to ``t_end``.

    Parameters
    ----------
    closures : tuple of str
        Labels recorded by earlier steps.
    at : float
    t_end : float
    """

    closures: tuple[str, ...] = ()
    at: float = 0.5
    t_end: float = 5.0
    name: str = "conservation"
    title: str = "Conservation of the composition by the closed models"

    def run(self, context: Any) -> None:
        from ...closedmodel import close_equations
        from ...closedmodel.conservation import composition_change, drift_relation_rates

        rows = []
        for label in self.closures:
            err = context.errors.get(label)
            i = context.nearest(err.fitted_at if err is not None and err.fitted_at is not None else self.at)
            model = close_equations(context.equations, context.closure_at(label, i))
            report = model.conservation_report()
            row = {"label": label, "report": report, "at": context.grid[i], "change": None, "conserved_change": None}
            if report.laws and not report.conserved:
                traj = context.trajectories[i]
                initial = {n: float(traj.concentration(n)[0]) for n in model.window_names}
                rates = drift_relation_rates(model)
                row["change"] = composition_change(model, initial, rates, self.t_end)
                row["conserved_change"] = composition_change(close_equations(context.equations, context.closure_at(label, i),
                                                                             conserve=True), initial, rates, self.t_end)
            rows.append(row)
        context.results[self.name] = rows
        text = "\n\n".join(r["report"].to_text() for r in rows) + "\n"
        context.write_text("conservation", "conservation.txt", text)

    def render(self, context: Any) -> str:
        rows = context.results[self.name]
        if not rows or not any(r["report"].laws for r in rows):
            return ""
        table = []
        for r in rows:
            rep = r["report"]
            broken = ", ".join(law.quantity for law in rep.broken) or "none"
            change = "–"
            if r["change"]:
                change = "; ".join(f"{q}: {a:.4g} → {b:.4g} (conserving: {r['conserved_change'][q][1]:.4g})"
                                   for q, (a, b) in r["change"].items())
            table.append([r["label"], broken, f"{r['at']:.3g}", change])
        text = [f"## {self.title}", "",
                "The exact swap hierarchy conserves the composition for rates that satisfy its drift relations "
                "(" + "; ".join(sp.sstr(rel) for rel in rows[0]["report"].relations) + "). A closed model keeps "
                "it only if its own composition drift vanishes under them:", "",
                format_table(["closure", "laws broken", context.parameter, f"solved to t = {self.t_end:g} (free rates 1)"],
                             table, markdown=True), ""]
        for r in rows:
            for law in r["report"].broken:
                drift = sp.sstr(law.drift)
                shown = drift if len(drift) <= SHOWN else drift[:SHOWN] + " …"
                text.append(f"* {r['label']}: d{law.quantity}/dt = `{shown}`")
        text += ["", "`latticeclosure close --conserve` (Python: `close_equations(..., conserve=True)`) imposes the laws; "
                 "every drift in full: `conservation.txt`.", ""]
        return "\n".join(text)

    def summary(self, context: Any) -> dict[str, Any]:
        return {"conservation": {r["label"]: {"broken": [law.quantity for law in r["report"].broken],
                                              "change": r["change"], "conserving_change": r["conserved_change"]}
                                 for r in context.results[self.name]}}
