"""Pair-closed epidemic models against Keeling's homogeneous pairwise models; contact-process thresholds.

Keeling's pairwise model counts ordered pairs: ``[AB] = n·N·C_AB`` (n neighbours per site, N sites,
``C_AB`` the per-shape pair concentration) and ``[A] = N·C_A``; its triple closure
``[ABC] ≈ ((n−1)/n)·[AB][BC]/[B]·((1−φ) + φ·(N/n)·[AC]/([A][C]))`` (φ = fraction of closed triples) is
the framework's pair closure: the Bethe rule on open chains and, on closed triangles, Kirkwood's
superposition (``loop="kirkwood"``).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from latticeclosure.closedmodel import close_equations
from latticeclosure.counting import ClassCounter
from latticeclosure.clusters import ConnectedEnumerator
from latticeclosure.equations import generate_equations
from latticeclosure.registry import get_lattice, get_registry

T_END = 10.0
T = np.linspace(0.0, T_END, 41)
SIS = {"rules": [{"from": "S", "to": "I", "rate": "tau", "catalyst": "I"}, {"from": "I", "to": "S", "rate": "gamma"}]}
SIR = {"rules": [{"from": "S", "to": "I", "rate": "tau", "catalyst": "I"}, {"from": "I", "to": "R", "rate": "gamma"}]}


def _pair(loop="kirkwood"):
    return get_registry().get("closures", "pair").configure(loop=loop)


def _closed_pairs(lattice, spec, species, initial_pairs, rates, loop="kirkwood"):
    eqs = generate_equations(lattice, species, "flip", 2, flip_spec=spec)
    model = close_equations(eqs, _pair(loop))
    sol = model.solve(T, {k: v for k, v in initial_pairs.items() if k in model.state_names}, rates,
                      rtol=1e-11, atol=1e-13)
    derived = model.derived_expressions()
    out = {}
    for name, expr in derived.items():
        f = sp.lambdify(model.state_symbols, expr, "numpy")
        out[name] = np.broadcast_to(f(*[sol.y[:, sol.names.index(s.name)] for s in model.state_symbols]), T.shape)
    return out


def _keeling_sis(n, phi, tau, gamma, i0, marginal_singlets):
    def triple(ab, bc, b, ac, a, c):
        return (n - 1) / n * ab * bc / b * ((1 - phi) + phi / n * ac / (a * c))

    def f(_, y):
        s, i, ss, si, ii = y
        if marginal_singlets:
            s, i = (ss + si) / n, (ii + si) / n
        ssi, isi = triple(ss, si, s, si, s, i), triple(si, si, s, ii, i, i)
        return [gamma * i - tau * si, tau * si - gamma * i, 2 * gamma * si - 2 * tau * ssi,
                gamma * (ii - si) + tau * (ssi - isi - si), -2 * gamma * ii + 2 * tau * (isi + si)]

    y0 = [1 - i0, i0, n * (1 - i0) ** 2, n * i0 * (1 - i0), n * i0**2]
    r = solve_ivp(f, (0, T_END), y0, t_eval=T, rtol=1e-12, atol=1e-14)
    return {"CSS": r.y[2] / n, "CSI": r.y[3] / n, "CII": r.y[4] / n}


def _uncorrelated(p, names):
    out = {}
    for a in names:
        for b in names:
            key = f"C{a}{b}"
            out[key] = p[a] * p[b]
    return out


def test_pair_closed_sis_on_the_square_lattice_is_keelings_pairwise_model():
    i0, tau, gamma = 0.05, 0.5, 1.0
    ours = _closed_pairs("square", SIS, ["S", "I"], _uncorrelated({"S": 1 - i0, "I": i0}, "SI"),
                         {"tau": tau, "gamma": gamma})
    keeling = _keeling_sis(4, 0.0, tau, gamma, i0, marginal_singlets=False)
    for name in ("CSS", "CSI", "CII"):
        np.testing.assert_allclose(ours[name], keeling[name], rtol=1e-8, atol=1e-10)
    assert ours["CII"][-1] + ours["CSI"][-1] > 0.3  # an endemic state, not a trivial comparison


def test_pair_closed_sir_on_the_square_lattice_is_keelings_pairwise_model():
    i0, tau, gamma, n = 0.02, 1.0, 0.8, 4

    def f(_, y):
        s, i, ss, si, sr, ii, ir, rr = y
        ssi, isi, isr = ((n - 1) / n * a * b / s for a, b in ((ss, si), (si, si), (si, sr)))
        return [-tau * si, tau * si - gamma * i, -2 * tau * ssi, tau * (ssi - isi - si) - gamma * si,
                -tau * isr + gamma * si, 2 * tau * (isi + si) - 2 * gamma * ii, tau * isr + gamma * (ii - ir),
                2 * gamma * ir]

    p = {"S": 1 - i0, "I": i0, "R": 0.0}
    y0 = [p["S"], p["I"], n * p["S"] ** 2, n * p["S"] * p["I"], 0.0, n * p["I"] ** 2, 0.0, 0.0]
    r = solve_ivp(f, (0, T_END), y0, t_eval=T, rtol=1e-12, atol=1e-14)
    keeling = dict(zip(["CSS", "CSI", "CSR", "CII", "CIR", "CRR"], r.y[2:] / n))
    ours = _closed_pairs("square", SIR, ["S", "I", "R"], _uncorrelated(p, "SIR"), {"tau": tau, "gamma": gamma})
    for name, values in keeling.items():
        np.testing.assert_allclose(ours[name], values, rtol=1e-7, atol=1e-10, err_msg=name)
    assert ours["CRR"][-1] > 0.05


def test_keelings_clustered_closure_is_the_kirkwood_loop_rule():
    """Triangular lattice: n = 6, φ = 2/5 closed triples (the shape fraction θ of closed chains)."""
    i0, tau, gamma = 0.05, 0.5, 1.0
    init = _uncorrelated({"S": 1 - i0, "I": i0}, "SI")
    kirkwood = _closed_pairs("triangular", SIS, ["S", "I"], init, {"tau": tau, "gamma": gamma})
    tree_mean = _closed_pairs("triangular", SIS, ["S", "I"], init, {"tau": tau, "gamma": gamma}, loop="tree-mean")
    keeling = _keeling_sis(6, 0.4, tau, gamma, i0, marginal_singlets=True)
    for name in ("CSS", "CSI", "CII"):
        np.testing.assert_allclose(kirkwood[name], keeling[name], rtol=1e-8, atol=1e-10)
    assert abs(tree_mean["CII"][-1] - keeling["CII"][-1]) > 1e-3
    # Keeling's own variables [S], [I] drift from the pair marginals once loops are closed by Kirkwood
    # (it is not marginally consistent): his model differs, visibly but slightly
    own = _keeling_sis(6, 0.4, tau, gamma, i0, marginal_singlets=False)
    assert 1e-4 < abs(own["CII"][-1] - keeling["CII"][-1]) < 1e-2


def test_pair_counts_and_prevalence_map_onto_per_shape_concentrations():
    """[SI] = n·N·C_SI, [SS] = n·N·C_SS and prevalence C_I = C_II + C_SI on measured configurations."""
    lattice = get_lattice("square")
    cell = lattice.supercell(10)
    config = (np.random.default_rng(1).random(cell.n_sites) < 0.3).astype(np.int64)
    shapes = ConnectedEnumerator().enumerate(lattice, 2)
    conc = ClassCounter(cell, shapes, ["S", "I"]).as_dict(config)
    i, j = cell.bonds.T
    n, N = 4, cell.n_sites
    si_links = int(np.sum(config[i] != config[j]))
    ss_links = int(np.sum((config[i] == 0) & (config[j] == 0)))
    assert si_links == pytest.approx(n * N * conc["CSI"])  # [SI] counts every S–I link once
    assert 2 * ss_links == pytest.approx(n * N * conc["CSS"])  # [SS] counts S–S links twice (ordered)
    assert conc["CI"] == pytest.approx(conc["CII"] + conc["CSI"]) == pytest.approx(config.mean())


@pytest.mark.parametrize("lattice,z", [("chain", 2), ("honeycomb", 3), ("square", 4), ("cubic", 6)])
def test_contact_process_thresholds_mean_field_1_and_pair_z_over_z_minus_1(lattice, z):
    """Infection λ/z per infected neighbour, recovery 1: the absorbing state loses stability at
    λ = 1 (mean field, window 1) and λ = z/(z−1) (pair closure, window 2, triangle-free lattices)."""
    lam = sp.Symbol("lam")
    spec = {"rules": [{"from": "S", "to": "I", "rate": f"lam/{z}", "catalyst": "I"},
                      {"from": "I", "to": "S", "rate": 1}]}
    for window, closure, expected in ((1, "mean-field", sp.Integer(1)), (2, "pair", sp.Rational(z, z - 1))):
        model = close_equations(generate_equations(lattice, ["S", "I"], "flip", window, flip_spec=spec), closure)
        assert model.rate_names == ["lam"]
        x = model.state_symbols
        jac = sp.Matrix([model.rhs[s.name] for s in x]).jacobian(x).subs({s: 0 for s in x})
        growth = lambda value: max(complex(e).real for e in jac.subs(lam, value).eigenvals())  # noqa: E731
        assert growth(expected * sp.Rational(99, 100)) < 0 < growth(expected * sp.Rational(101, 100))
        assert abs(growth(expected)) < 1e-12
