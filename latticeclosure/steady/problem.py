"""A closed model with numbers for every parameter but (at most) one named rate.

Fixed points, continuation and thresholds all evaluate the same three compiled functions of a
closed model — the reduced right-hand side ``f(x, p)``, its Jacobian ``∂f/∂x`` and its derivative
in one rate ``∂f/∂p`` — at parameter vectors that differ only in the continued rate.
:class:`SteadyProblem` binds those values once, checks them, and turns the compiled code's
``ZeroDivisionError`` (a closure whose denominator vanishes) into :class:`SingularStateError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..errors import SteadyStateError

__all__ = ["SteadyProblem", "SingularStateError", "numeric_rate_value"]


class SingularStateError(SteadyStateError):
    """The closed right-hand side is 0/0 (or x/0) at a state: a closure denominator vanishes there
    (the compiled code raised ``ZeroDivisionError`` or returned a non-finite value)."""


def numeric_rate_value(name: str) -> float | None:
    """The value of a rate whose *name* is a number (a flip rule written ``rate = 1``), else None."""
    try:
        value = float(name)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _fmt_names(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


@dataclass
class SteadyProblem:
    """A closed model, its compiled functions, and the values of its parameters.

    Build it with :meth:`from_model`. ``free`` names the rate that is varied (continued, or solved
    for at a threshold); every other parameter has a fixed value.

    Attributes
    ----------
    model : ClosedModel
    compiled : CompiledModel
    values : dict
        Parameter name → value for every parameter (the free one holds its last value given).
    free : str or None
        The varied rate.
    free_index : int or None
        Its position in ``model.parameter_names``.
    """

    model: Any
    compiled: Any
    values: dict[str, float]
    free: str | None = None
    free_index: int | None = None
    _base: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _fractions: Any = field(default=None, repr=False)

    @classmethod
    def from_model(
        cls,
        model: Any,
        rates: Mapping[str, float] | None = None,
        free: str | None = None,
        *,
        cache_dir: Any = None,
    ) -> "SteadyProblem":
        """Check the parameter values of ``model`` and compile it.

        Parameters
        ----------
        model : ClosedModel
        rates : mapping, optional
            Values by parameter name (rates and closure parameters). Rates whose name is a number
            (``"1"``, from a flip rule ``rate = 1``) take that value unless given. The free rate
            needs no value here.
        free : str, optional
            The rate to vary; must be one of ``model.parameter_names``.

        Raises
        ------
        SteadyStateError
            ``free`` is not a parameter of the model; a parameter has no value; a value is given
            for a name that is not a parameter, or is negative or not finite.
        """
        names = list(model.parameter_names)
        given = dict(rates or {})
        if free is not None and free not in names:
            raise SteadyStateError(
                f"rate {free!r} is not a parameter of the model; its parameters are: {_fmt_names(names)}"
            )
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise SteadyStateError(
                f"value(s) given for {', '.join(map(repr, unknown))}, which are not parameters of the "
                f"model; its parameters are: {_fmt_names(names)}"
            )
        values: dict[str, float] = {}
        missing = []
        for name in names:
            if name in given:
                try:
                    value = float(given[name])
                except (TypeError, ValueError):
                    raise SteadyStateError(f"value of {name!r} must be a number, got {given[name]!r}") from None
                if not math.isfinite(value):
                    raise SteadyStateError(f"value of {name!r} must be finite, got {value!r}")
                if value < 0 and name in model.rate_names:
                    raise SteadyStateError(f"rate {name!r} must be non-negative, got {value!r}")
                values[name] = value
            elif numeric_rate_value(name) is not None:
                values[name] = float(numeric_rate_value(name))
            elif name == free:
                values[name] = float("nan")
            else:
                missing.append(name)
        if missing:
            raise SteadyStateError(
                f"no value for the parameter(s) {_fmt_names(missing)}; give them (e.g. --set "
                f"{missing[0]}=VALUE) or choose one as the varied rate"
            )
        compiled = model.compile(cache_dir=cache_dir)
        base = np.array([values[n] for n in names], dtype=np.float64)
        return cls(model, compiled, values, free, None if free is None else names.index(free), base)

    # ------------------------------------------------------------------ parameters
    @property
    def n_state(self) -> int:
        """Number of state variables of the reduced system."""
        return len(self.model.state_names)

    def vector(self, value: float | None = None) -> np.ndarray:
        """The parameter vector with the free rate set to ``value`` (required when there is one)."""
        p = self._base.copy()
        if self.free_index is not None:
            if value is None or not math.isfinite(value):
                if math.isnan(p[self.free_index]):
                    raise SteadyStateError(f"the varied rate {self.free!r} needs a value")
            else:
                p[self.free_index] = float(value)
        return p

    def with_value(self, value: float) -> "SteadyProblem":
        """The same problem with the free rate's default value set to ``value``."""
        base = self.vector(value)
        values = dict(self.values)
        if self.free is not None:
            values[self.free] = float(value)
        return SteadyProblem(self.model, self.compiled, values, self.free, self.free_index, base)

    # ------------------------------------------------------------------ compiled functions
    def rhs(self, x: np.ndarray, value: float | None = None) -> np.ndarray:
        """Reduced right-hand side ``f(x)`` at the free rate ``value``.

        Raises
        ------
        SingularStateError
            A closure denominator vanishes at ``x``.
        """
        return self._call(self.compiled.rhs, x, value)

    def jacobian(self, x: np.ndarray, value: float | None = None) -> np.ndarray:
        """``∂f/∂x`` at ``x`` (raises :class:`SingularStateError` where a denominator vanishes)."""
        return self._call(self.compiled.jacobian, x, value)

    def rate_derivative(self, x: np.ndarray, value: float | None = None) -> np.ndarray:
        """``∂f/∂p`` for the free rate ``p`` at ``x``."""
        if self.free_index is None:
            raise SteadyStateError("this problem has no varied rate")
        return self._call(self.compiled.sensitivities, x, value)[:, self.free_index]

    def _call(self, function: Any, x: np.ndarray, value: float | None) -> np.ndarray:
        # the generated code raises ZeroDivisionError (integer powers of 0) or returns NaN/inf
        # (0/0 under numpy's error model) where a closure denominator vanishes
        x = np.asarray(x, dtype=np.float64)
        try:
            out = function(x, self.vector(value))
        except ZeroDivisionError:
            raise SingularStateError(self._singular_message(x)) from None
        if not np.isfinite(out).all() and np.isfinite(x).all():
            raise SingularStateError(self._singular_message(x))
        return out

    def full_state(self, x: np.ndarray) -> np.ndarray:
        """Every window class (``model.window_names`` order) from reduced state(s) ``x``."""
        return self.compiled.full_state(x)

    def reduced_state(self, full: np.ndarray) -> np.ndarray:
        """The reduced state from a vector of every window class."""
        full = np.asarray(full, dtype=np.float64)
        idx = [self.model.window_names.index(n) for n in self.model.state_names]
        return full[..., idx]

    def species_fractions(self, full: np.ndarray) -> np.ndarray:
        """Site fraction of every species (``model.equations.species`` order) from full state(s).

        Singlets are window classes at window size 1 and exact marginals of the window classes
        otherwise (linear in them).
        """
        if self._fractions is None:
            self._fractions = _fraction_map(self.model)
        matrix, offset = self._fractions
        return np.asarray(full, dtype=np.float64) @ matrix.T + offset

    def _singular_message(self, x: Any) -> str:
        full = self.full_state(np.asarray(x, dtype=np.float64))
        zeros = [n for n, v in zip(self.model.window_names, full) if v == 0.0]
        shown = ", ".join(zeros[:6]) + (" …" if len(zeros) > 6 else "")
        return (
            f"closure {self.model.closure_label!r} divides by zero at this state (zero classes: {shown}); "
            "take the limit along a direction (latticeclosure.steady.singular)"
        )


def _fraction_map(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(M, g)`` with species fractions ``= M @ full_state + g``."""
    import sympy as sp

    eqs = model.equations
    window = [sp.Symbol(n) for n in model.window_names]
    singlets = {c.pattern[0]: c.name for c in eqs.index.classes_of_size(1)}
    rows, offsets = [], []
    for i in range(len(eqs.species)):
        name = singlets[i]
        if name in model.window_names:
            expr: Any = sp.Symbol(name)
        elif name in model.marginals:
            expr = sp.sympify(model.marginals[name])
        else:
            raise SteadyStateError(f"no marginal for the singlet {name!r} in the closed model")
        expr = sp.expand(expr)
        rows.append([float(expr.coeff(w)) for w in window])
        offsets.append(float(expr.xreplace({w: 0 for w in window})))
    return np.array(rows), np.array(offsets)
