"""Numbers reported by Ahmadi, Foster & Protas (2022), for comparison with our own.

Table II gives the power-law exponents fitted with hard regularisation at x = 1/3 (OA-1/3) and
x = 1/2 (OA-1/2), rounded to two decimals. The text we have of the paper is an OCR whose row labels are
partly illegible; the rows below are assigned to classes by the paper's order (linear, angled,
triangle; ``+`` before ``−``) and checked against the pair approximation's exponents printed beside
them and the degree-one constraint (Σγ − Σξ = 1) every row satisfies. The rows of the classes with two
different pair classes (``++−``, ``−−+``) are left out: the OCR does not say which exponent belongs to
which pair and singlet.
"""

from __future__ import annotations

__all__ = ["SA_IMPROVEMENT", "TABLE_II", "TABLE_II_NOTE"]

#: The reported improvement of SA over PA in E averaged over the ten stoichiometries.
SA_IMPROVEMENT = 0.3613


def _uniform(cls: str, pair: str, single: str, oa13: tuple[float, float], oa12: tuple[float, float]) -> dict:
    return {1 / 3: {(cls, f"gamma[{pair}]"): oa13[0], (cls, f"xi[{single}]"): oa13[1]},
            1 / 2: {(cls, f"gamma[{pair}]"): oa12[0], (cls, f"xi[{single}]"): oa12[1]}}


def _alternating(cls: str, middle: str, end: str, oa13: tuple[float, float, float], oa12: tuple[float, float, float]) -> dict:
    return {a: {(cls, "gamma[C+-]"): v[0], (cls, f"xi[{middle}]"): v[1], (cls, f"xi[{end}]"): v[2]}
            for a, v in ((1 / 3, oa13), (1 / 2, oa12))}


_ROWS = [
    _uniform("L+++", "C++", "C+", (1.12, 0.12), (1.00, 0.00)),
    _uniform("L---", "C--", "C-", (1.19, 0.19), (1.00, 0.00)),
    _uniform("A+++", "C++", "C+", (1.00, 0.00), (1.00, 0.00)),
    _uniform("A---", "C--", "C-", (1.39, 0.39), (1.00, 0.00)),
    _uniform("T+++", "C++", "C+", (2.00, 0.99), (2.00, 0.99)),
    _uniform("T---", "C--", "C-", (1.76, 0.76), (1.18, 0.18)),
    _alternating("L+-+", "C-", "C+", (1.00, 0.00, 0.00), (0.99, 0.00, 0.00)),
    _alternating("L-+-", "C+", "C-", (2.00, 0.99, 0.00), (0.99, 0.00, 0.00)),
    _alternating("A+-+", "C-", "C+", (1.00, 0.00, 0.00), (1.00, 0.00, 0.00)),
    _alternating("A-+-", "C+", "C-", (0.99, 0.00, 0.00), (1.00, 0.00, 0.00)),
]

#: ``{x: {(class, parameter): value}}`` — the paper's hard-regularised exponents (see the module docstring).
TABLE_II: dict[float, dict[tuple[str, str], float]] = {
    a: {k: v for row in _ROWS for k, v in row[a].items()} for a in (1 / 3, 1 / 2)
}

TABLE_II_NOTE = (
    "The `paper (hard)` column is the paper's Table II (hard regularisation), transcribed from an OCR of the "
    "paper; the rows of the classes with two different pairs (++−, −−+) are not legible there and are left out."
)
