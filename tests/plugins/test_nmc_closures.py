"""The reference plugin's closures: the SA preset (Table III), its linear closed model, its marginal defect,
and the paper's rate names k1…k8 checked against an independent identification of each reaction."""

from __future__ import annotations

import pytest
import sympy as sp

from closure_testdata import counted_series, index, paper_rate_names
from latticeclosure.closedmodel import close_equations
from latticeclosure.closures.diagnostics import marginal_consistency
from latticeclosure.equations import generate_equations

pytestmark = pytest.mark.nmc

S = sp.Symbol


@pytest.fixture(scope="module")
def tri_pair():
    return generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)


@pytest.fixture(scope="module")
def sa_model(tri_pair):
    return close_equations(tri_pair, {c.name: "C+-" for c in tri_pair.context_classes})


def test_the_paper_naming_names_each_reaction_as_the_paper_does(tri_pair):
    assert paper_rate_names(tri_pair) == {f"k{i}": f"k{i}" for i in range(1, 9)}


def test_sa_closed_form_solves_the_papers_linear_model(sa_model):
    """The rate combinations are the paper's α1, α2 and the closed form solves eq. (28) from its initial values."""
    closed = sa_model.solve_closed_form()
    k = sp.symbols("k1:9")
    alphas = {str(a): sp.expand(e) for a, e in closed.combinations.items()}
    assert alphas == {"alpha1": 2 * k[0] + k[1] - 2 * k[2] - k[3], "alpha2": 2 * k[4] + k[5] - 2 * k[6] - k[7]}
    a1, a2 = (next(s for s in closed.combinations if str(s) == name) for name in ("alpha1", "alpha2"))
    t = sp.Symbol("t")
    C = closed.expressions
    rhs = {"C++": 2 * a1 * C["C+-"], "C--": 2 * a2 * C["C+-"], "C+-": -(a1 + a2) * C["C+-"]}
    for name, expr in C.items():
        assert sp.simplify(sp.diff(expr, t) - rhs[name]) == 0, name
        assert sp.simplify(expr.subs(t, 0) - closed.initial_symbols[name]) == 0, name


def test_sa_preset_is_table_iii():
    from latticeclosure_nmc.presets import SA, nmc_closure_presets

    idx = index()
    assert SA.name == "SA"
    closed = SA.close(idx)
    assert closed["L+++"] == S("C++") and closed["A---"] == S("C--")
    for name in ("L++-", "L--+", "L+-+", "L-+-", "A++-", "A--+", "A+-+", "A-+-", "T++-", "T--+"):
        assert closed[name] == S("C+-"), name
    assert closed["T+++"] == S("C++") ** 2 / S("C+")
    assert closed["T---"] == S("C--") ** 2 / S("C-")
    assert sorted(p.name for p in nmc_closure_presets()) == ["OA-hard", "OA-soft", "SA"]


def test_sa_violates_by_the_complementary_class():
    idx = index()
    from latticeclosure_nmc.presets import SA

    rep = marginal_consistency(SA, idx)
    resid = {c.identity: c.residual for c in rep.checks}
    # Σ_z L_{++z} ≈ C++ + C+- = C+ instead of C++: overshoot by exactly C+-
    assert resid["L+++ + L++- = C++"] == S("C+-")
    assert resid["A--+ + A--- = C--"] == S("C+-")
    assert all(c.consistent is False for c in rep.checks)


def test_cli_close_sa_preset_gives_alphas(capsys):
    from latticeclosure.cli.main import main
    from latticeclosure.registry import get_registry

    if "SA" not in get_registry().names("closure_presets"):
        pytest.skip("the NMC plugin's SA preset is not registered")
    code = main(["close", "--lattice", "triangular", "--window-size", "2", "--exclude-closed", "--preset", "SA"])
    out = capsys.readouterr().out
    assert code == 0
    assert "alpha1 = 2*k1 + k2 - 2*k3 - k4" in out and "alpha2 = 2*k5 + k6 - 2*k7 - k8" in out
    assert "C+-(t) = C+-(0)*exp(-t*(alpha1 + alpha2))" in out


def test_the_nmc_sa_preset_closes_to_the_same_linear_model(tri_pair, sa_model):
    presets = pytest.importorskip("latticeclosure_nmc.presets")
    model = close_equations(tri_pair, presets.SA)
    assert model.closure_label == "SA"
    assert model.linear_rates() == sa_model.linear_rates()
    for name in sa_model.state_names:
        assert sp.expand(model.rhs[name] - sa_model.rhs[name]) == 0


def test_sa_is_numerically_inconsistent_on_correlated_data():
    from latticeclosure_nmc.presets import SA

    sa = marginal_consistency(SA, index(), counted_series(n_records=5), symbolic=True)
    assert not sa.consistent and sa.worst() > 1e-2
