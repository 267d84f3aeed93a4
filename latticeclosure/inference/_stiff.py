"""A compiled L-stable Rosenbrock integrator for stiff parameter regions (numba).

Good fits of annealing data often sit where some rates are 10⁴–10⁵ times others (a class relaxes
almost instantly onto a quasi-equilibrium); the explicit Dormand–Prince integrator then detects
stiffness and would need ~10⁵ steps. The objective falls back to this method instead, so a chain
never slows down by orders of magnitude there.

Method: the modified Rosenbrock (2,3) pair of Shampine & Reichelt (1997, MATLAB's ``ode23s``),
L-stable, for autonomous systems (closed models are); ``d = 1/(2+√2)``, ``W = I − h d J`` with
``J`` the model's generated Jacobian ``∂f/∂y`` (a forward-difference Jacobian of the right-hand
side where the generated one is not finite, e.g. at a state where a closure's denominator
vanishes)::

    k1 = W⁻¹ f(y)
    k2 = W⁻¹ (f(y + h k1/2) − k1) + k1          y_new = y + h k2
    k3 = W⁻¹ (f(y_new) − e32 (k2 − f(y + h k1/2)) − 2 (k1 − f(y)))
    err = h (k1 − 2 k2 + k3)/6,  e32 = 6 + √2

The error is the RMS of ``err/(atol + rtol max(|y|, |y_new|))`` with the usual step control (factor
``0.8 err^(−1/3)`` clipped to [0.2, 5]); the first step is ``0.8 rtol^(1/3)/‖f(y0)/sk‖`` (clipped
to the span), like ``ode23s``. Steps are chosen by the error control alone and the output times
are filled with the method's continuous extension (``ode23s``'s ``ntrp23s``:
``y(t + s h) = y + h [s(1−s) k1 + s(s−2d) k2]/(1−2d)``), so a smooth stretch of the solution costs
a few steps however many records it spans. Every step end and every output row are checked like
in the explicit integrator (window classes ``F y + g`` below ``−neg_tol``: loss of positivity;
non-finite or beyond ``max_value``: blow-up). Status codes are those of
:mod:`latticeclosure.closedmodel.dopri` (0 success, 1 too many steps, 2 step size collapsed,
4 loss of positivity, 5 blow-up).

Nothing is allocated per call: the work vectors come in ``work`` (length
:func:`work_size`\\ ``(n, n_full)``) and ``iwork`` (length ``n``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

from ..closedmodel.dopri import RHS_SIGNATURE

__all__ = ["rosenbrock23", "RHS_TYPE", "JAC_SIGNATURE", "JAC_TYPE", "ROSENBROCK_SIGNATURE", "STIFF_SOLVE_SIGNATURE", "STIFF_SOLVE_TYPE",
           "work_size", "allocate_work"]

RHS_TYPE = types.FunctionType(RHS_SIGNATURE)
#: ``jac(t, y, p, out)``: ``out[i, j] = ∂f_i/∂y_j`` (the generated model's ``jac``).
JAC_SIGNATURE = types.void(types.float64, types.float64[::1], types.float64[::1], types.float64[:, ::1])
JAC_TYPE = types.FunctionType(JAC_SIGNATURE)
_V = types.float64[::1]
_M = types.float64[:, ::1]
_IV = types.int64[::1]

ROSENBROCK_SIGNATURE = types.int64(
    RHS_TYPE, JAC_TYPE, _V, _V, _V, _M, _V, types.float64, types.float64, types.int64, types.float64, types.float64,
    _M, _V, _V, _IV,
)

#: A model's bound stiff solve: :func:`rosenbrock23` without its first two (function) arguments.
STIFF_SOLVE_SIGNATURE = types.int64(*ROSENBROCK_SIGNATURE.args[2:])
STIFF_SOLVE_TYPE = types.FunctionType(STIFF_SOLVE_SIGNATURE)


def work_size(n: int, n_full: int) -> int:
    """Length of the float work vector of :func:`rosenbrock23` for ``n`` states, ``n_full`` classes."""
    return 11 * n + 2 * n * n + n_full


def allocate_work(n: int, n_full: int) -> tuple[np.ndarray, np.ndarray]:
    """``(work, iwork)`` buffers for :func:`rosenbrock23`."""
    return np.zeros(work_size(n, n_full)), np.zeros(max(n, 1), dtype=np.int64)


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


@njit(cache=True, error_model="numpy")
def _jacobian(rhs, jac, t, y, p, f0, f1, J):
    """The generated Jacobian; forward differences of ``rhs`` where it is not finite. Returns rhs calls."""
    n = y.shape[0]
    jac(t, y, p, J)
    finite = True
    for i in range(n):
        for k in range(n):
            v = J[i, k]
            if not (v == v) or v == np.inf or v == -np.inf:
                finite = False
    if finite:
        return 0
    for k in range(n):
        yk = y[k]
        dk = 1.4901161193847656e-08 * max(abs(yk), 1e-6)
        y[k] = yk + dk
        rhs(t, y, p, f1)
        y[k] = yk
        for i in range(n):
            J[i, k] = (f1[i] - f0[i]) / dk
    return n


@njit(ROSENBROCK_SIGNATURE, cache=True, error_model="numpy")
def rosenbrock23(rhs, jac, t_eval, y0, p, F, g, rtol, atol, max_steps, neg_tol, max_value, out, info, work, iwork):
    """Integrate ``dy/dt = rhs(t, y, p)``; rows of ``out`` get ``F y + g`` at ``t_eval`` (see module docs)."""
    n = y0.shape[0]
    n_out = t_eval.shape[0]
    nfull = F.shape[0]
    d = 1.0 / (2.0 + math.sqrt(2.0))
    e32 = 6.0 + math.sqrt(2.0)
    c_int = 1.0 / (1.0 - 2.0 * d)
    # work vectors (views into one buffer: nothing is allocated here)
    y = work[0:n]
    ynew = work[n:2 * n]
    ymid = work[2 * n:3 * n]
    f0 = work[3 * n:4 * n]
    f1 = work[4 * n:5 * n]
    f2 = work[5 * n:6 * n]
    k1 = work[6 * n:7 * n]
    k2 = work[7 * n:8 * n]
    k3 = work[8 * n:9 * n]
    yint = work[9 * n:10 * n]
    J = work[11 * n:11 * n + n * n].reshape((n, n))
    W = work[11 * n + n * n:11 * n + 2 * n * n].reshape((n, n))
    full = work[11 * n + 2 * n * n:11 * n + 2 * n * n + nfull]
    piv = iwork
    for j in range(out.shape[0]):
        for i in range(out.shape[1]):
            out[j, i] = np.nan
    for i in range(n):
        y[i] = y0[i]
    st = _check(F, g, y, full, neg_tol, max_value)
    for i in range(nfull):
        out[0, i] = full[i]
    t = t_eval[0]
    t_end = t_eval[n_out - 1]
    span = t_end - t
    rhs(t, y, p, f0)
    nfev = 1
    n_acc = 0
    n_rej = 0
    j_out = 1
    status = st if st == 5 else 0
    uround = 2.220446049250313e-16
    # initial step (ode23s): 0.8 rtol^(1/3) / |f0/sk|_rms, within the span
    rp = 0.0
    for i in range(n):
        sk = atol + rtol * abs(y[i])
        rp += (f0[i] / sk) ** 2
    rp = math.sqrt(rp / n) if n > 0 else 0.0
    h = span
    if rp > 0.0:
        h = min(span, 0.8 * rtol ** (1.0 / 3.0) / rp)
    h = max(h, 16.0 * uround * max(abs(t), 1.0))
    while status == 0 and j_out < n_out:
        if n_acc + n_rej >= max_steps:
            status = 1
            break
        if h < 10.0 * uround * max(abs(t), 1.0):
            status = 2
            break
        last = False
        if t + 1.01 * h >= t_end:
            h = t_end - t
            last = True
        nfev += _jacobian(rhs, jac, t, y, p, f0, f1, J)
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
        err = math.sqrt(err / n) if n > 0 else 0.0
        if not (err == err) or err == math.inf:
            n_rej += 1
            h *= 0.1
            continue
        if err > 1.0:
            n_rej += 1
            h *= max(0.2, 0.8 * err ** (-1.0 / 3.0))
            continue
        n_acc += 1
        t_new = t_end if last else t + h
        # output rows inside (t, t_new] from the continuous extension (the end row exactly)
        while j_out < n_out and t_eval[j_out] <= t_new:
            te = t_eval[j_out]
            if te >= t_new:
                for i in range(n):
                    yint[i] = ynew[i]
            else:
                s = (te - t) / h
                a1 = s * (1.0 - s) * c_int
                a2 = s * (s - 2.0 * d) * c_int
                for i in range(n):
                    yint[i] = y[i] + h * (a1 * k1[i] + a2 * k2[i])
            st = _check(F, g, yint, full, neg_tol, max_value)
            for i in range(nfull):
                out[j_out, i] = full[i]
            j_out += 1
            if st != 0:
                status = st
                break
        if status != 0:
            break
        t = t_new
        for i in range(n):
            y[i] = ynew[i]
            f0[i] = f2[i]
        st = _check(F, g, y, full, neg_tol, max_value)
        if st != 0:
            status = st
            break
        fac = 5.0 if err == 0.0 else min(5.0, max(0.2, 0.8 * err ** (-1.0 / 3.0)))
        h = h * fac
    info[0] = t
    info[1] = n_acc
    info[2] = n_rej
    info[3] = nfev
    info[4] = h
    info[5] = j_out
    return status
