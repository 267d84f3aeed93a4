"""A compiled L-stable Rosenbrock integrator for stiff parameter regions (numba).

Good fits of annealing data often sit where some rates are 10⁴–10⁵ times others (a class relaxes
almost instantly onto a quasi-equilibrium); the explicit Dormand–Prince integrator then detects
stiffness and would need ~10⁵ steps. The objective falls back to this method instead, so a chain
never slows down by orders of magnitude there.

Method: the modified Rosenbrock (2,3) pair of Shampine & Reichelt (1997, MATLAB's ``ode23s``),
L-stable; ``d = 1/(2+√2)``, ``W = I − h d J`` with ``J`` a forward-difference Jacobian of the
model's compiled right-hand side (the generated Jacobian can raise ``ZeroDivisionError`` on a
state with an exactly vanishing denominator, which must not abort a chain; the right-hand side
returns inf/NaN there instead, which the step control rejects)::

    k1 = W⁻¹ f(y)
    k2 = W⁻¹ (f(y + h k1/2) − k1) + k1          y_new = y + h k2
    k3 = W⁻¹ (f(y_new) − e32 (k2 − f(y + h k1/2)) − 2 (k1 − f(y)))
    err = h (k1 − 2 k2 + k3)/6,  e32 = 6 + √2

Steps land exactly on every output time (no interpolation); the error is the RMS of
``err/(atol + rtol max(|y|, |y_new|))`` with the usual step control (factor
``0.8 err^(−1/3)`` clipped to [0.2, 5]). After each step the window classes ``F y + g`` are checked
like in the explicit integrator. Status codes are those of
:mod:`latticeclosure.closedmodel.dopri` (0 success, 1 too many steps, 2 step size collapsed,
4 loss of positivity, 5 blow-up).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

from ..closedmodel.dopri import RHS_SIGNATURE

__all__ = ["rosenbrock23", "RHS_TYPE", "ROSENBROCK_SIGNATURE"]

RHS_TYPE = types.FunctionType(RHS_SIGNATURE)
_V = types.float64[::1]
_M = types.float64[:, ::1]

ROSENBROCK_SIGNATURE = types.int64(
    RHS_TYPE, _V, _V, _V, _M, _V, types.float64, types.float64, types.int64, types.float64, types.float64,
    _M, _V,
)


@njit(cache=True, error_model="numpy")
def _lu(A, piv):
    """In-place LU with partial pivoting; False if singular."""
    n = A.shape[0]
    for k in range(n):
        m = k
        big = abs(A[k, k])
        for i in range(k + 1, n):
            if abs(A[i, k]) > big:
                big = abs(A[i, k])
                m = i
        if big == 0.0 or not (big == big):
            return False
        piv[k] = m
        if m != k:
            for j in range(n):
                tmp = A[k, j]
                A[k, j] = A[m, j]
                A[m, j] = tmp
        for i in range(k + 1, n):
            A[i, k] /= A[k, k]
            f = A[i, k]
            if f != 0.0:
                for j in range(k + 1, n):
                    A[i, j] -= f * A[k, j]
    return True


@njit(cache=True, error_model="numpy")
def _lu_solve(LU, piv, b):
    n = LU.shape[0]
    for k in range(n):
        m = piv[k]
        if m != k:
            tmp = b[k]
            b[k] = b[m]
            b[m] = tmp
    for i in range(n):
        acc = b[i]
        for j in range(i):
            acc -= LU[i, j] * b[j]
        b[i] = acc
    for i in range(n - 1, -1, -1):
        acc = b[i]
        for j in range(i + 1, n):
            acc -= LU[i, j] * b[j]
        b[i] = acc / LU[i, i]


@njit(cache=True, error_model="numpy")
def _check(F, g, y, full, neg_tol, max_value):
    for r in range(F.shape[0]):
        acc = g[r]
        for c in range(F.shape[1]):
            acc += F[r, c] * y[c]
        full[r] = acc
    bad = 0
    for r in range(full.shape[0]):
        v = full[r]
        if not (v == v) or v > max_value or v < -max_value:
            return 5
        if v < -neg_tol:
            bad = 4
    return bad


@njit(ROSENBROCK_SIGNATURE, cache=True, error_model="numpy")
def rosenbrock23(rhs, t_eval, y0, p, F, g, rtol, atol, max_steps, neg_tol, max_value, out, info):
    """Integrate ``dy/dt = rhs(t, y, p)``; rows of ``out`` get ``F y + g`` at ``t_eval`` (see module docs)."""
    n = y0.shape[0]
    n_out = t_eval.shape[0]
    nfull = F.shape[0]
    d = 1.0 / (2.0 + math.sqrt(2.0))
    e32 = 6.0 + math.sqrt(2.0)
    y = y0.copy()
    ynew = np.empty(n)
    ymid = np.empty(n)
    f0 = np.empty(n)
    f1 = np.empty(n)
    f2 = np.empty(n)
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    J = np.empty((n, n))
    W = np.empty((n, n))
    piv = np.empty(n, dtype=np.int64)
    full = np.empty(nfull)
    for j in range(out.shape[0]):
        for i in range(out.shape[1]):
            out[j, i] = np.nan
    st = _check(F, g, y, full, neg_tol, max_value)
    for i in range(nfull):
        out[0, i] = full[i]
    t = t_eval[0]
    span = t_eval[n_out - 1] - t
    rhs(t, y, p, f0)
    nfev = 1
    n_acc = 0
    n_rej = 0
    h = 1e-4 * span if span > 0 else 0.0
    j_out = 1
    status = 0
    uround = 2.220446049250313e-16
    while j_out < n_out:
        if n_acc + n_rej >= max_steps:
            status = 1
            break
        t_target = t_eval[j_out]
        if t_target <= t:
            for i in range(nfull):
                out[j_out, i] = full[i]
            j_out += 1
            continue
        if h < 10.0 * uround * max(abs(t), 1.0):
            status = 2
            break
        hit = False
        if t + 1.01 * h >= t_target:
            h = t_target - t
            hit = True
        # forward-difference Jacobian (f0 = f(t, y) is known)
        for k in range(n):
            yk = y[k]
            dk = 1.4901161193847656e-08 * max(abs(yk), 1e-6)
            y[k] = yk + dk
            rhs(t, y, p, f1)
            y[k] = yk
            for i in range(n):
                J[i, k] = (f1[i] - f0[i]) / dk
        nfev += n
        for i in range(n):
            for k in range(n):
                W[i, k] = -h * d * J[i, k]
            W[i, i] += 1.0
        if not _lu(W, piv):
            n_rej += 1
            h *= 0.25
            continue
        for i in range(n):
            k1[i] = f0[i]
        _lu_solve(W, piv, k1)
        for i in range(n):
            ymid[i] = y[i] + 0.5 * h * k1[i]
        rhs(t + 0.5 * h, ymid, p, f1)
        for i in range(n):
            k2[i] = f1[i] - k1[i]
        _lu_solve(W, piv, k2)
        for i in range(n):
            k2[i] += k1[i]
            ynew[i] = y[i] + h * k2[i]
        rhs(t + h, ynew, p, f2)
        for i in range(n):
            k3[i] = f2[i] - e32 * (k2[i] - f1[i]) - 2.0 * (k1[i] - f0[i])
        _lu_solve(W, piv, k3)
        nfev += 2
        err = 0.0
        for i in range(n):
            e = h * (k1[i] - 2.0 * k2[i] + k3[i]) / 6.0
            sk = atol + rtol * max(abs(y[i]), abs(ynew[i]))
            err += (e / sk) ** 2
        err = math.sqrt(err / n)
        if not (err == err) or err == math.inf:
            n_rej += 1
            h *= 0.1
            continue
        if err > 1.0:
            n_rej += 1
            h *= max(0.2, 0.8 * err ** (-1.0 / 3.0))
            continue
        n_acc += 1
        t = t_target if hit else t + h
        for i in range(n):
            y[i] = ynew[i]
            f0[i] = f2[i]
        st = _check(F, g, y, full, neg_tol, max_value)
        if st != 0:
            status = st
            break
        if hit:
            for i in range(nfull):
                out[j_out, i] = full[i]
            j_out += 1
        fac = 5.0 if err == 0.0 else min(5.0, max(0.2, 0.8 * err ** (-1.0 / 3.0)))
        h = h * fac
    info[0] = t
    info[1] = n_acc
    info[2] = n_rej
    info[3] = nfev
    info[4] = h
    info[5] = j_out
    return status
