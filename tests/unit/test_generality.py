"""Generality regressions: settings away from the triangular two-species reference case.

Multi-basis lattices, three species, flip dynamics (SIS, a cyclic three-state model), odd supercell
shapes. Each test is fast (sympy on small hierarchies, no numba compilation).
"""

from __future__ import annotations

import types

import numpy as np
import pytest
import sympy as sp

from latticeclosure.closedmodel import close_equations
from latticeclosure.clusters import ConnectedEnumerator
from latticeclosure.counting import ClassCounter
from latticeclosure.equations import generate_equations
from latticeclosure.equations.formats import to_python
from latticeclosure.registry import get_lattice

SIS = {"rule": [{"from": "S", "to": "I", "rate": "tau", "catalyst": "I"}, {"from": "I", "to": "S", "rate": "gamma"}]}
CYCLIC = {
    "rule": [
        {"from": "R", "to": "P", "rate": "a", "catalyst": "P"},
        {"from": "P", "to": "S", "rate": "b", "catalyst": "S"},
        {"from": "S", "to": "R", "rate": "c", "catalyst": "R"},
    ]
}


def _product_measure(classes, species, p):
    return {c.name: float(np.prod([p[species.index(s)] for s in c.states])) for c in classes}


def test_kagome_three_species_pair_window_conservation():
    eqs = generate_equations("kagome", ["a", "b", "c"], "swap", window_size=2)
    laws = eqs.conservation_laws  # verified symbolically, raises otherwise
    assert len(laws) == 1
    pair = [c for c in eqs.window_classes if c.size == 2]
    assert sum(c.multiplicity for c in pair) == 9


def test_python_module_agrees_with_sympy_cyclic_flip_honeycomb():
    eqs = generate_equations("honeycomb", ["R", "P", "S"], "flip", window_size=2, flip_spec=CYCLIC)
    mod = types.ModuleType("generated")
    exec(compile(to_python(eqs), "generated", "exec"), mod.__dict__)
    rng = np.random.default_rng(0)
    C = rng.random(len(mod.VARIABLES))
    k = rng.random(len(mod.RATES))
    subs = {eqs.symbols[v]: C[i] for i, v in enumerate(mod.VARIABLES)}
    subs.update({sp.Symbol(r): k[i] for i, r in enumerate(mod.RATES)})
    ref = [float(eqs.rhs[name].xreplace(subs)) for name in mod.LHS]
    np.testing.assert_allclose(mod.rhs(C, k), ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("closure", ["pair", "kirkwood"])
def test_sis_pair_window_closed_model_conserves_and_is_exact_without_correlations(closure):
    eqs = generate_equations("square", ["S", "I"], "flip", window_size=2, flip_spec=SIS)
    full = close_equations(eqs, closure, eliminate=None)
    mult = full.multiplicities
    assert set(full.state_names) == set(mult)
    assert sp.simplify(sum(mult[name] * full.rhs[name] for name in full.state_names)) == 0
    # on a product measure the pair/Kirkwood closures are exact
    p = np.array([0.7, 0.3])
    conc = _product_measure(eqs.variables, ["S", "I"], p)
    rates = {"tau": 0.5, "gamma": 1.0}
    exact = eqs.numeric_rhs(conc, rates)
    model = close_equations(eqs, closure)
    y0 = model.initial_state({c.name: conc[c.name] for c in eqs.window_classes})
    got = model.evaluate_rhs(y0, rates)
    np.testing.assert_allclose(got, [exact[n] for n in model.state_names], atol=1e-12)


def test_honeycomb_pair_closure_three_species_exact_on_product_measure():
    species = ["a", "b", "c"]
    eqs = generate_equations("honeycomb", species, "swap", window_size=2)
    rng = np.random.default_rng(1)
    conc = _product_measure(eqs.variables, species, np.array([0.5, 0.3, 0.2]))
    rates = {r.name: float(v) for r, v in zip(eqs.rates, rng.uniform(0.5, 1.5, len(eqs.rates)))}
    exact = eqs.numeric_rhs(conc, rates)
    model = close_equations(eqs, "pair")
    got = model.evaluate_rhs(model.initial_state({c.name: conc[c.name] for c in eqs.window_classes}), rates)
    np.testing.assert_allclose(got, [exact[n] for n in model.state_names], atol=1e-12)


@pytest.mark.parametrize("lattice, cells", [("kagome", (5, 7)), ("honeycomb", (7, 5)), ("square", (5, 7))])
def test_counting_three_species_odd_supercells(lattice, cells):
    lat = get_lattice(lattice)
    shapes = ConnectedEnumerator().enumerate(lat, 3)
    sc = lat.supercell(cells)
    config = np.random.default_rng(2).integers(0, 3, len(sc.site_keys))
    results = {m: ClassCounter(sc, shapes, ["a", "b", "c"], method=m).concentrations(config) for m in ("moments", "histogram")}
    np.testing.assert_allclose(results["moments"], results["histogram"], atol=1e-12)
    counter = ClassCounter(sc, shapes, ["a", "b", "c"])
    conc = counter.as_dict(config)
    for shape in shapes:
        total = sum(c.multiplicity * conc[c.name] for c in counter.classes if c.shape is shape)
        assert total == pytest.approx(1.0, abs=1e-12), shape.name
    # singlets are the plain species fractions
    for i, s in enumerate("abc"):
        assert conc["C" + s] == pytest.approx(np.mean(config == i), abs=1e-12)
