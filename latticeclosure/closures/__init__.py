"""Closures: express size-(n+1) cluster concentrations through size ≤ n ones, and calibrate them.

Families (each a plugin object with the interface of :class:`~.base.ClosureFamily`):

=================  ===============================================================================
``mean-field``     product of singlets
``pair``           Bethe rule on trees, Kirkwood superposition (or ``loop="tree-mean"``) on loops
``kirkwood``       generalised Kirkwood superposition over all connected sub-clusters (Kikuchi)
``power-law``      the paper's optimal approximation (Table I, eq. 16), presets ``soft``/``hard``
``pair-corrected`` pair approximation × (1 + Σ a_j (q_p − 1) …), linear in a (richer than a monomial)
``sparse``         a fixed exponent pattern (the paper's SA is a preset of the NMC plugin set)
``custom``         expressions from a file, parsed safely
=================  ===============================================================================

Calibration and evaluation: :mod:`.calibration` (``calibrate``, ``evaluate``, ``cross_validate``,
``exponent_table``), :func:`.sparse.sparsify`; diagnostics: :mod:`.diagnostics`.
"""

from __future__ import annotations

from .base import ClosureFamily, ParametricClosure, class_symbol, geometry, singlet_marginals
from .corrected import PairCorrectedClosure
from .custom import CustomClosure
from .kirkwood import KirkwoodClosure
from .meanfield import MeanFieldClosure
from .pair import PairClosure
from .powerlaw import PowerLawClosure
from .sparse import SparseClosure, sparsify

__all__ = [
    "ClosureFamily",
    "ParametricClosure",
    "MeanFieldClosure",
    "PairClosure",
    "KirkwoodClosure",
    "PowerLawClosure",
    "PairCorrectedClosure",
    "SparseClosure",
    "CustomClosure",
    "sparsify",
    "standard_closures",
    "class_symbol",
    "geometry",
    "singlet_marginals",
]


def standard_closures() -> list[ClosureFamily]:
    """One unconfigured object of every built-in closure family."""
    return [
        MeanFieldClosure(),
        PairClosure(),
        KirkwoodClosure(),
        PowerLawClosure(),
        PairCorrectedClosure(),
        SparseClosure(),
        CustomClosure(),
    ]
