"""Microscopic rates: flip-rule values, swap rate tables, the window rate constants they imply."""

from __future__ import annotations

import math

import pytest

from latticeclosure.equations import generate_equations
from latticeclosure.equations.dynamics import FlipRule, FlipSpecError
from latticeclosure.kmc import RateError, SwapRateTable, table_from_window_rates, window_rates
from latticeclosure.kmc.rates import flip_parameters, flip_rule_rates, swap_rates_from_values


def test_flip_rule_rates_evaluate_expressions_and_refuse_bad_values():
    rules = [FlipRule("S", "I", "lam/4", "I"), FlipRule("I", "S", "1/2"), FlipRule("S", "I", "a*exp(-b)")]
    assert flip_parameters(rules) == ["a", "b", "lam"]
    assert flip_rule_rates(rules, {"lam": 2.0, "a": 3.0, "b": 1.0}) == pytest.approx([0.5, 0.5, 3 * math.exp(-1)])
    with pytest.raises(RateError, match=r"no value for rate\(s\) \['b'\]"):
        flip_rule_rates(rules, {"lam": 2.0, "a": 3.0})
    with pytest.raises(RateError, match=r"unknown rate name\(s\) \['tau'\]"):
        flip_rule_rates(rules, {"lam": 2.0, "a": 3.0, "b": 1.0, "tau": 1.0})
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(RateError, match="finite and non-negative"):
            flip_rule_rates(rules, {"lam": bad, "a": 3.0, "b": 1.0})
    with pytest.raises(FlipSpecError, match="not a finite non-negative number"):
        flip_rule_rates([FlipRule("S", "I", "a - b")], {"a": 1.0, "b": 2.0})


def test_swap_rate_table_entries_orders_and_refusals():
    table = SwapRateTable.from_entries(["A", "B", "C"], {"B,A": 2.0, "A,C": 1.0, "C,B": 0.0})
    assert table.rate(0, 1) == table.rate(1, 0) == 2.0
    assert table.entries == {"A,B": 2.0, "A,C": 1.0, "B,C": 0.0}
    with pytest.raises(RateError, match=r"no swap rate for the pair\(s\) \['B,C'\]"):
        SwapRateTable.from_entries(["A", "B", "C"], {"A,B": 1, "A,C": 1})
    with pytest.raises(RateError, match="must be equal"):
        SwapRateTable.from_entries(["A", "B"], {"A,B": 1, "B,A": 2})
    with pytest.raises(RateError, match="not a pair"):
        SwapRateTable.from_entries(["A", "B"], {"A,X": 1})
    with pytest.raises(RateError, match="equal states"):
        SwapRateTable.from_entries(["A", "B"], {"A,A": 1, "A,B": 1})
    with pytest.raises(RateError, match="finite and non-negative"):
        SwapRateTable.from_entries(["A", "B"], {"A,B": -1})


def test_window_rates_of_a_table_follow_the_swapped_pair_of_every_orbit():
    eqs = generate_equations("square", ["A", "B", "C"], "swap", 2, naming=None)
    table = SwapRateTable.from_entries(["A", "B", "C"], {"A,B": 1.0, "A,C": 2.0, "B,C": 3.0})
    ks = window_rates(eqs, table)
    assert set(ks) == {r.name for r in eqs.rates}
    for rate in eqs.rates:
        (r,) = rate.reactions
        pair = {eqs.species[r.states[r.active]], eqs.species[r.states[r.partner]]}
        assert ks[rate.name] == {frozenset("AB"): 1.0, frozenset("AC"): 2.0, frozenset("BC"): 3.0}[frozenset(pair)]
    # the table is recovered from its k's, and a k vector breaking one relation is refused by name
    assert table_from_window_rates(eqs, ks).entries == table.entries
    same_pair = [n for n, v in ks.items() if v == 1.0]
    broken = dict(ks)
    broken[same_pair[1]] = 1.5
    with pytest.raises(RateError, match=rf"relation {same_pair[0]} = {same_pair[1]} must hold"):
        table_from_window_rates(eqs, broken)
    with pytest.raises(RateError, match="no value for rate"):
        table_from_window_rates(eqs, {same_pair[0]: 1.0})


def test_paper_rates_k1_to_k8_realisable_only_when_all_equal():
    """Triangular pair window with exclude_closed: every k swaps + with −, so they must all be equal."""
    eqs = generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)
    assert [r.name for r in eqs.rates] == [f"k{i}" for i in range(1, 9)]
    assert table_from_window_rates(eqs, {f"k{i}": 0.5 for i in range(1, 9)}).entries == {"+,-": 0.5}
    values = {f"k{i}": 0.5 for i in range(1, 9)}
    values["k3"] = 0.25
    with pytest.raises(RateError, match="relation k1 = k3 must hold"):
        table_from_window_rates(eqs, values)


@pytest.mark.nmc  # uses the reference model
def test_swap_rates_from_values_picks_table_window_rates_or_metropolis():
    from latticeclosure.registry import get_model

    model = get_model("nmc")
    eqs = generate_equations("triangular", ["+", "-"], "swap", 2, naming=None)
    assert isinstance(swap_rates_from_values(["+", "-"], {"+,-": 1}), SwapRateTable)
    assert swap_rates_from_values(["+", "-"], {r.name: 2 for r in eqs.rates}, equations=eqs).entries == {"+,-": 2.0}
    met = swap_rates_from_values(["+", "-"], {"temperature": 0.5}, energy=model.energy)
    assert met.temperature == 0.5 and met.attempt == 1.0
    with pytest.raises(RateError, match="need a rate table"):
        swap_rates_from_values(["+", "-"], {})
    with pytest.raises(RateError, match="need a model with an energy"):
        swap_rates_from_values(["+", "-"], {"temperature": 0.5})
    with pytest.raises(RateError, match="take only"):
        swap_rates_from_values(["+", "-"], {"temperature": 0.5, "+,-": 1}, energy=model.energy)
    with pytest.raises(RateError, match="unknown swap rate name"):
        swap_rates_from_values(["+", "-"], {"tau": 1}, equations=eqs)
