"""Exactness of the simulator: its own event rates reproduce the exact (unclosed) hierarchy.

For a configuration, the expected change per unit time of a class concentration is
Σ_events rate(event) · (C_after − C_before), with the events and their rates listed from the
simulator's own class tables (after a stretch of simulation, so the incrementally maintained classes
are the ones tested) and every concentration recounted after applying each event. That must equal the
right-hand side of the generated window-n equations evaluated on the configuration's measured
concentrations — for flip dynamics with expression rates and three species, and for swaps with a rate
table, on several lattices and windows 2 and 3.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from latticeclosure.anneal.rng import seed_state
from latticeclosure.counting import ClassCounter
from latticeclosure.equations import generate_equations
from latticeclosure.kmc import SwapRateTable, make_spec, window_rates
from latticeclosure.registry import get_lattice

FLIP_SPEC = {
    "rules": [
        {"from": "S", "to": "I", "rate": "lam/4", "catalyst": "I"},
        {"from": "S", "to": "I", "rate": "eps"},
        {"from": "I", "to": "R", "rate": "gamma"},
        {"from": "R", "to": "S", "rate": "0.3"},
        {"from": "I", "to": "S", "rate": "2*nu", "catalyst": "S"},
    ]
}
FLIP_RATES = {"lam": 1.7, "eps": 0.05, "gamma": 0.6, "nu": 0.35}

# (lattice, supercell side, window size): sides large enough for size-(n+1) shapes
CASES = [
    ("chain", 12, 2), ("chain", 12, 3),
    ("square", 6, 2), ("square", 6, 3),
    ("triangular", 6, 2), ("triangular", 6, 3),
    ("honeycomb", 5, 2), ("honeycomb", 5, 3),
]


def _seed(*parts) -> int:
    return zlib.crc32("-".join(map(str, parts)).encode())


def _expected_drift(process, state, counter) -> np.ndarray:
    """Σ_events rate · ΔC over the simulator's event list (every class recounted per event)."""
    config = process.configuration(state)
    base = counter.concentrations(config)
    drift = np.zeros_like(base)
    for ev in process.events(state):
        after = config.copy()
        after[list(ev.sites)] = ev.states
        drift += ev.rate * (counter.concentrations(after) - base)
    return drift


def _check(spec, eqs, rates, n, seed):
    cell = spec.supercell()
    process = spec.process(cell)
    rng = np.random.default_rng(seed)
    config = rng.integers(0, len(spec.species), cell.n_sites)
    state = process.new_state(config, seed_state(seed))
    process.advance(state, np.inf, 3 * cell.n_sites)  # move away from the initial classes
    assert state.events == 3 * cell.n_sites
    assert process.consistent(state)
    window = ClassCounter(cell, eqs.index.shapes_of_size(n), spec.species)
    context = ClassCounter(cell, eqs.index.shapes_of_size(n + 1), spec.species)
    final = process.configuration(state)
    measured = {**window.as_dict(final), **context.as_dict(final)}
    predicted = eqs.numeric_rhs(measured, rates)
    simulated = dict(zip(window.class_names, _expected_drift(process, state, window)))
    assert set(predicted) == set(simulated)
    scale = max(1.0, max(abs(v) for v in simulated.values()))
    for name in predicted:
        assert abs(predicted[name] - simulated[name]) <= 1e-12 * scale, (name, predicted[name], simulated[name])
    return simulated


@pytest.mark.parametrize("lattice_name,side,n", CASES)
def test_flip_event_rates_reproduce_the_exact_hierarchy(lattice_name, side, n):
    species = ["S", "I", "R"]
    spec = make_spec(lattice=lattice_name, species=species, dynamics="flip", flip_spec=FLIP_SPEC,
                     rates=FLIP_RATES, initial={"S": 0.5, "I": 0.3, "R": 0.2}, size=side, time=1.0)
    eqs = generate_equations(get_lattice(lattice_name), species, "flip", n, flip_spec=FLIP_SPEC)
    assert sorted(r.name for r in eqs.rates) == sorted(FLIP_RATES)
    drift = _check(spec, eqs, FLIP_RATES, n, _seed("flip", lattice_name, n))
    assert max(abs(v) for v in drift.values()) > 1e-3  # not a trivially vanishing comparison


@pytest.mark.parametrize("lattice_name,side,n", CASES)
def test_swap_rate_table_reproduces_the_exact_hierarchy(lattice_name, side, n):
    species = ["A", "B", "C"] if n == 2 else ["A", "B"]
    entries = {"A,B": 1.3, "A,C": 0.4, "C,B": 2.1} if n == 2 else {"B,A": 0.7}
    spec = make_spec(lattice=lattice_name, species=species, dynamics="swap", rates=entries,
                     initial={s: 1 / len(species) for s in species}, size=side, time=1.0)
    eqs = generate_equations(get_lattice(lattice_name), species, "swap", n, naming=None)
    table = SwapRateTable.from_entries(species, entries)
    drift = _check(spec, eqs, window_rates(eqs, table), n, _seed("swap", lattice_name, n))
    assert max(abs(v) for v in drift.values()) > 1e-3


@pytest.mark.nmc  # uses the reference model
def test_metropolis_bond_classes_hold_the_exact_energy_changes():
    """Every bond's class (its ΔE) equals the energy change recomputed from scratch."""
    from latticeclosure.anneal.geometry import energy_shape
    from latticeclosure.counting import shape_embeddings
    from latticeclosure.registry import get_model

    model = get_model("nmc")
    spec = make_spec(lattice="triangular", species=model.species, dynamics="swap", rates={"temperature": 0.4},
                     energy=model.energy, initial={"+": 0.6, "-": 0.4}, size=6, time=1.0)
    cell = spec.supercell()
    process = spec.process(cell)
    state = process.new_state(np.random.default_rng(3).integers(0, 2, cell.n_sites), seed_state(5))
    process.advance(state, np.inf, 2000)
    assert process.consistent(state)
    emb = shape_embeddings(cell, energy_shape(cell.lattice, model.energy))
    config = process.configuration(state)
    e0 = model.energy.total(config, emb)
    seen = set()
    for b, (i, j) in enumerate(process.ends):
        key = int(state.info[b, 0])
        if config[i] == config[j]:
            assert key == 0
            continue
        swapped = config.copy()
        swapped[[i, j]] = swapped[[j, i]]
        d_units = round((model.energy.total(swapped, emb) - e0) / process.quantum)
        assert key == (1 if d_units <= 0 else 1 + d_units)
        rate = min(1.0, np.exp(-d_units * process.quantum / 0.4))
        assert process.rate[key] == pytest.approx(rate, rel=1e-14)
        seen.add(key)
    assert len(seen) >= 3  # several energy classes present
