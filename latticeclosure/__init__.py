"""latticeclosure: mean-cluster rate equations for lattice models, closed, calibrated and solved.

Pipeline: lattice geometry → cluster shapes and classes → rate equations (window method) →
closures → closed model → data (simulated annealing or imported) → calibration and inference.
Every stage is a pluggy plugin kind; see :mod:`latticeclosure.hookspecs`.
"""

__version__ = "0.1.0"
