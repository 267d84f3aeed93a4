"""The compiled Dormand–Prince 5(4) integrator (numba), shared by every closed model.

:func:`dopri5` is compiled once (``cache=True``: once per installation) for a *first-class function*
argument ``f`` with the signature :data:`RHS_SIGNATURE` — ``f(t, y, p, out)`` writes ``dy/dt`` into
``out``. Each generated model module (:mod:`latticeclosure.closedmodel.compile`) defines its ``rhs``
with that signature and a tiny ``solve`` wrapper that calls ``dopri5(rhs, ...)`` from compiled code,
so the function pointer is a compile-time constant that LLVM inlines, and a new model only compiles
its own right-hand side and the wrapper (well under a second), not the integrator. The wrapper
passes ``as_rhs(rhs)``: numba's own dispatcher-to-function conversion embeds the address of the
Python dispatcher object, which makes the wrapper uncacheable ("dynamic globals"); :func:`as_rhs`
builds the same first-class function value from the compiled symbols only, so the wrapper is
cached on disk like everything else. (It uses numba internals; if they change, ``as_rhs`` falls
back to numba's conversion and the wrapper is recompiled once per process.)

Algorithm (Hairer, Nørsett & Wanner, *Solving ODEs I*, code DOPRI5): the Dormand–Prince 5(4) pair
with FSAL, the PI step-size controller (β = 0.04, safety 0.9, step ratio in [0.2, 10]), Hairer's
initial-step heuristic, his stiffness test (``h·|λ| > 3.25`` on 15 accepted steps without 6 in a row
below it — reported only when more than 1000 steps of the current size would remain, so mildly
stiff tails are finished explicitly), and his 4th-order dense output, or exact steps onto the output times (``dense=False``).

Output rows hold *every window class*: ``full = F @ y + g`` (the normalisation eliminations are
affine in the state). After every accepted step that vector is checked: a value below ``-neg_tol``
(loss of positivity) or non-finite / beyond ``max_value`` in magnitude (blow-up) stops the
integration; the crossing time is located by bisection on the dense interpolant and reported.

Status codes: 0 success, 1 too many steps, 2 step size collapsed, 3 stiffness detected,
4 loss of positivity, 5 blow-up. ``info`` receives [t_stop, accepted steps, rejected steps,
right-hand-side evaluations, last step size, output rows written].
"""

import math

import numpy as np
from numba import njit, types

from ._firstclass import converter

__all__ = ["dopri5", "as_rhs", "RHS_SIGNATURE", "DOPRI5_SIGNATURE"]

#: ``f(t, y, p, out) -> None`` with C-contiguous float64 vectors.
RHS_SIGNATURE = types.void(types.float64, types.float64[::1], types.float64[::1], types.float64[::1])
_F = types.FunctionType(RHS_SIGNATURE)
_V = types.float64[::1]
_M = types.float64[:, ::1]


#: The cacheable dispatcher-to-function conversion for :data:`RHS_SIGNATURE`.
as_rhs = converter(RHS_SIGNATURE)

#: Signature of :func:`dopri5`.
DOPRI5_SIGNATURE = types.int64(
    _F, _V, _V, _V, _M, _V, types.float64, types.float64, types.float64, types.int64, types.float64,
    types.float64, types.boolean, types.boolean, _M, _V,
)

#: Stiffness is reported only when more than this many steps at the current size would remain.
_STIFF_STEPS = 1000.0
_C2 = 1.0 / 5.0
_C3 = 3.0 / 10.0
_C4 = 4.0 / 5.0
_C5 = 8.0 / 9.0
_A21 = 1.0 / 5.0
_A31 = 3.0 / 40.0
_A32 = 9.0 / 40.0
_A41 = 44.0 / 45.0
_A42 = -56.0 / 15.0
_A43 = 32.0 / 9.0
_A51 = 19372.0 / 6561.0
_A52 = -25360.0 / 2187.0
_A53 = 64448.0 / 6561.0
_A54 = -212.0 / 729.0
_A61 = 9017.0 / 3168.0
_A62 = -355.0 / 33.0
_A63 = 46732.0 / 5247.0
_A64 = 49.0 / 176.0
_A65 = -5103.0 / 18656.0
_A71 = 35.0 / 384.0
_A73 = 500.0 / 1113.0
_A74 = 125.0 / 192.0
_A75 = -2187.0 / 6784.0
_A76 = 11.0 / 84.0
_E1 = 71.0 / 57600.0
_E3 = -71.0 / 16695.0
_E4 = 71.0 / 1920.0
_E5 = -17253.0 / 339200.0
_E6 = 22.0 / 525.0
_E7 = -1.0 / 40.0
_D1 = -12715105075.0 / 11282082432.0
_D3 = 87487479700.0 / 32700410799.0
_D4 = -10690763975.0 / 1880347072.0
_D5 = 701980252875.0 / 199316789632.0
_D6 = -1453857185.0 / 822651844.0
_D7 = 69997945.0 / 29380423.0


