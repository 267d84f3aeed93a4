"""The table and figure of closure errors across the grid, and what they say against a reference."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...io import format_table
from ..context import mean_and_se
from .report_util import image, point_cell, relative, total_cell

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
        rows = [[f"{x:.3g}"] + [point_cell(context.errors[k], i) for k in labels] for i, x in enumerate(context.grid)]
        rows.append(["**total**"] + [total_cell(context.errors[k]) for k in labels])
        text = [f"## {self.title}", "", format_table([context.parameter] + labels, rows, markdown=True), ""]
        if context.n_seeds > 1:
            text += [f"Each cell: {context.seed_note()}.", ""]
        fitted = {k: context.errors[k].fitted_at for k in labels if context.errors[k].fitted_at is not None}
        if fitted:
            text += ["Fitted at: " + ", ".join(f"{k} at {context.parameter} = {v:.3g}" for k, v in fitted.items())
                     + " (marked in the figure).", ""]
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
        labels = list(self.labels) or _distinct_labels(context, exclude=self.reference)
        rows = []
        for k in labels:
            err = context.errors[k]
            ratios = [t / r if r else float("nan") for t, r in zip(err.totals, ref.totals)]
            wins = [sum(1 for a, b in zip(mine, theirs) if a < b) for mine, theirs in zip(err.by_seed, ref.by_seed)]
            ratio, ratio_se = mean_and_se(ratios)
            win, win_se = mean_and_se(wins)
            rows.append({"label": k, "total": err.total, "total_se": err.total_se, "ratio": ratio,
                         "ratio_se": ratio_se, "wins": win, "wins_se": win_se, "beats": err.total < ref.total,
                         "note": err.note})
        return {"reference": self.reference, "reference_total": ref.total, "rows": rows}

    def render(self, context: Any) -> str:
        res = self._rows(context)
        n = len(context.grid)
        text = [f"### {self.title}", ""]
        for r in res["rows"]:
            text.append(f"* {r['label']} {_verdict(r, self.reference)}; lower E than {self.reference} at "
                        f"{_count(r['wins'], r['wins_se'])} of {n} grid points.")
        return "\n".join(text + [""])

    def headline(self, context: Any) -> str:
        """The report's opening summary: the closures that beat the reference, by how much."""
        res = self._rows(context)
        winners = sorted((r for r in res["rows"] if r["beats"]), key=lambda r: r["ratio"])
        seeds = f" ({context.seed_note()})" if context.n_seeds > 1 else ""
        if not winners:
            return f"No closure of this study beats {self.reference} in total E over the grid{seeds}."
        parts = [f"**{r['label']}** ({_factor(r)} lower total E than {self.reference}, lower at "
                 f"{_count(r['wins'], r['wins_se'])} of {len(context.grid)} grid points)" for r in winners]
        return f"Closures that beat {self.reference} in total E over the grid{seeds}: " + "; ".join(parts) + "."

    def summary(self, context: Any) -> dict[str, Any]:
        res = self._rows(context)
        return {"beats_reference": {r["label"]: r["beats"] for r in res["rows"]}, "reference": self.reference}


def _distinct_labels(context: Any, exclude: str) -> list[str]:
    """Every recorded label but ``exclude``, leaving out aliases whose errors repeat an earlier label's."""
    out: list[str] = []
    for k, err in context.errors.items():
        if k != exclude and not any(context.errors[o].by_seed == err.by_seed for o in out):
            out.append(k)
    return out


def _factor(row: dict[str, Any]) -> str:
    """``"2.59×"`` or ``"2.59 ± 0.12×"``: how many times lower the total E is."""
    inv = 1 / row["ratio"]
    if row["ratio_se"] is None:
        return f"{inv:.2f}×"
    return f"{inv:.2f} ± {row['ratio_se'] / row['ratio'] ** 2:.2f}×"  # first-order error of 1/ratio


def _count(mean: float, se: float | None) -> str:
    return f"{mean:g}" if se is None else f"{mean:.1f} ± {se:.1f}"


def _verdict(row: dict[str, Any], reference: str) -> str:
    if row["beats"]:
        return f"beats {reference} overall ({_factor(row)} lower total E)"
    times = f"{row['ratio']:.2f}×" if row["ratio_se"] is None else f"{row['ratio']:.2f} ± {row['ratio_se']:.2f}×"
    return f"does **not** beat {reference} overall ({times} higher total E)"
