"""Closure families: Table I's pair-approximation column, formulas on correlated data, the interface."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from closure_testdata import counted_series, index
from latticeclosure.closures import (
    KirkwoodClosure,
    MeanFieldClosure,
    PairClosure,
    PairCorrectedClosure,
    PowerLawClosure,
    SparseClosure,
    standard_closures,
)
from latticeclosure.closures.evaluation import closure_values, evaluate
from latticeclosure.closures.dataset import as_dataset
from latticeclosure.errors import ClosureError

S = sympy.Symbol

# Table I, pair-approximation column, per-shape normalisation (the paper's 1/5, 2/5, 2/5 removed):
# numerator exponents over the distinct pair classes, denominator exponents over the singlets.
TABLE_I_PA = {
    "+++": ({"C++": 2}, {"C+": 1}),
    "---": ({"C--": 2}, {"C-": 1}),
    "++-": ({"C++": 1, "C+-": 1}, {"C+": 1, "C-": 0}),
    "--+": ({"C--": 1, "C+-": 1}, {"C-": 1, "C+": 0}),
    "+-+": ({"C+-": 2}, {"C-": 1, "C+": 0}),
    "-+-": ({"C+-": 2}, {"C+": 1, "C-": 0}),
}
TABLE_I_TRIANGLES = {
    "T+++": ({"C++": 3}, {"C+": 3}),
    "T---": ({"C--": 3}, {"C-": 3}),
    "T++-": ({"C++": 1, "C+-": 2}, {"C+": 2, "C-": 1}),
    "T--+": ({"C--": 1, "C+-": 2}, {"C-": 2, "C+": 1}),
}


def _expected_table():
    out = {}
    for shape in ("L", "A"):
        for pat, row in TABLE_I_PA.items():
            out[shape + pat] = row
    out.update(TABLE_I_TRIANGLES)
    return out


def test_table_i_pair_column_exponents():
    idx = index()
    pl = PowerLawClosure(preset="soft")
    expected = _expected_table()
    assert sorted(expected) == sorted(c.name for c in idx.classes_of_size(3))
    for name, (gam, xi) in expected.items():
        point = pl.pair_point(name, idx)
        want = {f"gamma[{k}]": float(v) for k, v in gam.items()}
        want.update({f"xi[{k}]": float(v) for k, v in xi.items()})
        assert point == want, name


def test_table_i_pair_column_expressions():
    idx = index()
    pair = PairClosure()
    for name, (gam, xi) in _expected_table().items():
        expr = sympy.Mul(*[S(k) ** v for k, v in gam.items()]) / sympy.Mul(*[S(k) ** v for k, v in xi.items()])
        assert sympy.simplify(pair.expression(name, idx) - expr) == 0, name
        # the power-law ansatz at the pair point is the same expression
        pl = PowerLawClosure(preset="soft")
        at_pair = pl.expression(name, idx, pl.pair_point(name, idx))
        assert sympy.simplify(at_pair - expr) == 0, name


def test_default_degrees_pair_vs_paper():
    idx = index()
    pl = PowerLawClosure()
    assert pl.degree_of("L++-", idx) == 1 and pl.degree_of("A+-+", idx) == 1
    assert pl.degree_of("T+++", idx) == 0  # Kirkwood's triangle has degree 0
    paper = PowerLawClosure(degree="paper")
    assert paper.degree_of("T+++", idx) == 1
    assert PowerLawClosure(degree={"triangle": 2}).degree_of("T++-", idx) == 2
    # Kirkwood's uniform triangle (γ = ξ = 3) lies outside the hard bounds: its projection is used
    hard = PowerLawClosure(preset="hard")
    vals = hard.initial_values("T+++", idx)
    assert sorted(vals.values()) == [2.0, 2.0]


def _correlated_dataset(lattice="triangular", size=3, **kw):
    data = counted_series(lattice, size, **kw)
    return as_dataset(data, index(lattice, size), name=f"{lattice}-ordered")


def test_pair_and_kirkwood_match_independent_formulas_on_correlated_data():
    idx = index()
    d = _correlated_dataset()
    c = d.columns
    # the data are strongly correlated (honeycomb order at x = 1/3): C-- far from C-^2
    assert abs(c["C--"][0] - c["C-"][0] ** 2) > 0.05
    pp, mm, pm, p, m = c["C++"], c["C--"], c["C+-"], c["C+"], c["C-"]
    formulas = {
        "L+++": pp * pp / p, "A---": mm * mm / m, "L++-": pp * pm / p, "A--+": mm * pm / m,
        "L+-+": pm * pm / m, "A-+-": pm * pm / p,
        "T+++": pp**3 / p**3, "T---": mm**3 / m**3,
        "T++-": pp * pm * pm / (p * p * m), "T--+": mm * pm * pm / (m * m * p),
    }
    for fam in (PairClosure(), KirkwoodClosure()):
        for name, f in formulas.items():
            np.testing.assert_allclose(closure_values(fam, name, idx, d), f, rtol=1e-12, atol=1e-15, err_msg=name)
    # mean field differs on these correlated data
    mf = closure_values(MeanFieldClosure(), "L+-+", idx, d)
    assert np.max(np.abs(mf - formulas["L+-+"])) > 1e-3


def test_tree_mean_loop_rule():
    idx = index()
    d = _correlated_dataset()
    c = d.columns
    g = closure_values(PairClosure(loop="tree-mean"), "T++-", idx, d)
    want = (c["C++"] * c["C+-"] ** 2) ** (2 / 3) / (c["C+"] ** 2 * c["C-"]) ** (1 / 3)
    np.testing.assert_allclose(g, want, rtol=1e-12)
    with pytest.raises(ClosureError, match="T\\+\\+-"):
        PairClosure(loop="refuse").expression("T++-", idx)
    assert not PairClosure(loop="refuse").can_close("T++-", idx)
    assert PairClosure(loop="refuse").can_close("L++-", idx)
    with pytest.raises(ClosureError, match="loop rule"):
        PairClosure(loop="bogus")


def test_honeycomb_multi_site_basis():
    idx = index("honeycomb", 3)
    d = _correlated_dataset("honeycomb", 3, L=6, n_records=3)
    c = d.columns
    g = closure_values(PairClosure(), "A++-", idx, d)
    np.testing.assert_allclose(g, c["C++"] * c["C+-"] / c["C+"], rtol=1e-12)
    assert [c_.name for c_ in idx.classes_of_size(3)][:2] == ["A+++", "A---"]


def test_kirkwood_order_three_on_four_site_chain():
    idx = index("chain", 4)
    d = _correlated_dataset("chain", 4, L=40, n_records=3, swaps=3)
    kw = KirkwoodClosure()
    four = [c for c in idx.classes_of_size(4)]
    names = [c.name for c in four]
    cls = next(c for c in four if c.pattern == (0, 0, 1, 0))
    expr = kw.expression(cls, idx)
    # C_0123 ≈ C_012 C_123 / C_12 with the sub-classes of the pattern + + - +
    sub012 = idx.classify(list(cls.shape.sites[:3]), [0, 0, 1]).name
    sub123 = idx.classify(list(cls.shape.sites[1:]), [0, 1, 0]).name
    sub12 = idx.classify(list(cls.shape.sites[1:3]), [0, 1]).name
    assert sympy.simplify(expr - S(sub012) * S(sub123) / S(sub12)) == 0, names
    # order 2 is the pair rule on the chain
    kw2 = KirkwoodClosure(order=2)
    assert sympy.simplify(kw2.expression(cls, idx) - PairClosure().expression(cls, idx)) == 0
    c = d.columns
    np.testing.assert_allclose(
        closure_values(kw, cls, idx, d), c[sub012] * c[sub123] / c[sub12], rtol=1e-12
    )


def test_uncorrelated_limit_all_agree():
    """Without correlations pair, Kirkwood and mean-field coincide (they cannot be told apart)."""
    idx = index()
    x = 0.3
    n = 3
    singles = {"C+": np.full(n, 1 - x), "C-": np.full(n, x)}
    data = dict(singles)
    data.update({"C++": singles["C+"] ** 2, "C--": singles["C-"] ** 2, "C+-": singles["C+"] * singles["C-"]})
    d = as_dataset(data, idx, time=np.arange(n))
    for name in ("L++-", "T++-", "A-+-"):
        vals = [closure_values(f, name, idx, d) for f in (PairClosure(), KirkwoodClosure(), MeanFieldClosure())]
        np.testing.assert_allclose(vals[0], vals[2], rtol=1e-12)
        np.testing.assert_allclose(vals[1], vals[2], rtol=1e-12)


def test_interface_parameters_and_expressions():
    idx = index()
    pl = PowerLawClosure()
    params = pl.parameters("L++-", idx)
    assert [str(p) for p in params] == ["gamma[L++-;C++]", "gamma[L++-;C+-]", "xi[L++-;C+]", "xi[L++-;C-]"]
    expr = pl.expression("L++-", idx)
    assert expr.free_symbols == set(params) | {S("C++"), S("C+-"), S("C+"), S("C-")}
    # short keys are accepted and missing parameters stay symbolic
    partial = pl.expression("L++-", idx, {"C++": 1, "C+-": 1})
    assert {str(s) for s in partial.free_symbols} == {"C++", "C+-", "C+", "C-", "xi[L++-;C+]", "xi[L++-;C-]"}
    with pytest.raises(ClosureError, match="unknown parameter"):
        pl.expression("L++-", idx, {"C--": 1.0})
    # pinned exponents: no free parameters left
    pinned = pl.configure(exponents={"L++-": {"C++": 1, "C+-": 1, "C+": 1, "C-": 0}})
    assert pinned.parameters("L++-", idx) == []
    assert sympy.simplify(pinned.expression("L++-", idx) - S("C++") * S("C+-") / S("C+")) == 0
    assert pinned.parameters("L+++", idx)  # other classes stay free
    # fixed families have no parameters
    for fam in (PairClosure(), KirkwoodClosure(), MeanFieldClosure()):
        assert fam.parameters("T+++", idx) == []
        assert fam.initial_values("T+++", idx) == {}
    closed = PairClosure().close(idx)
    assert len(closed) == 16 and closed["L+++"] == S("C++") ** 2 / S("C+")
    # pair-corrected: a = 0 is the pair approximation
    pc = PairCorrectedClosure()
    zero = {str(p): 0.0 for p in pc.parameters("T++-", idx)}
    assert sympy.simplify(pc.expression("T++-", idx, zero) - PairClosure().expression("T++-", idx)) == 0


def test_family_objects_and_options():
    names = [f.name for f in standard_closures()]
    assert sorted(names) == sorted(["mean-field", "pair", "kirkwood", "power-law", "pair-corrected", "sparse", "custom"])
    for f in standard_closures():
        assert f.description
        assert f.configure().name == f.name
    with pytest.raises(ClosureError, match="unknown option"):
        PowerLawClosure().configure(bogus=1)
    with pytest.raises(ClosureError, match="preset"):
        PowerLawClosure(preset="medium")
    with pytest.raises(ClosureError, match="delta"):
        PowerLawClosure(delta=-1)
    with pytest.raises(ClosureError, match="beta1"):
        PowerLawClosure(beta1=1, beta2=0)
    idx = index()
    # bounds that make the constraint set empty for a class: γ ≤ 0.4, ξ ≥ 0, degree 1
    tight = PowerLawClosure(delta=0.4, beta1=0, beta2=2)
    with pytest.raises(ClosureError, match="L\\+\\+\\+.*empty"):
        tight.parameters("L+++", idx)
    assert not tight.can_close("L+++", idx)
    with pytest.raises(ClosureError, match="unknown class"):
        PairClosure().expression("X+++", idx)
    with pytest.raises(ClosureError, match="singlet"):
        PairClosure().expression("C+", idx)


def test_sparse_closure_patterns():
    idx = index()
    sp = SparseClosure(pattern={"L+++": {"C++": 1}, "T+++": {"C++": 2, "C+": -1}})
    assert sp.expression("L+++", idx) == S("C++") and sp.expression("T+++", idx) == S("C++") ** 2 / S("C+")
    with pytest.raises(ClosureError, match="no pattern for class 'L---'"):
        sp.expression("L---", idx)
    with pytest.raises(ClosureError, match="not allowed"):
        SparseClosure(pattern={"L+++": {"L---": 1}}).expression("L+++", idx)


def test_evaluate_E_is_mean_of_J():
    idx = index()
    d = _correlated_dataset()
    ev = evaluate("pair", d, idx)
    J = ev.J[d.name]
    assert len(J) == 16
    assert ev.E[d.name] == pytest.approx(np.mean(list(J.values())))
    # a closure that is exact for one class has J = 0 there: use the data's own triangle as custom
    from latticeclosure.closures.custom import CustomClosure

    exact = CustomClosure(expressions={"L+++": "C++ - L++-"})  # not allowed: same size
    with pytest.raises(ClosureError, match="may not use"):
        exact.expression("L+++", idx)
