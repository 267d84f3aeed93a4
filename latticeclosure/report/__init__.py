"""Figures of study reports.

The figure functions in :mod:`latticeclosure.report.figures` take plain numpy data (no project
objects) and every label, colour and choice of curves as arguments, and draw with matplotlib's Agg
canvas (no pyplot, no global backend switch): ``draw_*`` returns the figure, ``plot_*`` also writes
it as a PNG, atomically. Importing this package does not import matplotlib; the first figure does.
"""

from __future__ import annotations

from .figures import (
    closure_styles,
    draw_annealing,
    draw_closure_reconstruction,
    draw_error_vs_grid,
    draw_exponents,
    draw_observable,
    draw_pair_concentrations,
    plot_annealing,
    plot_closure_reconstruction,
    plot_error_vs_grid,
    plot_exponents,
    plot_pair_concentrations,
    save_figure,
    stoichiometry_colours,
)

__all__ = [
    "draw_annealing",
    "draw_pair_concentrations",
    "draw_closure_reconstruction",
    "draw_error_vs_grid",
    "draw_exponents",
    "draw_observable",
    "save_figure",
    "plot_annealing",
    "plot_pair_concentrations",
    "plot_closure_reconstruction",
    "plot_error_vs_grid",
    "plot_exponents",
    "stoichiometry_colours",
    "closure_styles",
]
