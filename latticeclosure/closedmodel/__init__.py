"""Closed mean-cluster models: closure substitution, analysis, compilation and integration.

>>> from latticeclosure.equations import generate_equations          # doctest: +SKIP
>>> from latticeclosure.closedmodel import close_equations           # doctest: +SKIP
>>> eqs = generate_equations("triangular", ["+", "-"], window_size=2, exclude_closed=True)  # doctest: +SKIP
>>> model = close_equations(eqs, "pair")                              # doctest: +SKIP
>>> model.is_linear()                                                 # doctest: +SKIP
False
>>> sol = model.solve(t, {"C++": .3, "C--": .3, "C+-": .2}, rates)   # doctest: +SKIP

Importing this package does not import numba; compilation happens on the first ``solve`` /
``compile``.
"""

from ..errors import IntegrationError
from .build import TermProvenance, close_equations, marginal_expressions, normalisation_eliminations
from .linear import ClosedForm, LinearSystem
from .model import ClosedModel

__all__ = [
    "close_equations",
    "ClosedModel",
    "ClosedForm",
    "LinearSystem",
    "TermProvenance",
    "marginal_expressions",
    "normalisation_eliminations",
    "solve",
    "Solution",
    "IntegrationError",
    "IntegrationWarning",
    "compile_model",
    "CompiledModel",
    "cache_directory",
]


def __getattr__(name: str):  # lazy: integrate/compile pull in scipy and numba
    if name in ("solve", "Solution", "IntegrationWarning"):
        from . import integrate

        return getattr(integrate, name)
    if name in ("compile_model", "CompiledModel", "cache_directory"):
        from . import compile as _compile

        return getattr(_compile, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
