"""The least-squares objective F(K) of eq. (17) for a closed model and one or several datasets.

.. math::

    F(K) = \\sum_{d} \\Big[ \\tfrac12 \\int \\sum_c w_c\\,(C_c(t; K) - C^{d}_c(t))^2\\,dt
           + \\alpha \\lVert Q(K) - Q^{d} \\rVert^2 \\Big]

* ``c`` runs over the window classes (eliminated ones included, as the paper does; ``variables``
  selects, ``weights`` weighs); the integral is the trapezoid rule over the data's own records
  (``quadrature="sum"`` gives ½ Σ over records instead — the exact Gaussian log-likelihood for
  i.i.d. noise when the temperature is σ²); the model is integrated on the data's time grid from the
  data's first record (the state classes of that record).
* ``Q(K)`` are the equilibrium constants of eq. (7), ``Q_i = k_forward/k_reverse``; ``Q^d`` comes
  from the data's last record (the end state of the run): ``q_data="triplets"`` the measured
  ratio of the two context classes, ``q_data="closure"`` the same ratio through the model's closure
  from the pairs (the paper's choice). Constants whose data ratio is undefined (0/0) are left out
  and listed in :attr:`RateObjective.q_notes`. Dynamics without reverse pairs have no Q term.
* A solve that fails (loss of positivity, blow-up, step-size collapse, too many steps) or a
  non-finite value gives ``F = +inf``, counted in :attr:`RateObjective.failures`; never an
  exception.

The value is a compiled kernel (:func:`latticeclosure.inference._kernels.objective_value`, bound to
the model's functions by :mod:`latticeclosure.inference.modelkernels`) that reuses preallocated
buffers; the residual Jacobian comes from the forward sensitivity equations
(:mod:`latticeclosure.inference.sensitivity`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ClosureError, ConfigurationError, DataError

__all__ = ["ObjectiveOptions", "RateObjective", "build_objective", "LogParameterisation", "dataset_fingerprint"]

_FAILURE_NAMES = {
    1: "too many integration steps",
    2: "step size collapsed",
    3: "stiff",
    4: "loss of positivity",
    5: "blow-up",
    6: "non-finite F",
    7: "vanishing reverse rate in an equilibrium constant",
}


@dataclass(frozen=True)
class ObjectiveOptions:
    """Options of F(K).

    Parameters
    ----------
    variables : sequence of str, optional
        Window classes that enter the integral (default: all, eliminated ones included).
    weights : mapping, optional
        Class name → weight (default 1).
    alpha : float
        Weight of the equilibrium-constant term (≥ 0; 0 switches it off).
    q_data : {"triplets", "closure"}
        Where ``Q_data`` comes from (see the module documentation).
    quadrature : {"trapezoid", "sum"}
        Trapezoid rule over the records (eq. 17), or a plain sum over records.
    rtol, atol : float
        Integrator tolerances.
    max_steps : int
        Integrator step budget per solve.
    neg_tol, max_value : float
        A window class below ``-neg_tol`` or beyond ``max_value`` in magnitude is a failed solve.
    """

    variables: tuple[str, ...] | None = None
    weights: tuple[tuple[str, float], ...] | None = None
    alpha: float = 0.0
    q_data: str = "triplets"
    quadrature: str = "trapezoid"
    rtol: float = 1e-6
    atol: float = 1e-9
    max_steps: int = 100000
    neg_tol: float = 1e-5
    max_value: float = 1e3

    @classmethod
    def make(cls, **kw: Any) -> "ObjectiveOptions":
        """Build from keyword arguments (lists and mappings accepted), validating every value."""
        if kw.get("variables") is not None:
            kw["variables"] = tuple(str(v) for v in kw["variables"])
        if kw.get("weights") is not None:
            w = kw["weights"]
            items = w.items() if isinstance(w, Mapping) else w
            kw["weights"] = tuple((str(k), float(v)) for k, v in items)
        unknown = set(kw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigurationError(f"unknown objective options {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}")
        opts = cls(**kw)
        opts.validate()
        return opts

    def validate(self) -> None:
        if not (isinstance(self.alpha, (int, float)) and math.isfinite(self.alpha) and self.alpha >= 0):
            raise ConfigurationError(f"alpha must be a finite number >= 0, got {self.alpha!r}")
        if self.q_data not in ("triplets", "closure"):
            raise ConfigurationError(f"q_data must be 'triplets' or 'closure', got {self.q_data!r}")
        if self.quadrature not in ("trapezoid", "sum"):
            raise ConfigurationError(f"quadrature must be 'trapezoid' or 'sum', got {self.quadrature!r}")
        for name in ("rtol", "atol", "neg_tol", "max_value"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ConfigurationError(f"{name} must be a positive finite number, got {v!r}")
        if int(self.max_steps) < 1:
            raise ConfigurationError(f"max_steps must be a positive integer, got {self.max_steps!r}")
        for k, v in self.weights or ():
            if not (math.isfinite(v) and v >= 0):
                raise ConfigurationError(f"weight of {k} must be finite and >= 0, got {v!r}")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["variables"] = list(self.variables) if self.variables is not None else None
        d["weights"] = dict(self.weights) if self.weights is not None else None
        return d


def dataset_fingerprint(datasets: Sequence[Any]) -> str:
    """SHA-256 of the datasets' names, times and columns (for resume checks)."""
    h = hashlib.sha256()
    for d in datasets:
        h.update(str(d.name).encode())
        h.update(np.ascontiguousarray(d.time, dtype=np.float64).tobytes())
        for k in sorted(d.columns):
            h.update(k.encode())
            h.update(np.ascontiguousarray(d.columns[k], dtype=np.float64).tobytes())
    return h.hexdigest()


