"""``power-law``: the paper's "optimal approximation" (Table I) generalised to any cluster.

For a class S with distinct pair classes p on its bonds and distinct singlet classes s on its sites

.. math:: g_S = \\frac{\\prod_p C_p^{\\gamma_p}}{\\prod_s C_s^{\\xi_s}},\\qquad
          \\sum_p \\gamma_p - \\sum_s \\xi_s = D_S,\\quad 0 \\le \\gamma_p \\le \\delta,\\quad
          \\beta_1 \\le \\xi_s \\le \\beta_2 .

Presets (eq. 16 of the paper): ``soft`` (β1 = −∞, β2 = ∞, δ = 6; the default, so that the pair
approximation is a point of the family for every class) and ``hard`` (β1 = 0, β2 = δ = 2; the paper's
recommendation, which excludes Kirkwood's uniform triangle); explicit ``delta``/``beta1``/``beta2``
override the preset. The degree D_S defaults to the pair
approximation's degree for the shape (sites − bonds: 1 on trees, 0 on a triangle, where Kirkwood's
uniform triangle has γ = ξ = 3); ``degree="paper"`` is the paper's "1 everywhere"; a number or a mapping
shape/class name → number sets it explicitly; ``degree=None`` drops the constraint (then one swap run,
with its constant singlets, identifies only ``Σ_s ξ_s log C_s``, which the fitter reports).

The pair approximation is the point γ_p = number of bonds of class p, ξ_s = Σ (deg − 1) over the sites
of class s (``++-``: γ₊₊ = γ₊₋ = 1, ξ₊ = 1, ξ₋ = 0; ``+++``: γ₊₊ = 2, ξ₊ = 1).

Zero concentrations: ``C^0 = 1`` and ``C^γ = 0`` for γ > 0 (computed in log space without warnings);
at records where a singlet of the class vanishes the class is absent and ``g = 0``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Mapping

import numpy as np
import sympy

from ..errors import ClosureError
from .base import ParametricClosure, class_symbol, geometry, param_symbol, resolve_class
from .numeric import Ansatz, feasible_interval_check, safe_log

__all__ = ["PowerLawClosure", "PRESETS", "power_law_design"]

#: Bounds of the paper's regularisation presets.
PRESETS: dict[str, dict[str, float]] = {
    "soft": {"delta": 6.0, "beta1": -math.inf, "beta2": math.inf},
    "hard": {"delta": 2.0, "beta1": 0.0, "beta2": 2.0},
}


#: log g is capped here (g ≤ e^30 ≈ 1e13, far beyond any concentration) to keep absurd trial
#: exponents of unbounded presets from overflowing during optimisation.
LOG_CAP = 30.0


def power_law_design(pairs, singlets, X: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Log design matrix ``M`` (records × (pairs + singlets)) with ``log g = M θ`` and the absent mask."""
    cols = [safe_log(X[p]) for p in pairs] + [-safe_log(X[s]) for s in singlets]
    M = np.column_stack(cols) if cols else np.zeros((0, 0))
    absent = np.zeros(M.shape[0], dtype=bool)
    for s in singlets:
        absent |= ~(np.asarray(X[s]) > 0)
    return M, absent


