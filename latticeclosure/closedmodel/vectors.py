"""Parameter and initial-state vectors of a closed model from mappings or arrays, validated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import weakref
from typing import Any

import numpy as np
import sympy as sp

from ..errors import DataError

__all__ = ["vector_from", "initial_vectors", "affine_full"]

#: Per model: the affine map from the state to every window class (computed once; models are immutable).
_AFFINE: "weakref.WeakKeyDictionary[Any, tuple[np.ndarray, np.ndarray]]" = weakref.WeakKeyDictionary()


def vector_from(values: Any, names: Sequence[str], what: str) -> np.ndarray:
    """A float vector in ``names`` order from a mapping (by name) or a sequence (by position)."""
    if isinstance(values, Mapping):
        keys = [str(k) if not hasattr(k, "name") else k.name for k in values]
        vals = dict(zip(keys, values.values()))
        unknown = sorted(set(keys) - set(names))
        if unknown:
            raise DataError(f"unknown {what}(s) {unknown}; expected {list(names)}")
        missing = [n for n in names if n not in vals]
        if missing:
            raise DataError(f"missing {what}(s) {missing}; expected {list(names)}")
        vec = np.array([float(vals[n]) for n in names], dtype=np.float64)
    else:
        vec = np.array(values, dtype=np.float64).reshape(-1)
        if vec.shape[0] != len(names):
            raise DataError(f"expected {len(names)} {what} values ({list(names)}), got {vec.shape[0]}")
    bad = [n for n, v in zip(names, vec) if not np.isfinite(v)]
    if bad:
        raise DataError(f"{what} values must be finite; not finite: {bad}")
    if what == "rate":
        neg = [n for n, v in zip(names, vec) if v < 0]
        if neg:
            raise DataError(f"rate constants must be non-negative; negative: {neg}")
    return vec


def initial_vectors(model: Any, initial: Any, tol: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """``(state vector, full window-class vector)`` from a mapping or an array; validated."""
    window, state = model.window_names, model.state_names
    F, g = affine_full(model)
    if isinstance(initial, Mapping):
        keys = {str(k) if not hasattr(k, "name") else k.name: float(v) for k, v in initial.items()}
        unknown = sorted(set(keys) - set(window))
        if unknown:
            raise DataError(f"initial state names unknown classes {unknown}; window classes: {window}")
        missing = [n for n in state if n not in keys]
        if missing:
            raise DataError(f"initial state lacks {missing}; give every window class or the state {state}")
        y0 = np.array([keys[n] for n in state])
        given_full = [n for n in window if n in keys]
        full = F @ y0 + g
        full_given = {n: keys[n] for n in given_full}
    else:
        arr = np.array(initial, dtype=np.float64).reshape(-1)
        if arr.shape[0] == len(window):
            full_given = dict(zip(window, arr.tolist()))
            y0 = np.array([full_given[n] for n in state])
        elif arr.shape[0] == len(state):
            y0 = arr
            full_given = {}
        else:
            raise DataError(
                f"initial state has {arr.shape[0]} values; expected {len(window)} (window classes {window}) "
                f"or {len(state)} (state {state})"
            )
        full = F @ y0 + g
    if not np.all(np.isfinite(y0)) or not all(np.isfinite(v) for v in full_given.values()):
        raise DataError("initial concentrations must be finite")
    for j, n in enumerate(window):
        if n in full_given and abs(full_given[n] - full[j]) > tol:
            shape = next(c.shape.name for c in model.window_classes if c.name == n)
            total = sum(c.multiplicity * (full_given.get(c.name, full[k])) for k, c in enumerate(model.window_classes) if c.shape.name == shape)
            raise DataError(
                f"initial concentrations of shape {shape!r} are not normalised: Σ m_c C_c = {total:.12g} ≠ 1 "
                f"(tolerance {tol:g})"
            )
    neg = [n for n, v in zip(window, full) if v < -tol]
    if neg:
        raise DataError(f"initial concentrations must be non-negative; negative: {neg}")
    return np.ascontiguousarray(y0, dtype=np.float64), full


def affine_full(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(F, g)`` with every window class ``= F @ state + g`` (the eliminations are affine); cached per model."""
    if model in _AFFINE:
        return _AFFINE[model]
    xs = model.state_symbols
    derived = model.derived_expressions()
    F = np.zeros((len(model.window_names), len(xs)))
    g = np.zeros(len(model.window_names))
    for r, name in enumerate(model.window_names):
        e = sp.expand(derived[name])
        for c, x in enumerate(xs):
            F[r, c] = float(e.coeff(x))
        g[r] = float(e.subs({x: 0 for x in xs}))
        if sp.expand(e - sum(F[r, c] * x for c, x in enumerate(xs)) - g[r]).free_symbols:
            raise RuntimeError(f"internal error: {name} is not affine in the state")
    _AFFINE[model] = (np.ascontiguousarray(F), g)
    return _AFFINE[model]