def _data_lattice(meta: Mapping[str, Any]) -> str | None:
    lat = meta.get("lattice")
    if isinstance(lat, Mapping):
        return lat.get("name")
    return lat if isinstance(lat, str) else None


def _check_setting(model: Any, datasets: Sequence[Any]) -> None:
    """Refuse datasets whose lattice or species differ from the model's (or from each other)."""
    eqs = model.equations
    lattice = getattr(eqs.lattice, "name", None)
    species = [str(s) for s in eqs.species]
    for d in datasets:
        lat = _data_lattice(d.metadata)
        if lat is not None and lattice is not None and lat != lattice:
            raise DataError(f"dataset {d.name!r} is on lattice {lat!r}, the model on {lattice!r}")
        sp_ = d.metadata.get("species")
        if sp_ is not None and [str(s) for s in sp_] != species:
            raise DataError(f"dataset {d.name!r} has species {list(sp_)}, the model {species}")


class RateObjective:
    """F(K) of eq. (17) for the rate constants of a closed model (see the module documentation).

    Parameters
    ----------
    model : ClosedModel
        The closed model; free closure parameters need values (``closure_params``).
    data : dataset(s)
        Anything :func:`latticeclosure.closures.dataset.as_datasets` accepts (trajectories, mappings,
        datasets); several datasets are fitted together (one F summed over them).
    options : ObjectiveOptions or mapping, optional
    closure_params : mapping or sequence, optional
        Values of the model's free closure parameters (they stay fixed).
    normalisation : {"all", "inputs", "none"}
        Passed to ``as_datasets`` (``"none"`` for noisy synthetic data).

    Attributes
    ----------
    parameter_names : list of str
        The rate constants, in the model's order (the vector ``K``).
    datasets : list of Dataset
    failures : dict
        Failure kind → count (over every evaluation in this process).
    q_names, q_notes : list of str
        Equilibrium constants in the Q term; constants left out and why.
    """

    kind = "rates"

    def __init__(
        self,
        model: Any,
        data: Any,
        options: ObjectiveOptions | Mapping[str, Any] | None = None,
        *,
        closure_params: Any = None,
        normalisation: str = "all",
    ) -> None:
        from ..closures.dataset import as_datasets

        if options is None:
            options = ObjectiveOptions()
        elif isinstance(options, Mapping):
            options = ObjectiveOptions.make(**options)
        options.validate()
        self.options = options
        self.model = model
        self._normalisation = normalisation
        self._closure_params_in = closure_params
        self.parameter_names = list(model.rate_names)
        n_k = len(self.parameter_names)
        if n_k == 0:
            raise ClosureError("the closed model has no rate constants to fit")
        if model.closure_parameter_names and closure_params is None:
            shown = ", ".join(model.closure_parameter_names[:4]) + (" …" if len(model.closure_parameter_names) > 4 else "")
            raise ClosureError(
                f"the closure {model.closure_label!r} leaves the model unclosed: its parameters ({shown}) are free; "
                "fit the closure first (e.g. `latticeclosure fit`) or give closure_params"
            )
        p_full = model.parameter_vector(np.ones(n_k), closure_params) if model.closure_parameter_names else np.ones(n_k)
        self._p = np.ascontiguousarray(p_full, dtype=np.float64)
        self.closure_values = {n: float(v) for n, v in zip(model.closure_parameter_names, self._p[n_k:])}
        index = model.equations.index
        self.datasets = as_datasets(data, index, normalisation=normalisation, extra="ignore")
        _check_setting(model, self.datasets)
        self.window_names = list(model.window_names)
        for d in self.datasets:
            d.require(self.window_names, "the closed model")
            if np.any(np.diff(d.time) <= 0):
                k = int(np.nonzero(np.diff(d.time) <= 0)[0][0])
                raise DataError(f"dataset {d.name!r}: the time grid is not increasing at record {k + 1}")
        variables = list(options.variables) if options.variables is not None else list(self.window_names)
        bad = [v for v in variables if v not in self.window_names]
        if bad or not variables:
            raise ConfigurationError(f"variables {bad or variables} are not window classes of the model; allowed: {self.window_names}")
        weights = dict(options.weights or ())
        badw = [k for k in weights if k not in self.window_names]
        if badw:
            raise ConfigurationError(f"weights given for {badw}, which are not window classes; allowed: {self.window_names}")
        self.variables = variables
        vw = np.array([weights.get(n, 1.0) if n in variables else 0.0 for n in self.window_names])
        if not np.any(vw > 0):
            raise ConfigurationError("every variable has weight 0: F would be identically 0")
        self.variable_weights = vw
        # concatenated data
        self.offsets = np.zeros(len(self.datasets) + 1, dtype=np.int64)
        for i, d in enumerate(self.datasets):
            self.offsets[i + 1] = self.offsets[i] + d.n_records
        n_tot = int(self.offsets[-1])
        self.t_all = np.ascontiguousarray(np.concatenate([np.asarray(d.time, float) for d in self.datasets]))
        self.D = np.ascontiguousarray(np.concatenate(
            [np.column_stack([np.asarray(d[n], float) for n in self.window_names]) for d in self.datasets]))
        quad = []
        for d in self.datasets:
            quad.append(np.asarray(d.weights, float) if options.quadrature == "trapezoid" else np.ones(d.n_records))
        self.W = np.ascontiguousarray(np.concatenate(quad)[:, None] * vw[None, :])
        assert self.D.shape == (n_tot, len(self.window_names))
        self.y0s = np.ascontiguousarray(np.array(
            [model.initial_state({n: float(d[n][0]) for n in model.state_names}) for d in self.datasets], dtype=float))
        self._setup_q()
        self._compiled = None
        self._sens = None
        self.failures_array = np.zeros(8, dtype=np.int64)

    # ---------------------------------------------------------------- equilibrium constants
    def _setup_q(self) -> None:
        import sympy as sp

        model = self.model
        opts = self.options
        consts = list(model.equations.equilibrium_constants) if opts.alpha > 0 else []
        names = self.parameter_names
        qf, qr, qd_cols, q_names, notes = [], [], [], [], []
        for q in consts:
            num, den = sp.fraction(q.concentration_ratio)
            values = []
            for d in self.datasets:
                last = {k: float(v[-1]) for k, v in d.columns.items()}
                if opts.q_data == "triplets":
                    missing = [str(s) for s in (num, den) if str(s) not in last]
                    if missing:
                        raise DataError(
                            f"dataset {d.name!r} lacks {missing}, needed for Q_data of {q.name} = {q.concentration_ratio} "
                            "(q_data='triplets'); use q_data='closure' or alpha=0"
                        )
                    a, b = last[str(num)], last[str(den)]
                else:
                    vals = []
                    for s in (num, den):
                        expr = model.closure_expressions.get(str(s))
                        if expr is None:
                            raise ClosureError(f"the closure does not express {s}, needed for Q_data of {q.name}")
                        expr = expr.xreplace({sp.Symbol(k): v for k, v in self.closure_values.items()})
                        subs = {}
                        for sym in expr.free_symbols:
                            if sym.name not in last:
                                raise DataError(f"dataset {d.name!r} lacks {sym.name}, needed for Q_data of {q.name}")
                            subs[sym] = last[sym.name]
                        vals.append(float(expr.xreplace(subs)) if subs or expr.is_number else float("nan"))
                    a, b = vals
                values.append(a / b if (b > 0 and math.isfinite(a) and math.isfinite(b)) else float("nan"))
            if all(math.isnan(v) for v in values):
                notes.append(f"{q.name} = {q.rate_ratio} left out: the data ratio {q.concentration_ratio} is undefined (0/0) at the last record")
                continue
            qf.append(names.index(q.forward))
            qr.append(names.index(q.reverse))
            qd_cols.append(values)
            q_names.append(f"{q.name} = {q.rate_ratio}")
        self.q_names = q_names
        self.q_notes = notes
        self.qf = np.array(qf, dtype=np.int64)
        self.qr = np.array(qr, dtype=np.int64)
        self.qd = np.ascontiguousarray(np.array(qd_cols, dtype=float).T.reshape(len(self.datasets), len(qf)))

    # ---------------------------------------------------------------- compiled parts
    def _ensure(self) -> None:
        if self._compiled is None:
            from . import _kernels

            self._kernels = _kernels
            self._compiled = self.model.compile()
            n_full = self._compiled.n_full
            max_rec = int(np.max(np.diff(self.offsets)))
            self._out = np.empty((max_rec, n_full))
            self._info = np.empty(6)
            o = self.options
            self._opts = np.array([o.rtol, o.atol, float(o.max_steps), o.neg_tol, o.max_value])
            from ._stiff import allocate_work
            from .modelkernels import model_kernels

            self._bound = model_kernels(self._compiled)
            self._work, self._iwork = allocate_work(self._compiled.n_state, n_full)

    @property
    def n_parameters(self) -> int:
        return len(self.parameter_names)

    @property
    def lower_bounds(self) -> np.ndarray:
        """Bounds of the least-squares fit (K ≥ 0)."""
        return np.zeros(self.n_parameters)

    @property
    def upper_bounds(self) -> np.ndarray:
        return np.full(self.n_parameters, np.inf)

    @property
    def n_residuals(self) -> int:
        """Residual values that can be nonzero: positive weight, each dataset's first record excluded
        (the model starts from it), plus the equilibrium-constant terms (the ``n`` of the ``auto``
        temperature, :mod:`latticeclosure.inference.temperature`)."""
        n = 0
        for d in range(len(self.datasets)):
            a, b = int(self.offsets[d]), int(self.offsets[d + 1])
            n += int(np.count_nonzero(self.W[a + 1:b] > 0))
        if len(self.qf):
            n += int(np.count_nonzero(~np.isnan(self.qd)))
        return n

    @property
    def failures(self) -> dict[str, int]:
        return {_FAILURE_NAMES[i]: int(c) for i, c in enumerate(self.failures_array) if i and c}

    def kernel_arguments(self) -> tuple:
        """The data arguments of the model's bound objective after ``x`` (``_kernels.OBJECTIVE_DATA``)."""
        self._ensure()
        return (self._p, self.t_all, self.offsets, self.y0s, self.D, self.W, self._compiled.F, self._compiled.g,
                self._out, self._info, self._opts, self.qf, self.qr, self.qd, float(self.options.alpha),
                self.failures_array, self._work, self._iwork)

    def kernel_functions(self) -> tuple:
        """``(objective,)``: the model's bound compiled F (:mod:`latticeclosure.inference.modelkernels`)."""
        self._ensure()
        return (self._bound.objective,)

    def _stiff_solve(self, t: np.ndarray, y0: np.ndarray, p: np.ndarray, out: np.ndarray) -> int:
        o = self.options
        try:
            return int(self._bound.stiff_solve(t, y0, p, self._compiled.F, self._compiled.g, o.rtol, o.atol,
                                               int(o.max_steps), o.neg_tol, o.max_value, out, np.empty(6), self._work,
                                               self._iwork))
        except ArithmeticError:
            return 5

    def _explicit_solve(self, t: np.ndarray, y0: np.ndarray, p: np.ndarray) -> tuple[int, np.ndarray]:
        o = self.options
        try:
            st, Y, _ = self._compiled.solve_raw(t, y0, p, o.rtol, o.atol, max_steps=o.max_steps, neg_tol=o.neg_tol,
                                                max_value=o.max_value)
        except ArithmeticError:
            return 5, np.full((len(t), len(self.window_names)), np.nan)
        return st, Y

    def _vector(self, x: Any) -> np.ndarray:
        v = np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(-1))
        if v.shape[0] != self.n_parameters:
            raise ConfigurationError(f"K has {v.shape[0]} components; the model has {self.n_parameters} rates {self.parameter_names}")
        return v

    def value(self, x: Any) -> float:
        """F(K); +inf when a solve fails."""
        self._ensure()
        v = self._vector(x)
        try:
            return float(self._bound.objective(v, *self.kernel_arguments()))
        except ArithmeticError:  # generated code dividing by an exact zero (see _stiff): a failed solve
            self.failures_array[6] += 1
            return float("inf")

    __call__ = value

    def predict(self, x: Any) -> list[np.ndarray]:
        """The model's window classes on each dataset's grid (NaN after a failure), one array per dataset."""
        self._ensure()
        v = self._vector(x)
        p = self._p.copy()
        p[: self.n_parameters] = v
        out = []
        for d in range(len(self.datasets)):
            a, b = int(self.offsets[d]), int(self.offsets[d + 1])
            st, Y = self._explicit_solve(self.t_all[a:b].copy(), self.y0s[d].copy(), p)
            if st == 3:
                st = self._stiff_solve(self.t_all[a:b].copy(), self.y0s[d].copy(), p, Y)
            if st != 0:
                Y[:] = np.nan
            out.append(Y)
        return out

    # ---------------------------------------------------------------- residuals and Jacobian
    def _q_residuals(self, v: np.ndarray) -> np.ndarray:
        if not len(self.qf):
            return np.zeros(0)
        s = math.sqrt(2.0 * self.options.alpha)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = v[self.qf] / v[self.qr]
        r = s * (q[None, :] - self.qd)
        return np.where(np.isnan(self.qd), 0.0, r).reshape(-1)

    def residuals(self, x: Any) -> np.ndarray:
        """``r`` with ``F = ½‖r‖²`` (non-finite entries when a solve fails)."""
        v = self._vector(x)
        preds = self.predict(v)
        sw = np.sqrt(self.W)
        parts = []
        for d, Y in enumerate(preds):
            a, b = int(self.offsets[d]), int(self.offsets[d + 1])
            parts.append((sw[a:b] * (Y - self.D[a:b])).reshape(-1))
        parts.append(self._q_residuals(v))
        return np.concatenate(parts)

    def _sensitivity(self) -> Any:
        if self._sens is None:
            from .sensitivity import sensitivity_model

            self._ensure()
            self._sens = sensitivity_model(self.model, self._compiled)
        return self._sens

    def sensitivities(self, x: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per dataset ``(values (records, classes), ∂values/∂K (records, classes, rates))``.

        From the forward sensitivity equations; NaN where the augmented solve fails.
        """
        sm = self._sensitivity()
        v = self._vector(x)
        p = self._p.copy()
        p[: self.n_parameters] = v
        res = []
        for d in range(len(self.datasets)):
            a, b = int(self.offsets[d]), int(self.offsets[d + 1])
            out = np.empty((b - a, sm.F.shape[0]))
            info = np.empty(6)
            try:
                st = sm.solve(self.t_all[a:b].copy(), self.y0s[d], p, self.options.rtol, self.options.atol, out, info,
                              self.options.max_steps)
            except ArithmeticError:
                st = 5
            if st == 3:
                # stiff: the augmented system with the Rosenbrock method
                try:
                    st = sm.stiff_solve(self.t_all[a:b].copy(), self.y0s[d], p, self.options.rtol, self.options.atol,
                                        out, info, self.options.max_steps)
                except ArithmeticError:
                    st = 5
            if st != 0:
                # the augmented system failed: differences of the stiff solver's solves
                res.append(self._stiff_sensitivities(d, p))
                continue
            vals, sens = sm.split(out)
            res.append((vals.copy(), sens.copy()))
        return res

    def _stiff_sensitivities(self, d: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sensitivities by central differences of Rosenbrock solves (step 1e-6 relative), for stiff points."""
        a, b = int(self.offsets[d]), int(self.offsets[d + 1])
        t = self.t_all[a:b].copy()
        n_full = len(self.window_names)
        base = np.empty((b - a, n_full))
        if self._stiff_solve(t, self.y0s[d].copy(), p, base) != 0:
            base[:] = np.nan
        S = np.empty((b - a, n_full, self.n_parameters))
        for j in range(self.n_parameters):
            h = 1e-6 * max(abs(p[j]), 1e-3)
            plus, minus = p.copy(), p.copy()
            plus[j] += h
            minus[j] = max(p[j] - h, 0.0)
            Yp = np.empty_like(base)
            Ym = np.empty_like(base)
            okp = self._stiff_solve(t, self.y0s[d].copy(), plus, Yp) == 0
            okm = self._stiff_solve(t, self.y0s[d].copy(), minus, Ym) == 0
            if okp and okm:
                S[:, :, j] = (Yp - Ym) / (plus[j] - minus[j])
            elif okp:  # one-sided where the other side leaves the physical region
                S[:, :, j] = (Yp - base) / (plus[j] - p[j])
            elif okm and minus[j] < p[j]:
                S[:, :, j] = (base - Ym) / (p[j] - minus[j])
            else:
                S[:, :, j] = np.nan
        return base, S

    def jacobian(self, x: Any) -> np.ndarray:
        """∂r/∂K (rows as :meth:`residuals`) from the forward sensitivities."""
        v = self._vector(x)
        sw = np.sqrt(self.W)
        parts = []
        for d, (_, S) in enumerate(self.sensitivities(v)):
            a, b = int(self.offsets[d]), int(self.offsets[d + 1])
            parts.append((sw[a:b, :, None] * S).reshape(-1, self.n_parameters))
        if len(self.qf):
            s = math.sqrt(2.0 * self.options.alpha)
            nq = len(self.qf)
            Jq = np.zeros((len(self.datasets), nq, self.n_parameters))
            with np.errstate(divide="ignore", invalid="ignore"):
                for j in range(nq):
                    f, r = self.qf[j], self.qr[j]
                    Jq[:, j, f] += s / v[r]
                    Jq[:, j, r] += -s * v[f] / v[r] ** 2
            Jq[np.isnan(self.qd)] = 0.0
            parts.append(Jq.reshape(-1, self.n_parameters))
        return np.concatenate(parts, axis=0)

    def gradient(self, x: Any) -> np.ndarray:
        """∇F = Jᵀ r."""
        v = self._vector(x)
        return self.jacobian(v).T @ self.residuals(v)

    # ---------------------------------------------------------------- identity
    def fingerprint(self) -> str:
        """SHA-256 of the model, the data and the options (what a resumed run must match)."""
        from ..closedmodel.compile import model_key

        h = hashlib.sha256()
        h.update(model_key(self.model).encode())
        h.update(dataset_fingerprint(self.datasets).encode())
        h.update(json.dumps(self.options.to_json(), sort_keys=True).encode())
        h.update(json.dumps(self.closure_values, sort_keys=True).encode())
        return h.hexdigest()

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "closure": self.model.closure_label,
            "parameters": list(self.parameter_names),
            "variables": list(self.variables),
            "datasets": [{"name": d.name, "records": d.n_records, "x": d.x} for d in self.datasets],
            "options": self.options.to_json(),
            "q_term": list(self.q_names),
            "q_notes": list(self.q_notes),
        }

    # ---------------------------------------------------------------- pickling (spawn workers)
    def __getstate__(self) -> dict[str, Any]:
        return {"model": self.model, "data": self.datasets, "options": self.options,
                "closure_params": self._closure_params_in, "normalisation": "none"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["model"], state["data"], state["options"], closure_params=state["closure_params"],
                      normalisation=state["normalisation"])


class LogParameterisation:
    """The same objective in ``θ = log K`` (residuals, Jacobian ``J·diag(K)``, unbounded)."""

    def __init__(self, objective: Any) -> None:
        self.objective = objective

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        return self.objective.residuals(np.exp(theta))

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        k = np.exp(theta)
        return self.objective.jacobian(k) * k[None, :]


def build_objective(model: Any, data: Any, options: Any = None, **kwargs: Any) -> Any:
    """The objective of a closed model: :class:`RateObjective`, or for a linear model fitted in its
    rate combinations (``combinations=True``) a :class:`~latticeclosure.inference.linear.CombinationObjective`.
    """
    combinations = kwargs.pop("combinations", True)
    if combinations and model.is_linear():
        from .linear import CombinationObjective

        return CombinationObjective(model, data, options, **kwargs)
    return RateObjective(model, data, options, **kwargs)
