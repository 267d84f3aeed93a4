"""Marginal consistency: exact data satisfy it; pair on chains does; Kirkwood triangles and mean field do not."""

from __future__ import annotations

import numpy as np
import sympy

from closure_testdata import counted_series, index
from latticeclosure.closures import KirkwoodClosure, MeanFieldClosure, PairClosure, SparseClosure
from latticeclosure.closures.diagnostics import class_errors, marginal_checks, marginal_consistency

S = sympy.Symbol


def test_identities_of_the_triangular_triplets():
    idx = index()
    checks = marginal_checks(idx)
    ids = {c.identity for c in checks}
    assert "L+++ + L++- = C++" in ids and "T+++ + T++- = C++" in ids
    assert all(c.sub_class in ("C++", "C--", "C+-") for c in checks)
    assert len(checks) == 11  # 4 linear, 4 angled, 3 triangle identities


def test_exact_counted_data_pass():
    idx = index()
    runs = [counted_series(seed=s, n_records=4) for s in (1, 2)]
    rep = marginal_consistency(None, idx, runs)
    assert rep.consistent and rep.worst() < 1e-12
    # also on a multi-site basis lattice and for four-site chains
    hc = marginal_consistency(None, index("honeycomb", 3), counted_series("honeycomb", 3, L=6, n_records=3))
    assert hc.consistent and hc.worst() < 1e-12
    ch = marginal_consistency(None, index("chain", 4), counted_series("chain", 4, L=30, n_records=3))
    assert ch.consistent and ch.worst() < 1e-12


def test_pair_closure_symbolic():
    idx = index()
    rep = marginal_consistency(PairClosure(), idx)
    by_shape = {}
    for c in rep.checks:
        by_shape.setdefault(c.shape, []).append(c.consistent)
    assert all(by_shape["linear"]) and all(by_shape["angled"])
    assert not any(by_shape["triangle"])  # Kirkwood superposition is not marginally consistent
    assert not rep.consistent and len(rep.violated()) == 3
    # Kirkwood family = pair rule here
    kw = marginal_consistency(KirkwoodClosure(), idx)
    assert [c.consistent for c in kw.checks] == [c.consistent for c in rep.checks]


def test_numerical_violation_on_correlated_data_flags_closures():
    idx = index()
    run = counted_series(n_records=5)
    pair = marginal_consistency(PairClosure(), idx, run)
    chains = [c for c in pair.checks if c.shape != "triangle"]
    assert all(max(c.max_abs.values()) < 1e-12 for c in chains)
    tri = [c for c in pair.checks if c.shape == "triangle"]
    assert max(max(c.max_abs.values()) for c in tri) > 1e-3
    mf = marginal_consistency(MeanFieldClosure(), idx, run)
    assert not mf.consistent
    # a partial closure: checks it cannot evaluate are noted, not failed
    part = marginal_consistency(SparseClosure(pattern={"L+++": {"C++": 1}}), idx, run)
    assert all("not closable" in c.note for c in part.checks)
    errs = class_errors(PairClosure(), run, idx)
    (per_class,) = errs.values()
    assert len(per_class) == 16 and all(np.isfinite(v) for v in per_class.values())


def test_larger_windows_reduce_modulo_window_relations():
    """Window n = 3 on the chain: the triplet-level Kirkwood (Bethe) closure of four-site chains is
    marginally consistent once the window classes are reduced modulo their own marginal relations
    (L++- + L-+- = L+-+ + L+--, i.e. both ends of a triplet give C+-); the pair rule is not."""
    from latticeclosure.closures.base import window_relations

    idx = index("chain", 4)
    rel = window_relations(idx, 3)
    assert len(rel) == 1
    (dep, expr), = rel.items()
    assert sympy.expand(dep - expr - (S("L++-") + S("L-+-") - S("L+-+") - S("L--+"))) == 0
    assert marginal_consistency(KirkwoodClosure(), idx).consistent
    assert not any(c.consistent for c in marginal_consistency(PairClosure(), idx).checks)
    assert window_relations(index(), 2) == {}