def power_law_values(theta: np.ndarray, M: np.ndarray, absent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``g`` and ``∂g/∂θ`` from the log design matrix (0·log 0 = 0; records with log 0 and θ > 0 give 0)."""
    finite = np.isfinite(M)
    Mf = np.where(finite, M, 0.0)
    kill = absent | ((~finite) & (theta != 0)).any(axis=1)
    logg = Mf @ theta
    capped = logg > LOG_CAP
    logg = np.where(capped, LOG_CAP, logg)
    g = np.where(kill, 0.0, np.exp(np.where(kill, 0.0, logg)))
    jac = g[:, None] * Mf
    jac[capped] = 0.0
    return g, jac


class PowerLawClosure(ParametricClosure):
    """Monomial in the distinct bond pair classes over the distinct singlet classes (Table I)."""

    name = "power-law"
    description = (
        "optimal approximation: Π C_pair^γ / Π C_site^ξ, Σγ−Σξ = degree, 0≤γ≤δ, β1≤ξ≤β2 "
        "(presets soft/hard)"
    )
    OPTIONS: dict[str, Any] = {
        "preset": "soft",
        "delta": None,
        "beta1": None,
        "beta2": None,
        "degree": "pair",
        "exponents": None,
    }

    # -- options
    def _validate(self) -> None:
        o = self.options
        preset = o["preset"]
        if preset is not None and (not isinstance(preset, str) or preset not in PRESETS):
            raise ClosureError(
                f"closure {self.name!r}: unknown preset {preset!r}; choose one of {sorted(PRESETS)} or None"
            )
        base = PRESETS.get(preset or "soft")
        bounds = {}
        for key in ("delta", "beta1", "beta2"):
            v = o[key] if o[key] is not None else base[key]
            if isinstance(v, (bool, str)) and not (isinstance(v, str) and v.strip().lower() in ("inf", "-inf")):
                raise ClosureError(f"closure {self.name!r}: {key} must be a number, got {o[key]!r:.40}")
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise ClosureError(f"closure {self.name!r}: {key} must be a number, got {o[key]!r}") from None
            if math.isnan(v):
                raise ClosureError(f"closure {self.name!r}: {key} is NaN")
            bounds[key] = v
        if bounds["delta"] < 0:
            raise ClosureError(
                f"closure {self.name!r}: delta = {bounds['delta']:g} < 0 leaves no admissible numerator "
                "exponent (0 ≤ γ ≤ δ)"
            )
        if bounds["beta1"] > bounds["beta2"]:
            raise ClosureError(
                f"closure {self.name!r}: beta1 = {bounds['beta1']:g} > beta2 = {bounds['beta2']:g} leaves "
                "no admissible denominator exponent"
            )
        self.bounds = bounds
        deg = o["degree"]
        if isinstance(deg, bool) or isinstance(deg, float) and not math.isfinite(deg) or not (
                deg is None or deg in ("pair", "paper") or isinstance(deg, (int, float, Mapping))):
            raise ClosureError(
                f"closure {self.name!r}: degree must be 'pair', 'paper', None, a number or a mapping, got {deg!r}"
            )
        if isinstance(deg, Mapping):
            for k, v in deg.items():
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise ClosureError(f"closure {self.name!r}: degree for {k!r} must be a finite number, got {v!r:.40}")
        exps = o["exponents"]
        if exps is not None and not isinstance(exps, Mapping):
            raise ClosureError(f"closure {self.name!r}: exponents must map class name → {{parameter: value}}")

    def degree_of(self, cls: Any, index: Any) -> float | None:
        """The degree constraint of the class (None: unconstrained)."""
        cls = resolve_class(cls, index)
        deg = self.options["degree"]
        if deg is None:
            return None
        if deg == "pair":
            return float(geometry(cls, index).pair_degree)
        if deg == "paper":
            return 1.0
        if isinstance(deg, Mapping):
            for key in (cls.name, cls.shape.name):
                if key in deg:
                    return float(deg[key])
            return float(geometry(cls, index).pair_degree)
        return float(deg)

    # -- the ansatz
    def ansatz(self, cls: Any, index: Any) -> Ansatz:
        cls = resolve_class(cls, index)
        return _power_law_ansatz(
            cls.name, id(index), index, self.degree_of(cls, index),
            self.bounds["delta"], self.bounds["beta1"], self.bounds["beta2"], self.name,
        )

    def check(self, cls: Any, index: Any) -> None:
        super().check(cls, index)
        cls = resolve_class(cls, index)
        if index.max_size < 2:
            raise ClosureError(f"closure {self.name!r} needs pair classes to close {cls.name!r}")
        feasible_interval_check(self.ansatz(cls, index), self.name)

    def pair_point(self, cls: Any, index: Any) -> dict[str, float]:
        """The pair approximation's exponents keyed ``gamma[C++]``, ``xi[C+]`` … (Table I's PA column)."""
        a = self.ansatz(resolve_class(cls, index), index)
        return dict(zip(a.labels, a.reference.tolist()))


@lru_cache(maxsize=4096)
def _power_law_ansatz(
    class_name: str, _index_id: int, index: Any, degree: float | None, delta: float, beta1: float, beta2: float,
    family: str,
) -> Ansatz:
    geo = geometry(class_name, index)
    pairs, singlets = list(geo.pair_classes), list(geo.singlet_classes)
    gsyms = [param_symbol("gamma", class_name, p) for p in pairs]
    xsyms = [param_symbol("xi", class_name, s) for s in singlets]
    symbols = gsyms + xsyms
    expr = sympy.Mul(*[class_symbol(p) ** g for p, g in zip(pairs, gsyms)]) / sympy.Mul(
        *[class_symbol(s) ** x for s, x in zip(singlets, xsyms)]
    )
    gam, xi = geo.pair_exponents()
    reference = np.array([gam[p] for p in pairs] + [xi[s] for s in singlets], dtype=float)
    lower = np.array([0.0] * len(pairs) + [beta1] * len(singlets))
    upper = np.array([delta] * len(pairs) + [beta2] * len(singlets))
    if degree is None:
        A, b = np.zeros((0, len(symbols))), np.zeros(0)
    else:
        A = np.array([[1.0] * len(pairs) + [-1.0] * len(singlets)])
        b = np.array([degree])

    def prepare(X: Mapping[str, np.ndarray]):
        return power_law_design(pairs, singlets, X)

    def value(theta: np.ndarray, P):
        return power_law_values(np.asarray(theta, float), *P)

    aliases = {p: s for p, s in zip(pairs, gsyms)}
    aliases.update({s: x for s, x in zip(singlets, xsyms)})
    aliases.update({f"gamma[{p}]": s for p, s in zip(pairs, gsyms)})
    aliases.update({f"xi[{s}]": x for s, x in zip(singlets, xsyms)})
    return Ansatz(
        class_name=class_name,
        symbols=symbols,
        keys=pairs + singlets,
        kinds=["gamma"] * len(pairs) + ["xi"] * len(singlets),
        lower=lower,
        upper=upper,
        A_eq=A,
        b_eq=b,
        inputs=pairs + singlets,
        expression=expr,
        prepare=prepare,
        value=value,
        reference=reference,
        linear_design=lambda P: P,
        aliases=aliases,
    )
