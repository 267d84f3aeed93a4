"""Conservation diagnostics of closed models: the composition laws of the exact hierarchy under its
drift relations, which closures keep them, and imposing them exactly."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from closure_testdata import counted_series, index, paper_pair_equations
from latticeclosure.closedmodel import close_equations
from latticeclosure.closures import calibrate
from latticeclosure.errors import ClosureError


@pytest.fixture(scope="module")
def eqs():
    return paper_pair_equations()


@pytest.fixture(scope="module")
def fitted(eqs):
    return calibrate("power-law", counted_series(), index(), preset="hard")


def _drift_relation_rates(eqs) -> dict[str, float]:
    """Rates on the drift-relation manifold: free rates from a seed, dependent ones from the relations."""
    rng = np.random.default_rng(3)
    free = {r.symbol: float(rng.uniform(0.5, 1.5)) for r in eqs.rates}
    for rel in eqs.drift_relations:
        free.pop(rel.lhs, None)
    values = dict(free)
    for rel in eqs.drift_relations:
        values[rel.lhs] = float(rel.rhs.xreplace(free))
    return {s.name: v for s, v in values.items()}


def _composition(sol) -> np.ndarray:
    return sol["C++"] + sol["C+-"]


@pytest.mark.parametrize("closure", ["pair", "kirkwood", "mean-field"])
def test_marginally_consistent_closures_keep_the_composition(eqs, closure):
    report = close_equations(eqs, closure).conservation_report()
    assert [law.quantity for law in report.laws] == ["C+"]
    assert report.conserved and report.laws[0].drift == 0
    assert len(report.relations) == len(eqs.drift_relations) > 0


def test_a_fitted_power_law_breaks_it_and_conserve_restores_it(eqs, fitted):
    broken = close_equations(eqs, fitted)
    report = broken.conservation_report()
    assert not report.conserved and report.broken[0].quantity == "C+"
    assert "dC+/dt" in report.to_text()
    conserving = close_equations(eqs, fitted, conserve=True)
    assert conserving.conservation_report().conserved
    assert conserving.conserved_by == {"C+": "C+-"}
    rates = _drift_relation_rates(eqs)
    t = np.linspace(0, 2, 21)
    init = {"C++": 0.45, "C--": 0.05, "C+-": 0.25}
    with np.errstate(all="ignore"):
        drifting = broken.solve(t, init, rates, method="LSODA", on_failure="ignore")
        kept = conserving.solve(t, init, rates, method="LSODA", on_failure="ignore")
    assert abs(_composition(drifting)[-1] - 0.7) > 1e-3  # the broken model moves C+
    assert np.allclose(_composition(kept), 0.7, atol=1e-7)  # the conserving one keeps it


def test_flip_dynamics_has_nothing_to_conserve():
    from latticeclosure.equations import generate_equations

    sis = generate_equations("square", ["S", "I"], "flip", 2, flip_spec=[
        {"from": "S", "to": "I", "rate": "tau", "catalyst": "I"}, {"from": "I", "to": "S", "rate": "gamma"}])
    model = close_equations(sis, "pair")
    assert model.conservation_report().laws == []
    with pytest.raises(ClosureError, match="conserves no composition"):
        close_equations(sis, "pair", conserve=True)


def test_the_drift_is_reported_exactly(eqs):
    """Pair approximation with one class doubled: the reported drift equals the drift of the closed
    right-hand sides evaluated directly at a random state, with rates on the drift-relation manifold."""
    from latticeclosure.closures import PairClosure

    pa = PairClosure()
    mapping = {c.name: pa.expression(c, eqs.index) * (2 if c.name == "A+-+" else 1) for c in eqs.context_classes}
    model = close_equations(eqs, mapping)
    (law,) = model.conservation_report().laws
    assert not law.conserved
    rates = _drift_relation_rates(eqs)
    state = {"C--": 0.2, "C+-": 0.15}
    full = {"C++": 1 - state["C--"] - 2 * state["C+-"], **state}
    values = {sp.Symbol(k): v for k, v in {**rates, **full}.items()}
    direct = float(sp.N((model.full_rhs["C++"] + model.full_rhs["C+-"]).xreplace(values)))
    reported = float(sp.N(law.drift.xreplace(values)))
    assert abs(direct) > 1e-3 and reported == pytest.approx(direct, rel=1e-12)
