"""The stiff integrator of the inference fast path against exact solutions and tight explicit solves."""

import numpy as np
import pytest
from numba import njit
from scipy.linalg import expm

from latticeclosure.closedmodel import close_equations
from latticeclosure.closedmodel.dopri import RHS_SIGNATURE
from latticeclosure.equations import generate_equations
from latticeclosure.inference import build_objective
from latticeclosure.inference._stiff import JAC_SIGNATURE, allocate_work, rosenbrock23

# dy/dt = A y with eigenvalues -1 and -1e5 (stiffness ratio 1e5)
A = np.array([[-50000.5, 49999.5], [49999.5, -50000.5]])


@njit(RHS_SIGNATURE)
def linear_rhs(t, y, p, out):
    out[0] = p[0] * y[0] + p[1] * y[1]
    out[1] = p[2] * y[0] + p[3] * y[1]


@njit(JAC_SIGNATURE)
def linear_jac(t, y, p, out):
    out[0, 0] = p[0]
    out[0, 1] = p[1]
    out[1, 0] = p[2]
    out[1, 1] = p[3]


@njit(JAC_SIGNATURE)
def broken_jac(t, y, p, out):
    out[:, :] = np.nan  # forces the finite-difference fallback


def _solve(t, y0, rtol, atol, jac=linear_jac, F=None, g=None, neg_tol=1e-5):
    F = np.eye(2) if F is None else F
    g = np.zeros(F.shape[0]) if g is None else g
    out = np.empty((len(t), F.shape[0]))
    info = np.empty(6)
    work, iwork = allocate_work(2, F.shape[0])
    st = rosenbrock23(linear_rhs, jac, t, y0, A.reshape(-1).copy(), F, g, rtol, atol, 10**6, neg_tol, 1e3, out, info,
                      work, iwork)
    return st, out, info


def _exact(t, y0):
    return np.array([expm(A * (ti - t[0])) @ y0 for ti in t])


@pytest.mark.parametrize("jac", [linear_jac, broken_jac], ids=["generated-jacobian", "finite-differences"])
def test_matches_the_exact_solution_and_converges(jac):
    t = np.linspace(0.0, 2.0, 161)
    y0 = np.array([1.0, 0.2])
    exact = _exact(t, y0)
    errors = []
    for rtol in (1e-4, 1e-6, 1e-8):
        st, out, info = _solve(t, y0, rtol, rtol * 1e-3, jac=jac)
        assert st == 0 and info[5] == len(t)
        errors.append(np.max(np.abs(out - exact)))
    # a second-order method under local error control: global error ~ 5-20 x rtol, falling ~ rtol^(2/3)
    assert errors[1] < 1e-5 and errors[2] < 1e-6, errors
    assert errors[0] > 10 * errors[1] > 100 * errors[2]
    # continuous extension: the steps do not depend on the output rows (none land on a record)
    _, dense_rows, info_rows = _solve(np.linspace(0.0, 2.0, 4001), y0, 1e-6, 1e-9, jac=jac)
    _, _, info_ends = _solve(np.array([0.0, 2.0]), y0, 1e-6, 1e-9, jac=jac)
    assert info_rows[1] == info_ends[1] < 4000
    assert np.max(np.abs(dense_rows - _exact(np.linspace(0.0, 2.0, 4001), y0))) < 1e-5


def test_positivity_loss_is_a_failed_solve():
    # the output class y0 + y1 + g decays like exp(-t): with g = 0 it stays positive, with g = -1/2 it
    # crosses zero at t = ln 2 (between two steps: found on the continuous extension's rows)
    t = np.linspace(0.0, 1.0, 11)
    F = np.array([[1.0, 1.0]])
    st, out, _ = _solve(t, np.array([0.8, 0.2]), 1e-6, 1e-9, F=F, g=np.array([0.0]))
    assert st == 0 and np.allclose(out[:, 0], np.exp(-t), rtol=1e-4)
    st, out, info = _solve(t, np.array([0.8, 0.2]), 1e-6, 1e-9, F=F, g=np.array([-0.5]))
    assert st == 4
    assert 0.6 < info[0] <= 0.8 and np.all(np.isnan(out[int(info[5]):]))


def test_objective_in_a_stiff_region_matches_a_tight_explicit_reference():
    eqs = generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)
    model = close_equations(eqs, "pair")
    t = np.linspace(0.0, 1.0, 101)
    slow = np.array([1.2, 0.7, 0.9, 0.4, 0.8, 0.5, 1.1, 0.6])
    sol = model.solve(t, {"C++": 0.40, "C--": 0.15, "C+-": 0.225}, slow, rtol=1e-12, atol=1e-14)
    data = {n: sol[n] for n in model.window_names}
    data["time"] = t
    obj = build_objective(model, data, {"rtol": 1e-6, "atol": 1e-9})
    stiff = np.array([4.7e2, 2e-3, 4.0e2, 7.6e2, 0.11, 5.1e3, 1.1e4, 3.0e3])  # rates spanning 1e7, as good fits do
    compiled = model.compile()
    J = compiled.jacobian(obj.y0s[0], np.ascontiguousarray(stiff))
    assert np.abs(J).sum(axis=1).max() > 1e4  # the fast path takes the stiff solver directly
    p = np.ascontiguousarray(stiff)
    status, ref, _ = compiled.solve_raw(t, obj.y0s[0], p, 1e-12, 1e-14, max_steps=10**7, detect_stiff=False)
    assert status == 0
    F_ref = 0.5 * float(np.sum(obj.W * (ref - obj.D) ** 2))
    F = obj.value(stiff)
    assert abs(F - F_ref) < 1e-4 * F_ref, (F, F_ref)
    pred = obj.predict(stiff)[0]
    assert np.max(np.abs(pred - ref)) < 1e-5
    # a non-stiff point goes the explicit way and agrees as well
    status, ref, _ = compiled.solve_raw(t, obj.y0s[0], np.ascontiguousarray(slow * 1.3), 1e-12, 1e-14)
    assert status == 0
    assert abs(obj.value(slow * 1.3) - 0.5 * float(np.sum(obj.W * (ref - obj.D) ** 2))) < 1e-8
