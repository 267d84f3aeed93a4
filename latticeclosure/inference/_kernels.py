"""Compiled kernels of the inference package: the objective F(K) and delayed-rejection chain blocks.

Everything here is ``numba.njit(<explicit signature>, cache=True)``: compiled once per installation
and loaded from numba's disk cache afterwards. :func:`objective_value` takes the model's integrators
as *first-class functions* (``SOLVE_TYPE``: the ``solve`` of a generated model module;
``STIFF_SOLVE_TYPE``: its bound Rosenbrock solve), so one kernel serves every closed model; each
model binds it to its own functions in a small generated module
(:mod:`latticeclosure.inference.modelkernels`), whose ``objective`` the chain kernel
:func:`dr_block_model` calls (one pointer call per evaluation).

Random numbers are drawn outside (numpy ``Generator``) in blocks of ``2 d + 2`` uniforms per sample
— ``[u1 (d), r1, u2 (d), r2]`` — so a chain does not depend on how it is cut into blocks (doubles
are drawn one after the other whatever the block shape), which makes checkpoint/resume and any
number of workers give identical chains.

Stage codes recorded per sample: 0 both stages rejected (the previous point is recorded again),
1 accepted at stage 1, 2 accepted at stage 2.

``counts`` (int64, length 8): [stage-1 proposals, stage-1 acceptances, stage-2 proposals, stage-2
acceptances, proposals below the lower prior bound, proposals above the upper prior bound,
stage-2 proposals outside the stage-1 kernel of the reverse move, log-density evaluations].
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

from ..closedmodel.dopri import DOPRI5_SIGNATURE
from ._stiff import JAC_TYPE, STIFF_SOLVE_TYPE

__all__ = [
    "SOLVE_SIGNATURE",
    "SOLVE_TYPE",
    "OBJECTIVE_SIGNATURE",
    "OBJECTIVE_TYPE",
    "LOGP_SIGNATURE",
    "LOGP_TYPE",
    "objective_value",
    "dr_block_model",
    "dr_block_function",
    "dr_block_python",
    "N_COUNTS",
    "N_FAILURE_CODES",
    "accumulate",
]

SOLVE_SIGNATURE = types.int64(*DOPRI5_SIGNATURE.args[1:])
SOLVE_TYPE = types.FunctionType(SOLVE_SIGNATURE)
LOGP_SIGNATURE = types.float64(types.float64[::1])
LOGP_TYPE = types.FunctionType(LOGP_SIGNATURE)

#: Length of the ``counts`` array of the chain kernels.
N_COUNTS = 8
#: Length of the objective's failure counters: index = integrator status 1..5, 6 non-finite F,
#: 7 an equilibrium constant with a vanishing reverse rate.
N_FAILURE_CODES = 8

_V = types.float64[::1]
_M = types.float64[:, ::1]
_IV = types.int64[::1]
_I8 = types.int8[::1]

# ------------------------------------------------------------------------------------------ objective
#: The arguments of a model's bound objective ``objective(x, *OBJECTIVE_DATA)``.
OBJECTIVE_DATA = (
    _V,  # p: work parameter vector (rates, then fixed closure parameters)
    _V,  # t_all: every dataset's time grid, concatenated
    _IV,  # offs: dataset d has records offs[d]:offs[d+1]
    _M,  # y0s: initial state per dataset
    _M,  # D: data of every window class, concatenated records
    _M,  # W: weights (quadrature x variable weight), same shape as D
    _M,  # Fm: window classes = Fm @ state + gv
    _V,  # gv
    _M,  # out: work buffer (max records, window classes)
    _V,  # info: integrator info buffer
    _V,  # opts: [rtol, atol, max_steps, neg_tol, max_value]
    _IV,  # qf: forward-rate index of each equilibrium constant
    _IV,  # qr: reverse-rate index
    _M,  # qd: data value of each constant per dataset (NaN: not used)
    types.float64,  # alpha
    _IV,  # fails: failure counters
    _V,  # work: the stiff integrator's work vector (``_stiff.work_size``)
    _IV,  # iwork: its pivots
)
#: ``F = objective(x, *data)`` of one model (its integrators bound).
OBJECTIVE_SIGNATURE = types.float64(_V, *OBJECTIVE_DATA)
OBJECTIVE_TYPE = types.FunctionType(OBJECTIVE_SIGNATURE)


#: A dataset goes straight to the stiff integrator when ``‖∂f/∂y‖∞ · span`` at its first record
#: exceeds this: the explicit method would need more than ~2000 steps if the bound were tight (its
#: stability limit is h·|λ| ≈ 3.3 and ``‖J‖∞ ≥ |λ|``), and trying it first (it detects stiffness
#: after a hundred steps or more) costs more than the stiff solve saves.
STIFF_FIRST = 6.6e3


@njit(cache=True, error_model="numpy")
def _jacobian_norm(jac, t, y, p, J):
    """``‖∂f/∂y‖∞`` (max absolute row sum) at ``y``; inf where the Jacobian is not finite."""
    jac(t, y, p, J)
    big = 0.0
    for i in range(J.shape[0]):
        row = 0.0
        for k in range(J.shape[1]):
            row += abs(J[i, k])
        if not (row == row):
            return np.inf
        if row > big:
            big = row
    return big


@njit(types.float64(SOLVE_TYPE, STIFF_SOLVE_TYPE, JAC_TYPE, _V, *OBJECTIVE_DATA), cache=True, error_model="numpy")
def objective_value(solve, stiff_solve, jac, x, p, t_all, offs, y0s, D, W, Fm, gv, out, info, opts, qf, qr, qd, alpha,
                    fails, work, iwork):
    """F(K) of eq. (17) over all datasets; +inf (and a counted failure) when a solve fails.

    Each dataset is integrated explicitly (Dormand–Prince) unless the Jacobian at its first record
    shows it to be stiff (:data:`STIFF_FIRST`); where the explicit method detects stiffness, the
    Rosenbrock method takes over. The choice depends on K only, so F is a function of K.
    """
    n_k = x.shape[0]
    n = y0s.shape[1]
    J = work[11 * n:11 * n + n * n].reshape((n, n))
    for j in range(n_k):
        p[j] = x[j]
    rtol = opts[0]
    atol = opts[1]
    max_steps = np.int64(opts[2])
    neg_tol = opts[3]
    max_value = opts[4]
    n_full = D.shape[1]
    total = 0.0
    for d in range(offs.shape[0] - 1):
        a = offs[d]
        b = offs[d + 1]
        nd = b - a
        st = 3
        if _jacobian_norm(jac, t_all[a], y0s[d], p, J) * (t_all[b - 1] - t_all[a]) <= STIFF_FIRST:
            st = solve(t_all[a:b], y0s[d], p, Fm, gv, rtol, atol, 0.0, max_steps, neg_tol, max_value, True, True,
                       out[0:nd], info)
        if st == 3:
            # stiff: the L-stable Rosenbrock method instead of ~1e5 explicit steps
            st = stiff_solve(t_all[a:b], y0s[d], p, Fm, gv, rtol, atol, max_steps, neg_tol, max_value, out[0:nd], info,
                             work, iwork)
        if st != 0:
            fails[st] += 1
            return np.inf
        for r in range(nd):
            for c in range(n_full):
                w = W[a + r, c]
                if w != 0.0:
                    diff = out[r, c] - D[a + r, c]
                    total += 0.5 * w * diff * diff
    if alpha > 0.0:
        for d in range(qd.shape[0]):
            for j in range(qf.shape[0]):
                q = qd[d, j]
                if q == q:
                    kr = x[qr[j]]
                    if not kr > 0.0:
                        fails[7] += 1
                        return np.inf
                    diff = x[qf[j]] / kr - q
                    total += alpha * diff * diff
    if not (total == total) or total == np.inf:
        fails[6] += 1
        return np.inf
    return total


# ------------------------------------------------------------------------------------------ DR helpers
@njit(cache=True, error_model="numpy")
def _propose(x, L, rand, row, col0, y):
    """``y = x + L (2u - 1)`` with ``u = rand[row, col0:col0+d]``."""
    d = x.shape[0]
    for i in range(d):
        acc = x[i]
        for j in range(d):
            lij = L[i, j]
            if lij != 0.0:
                acc += lij * (2.0 * rand[row, col0 + j] - 1.0)
        y[i] = acc


@njit(cache=True, error_model="numpy")
def _prior_side(y, lower, upper, counts, upper_hits):
    """0 inside the prior box (lower, upper]; otherwise count the side and return 1."""
    for i in range(y.shape[0]):
        if not y[i] > lower[i]:
            counts[4] += 1
            return 1
        if y[i] > upper[i]:
            counts[5] += 1
            upper_hits[i] += 1
            return 1
        if not (y[i] == y[i]):
            return 1
    return 0


@njit(cache=True, error_model="numpy")
def _within_kernel(Linv, y1, y2):
    """True if ``y1`` lies in the support of the stage-1 kernel centred at ``y2``: |L⁻¹(y1−y2)|∞ ≤ 1."""
    d = y1.shape[0]
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += Linv[i, j] * (y1[j] - y2[j])
        if abs(acc) > 1.0:
            return False
    return True


@njit(cache=True, error_model="numpy")
def _log_alpha1(lp_from, lp_to):
    """log α1 = log min(1, π(to)/π(from))."""
    if lp_to == -np.inf:
        return -np.inf
    v = lp_to - lp_from
    return v if v < 0.0 else 0.0


@njit(cache=True, error_model="numpy")
def _log1m_exp(a):
    """log(1 − exp(a)) for a ≤ 0 (−inf at a = 0)."""
    if a == -np.inf:
        return 0.0
    if a >= 0.0:
        return -np.inf
    if a > -0.6931471805599453:
        return math.log(-math.expm1(a))
    return math.log1p(-math.exp(a))


@njit(cache=True, error_model="numpy")
def _log_alpha2(lpx, lp1, lp2):
    """log of the delayed-rejection ratio of eq. (24) for symmetric kernels, given q1(y1|y2) > 0.

    α2 = min{1, π(y2) (1 − α1(y2, y1)) / [π(x) (1 − α1(x, y1))]}.
    """
    num = _log1m_exp(_log_alpha1(lp2, lp1))
    if num == -np.inf:
        return -np.inf
    den = _log1m_exp(_log_alpha1(lpx, lp1))
    v = lp2 - lpx + num - den
    return v if v < 0.0 else 0.0


@njit(cache=True, error_model="numpy")
def _accept(r, log_a):
    if log_a == 0.0:
        return True
    if log_a == -np.inf:
        return False
    return r < math.exp(log_a)


# ------------------------------------------------------------------------------------------ DR blocks
_CHAIN_ARGS = (
    _V,  # x: current point (updated in place)
    _V,  # cur: [log density at x, recorded value at x]
    _M,  # L1: stage-1 kernel matrix (proposal x + L1 (2u-1))
    _M,  # L1inv
    _M,  # L2: stage-2 kernel matrix
    _V,  # lower
    _V,  # upper
    _M,  # rand: (n, 2d+2) uniforms
    _M,  # samples out (n, d)
    _V,  # values out (n)
    _I8,  # stage out (n)
    _IV,  # counts
    _IV,  # upper_hits (d)
    _V,  # y1 work
    _V,  # y2 work
)


@njit(types.void(OBJECTIVE_TYPE, *OBJECTIVE_DATA, types.float64, *_CHAIN_ARGS), cache=True, error_model="numpy")
def dr_block_model(objective, p, t_all, offs, y0s, D, W, Fm, gv, out, info, opts, qf, qr, qd, alpha, fails, work, iwork,
                   inv_temp, x, cur, L1, L1inv, L2, lower, upper, rand, samples, values, stage, counts, upper_hits, y1, y2):
    """``rand.shape[0]`` DR-MH transitions with log π = −F(K)/s (``inv_temp`` = 1/s); values = F.

    ``objective(y, p, …)`` is a model's bound F (:mod:`latticeclosure.inference.modelkernels`).
    """
    n = rand.shape[0]
    d = x.shape[0]
    lpx = cur[0]
    fx = cur[1]
    for s in range(n):
        counts[0] += 1
        _propose(x, L1, rand, s, 0, y1)
        lp1 = -np.inf
        f1 = np.inf
        if _prior_side(y1, lower, upper, counts, upper_hits) == 0:
            counts[7] += 1
            f1 = objective(y1, p, t_all, offs, y0s, D, W, Fm, gv, out, info, opts, qf, qr, qd, alpha, fails, work, iwork)
            if f1 < np.inf:
                lp1 = -f1 * inv_temp
        la1 = _log_alpha1(lpx, lp1)
        code = 0
        if _accept(rand[s, d], la1):
            for i in range(d):
                x[i] = y1[i]
            lpx = lp1
            fx = f1
            counts[1] += 1
            code = 1
        else:
            counts[2] += 1
            _propose(x, L2, rand, s, d + 1, y2)
            if _prior_side(y2, lower, upper, counts, upper_hits) == 0:
                if not _within_kernel(L1inv, y1, y2):
                    counts[6] += 1
                else:
                    counts[7] += 1
                    f2 = objective(y2, p, t_all, offs, y0s, D, W, Fm, gv, out, info, opts, qf, qr, qd, alpha, fails, work,
                                   iwork)
                    if f2 < np.inf:
                        lp2 = -f2 * inv_temp
                        if _accept(rand[s, 2 * d + 1], _log_alpha2(lpx, lp1, lp2)):
                            for i in range(d):
                                x[i] = y2[i]
                            lpx = lp2
                            fx = f2
                            counts[3] += 1
                            code = 2
        for i in range(d):
            samples[s, i] = x[i]
        values[s] = fx
        stage[s] = code
    cur[0] = lpx
    cur[1] = fx


def dr_block_python(logp, x, cur, L1, L1inv, L2, lower, upper, rand, samples, values, stage, counts, upper_hits, y1, y2):
    """The same transitions for any log density ``logp(x) -> float``; values = log density.

    Compiled as :func:`dr_block_function` for numba functions; called as plain Python for Python
    callables (then each step costs a few microseconds of interpreter time besides ``logp``).
    """
    n = rand.shape[0]
    d = x.shape[0]
    lpx = cur[0]
    for s in range(n):
        counts[0] += 1
        _propose(x, L1, rand, s, 0, y1)
        lp1 = -np.inf
        if _prior_side(y1, lower, upper, counts, upper_hits) == 0:
            counts[7] += 1
            lp1 = logp(y1)
            if not (lp1 == lp1) or lp1 == np.inf:
                lp1 = -np.inf
        la1 = _log_alpha1(lpx, lp1)
        code = 0
        if _accept(rand[s, d], la1):
            for i in range(d):
                x[i] = y1[i]
            lpx = lp1
            counts[1] += 1
            code = 1
        else:
            counts[2] += 1
            _propose(x, L2, rand, s, d + 1, y2)
            if _prior_side(y2, lower, upper, counts, upper_hits) == 0:
                if not _within_kernel(L1inv, y1, y2):
                    counts[6] += 1
                else:
                    counts[7] += 1
                    lp2 = logp(y2)
                    if lp2 == lp2 and lp2 != np.inf and lp2 > -np.inf:
                        if _accept(rand[s, 2 * d + 1], _log_alpha2(lpx, lp1, lp2)):
                            for i in range(d):
                                x[i] = y2[i]
                            lpx = lp2
                            counts[3] += 1
                            code = 2
        for i in range(d):
            samples[s, i] = x[i]
        values[s] = lpx
        stage[s] = code
    cur[0] = lpx
    cur[1] = lpx


dr_block_function = njit(types.void(LOGP_TYPE, *_CHAIN_ARGS), cache=True, error_model="numpy")(dr_block_python)

_HELPERS = ("_propose", "_prior_side", "_within_kernel", "_log_alpha1", "_log1m_exp", "_log_alpha2", "_accept")


def _interpreted(fn):
    """``fn`` with every compiled helper replaced by its plain-Python original (no dispatch cost per call)."""
    import types as pytypes

    g = dict(globals())
    for name in _HELPERS:
        g[name] = pytypes.FunctionType(globals()[name].py_func.__code__, g, name)
    return pytypes.FunctionType(fn.__code__, g, fn.__name__)


#: :func:`dr_block_python` run by the interpreter throughout (for Python log densities).
dr_block_interpreted = _interpreted(dr_block_python)


@njit(types.void(_M, _V, _V, _M), cache=True, error_model="numpy")
def accumulate(samples, shift, s1, s2):
    """Add Σ (x − shift) and Σ (x − shift)(x − shift)ᵀ over ``samples``, one sample at a time in order
    (so the sums do not depend on how a chain is cut into blocks)."""
    d = shift.shape[0]
    for s in range(samples.shape[0]):
        for i in range(d):
            ui = samples[s, i] - shift[i]
            s1[i] += ui
            for j in range(d):
                s2[i, j] += ui * (samples[s, j] - shift[j])
