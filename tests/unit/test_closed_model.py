"""Closed models: substitution, marginals, elimination, provenance, linear analysis, compilation, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from latticeclosure.closedmodel import close_equations, marginal_expressions
from latticeclosure.closures import MeanFieldClosure, PairClosure, PowerLawClosure
from latticeclosure.errors import ClosureError
from latticeclosure.registry import get_lattice

from closure_testdata import paper_pair_equations

K = sp.symbols("k1:9")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("lc-cache")


@pytest.fixture(scope="module")
def tri_pair():
    return paper_pair_equations()


def sa_closure(eqs):
    """The paper's SA on the pair equations (per-shape normalisation): every chain in eq. (5) ≈ C+-."""
    return {c.name: "C+-" for c in eqs.context_classes}


@pytest.fixture(scope="module")
def sa_model(tri_pair):
    return close_equations(tri_pair, sa_closure(tri_pair))


@pytest.fixture(scope="module")
def pa_model(tri_pair):
    return close_equations(tri_pair, PairClosure())


# ----------------------------------------------------------------------------- marginals
def test_singlet_marginals_of_the_triangular_pair_window(tri_pair, sa_model):
    C = {n: sp.Symbol(n) for n in ("C++", "C--", "C+-")}
    assert sp.expand(sa_model.marginals["C+"] - (C["C++"] + C["C+-"])) == 0
    assert sp.expand(sa_model.marginals["C-"] - (C["C--"] + C["C+-"])) == 0


@pytest.mark.parametrize(
    "lattice, species, n",
    [("triangular", ["+", "-"], 3), ("square", ["a", "b", "c"], 2), ("honeycomb", ["+", "-"], 3), ("kagome", ["+", "-"], 2)],
)
def test_marginals_are_exact_on_measured_concentrations(lattice, species, n):
    """Σ over window patterns reproduces every smaller class on a random configuration exactly."""
    from latticeclosure.classindex import ClassIndex
    from latticeclosure.counting import ClassCounter

    lat = get_lattice(lattice)
    index = ClassIndex(lat, species, n)
    window = index.classes_of_size(n)
    marg = marginal_expressions(index, window)
    assert set(marg) == {c.name for s in range(1, n) for c in index.classes_of_size(s)}
    cell = lat.supercell(8)
    counter = ClassCounter(cell, index.shapes, species)
    rng = np.random.default_rng(1)
    config = rng.integers(0, len(species), size=cell.n_sites)
    conc = counter.as_dict(config)
    for name, expr in marg.items():
        value = float(expr.xreplace({sp.Symbol(k): v for k, v in conc.items()}))
        assert value == pytest.approx(conc[name], abs=1e-12), name


# ----------------------------------------------------------------------------- SA: eq. (28)-(29)
def test_sa_model_is_the_papers_linear_model(sa_model):
    a1, a2 = sp.symbols("alpha1 alpha2")
    assert sa_model.is_linear()
    combos = sa_model.linear_rates()
    assert list(combos) == [a1, a2]
    assert sp.expand(combos[a1] - (2 * K[0] + K[1] - 2 * K[2] - K[3])) == 0
    assert sp.expand(combos[a2] - (2 * K[4] + K[5] - 2 * K[6] - K[7])) == 0
    Cpm = sp.Symbol("C+-")
    form = sa_model.linear_form()
    assert sp.expand(form["C++"] - 2 * a1 * Cpm) == 0
    assert sp.expand(form["C--"] - 2 * a2 * Cpm) == 0
    assert sp.expand(form["C+-"] + (a1 + a2) * Cpm) == 0


def test_sa_closed_form_is_eq_29(sa_model):
    cf = sa_model.solve_closed_form()
    a1, a2, t = sp.symbols("alpha1 alpha2 t")
    pp0, mm0, pm0 = (cf.initial_symbols[n] for n in ("C++", "C--", "C+-"))
    decay = sp.exp(-(a1 + a2) * t)
    expected = {
        "C+-": pm0 * decay,
        "C++": pp0 + 2 * a1 / (a1 + a2) * pm0 * (1 - decay),
        "C--": mm0 + 2 * a2 / (a1 + a2) * pm0 * (1 - decay),
    }
    assert cf.system == "full"
    for name, e in expected.items():
        assert sp.simplify(cf.expressions[name] - e) == 0, name
    text = cf.to_text()
    combos = sa_model.linear_rates()
    assert f"alpha1 = {sp.sstr(combos[a1])}" in text and f"alpha2 = {sp.sstr(combos[a2])}" in text
    assert "\\alpha_{1}" in cf.to_latex()


