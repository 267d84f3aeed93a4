"""Rates in flip specs may be expressions of named parameters and numbers (``rate = "lam/4"``)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import sympy as sp

from latticeclosure.equations import generate_equations, load_flip_spec
from latticeclosure.equations.dynamics import FlipSpecError
from latticeclosure.equations.formats import to_json_dict, to_latex, to_python, to_text


def _sis(rate_si, rate_is="gamma"):
    return {"rules": [{"from": "S", "to": "I", "rate": rate_si, "catalyst": "I"},
                      {"from": "I", "to": "S", "rate": rate_is}]}


@pytest.mark.parametrize("given,text", [
    ("lam/4", "lam/4"), ("0.25*lam", "lam/4"), (0.5, "1/2"), ("0.5", "1/2"), (2, "2"), ("tau", "tau"),
    ("2*(a+b)", "2*a + 2*b"), ("beta*exp(-J/T)", "beta*exp(-J/T)"), ("1e-3", "1/1000"),
])
def test_rates_are_stored_in_canonical_exact_form(given, text):
    (rule,) = load_flip_spec({"rule": [{"from": "S", "to": "I", "rate": given}]}, ["S", "I"])
    assert rule.rate == text
    names = {n: sp.Symbol(n) for n in ("lam", "a", "b", "tau", "beta", "J", "T")}
    assert sp.simplify(rule.rate_expression - sp.sympify(text, locals=names)) == 0


@pytest.mark.parametrize("bad", [
    "__import__('os')", "lam; x", "lam.real", "-1", "1/0", "sqrt(-1)", "exp", "lam(2)", "", True, None,
    "lambda: 1", "x if y else z", "[1]",
])
def test_bad_rate_expressions_are_refused(bad):
    with pytest.raises(FlipSpecError):
        load_flip_spec({"rule": [{"from": "S", "to": "I", "rate": bad}]}, ["S", "I"])


def test_an_expression_rate_equals_the_named_rate_it_stands_for():
    lam, tau = sp.symbols("lam tau")
    with_expr = generate_equations("square", ["S", "I"], "flip", 2, flip_spec=_sis("lam/4"))
    with_name = generate_equations("square", ["S", "I"], "flip", 2, flip_spec=_sis("tau"))
    assert [r.name for r in with_expr.rates] == ["gamma", "lam"]
    for cls in with_name.window_classes:
        assert sp.expand(with_expr.rhs[cls.name] - with_name.rhs[cls.name].subs(tau, lam / 4)) == 0


def test_numeric_rates_fold_into_coefficients():
    eqs = generate_equations("square", ["S", "I"], "flip", 1, flip_spec=_sis("lam/4", 0.5))
    assert [r.name for r in eqs.rates] == ["lam"]  # no parameter named "0.5"
    cs, ci, csi, lam = sp.symbols("CS CI CSI lam")
    assert sp.expand(eqs.rhs["CS"] - (ci / 2 - lam * csi)) == 0
    assert {(rate, var): coeff for coeff, rate, var in eqs.terms["CS"]} == {("1", "CI"): 0.5, ("lam", "CSI"): -1}
    assert to_text(eqs).splitlines()[0] == "dCS/dt = (1/2) CI − lam CSI"
    assert "\\frac{C_{I}}{2}" in to_latex(eqs)
    doc = to_json_dict(eqs)
    json.dumps(doc)
    assert doc["rates"] == [{"name": "lam", "reverse": None}]
    assert {(t["rate"], t["variable"]): t["coefficient"] for t in doc["equations"][0]["terms"]} == {
        ("1", "CI"): 0.5, ("lam", "CSI"): -1}


def test_formats_and_numeric_rhs_agree_for_nonlinear_rate_expressions(tmp_path):
    spec = {"rules": [{"from": "S", "to": "I", "rate": "0.25*lam*exp(-mu) + 0.5", "catalyst": "I"},
                      {"from": "I", "to": "S", "rate": "2*(a+b)"}]}
    eqs = generate_equations("triangular", ["S", "I"], "flip", 2, flip_spec=spec)
    rates = {"lam": 1.3, "mu": 0.4, "a": 0.2, "b": 0.7}
    assert [r.name for r in eqs.rates] == ["a", "b", "lam", "mu"]
    rng = np.random.default_rng(0)
    conc = {c.name: float(v) for c, v in zip(eqs.variables, rng.random(len(eqs.variables)))}
    numeric = eqs.numeric_rhs(conc, rates)
    symbols = {**{s: conc[n] for n, s in eqs.symbols.items()}, **{sp.Symbol(k): v for k, v in rates.items()}}
    for lhs, expr in eqs.rhs.items():
        assert numeric[lhs] == pytest.approx(float(expr.subs(symbols)), rel=1e-12)
    path = tmp_path / "gen.py"
    path.write_text(to_python(eqs))
    spec_mod = importlib.util.spec_from_file_location("gen", path)
    mod = importlib.util.module_from_spec(spec_mod)
    spec_mod.loader.exec_module(mod)
    out = mod.rhs([conc[v] for v in mod.VARIABLES], [rates[k] for k in mod.RATES])
    np.testing.assert_allclose(out, [numeric[c] for c in mod.LHS], rtol=1e-12)
    text = to_text(eqs)
    assert "(lam*exp(-mu) + 2)" in text and "2(a + b)" in text
