"""The general steps a study is made of (see :class:`latticeclosure.study.StudySpec`).

Each step has a ``name``, ``run(context)`` (compute and store on the context) and ``render(context)``
(its Markdown report section: text starting with ``## Title`` opens a numbered section, other text is
appended to the section before it, ``""`` adds nothing); optional ``figures(context, directory)`` and
``summary(context)``. Model plugins combine them and may add their own.
"""

from .closures import EvaluateClosures, FitClosures
from .conservation import ConservationChecks
from .crossval import CrossValidateClosures
from .dynamics import DynamicalErrors, WindowClosure
from .equations import ClosedModels, Equations
from .errors import ErrorTable, Verdict
from .exponents import ExponentTables, Identifiability, Sparsify
from .inference import InferenceUse, InferRates
from .marginals import MarginalChecks
from .reconstruction import Reconstructions
from .runs import RunsOverview

__all__ = [
    "RunsOverview",
    "Equations",
    "ClosedModels",
    "EvaluateClosures",
    "FitClosures",
    "ConservationChecks",
    "CrossValidateClosures",
    "DynamicalErrors",
    "WindowClosure",
    "ErrorTable",
    "Verdict",
    "ExponentTables",
    "Sparsify",
    "Identifiability",
    "MarginalChecks",
    "Reconstructions",
    "InferRates",
    "InferenceUse",
]
