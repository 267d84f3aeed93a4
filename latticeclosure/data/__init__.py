"""Trajectory datasets: concentrations of cluster classes along a run, with self-describing metadata.

* :class:`Trajectory` — metadata + arrays, validated; ``save``/``load`` a pickle-free ``.npz``;
* :func:`load_trajectory` — ``.npz`` or ``.csv`` by suffix;
* :func:`write_csv` / :func:`read_csv` — spreadsheet/MATLAB export, import from other simulators.

The on-disk format is documented in ``docs/data-format.md`` (readable with numpy and json alone).
"""

from __future__ import annotations

from .csvio import read_csv, write_csv
from .trajectory import NORMALISATION_TOLERANCE, SCHEMA, Trajectory, load_trajectory

__all__ = [
    "Trajectory",
    "SCHEMA",
    "NORMALISATION_TOLERANCE",
    "load_trajectory",
    "read_csv",
    "write_csv",
]