def test_reduced_closed_form_agrees_with_full(sa_model):
    full = sa_model.solve_closed_form(system="full")
    reduced = sa_model.solve_closed_form(system="reduced")
    rates = dict(zip([k.name for k in K], [1.0, 0.5, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4]))
    init = {"C++": 0.3, "C--": 0.3, "C+-": 0.2}
    t = np.linspace(0, 2, 7)
    assert np.allclose(full.evaluate(t, init, rates), reduced.evaluate(t, init, rates), atol=1e-13)


# ----------------------------------------------------------------------------- structure
def test_elimination_choices(tri_pair):
    keep = close_equations(tri_pair, sa_closure(tri_pair), eliminate=None)
    assert keep.state_names == ["C++", "C--", "C+-"] and keep.eliminated == {}
    last = close_equations(tri_pair, sa_closure(tri_pair), eliminate=["C+-"])
    assert last.state_names == ["C++", "C--"]
    C = {n: sp.Symbol(n) for n in ("C++", "C--")}
    assert sp.expand(last.eliminated["C+-"] - (1 - C["C++"] - C["C--"]) / 2) == 0
    with pytest.raises(ClosureError, match="one relation per window shape"):
        close_equations(tri_pair, sa_closure(tri_pair), eliminate=["C++", "C+-"])
    with pytest.raises(ClosureError, match="not a window class"):
        close_equations(tri_pair, sa_closure(tri_pair), eliminate=["L+++"])


def test_provenance_accounts_for_every_term(tri_pair, pa_model):
    for lhs, rhs in tri_pair.rhs.items():
        records = pa_model.provenance_of(lhs)
        assert sp.expand(sp.Add(*[r.term for r in records]) - rhs) == 0
        assert sp.expand(sp.Add(*[r.closed_term for r in records]) - pa_model.full_rhs[lhs]) == 0
    rec = next(r for r in pa_model.provenance_of("C++") if r.source == "A+-+")
    assert rec.kind == "closure" and rec.closure == "pair"
    assert sp.expand(rec.term - 4 * K[0] * sp.Symbol("A+-+")) == 0
    Cpm, Cmm = sp.symbols("C+- C--")
    assert sp.simplify(rec.replacement - Cpm**2 / (Cmm + Cpm)) == 0  # C+-·C-+ / C-, C- marginal
    table = pa_model.explain("C++")
    assert "A+-+" in table and "closure pair" in table and "dC--/dt" not in table
    json.dumps(pa_model.to_json())


def test_pair_model_is_nonlinear(pa_model):
    assert not pa_model.is_linear()
    with pytest.raises(ClosureError, match="not linear"):
        pa_model.solve_closed_form()
    assert pa_model.parameters == list(K)
    assert "\\frac{dC_{--}}{dt}" in pa_model.to_latex()


def test_per_class_closures_and_bad_closures(tri_pair):
    mixed = close_equations(tri_pair, PairClosure(), per_class={"A+-+": MeanFieldClosure()})
    rec = next(r for r in mixed.provenance_of("C++") if r.source == "A+-+")
    assert rec.closure == "mean-field"
    assert mixed.closure_names["L+-+"] == "pair"
    with pytest.raises(ClosureError, match="not context classes"):
        close_equations(tri_pair, PairClosure(), per_class={"T+++": MeanFieldClosure()})
    bad = dict(sa_closure(tri_pair))
    bad["A+-+"] = "C+- * zeta"
    with pytest.raises(ClosureError, match="unknown symbol 'zeta'"):
        close_equations(tri_pair, bad)
    bad["A+-+"] = "L+++"
    with pytest.raises(ClosureError, match="window size"):
        close_equations(tri_pair, bad)
    partial = {k: v for k, v in sa_closure(tri_pair).items() if k != "L--+"}
    with pytest.raises(ClosureError, match="L--+"):
        close_equations(tri_pair, partial)


def test_power_law_keeps_exponents_as_parameters(tri_pair):
    model = close_equations(tri_pair, PowerLawClosure())
    names = model.closure_parameter_names
    assert names and all(n.startswith(("gamma[", "xi[")) for n in names)
    assert model.parameter_names[:8] == [k.name for k in K]
    assert not model.is_linear()
    assert "\\gamma^{A_{++-}}_{C_{+-}}" in model.to_latex()


# ----------------------------------------------------------------------------- compiled code
def _random_points(model, rng, n=3):
    pts = []
    for _ in range(n):
        full = rng.uniform(0.1, 1.0, size=len(model.window_names))
        mult = np.array([model.multiplicities[c] for c in model.window_names])
        full /= (mult * full).sum()
        pts.append(np.array([full[model.window_names.index(s)] for s in model.state_names]))
    return pts


