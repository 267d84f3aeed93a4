"""The paper's Table II: power-law exponents per class fitted with several presets, PA beside them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .calibration import CalibrationResult, calibrate, format_rows

__all__ = ["ExponentTable", "exponent_table"]


# ---------------------------------------------------------------------------------- Table II
@dataclass
class ExponentTable:
    """Fitted exponents per class for several presets beside the pair approximation (Table II)."""

    presets: list[str]
    rows: list[dict[str, Any]]
    J: dict[str, dict[str, float]]            # class → {"PA": J, preset: J}
    fits: dict[str, CalibrationResult]

    def format(self) -> str:
        cols = ["class", "parameter", "PA"] + self.presets
        out = format_rows(self.rows, cols)
        jrows = [{"class": c, **v} for c, v in self.J.items()]
        return out + "\n\n" + format_rows(jrows, ["class", "PA"] + self.presets)

    def to_json(self) -> dict[str, Any]:
        return {"presets": self.presets, "rows": self.rows, "J": self.J, "fits": {k: v.to_json() for k, v in self.fits.items()}}


def exponent_table(
    data: Any,
    index: Any,
    classes: Iterable[Any] | None = None,
    presets: Sequence[str] = ("soft", "hard"),
    degree: Any = "pair",
    family: Any = "power-law",
    **fit_kwargs: Any,
) -> ExponentTable:
    """The paper's Table II: power-law exponents per class fitted with each preset, PA beside them.

    Non-identifiable parameters are marked with ``*`` after the value.
    """
    fits = {}
    for preset in presets:
        fits[preset] = calibrate(family, data, index, classes, preset=preset, degree=degree, **fit_kwargs)
    first = fits[presets[0]]
    rows = []
    J: dict[str, dict[str, float]] = {}
    for c, f in first.classes.items():
        ans = first.family.ansatz(c, index)
        J[c] = {"PA": f.J_reference}
        for preset in presets:
            J[c][preset] = fits[preset].classes[c].J
        for k, lab in enumerate(f.labels):
            row = {"class": c, "parameter": lab, "PA": float(ans.reference[k])}
            for preset in presets:
                cf = fits[preset].classes[c]
                flagged = any(abs(d["direction"].get(lab, 0.0)) > 1e-9 for d in cf.nonidentifiable)
                v = float(cf.values[k])
                row[preset] = f"{v:.4g}*" if flagged else v
            rows.append(row)
    return ExponentTable(list(presets), rows, J, fits)


