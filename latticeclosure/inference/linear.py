"""Linear closed models fitted in their independent rate combinations, from the closed form.

A closed model that is linear in the concentrations, ``dx/dt = A x + b``, depends on the rate
constants only through a few linear combinations (:meth:`ClosedModel.linear_rates`: for the
triangular pair model under a closure linear in the pairs, ``α1 = 2k1 + k2 − 2k3 − k4`` and
``α2 = 2k5 + k6 − 2k7 − k8``); the individual
rates are not identifiable and the inverse problem is posed in the combinations directly, with the
closed-form solution (:meth:`ClosedModel.solve_closed_form`, eq. 28–29) giving C(t; α) and its exact
derivatives ∂C/∂α (sympy), so no ODE is integrated. The combinations may have any sign: their
least-squares fit is unbounded and their prior a symmetric box.

The equilibrium-constant term of F needs individual rates and is left out (noted in
:attr:`CombinationObjective.q_notes`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np

from ..errors import ClosureError
from .objective import ObjectiveOptions, RateObjective

__all__ = ["CombinationObjective"]


class CombinationObjective(RateObjective):
    """F of eq. (17) for a linear closed model, in its rate combinations α (see the module docs).

    Parameters are those of :class:`~latticeclosure.inference.objective.RateObjective`.

    Attributes
    ----------
    parameter_names : list of str
        ``alpha1, alpha2, …``.
    combinations : dict
        Combination name → its expression in the rate constants (text).
    """

    kind = "combinations"

    def __init__(self, model: Any, data: Any, options: ObjectiveOptions | Mapping[str, Any] | None = None, *,
                 closure_params: Any = None, normalisation: str = "all") -> None:
        import sympy as sp

        if options is None:
            options = ObjectiveOptions()
        elif isinstance(options, Mapping):
            options = ObjectiveOptions.make(**options)
        if not model.is_linear():
            raise ClosureError(f"the closed model ({model.closure_label}) is not linear: fit its rates instead")
        wanted_alpha = options.alpha
        super().__init__(model, data, dataclasses.replace(options, alpha=0.0), closure_params=closure_params,
                         normalisation=normalisation)
        self.options = options
        if wanted_alpha > 0:
            self.q_notes = ["the equilibrium-constant term needs individual rates: left out of the fit in combinations"]
        cf = model.solve_closed_form()
        combos = cf.combinations
        if not combos:
            raise ClosureError(f"the linear model ({model.closure_label}) has no rate combinations to fit")
        self.combination_symbols = list(combos)
        self.parameter_names = [str(a) for a in combos]
        self.combinations = {str(a): sp.sstr(e) for a, e in combos.items()}
        self._combination_vectors = np.array(
            [[float(sp.expand(e).coeff(r)) for r in model.rate_symbols] for e in combos.values()])
        init_syms = [cf.initial_symbols[n] for n in cf.initial_symbols]
        self._init_names = list(cf.initial_symbols)
        fixed = {sp.Symbol(k): v for k, v in self.closure_values.items()}
        args = [cf.t] + init_syms + self.combination_symbols
        self._fns = []
        self._dfns = []
        for name in self.window_names:
            expr = cf.expressions[name].xreplace(fixed)
            self._fns.append(sp.lambdify(args, expr, modules="numpy"))
            self._dfns.append([sp.lambdify(args, sp.diff(expr, a), modules="numpy") for a in self.combination_symbols])
        self._init_values = []
        for d in range(len(self.datasets)):
            full0 = model.initial_full_state(self.y0s[d])
            self._init_values.append([float(full0[model.window_names.index(n)]) for n in self._init_names])
        self.closed_form_text = cf.to_text()

    # the compiled model is not needed: the closed form is evaluated with numpy
    def kernel_arguments(self) -> tuple:  # pragma: no cover - not used for combinations
        raise ClosureError("the fit in rate combinations has no compiled kernel")

    @property
    def lower_bounds(self) -> np.ndarray:
        return np.full(self.n_parameters, -np.inf)

    def rates_to_combinations(self, rates: Any) -> np.ndarray:
        """The combinations α of a vector of rate constants."""
        return self._combination_vectors @ np.asarray(rates, dtype=float)

    def predict(self, x: Any) -> list[np.ndarray]:
        v = self._vector(x)
        out = []
        with np.errstate(all="ignore"):
            for d in range(len(self.datasets)):
                a, b = int(self.offsets[d]), int(self.offsets[d + 1])
                t = self.t_all[a:b]
                args = [t] + self._init_values[d] + list(v)
                Y = np.column_stack([np.broadcast_to(f(*args), t.shape) for f in self._fns]).astype(float)
                if not np.all(np.isfinite(Y)):
                    Y[:] = np.nan
                out.append(Y)
        return out

    def value(self, x: Any) -> float:
        v = self._vector(x)
        total = 0.0
        for d, Y in enumerate(self.predict(v)):
            a, b = int(self.offsets[d]), int(self.offsets[d + 1])
            with np.errstate(all="ignore"):
                total += 0.5 * float(np.sum(self.W[a:b] * (Y - self.D[a:b]) ** 2))
        if not np.isfinite(total):
            self.failures_array[6] += 1
            return float("inf")
        return total

    __call__ = value

    def residuals(self, x: Any) -> np.ndarray:
        v = self._vector(x)
        sw = np.sqrt(self.W)
        parts = []
        for d, Y in enumerate(self.predict(v)):
            a, b = int(self.offsets[d]), int(self.offsets[d + 1])
            parts.append((sw[a:b] * (Y - self.D[a:b])).reshape(-1))
        return np.concatenate(parts)

    def sensitivities(self, x: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        v = self._vector(x)
        res = []
        with np.errstate(all="ignore"):
            for d, Y in enumerate(self.predict(v)):
                a, b = int(self.offsets[d]), int(self.offsets[d + 1])
                t = self.t_all[a:b]
                args = [t] + self._init_values[d] + list(v)
                S = np.empty((b - a, len(self.window_names), self.n_parameters))
                for c, dfs in enumerate(self._dfns):
                    for j, f in enumerate(dfs):
                        S[:, c, j] = np.broadcast_to(f(*args), t.shape)
                res.append((Y, S))
        return res

    def jacobian(self, x: Any) -> np.ndarray:
        v = self._vector(x)
        sw = np.sqrt(self.W)
        parts = []
        for d, (_, S) in enumerate(self.sensitivities(v)):
            a, b = int(self.offsets[d]), int(self.offsets[d + 1])
            parts.append((sw[a:b, :, None] * S).reshape(-1, self.n_parameters))
        return np.concatenate(parts, axis=0)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["combinations"] = dict(self.combinations)
        return d