def _fd(fun, x, h=1e-6):
    cols = []
    for j in range(len(x)):
        e = np.zeros_like(x)
        e[j] = h * max(1.0, abs(x[j]))
        cols.append((fun(x + e) - fun(x - e)) / (2 * e[j]))
    return np.array(cols).T


@pytest.mark.parametrize("which", ["pair", "power-law"])
def test_compiled_functions_match_sympy_and_finite_differences(tri_pair, cache_dir, which):
    closure = PairClosure() if which == "pair" else PowerLawClosure()
    model = close_equations(tri_pair, closure)
    compiled = model.compile(cache_dir)
    rng = np.random.default_rng(7)
    for y in _random_points(model, rng):
        k = rng.uniform(0.2, 2.0, size=8)
        theta = np.array([])
        if model.closure_parameters:
            # exponents near the pair approximation (γ ≈ 1, ξ ≈ 1) but generic
            theta = rng.uniform(0.6, 1.4, size=len(model.closure_parameters))
        p = np.concatenate([k, theta])
        f = compiled.rhs(y, p)
        ref = model.evaluate_rhs(y, k, theta if len(theta) else None)
        assert np.allclose(f, ref, rtol=1e-12, atol=1e-14)
        J = compiled.jacobian(y, p)
        assert np.allclose(J, _fd(lambda x: compiled.rhs(x, p), y), rtol=1e-6, atol=1e-8)
        S = compiled.sensitivities(y, p)
        assert S.shape == (len(model.state_names), len(p))
        assert np.allclose(S, _fd(lambda q: compiled.rhs(y, q), p), rtol=1e-6, atol=1e-8)
        # exact symbolic derivatives at the same point
        subs = {s: v for s, v in zip(model.state_symbols, y)}
        subs.update({s: v for s, v in zip(model.parameters, p)})
        sym_J = sp.Matrix(list(model.rhs.values())).jacobian(model.state_symbols).xreplace(subs)
        assert np.allclose(J, np.array(sym_J.evalf(), dtype=float), rtol=1e-11, atol=1e-13)


def test_second_compile_loads_from_the_disk_cache(tri_pair, cache_dir):
    from latticeclosure.closedmodel.compile import compile_model

    model = close_equations(tri_pair, PairClosure())
    first = compile_model(model, cache_dir)
    again = compile_model(model, cache_dir, reload=True)  # a fresh module object, as a new process would
    assert again.path == first.path
    assert again.cache_info["source_written"] is False
    assert again.cache_info["compiled"] == 0, again.cache_info
    assert again.cache_info["cache_hits"] >= 4
    y, p = np.array([0.2, 0.25]), np.linspace(0.5, 1.2, 8)
    assert np.array_equal(first.rhs(y, p), again.rhs(y, p))


def test_model_key_changes_with_the_model(tri_pair, sa_model, pa_model):
    from latticeclosure.closedmodel.compile import model_key

    assert model_key(sa_model) == model_key(close_equations(tri_pair, sa_closure(tri_pair)))
    assert model_key(sa_model) != model_key(pa_model)


# ----------------------------------------------------------------------------- CLI
def test_cli_close_prints_the_model(capsys):
    from latticeclosure.cli.main import main
    from latticeclosure.registry import get_registry

    if "pair" not in get_registry().names("closures"):
        pytest.skip("the pair closure is not registered")

    code = main(["close", "--lattice", "triangular", "--species", "+", "-", "--window-size", "2",
                 "--exclude-closed", "--closure", "pair", "--explain"])
    out = capsys.readouterr().out
    assert code == 0
    assert "state: C--, C+-" in out and "linear in the concentrations: no" in out
    assert "rate constants: k1, k2, k3, k4, k5, k6, k7, k8" in out
    assert "A+-+" in out  # provenance table
    code = main(["close", "--lattice", "triangular", "--window-size", "2", "--exclude-closed",
                 "--closure", "pair", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == ["C--", "C+-"] and data["linear"] is False


def test_cli_close_bad_input_exits_2(capsys):
    from latticeclosure.cli.main import main

    assert main(["close", "--lattice", "triangular", "--closure", "no-such-closure"]) == 2
    assert "no-such-closure" in capsys.readouterr().err
    assert main(["close", "--lattice", "triangular"]) == 2  # neither --closure nor --preset
    assert "exactly one of" in capsys.readouterr().err
