"""Report of the main job: figures (and, later, the Markdown report).

The figure functions in :mod:`latticeclosure.report.figures` take plain numpy data (no project
objects), draw with matplotlib's Agg canvas (no pyplot, no global backend switch) and write each PNG
atomically. Importing this package does not import matplotlib; the first figure does.
"""

from __future__ import annotations

from .figures import (
    CLOSURE_COLOURS,
    closure_colours,
    plot_annealing,
    plot_closure_reconstruction,
    plot_error_vs_stoichiometry,
    plot_exponents,
    plot_pair_concentrations,
    stoichiometry_colours,
)

__all__ = [
    "plot_annealing",
    "plot_pair_concentrations",
    "plot_closure_reconstruction",
    "plot_error_vs_stoichiometry",
    "plot_exponents",
    "stoichiometry_colours",
    "closure_colours",
    "CLOSURE_COLOURS",
]
