"""The table and figure of closure errors across the grid, and what they say against a reference."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...io import format_table
from .report_util import image, relative

__all__ = ["ErrorTable", "Verdict"]


@dataclass
class ErrorTable:
    """E per grid point for closure labels recorded by earlier steps (default: all but ``cv:`` ones).

    Parameters
    ----------
    labels : tuple of str, optional
        Table columns; default every recorded label except the ``cv:`` ones.
    figure_labels : tuple of str, optional
        Curves of the E figure; default the table's labels.
    """

    labels: tuple[str, ...] = ()
    figure_labels: tuple[str, ...] = ()
    name: str = "errors"
    title: str = "Closure errors E per grid point"

    def run(self, context: Any) -> None:
        return None

    def _labels(self, context: Any) -> list[str]:
        return list(self.labels) or [k for k in context.errors if not k.startswith("cv:")]

    def figures(self, context: Any, directory: Path) -> dict[str, Path]:
        from ...report.figures import plot_error_vs_grid

        labels = list(self.figure_labels) or self._labels(context)
        errors = {k: context.errors[k].E for k in labels}
        markers = {k: context.errors[k].fitted_at for k in labels if context.errors[k].fitted_at is not None}
        path = plot_error_vs_grid(context.grid, errors, directory / "error-vs-grid.png",
                                  title=f"E (eq. 30) per {context.spec.grid.axis_label}",
                                  xlabel=context.spec.grid.axis_label, styles=context.spec.styles, markers=markers)
        return {"fig_error": path}

    def render(self, context: Any) -> str:
        labels = self._labels(context)
        rows = [[f"{x:.3g}"] + [context.errors[k].E[i] for k in labels] for i, x in enumerate(context.grid)]
        rows.append(["**total**"] + [context.errors[k].total for k in labels])
        text = [f"## {self.title}", "", format_table([context.parameter] + labels, rows, markdown=True), ""]
        for k in labels:
            note = context.errors[k].note
            if note:
                text.append(f"* **{k}**: {note}.")
        best = next((r for r in context.results.values() if isinstance(r, dict) and "best" in r and "cv" in r), None)
        if best is not None:
            text.append(f"* best cross-validated family: **{best['best']}**.")
        text.append("")
        if "fig_error" in context.files:
            text += [image(f"E per {context.parameter}", relative(context.files["fig_error"], context.out_dir)), ""]
        return "\n".join(text)


@dataclass
class Verdict:
    """Which closures beat a reference closure, overall and at how many grid points."""

    reference: str = "PA"
    labels: tuple[str, ...] = ()
    name: str = "verdict"
    title: str = "What the data say"

    def run(self, context: Any) -> None:
        return None  # computed when rendered: later steps may still record closures

    def _rows(self, context: Any) -> dict[str, Any]:
        ref = context.errors[self.reference]
        labels = list(self.labels) or [k for k in context.errors if not k.startswith("cv:") and k != self.reference]
        rows = []
        for k in labels:
            err = context.errors[k]
            wins = sum(1 for a, b in zip(err.E, ref.E) if a < b)
            rows.append({"label": k, "total": err.total, "ratio": err.total / ref.total if ref.total else float("nan"),
                         "wins": wins, "beats": err.total < ref.total})
        return {"reference": self.reference, "reference_total": ref.total, "rows": rows}

    def render(self, context: Any) -> str:
        res = self._rows(context)
        n = len(context.grid)
        text = [f"### {self.title}", ""]
        for r in res["rows"]:
            if r["beats"]:
                verdict = f"beats {self.reference} overall ({1 / r['ratio']:.2f}× lower total E)"
            else:
                verdict = f"does **not** beat {self.reference} overall ({r['ratio']:.2f}× higher total E)"
            text.append(f"* {r['label']} {verdict}; lower E than {self.reference} at {r['wins']} of {n} grid points.")
        return "\n".join(text + [""])

    def summary(self, context: Any) -> dict[str, Any]:
        res = self._rows(context)
        return {"beats_reference": {r["label"]: r["beats"] for r in res["rows"]}, "reference": self.reference}
