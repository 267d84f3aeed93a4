"""Closures: express size-(n+1) cluster concentrations through size ≤ n ones, and calibrate them.

Families (each a plugin object with the interface of :class:`~.base.ClosureFamily`):

==================  ================================================================================
``mean-field``      product of singlets
``pair``            Bethe rule on trees, Kirkwood superposition (or ``loop="tree-mean"``) on loops
``kirkwood``        generalised Kirkwood superposition over all connected sub-clusters (Kikuchi)
``power-law``       the paper's optimal approximation (Table I, eq. 16), presets ``soft``/``hard``
``pair-corrected``  pair approximation × (1 + Σ a_j (q_p − 1) …), linear in a (richer than a monomial)
``sparse``          a fixed exponent pattern (plugins ship named patterns as closure presets)
``custom``          expressions from a file, parsed safely
==================  ================================================================================

Calibration: :mod:`.calibration` (``calibrate``; the numerical fitter is :mod:`.fitter`); evaluation
(J_i and E, eq. 30): :mod:`.evaluation`; leave-one-out cross-validation: :mod:`.crossval`; the paper's
Table II: :mod:`.exponents`; :func:`.sparse.sparsify`; diagnostics: :mod:`.diagnostics`. Any object
with the members of :class:`latticeclosure.protocols.Closure` is a closure, and of
:class:`latticeclosure.protocols.FittableClosure` a calibratable one: these modules dispatch on those
members, not on the base classes here.
"""

from __future__ import annotations

from .base import ClosureFamily, ParametricClosure, class_symbol, geometry, singlet_marginals
from .calibration import CalibrationResult, calibrate, calibrate_each
from .corrected import PairCorrectedClosure
from .custom import CustomClosure
from .kirkwood import KirkwoodClosure
from .meanfield import MeanFieldClosure
from .pair import PairClosure
from .powerlaw import PowerLawClosure
from .sparse import SparseClosure, sparsify
from .crossval import CrossValidation, cross_validate
from .evaluation import Evaluation, closure_values, evaluate
from .exponents import ExponentTable, exponent_table

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
    "calibrate",
    "calibrate_each",
    "CalibrationResult",
    "evaluate",
    "Evaluation",
    "closure_values",
    "cross_validate",
    "CrossValidation",
    "exponent_table",
    "ExponentTable",
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
