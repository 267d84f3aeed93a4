"""Fitted exponents per class (the paper's Table II, at chosen grid points), their automatic
sparsification, and the parameters the data do not identify."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...io import format_table
from .report_util import image, relative

__all__ = ["ExponentTables", "Sparsify", "Identifiability"]


@dataclass
class ExponentTables:
    """Power-law exponents per class fitted with several presets at grid points, the PA's beside them.

    Parameters
    ----------
    at : tuple of float
        Grid values (the nearest grid point is used).
    presets : tuple of str
        Power-law presets (``hard``, ``soft``).
    degree : str
        Degree constraint of the fits (``"pair"``, or ``"paper"``: degree one everywhere).
    columns : mapping preset → label
        Column labels in the report.
    figure_at : float, optional
        Draw the heat map of the fits at this grid value.
    """

    at: tuple[float, ...] = ()
    presets: tuple[str, ...] = ("hard", "soft")
    degree: str = "pair"
    columns: dict[str, str] = field(default_factory=dict)
    figure_at: float | None = None
    family: str = "power-law"
    decimals: int | None = None
    reference: dict[float, dict[tuple[str, str], float]] = field(default_factory=dict)
    reference_label: str = "reference"
    reference_note: str = ""
    name: str = "exponents"
    title: str = "Fitted exponents per class"

    def _label(self, preset: str) -> str:
        return self.columns.get(preset, preset)

    def run(self, context: Any) -> None:
        from ...closures import exponent_table
        from ...progress import track

        context.log(f"      exponent tables at {', '.join(f'{context.parameter} = {context.grid[context.nearest(a)]:g}' for a in self.at)}")
        tables = {}
        for a in track(self.at, desc="exponent tables", unit="point", enabled=context.progress):
            i = context.nearest(a)
            tables[context.grid[i]] = exponent_table(context.trajectories[i], context.index, presets=self.presets,
                                                     degree=self.degree, family=self.family)
        context.results[self.name] = tables

    def table(self, context: Any, at: float) -> Any:
        """The exponent table fitted at the grid point nearest ``at``."""
        return context.results[self.name][context.grid[context.nearest(at)]]

    def figures(self, context: Any, directory: Path) -> dict[str, Path]:
        if self.figure_at is None:
            return {}
        from ...report.figures import plot_exponents

        x = context.grid[context.nearest(self.figure_at)]
        table = context.results[self.name][x]
        rows: dict[str, dict[str, Any]] = {}
        for r in table.rows:
            row = rows.setdefault(r["class"], {"class": r["class"], "PA": {}, **{self._label(p): {} for p in self.presets}})
            row["PA"][r["parameter"]] = r["PA"]
            for p in self.presets:
                row[self._label(p)][r["parameter"]] = _number(r[p])
        tag = f"{x:.2f}".replace(".", "p")
        path = plot_exponents(list(rows.values()), directory / f"exponents-{context.parameter}{tag}.png",
                              title=f"Fitted power-law exponents per class at {context.parameter} = {x:.3g}")
        return {"fig_exponents": path}

    def render(self, context: Any) -> str:
        text = [f"## {self.title}", ""]
        cols = [self._label(p) for p in self.presets]
        for x, table in context.results[self.name].items():
            degree = "degree one everywhere" if self.degree == "paper" else f"the {self.degree} approximation's degrees"
            text += [f"Power law ({degree}) fitted at {context.parameter} = {x:.3g}; `*` marks parameters the data "
                     "do not identify.", ""]
            ref = next((v for a, v in self.reference.items() if abs(context.grid[context.nearest(a)] - x) < 1e-12), None)
            rows = [[r["class"], r["parameter"], self._round(r["PA"])] + [self._round(r[p]) for p in self.presets]
                    + ([self._round(ref.get((r["class"], r["parameter"])))] if ref is not None else [])
                    for r in table.rows]
            headers = ["class", "parameter", "PA"] + cols + ([self.reference_label] if ref is not None else [])
            text += [format_table(headers, rows, markdown=True), ""]
            if ref is not None and self.reference_note:
                text += [self.reference_note, ""]
            jrows = [[c, v["PA"]] + [v[p] for p in self.presets] for c, v in table.J.items()]
            text += [format_table(["class", "J (PA)"] + [f"J ({c})" for c in cols], jrows, markdown=True), ""]
        if "fig_exponents" in context.files:
            text += [image("fitted exponents", relative(context.files["fig_exponents"], context.out_dir)), ""]
        return "\n".join(text)


    def _round(self, v: Any) -> Any:
        """A table value rounded to ``decimals`` (keeping the ``*`` of non-identified values)."""
        if v is None:
            return "–"
        if self.decimals is None:
            return v
        flagged = isinstance(v, str) and v.endswith("*")
        number = _number(v)
        return f"{number:.{self.decimals}f}" + ("*" if flagged else "")


def _number(v: Any) -> float:
    return float(v.rstrip("*")) if isinstance(v, str) else float(v)


@dataclass
class Sparsify:
    """The simplest small-integer exponent pattern per class within a tolerance of a power-law fit,
    evaluated at every grid point under ``label`` (the paper's route to its sparse closure, automated).

    Parameters
    ----------
    exponents : str
        Name of the :class:`ExponentTables` step whose fit to sparsify.
    at : float
        Its grid value.
    preset : str
        Which preset's fit.
    label, note : str
    """

    exponents: str = "exponents"
    at: float = 0.5
    preset: str = "hard"
    label: str = "sparse-auto"
    note: str = ""
    name: str = "sparsify"

    def run(self, context: Any) -> None:
        from ...closures.sparse import sparsify

        x = context.grid[context.nearest(self.at)]
        fit = context.results[self.exponents][x].fits[self.preset]
        sparse = sparsify(fit)
        context.results[self.name] = {"result": sparse, "at": x}
        context.record_errors(self.label, sparse.closure(self.label), self.note, fitted_at=x)

    def render(self, context: Any) -> str:
        res = context.results[self.name]
        text = [f"Automatic sparsification of the {self.preset} power law fitted at {context.parameter} = {res['at']:.3g} "
                "(simplest small-integer pattern per class within 25% of the fitted J):", ""]
        rows = [[r["class"], f"`{r['closure']}`", r["J_sparse"], r["J_fit"], "yes" if r["within_tolerance"] else "no"]
                for r in res["result"].table()]
        text += [format_table(["class", "sparse closure", "J sparse", "J fit", "within tolerance"], rows, markdown=True), ""]
        return "\n".join(text)


@dataclass
class Identifiability:
    """The parameter directions the data of the study's fits do not identify."""

    name: str = "identifiability"

    def run(self, context: Any) -> None:
        context.results[self.name] = {
            label: {c: f.nonidentifiable for c, f in fit.classes.items() if f.nonidentifiable}
            for label, fit in context.fits.items()
        }

    def render(self, context: Any) -> str:
        flagged = {k: sorted(v) for k, v in context.results[self.name].items() if v}
        if not flagged:
            return ""
        return ("Non-identifiable directions (one grid point: with conserved singlet concentrations only a "
                "combination of the denominator exponents is seen): "
                + "; ".join(f"{k}: {', '.join(v)}" for k, v in flagged.items()) + ".\n")
