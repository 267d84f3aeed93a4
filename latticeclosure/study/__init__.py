"""Model-driven studies: what ``latticeclosure run --model NAME`` does for any registered model.

A model plugin declares its study as a :class:`StudySpec` (data backend, parameter grid, ordered
steps); :func:`run_study` runs it. The general steps are in :mod:`latticeclosure.study.steps`.

>>> from latticeclosure.study import run_study          # doctest: +SKIP
>>> result = run_study("ising-square", "out", size=24)    # doctest: +SKIP
>>> result.summary["E_total"]["PA"]                       # doctest: +SKIP
"""

from .context import ClosureErrors, StudyContext
from .driver import SUMMARY_SCHEMA, StudyResult, run_study
from .spec import ClosureUse, FamilyUse, FitUse, Grid, StudySpec

__all__ = [
    "StudySpec",
    "Grid",
    "ClosureUse",
    "FitUse",
    "FamilyUse",
    "StudyContext",
    "ClosureErrors",
    "StudyResult",
    "run_study",
    "SUMMARY_SCHEMA",
]