@njit(cache=True, error_model="numpy")
def _interp(r1, r2, r3, r4, r5, theta, out):
    theta1 = 1.0 - theta
    for i in range(r1.shape[0]):
        out[i] = r1[i] + theta * (r2[i] + theta1 * (r3[i] + theta * (r4[i] + theta1 * r5[i])))


@njit(cache=True, error_model="numpy")
def _violation(full, neg_tol, max_value):
    """>0 when the full vector violates positivity (1) or the bounds / finiteness (2); else 0."""
    bad = 0
    for i in range(full.shape[0]):
        v = full[i]
        if not (v == v) or v > max_value or v < -max_value or v == math.inf or v == -math.inf:
            return 2
        if v < -neg_tol:
            bad = 1
    return bad


@njit(cache=True, error_model="numpy")
def _full(F, g, y, out):
    for r in range(F.shape[0]):
        acc = g[r]
        for c in range(F.shape[1]):
            acc += F[r, c] * y[c]
        out[r] = acc


@njit(DOPRI5_SIGNATURE, cache=True, error_model="numpy")
def dopri5(rhs, t_eval, y0, p, F, g, rtol, atol, h_init, max_steps, neg_tol, max_value, dense, detect_stiff, out, info):
    """Integrate ``dy/dt = rhs(t, y, p)`` from ``t_eval[0]``; rows of ``out`` get ``F @ y + g`` at ``t_eval``."""
    n = y0.shape[0]
    n_out = t_eval.shape[0]
    nfull = out.shape[1]
    y = y0.copy()
    ynew = np.empty(n)
    ystage = np.empty(n)
    ysti = np.empty(n)
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    k5 = np.empty(n)
    k6 = np.empty(n)
    k7 = np.empty(n)
    r1 = np.empty(n)
    r2 = np.empty(n)
    r3 = np.empty(n)
    r4 = np.empty(n)
    r5 = np.empty(n)
    yint = np.empty(n)
    full = np.empty(nfull)
    for j in range(out.shape[0]):
        for i in range(nfull):
            out[j, i] = np.nan
    t = t_eval[0]
    t_end = t_eval[n_out - 1]
    _full(F, g, y, full)
    for i in range(nfull):
        out[0, i] = full[i]
    info[0] = t
    info[1] = 0.0
    info[2] = 0.0
    info[3] = 0.0
    info[4] = 0.0
    info[5] = 1.0
    if n_out == 1 or t_end == t:
        for j in range(1, n_out):
            for i in range(nfull):
                out[j, i] = full[i]
        info[5] = n_out
        return 0
    rhs(t, y, p, k1)
    nfev = 1
    # Hairer's initial step
    h = h_init
    if h > 0.0:
        h = min(h, t_end - t)
    else:
        dnf = 0.0
        dny = 0.0
        for i in range(n):
            sk = atol + rtol * abs(y[i])
            dnf += (k1[i] / sk) ** 2
            dny += (y[i] / sk) ** 2
        if dnf <= 1e-10 or dny <= 1e-10:
            h = 1e-6
        else:
            h = math.sqrt(dny / dnf) * 0.01
        h = min(h, t_end - t)
        for i in range(n):
            ystage[i] = y[i] + h * k1[i]
        rhs(t + h, ystage, p, k2)
        nfev += 1
        der2 = 0.0
        for i in range(n):
            sk = atol + rtol * abs(y[i])
            der2 += ((k2[i] - k1[i]) / sk) ** 2
        der2 = math.sqrt(der2) / h
        der12 = max(abs(der2), math.sqrt(dnf))
        if der12 <= 1e-15:
            h1 = max(1e-6, abs(h) * 1e-3)
        else:
            h1 = (0.01 / der12) ** 0.2
        h = min(100.0 * abs(h), h1, t_end - t)
    facold = 1e-4
    expo1 = 0.2 - 0.04 * 0.75
    last_rejected = False
    n_acc = 0
    n_rej = 0
    iasti = 0
    nonsti = 0
    nonfinite = 0
    j_out = 1
    uround = 2.220446049250313e-16
    status = 0
    while True:
        if n_acc + n_rej >= max_steps:
            status = 1
            break
        if h < 10.0 * uround * max(abs(t), 1.0):
            status = 5 if nonfinite > 0 else 2
            break
        # clip the step onto the end (or, without dense output, onto the next output time)
        t_target = t_end if dense else t_eval[j_out]
        hit = False
        if t + 1.01 * h >= t_target:
            h = t_target - t
            hit = True
        last_step = hit and t_target == t_end
        # stages
        for i in range(n):
            ystage[i] = y[i] + h * _A21 * k1[i]
        rhs(t + _C2 * h, ystage, p, k2)
        for i in range(n):
            ystage[i] = y[i] + h * (_A31 * k1[i] + _A32 * k2[i])
        rhs(t + _C3 * h, ystage, p, k3)
        for i in range(n):
            ystage[i] = y[i] + h * (_A41 * k1[i] + _A42 * k2[i] + _A43 * k3[i])
        rhs(t + _C4 * h, ystage, p, k4)
        for i in range(n):
            ystage[i] = y[i] + h * (_A51 * k1[i] + _A52 * k2[i] + _A53 * k3[i] + _A54 * k4[i])
        rhs(t + _C5 * h, ystage, p, k5)
        for i in range(n):
            ysti[i] = y[i] + h * (_A61 * k1[i] + _A62 * k2[i] + _A63 * k3[i] + _A64 * k4[i] + _A65 * k5[i])
        rhs(t + h, ysti, p, k6)
        for i in range(n):
            ynew[i] = y[i] + h * (_A71 * k1[i] + _A73 * k3[i] + _A74 * k4[i] + _A75 * k5[i] + _A76 * k6[i])
        rhs(t + h, ynew, p, k7)
        nfev += 6
        err = 0.0
        for i in range(n):
            e = h * (_E1 * k1[i] + _E3 * k3[i] + _E4 * k4[i] + _E5 * k5[i] + _E6 * k6[i] + _E7 * k7[i])
            sk = atol + rtol * max(abs(y[i]), abs(ynew[i]))
            err += (e / sk) ** 2
        err = math.sqrt(err / n)
        if not (err == err) or err == math.inf:
            # the step left the domain where the right-hand side is finite: shrink hard
            nonfinite += 1
            n_rej += 1
            h *= 0.1
            last_rejected = True
            continue
        fac11 = err ** expo1
        fac = fac11 / facold ** 0.04
        fac = max(0.1, min(5.0, fac / 0.9))
        hnew = h / fac
        if err > 1.0:
            n_rej += 1
            hnew = h / min(5.0, fac11 / 0.9)
            last_rejected = True
            h = hnew
            continue
        # accepted step
        nonfinite = 0
        facold = max(err, 1e-4)
        n_acc += 1
        if detect_stiff:
            stnum = 0.0
            stden = 0.0
            for i in range(n):
                stnum += (k7[i] - k6[i]) ** 2
                stden += (ynew[i] - ysti[i]) ** 2
            if stden > 0.0:
                hlamb = h * math.sqrt(stnum / stden)
                if hlamb > 3.25:
                    nonsti = 0
                    iasti += 1
                    if iasti == 15:
                        # at the stability limit: give up only if finishing explicitly would be costly
                        if (t_end - t) > _STIFF_STEPS * h:
                            status = 3
                            break
                        iasti = 0
                else:
                    nonsti += 1
                    if nonsti == 6:
                        iasti = 0
        # dense output coefficients
        for i in range(n):
            ydiff = ynew[i] - y[i]
            bspl = h * k1[i] - ydiff
            r1[i] = y[i]
            r2[i] = ydiff
            r3[i] = bspl
            r4[i] = ydiff - h * k7[i] - bspl
            r5[i] = h * (_D1 * k1[i] + _D3 * k3[i] + _D4 * k4[i] + _D5 * k5[i] + _D6 * k6[i] + _D7 * k7[i])
        t_new = t + h
        if hit:
            t_new = t_target
        _full(F, g, ynew, full)
        bad = _violation(full, neg_tol, max_value)
        t_stop = t_new
        if bad > 0:
            # bisection for the first violation inside the step
            lo = 0.0
            hi = 1.0
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                _interp(r1, r2, r3, r4, r5, mid, yint)
                _full(F, g, yint, full)
                if _violation(full, neg_tol, max_value) > 0:
                    hi = mid
                else:
                    lo = mid
            t_stop = t + hi * h
        # outputs inside (t, t_stop]
        while j_out < n_out and t_eval[j_out] <= t_stop:
            te = t_eval[j_out]
            if bad > 0 and te >= t_stop:
                break
            if te == t_new:
                _full(F, g, ynew, full)
            else:
                _interp(r1, r2, r3, r4, r5, (te - t) / h, yint)
                _full(F, g, yint, full)
            for i in range(nfull):
                out[j_out, i] = full[i]
            j_out += 1
        if bad > 0:
            status = 4 if bad == 1 else 5
            t = t_stop
            break
        for i in range(n):
            y[i] = ynew[i]
            k1[i] = k7[i]
        t = t_new
        if last_rejected:
            hnew = min(hnew, h)
        last_rejected = False
        h = hnew
        if last_step or j_out >= n_out:
            break
    info[0] = t
    info[1] = n_acc
    info[2] = n_rej
    info[3] = nfev
    info[4] = h
    info[5] = j_out
    return status
