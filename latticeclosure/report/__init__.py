"""Figures of study reports.

The figure functions in :mod:`latticeclosure.report.figures` take plain numpy data (no project
objects) and every label, colour and choice of curves as arguments, draw with matplotlib's Agg canvas
(no pyplot, no global backend switch) and write each PNG atomically. Importing this package does not
import matplotlib; the first figure does.
"""

from __future__ import annotations

from .figures import (
    closure_styles,
    plot_annealing,
    plot_closure_reconstruction,
    plot_error_vs_grid,
    plot_exponents,
    plot_pair_concentrations,
    stoichiometry_colours,
)

__all__ = [
    "plot_annealing",
    "plot_pair_concentrations",
    "plot_closure_reconstruction",
    "plot_error_vs_grid",
    "plot_exponents",
    "stoichiometry_colours",
    "closure_styles",
]
