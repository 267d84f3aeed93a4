"""Microscopic rates of the simulator: flip-rule values, swap rate tables, Metropolis rates.

Flip dynamics take their rates from the flip spec: every rule's rate is an expression of named
parameters (:class:`~latticeclosure.equations.dynamics.FlipRule`), evaluated at the given values.

Swap dynamics (Kawasaki exchange of two neighbouring sites in different states) take them from

* a **rate table** — one rate per ordered pair ``(a, b)`` of swapped states: the rate at which a bond
  whose ends hold ``a`` and ``b`` exchanges them. Bonds of today's lattices have no direction, so
  ``(a, b)`` and ``(b, a)`` name the same bond pattern and must be equal; an entry given for one order
  applies to both. The table has a bond-kind axis (one kind, "all", until lattices carry kinds).
  Rate names: ``"a,b"`` (e.g. ``"+,-"``, ``"Mn,Li"``).
* the **window rate constants** ``k1 … kN`` of the pair hierarchy: one physical swap belongs to
  several reaction orbits, so a k vector defines a microscopic process only when all k's of orbits
  that swap the same pair of states are equal; :func:`table_from_window_rates` refuses any other,
  naming the violated relation, and :func:`window_rates` gives the k's a table implies.
* **Metropolis rates** from the model's energy at a fixed temperature: a swap changing the energy by
  ΔE happens at rate ``attempt · min(1, exp(−ΔE/T))``. Rate names: ``temperature``, ``attempt``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..errors import ConfigurationError, LatticeClosureError

if TYPE_CHECKING:  # pragma: no cover
    from ..anneal.energy import ClusterEnergy
    from ..equations.dynamics import FlipRule
    from ..equations.generator import RateEquations

__all__ = [
    "RateError",
    "SwapRateTable",
    "MetropolisRates",
    "check_rate_value",
    "flip_rule_rates",
    "flip_parameters",
    "swap_rates_from_values",
    "window_rates",
    "table_from_window_rates",
    "METROPOLIS_NAMES",
]

#: Rate names that select Metropolis rates from the model's energy.
METROPOLIS_NAMES = ("temperature", "attempt")


class RateError(LatticeClosureError):
    """Rates missing, unknown, negative or not finite, or a rate table no microscopic process has."""


def check_rate_value(name: str, value: Any) -> float:
    """A rate value as a float; refuse booleans, non-numbers, negative and non-finite values."""
    if isinstance(value, bool):
        raise RateError(f"rate {name!r} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise RateError(f"rate {name!r} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise RateError(f"rate {name!r} = {value!r} must be finite and non-negative")
    return v


def _check_names(given: Mapping[str, Any], known: Sequence[str], what: str) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise RateError(f"unknown rate name(s) {unknown} for {what}; its rates are {list(known)}")
    missing = [k for k in known if k not in given]
    if missing:
        raise RateError(f"no value for rate(s) {missing} of {what}; give them with --rate NAME=VALUE")


# ---------------------------------------------------------------------------------- flip
def flip_parameters(rules: Sequence["FlipRule"]) -> list[str]:
    """The named parameters of a flip spec's rates, in natural order (``k2`` before ``k10``)."""
    import re

    names = {p for r in rules for p in r.parameters}
    return sorted(names, key=lambda n: tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)))


def flip_rule_rates(rules: Sequence["FlipRule"], values: Mapping[str, Any]) -> list[float]:
    """The numeric rate of every rule for parameter values ``values``.

    Raises
    ------
    RateError
        A parameter without a value, a value for an unknown name, a negative or non-finite value.
    FlipSpecError
        A rate expression that evaluates to a negative or non-finite number.
    """
    params = flip_parameters(rules)
    _check_names(values, params, "this flip spec")
    checked = {k: check_rate_value(k, v) for k, v in values.items()}
    return [r.rate_value(checked) for r in rules]


# ---------------------------------------------------------------------------------- swap
def _pair_name(a: str, b: str) -> str:
    return f"{a},{b}"


@dataclass(frozen=True)
class SwapRateTable:
    """Swap rates per bond kind and ordered pair of states (see the module docstring).

    Parameters
    ----------
    species : tuple of str
    rates : ndarray, shape (n_kinds, q, q)
        ``rates[k, a, b]``: exchange rate of a kind-``k`` bond holding ``a`` at one end and ``b`` at the
        other; symmetric in ``(a, b)`` (undirected bonds); the diagonal is unused (0).
    kinds : tuple of str
        Bond-kind names (``("all",)``: every bond).
    """

    species: tuple[str, ...]
    rates: np.ndarray = field(repr=False)
    kinds: tuple[str, ...] = ("all",)

    def __post_init__(self) -> None:
        q = len(self.species)
        r = np.array(self.rates, dtype=np.float64).reshape(len(self.kinds), q, q)
        if not np.all(np.isfinite(r)) or (r < 0).any():
            raise RateError("swap rates must be finite and non-negative")
        if not np.array_equal(r, np.transpose(r, (0, 2, 1))):
            k, a, b = np.argwhere(r != np.transpose(r, (0, 2, 1)))[0]
            raise RateError(
                f"swap rates {_pair_name(self.species[a], self.species[b])} = {r[k, a, b]:g} and "
                f"{_pair_name(self.species[b], self.species[a])} = {r[k, b, a]:g} differ, but bonds have no "
                "direction: both name the same exchange"
            )
        for k in range(len(self.kinds)):
            np.fill_diagonal(r[k], 0.0)
        r.setflags(write=False)
        object.__setattr__(self, "rates", r)
        object.__setattr__(self, "species", tuple(self.species))

    @classmethod
    def from_entries(cls, species: Sequence[str], entries: Mapping[str, Any]) -> "SwapRateTable":
        """Build from entries named ``"a,b"`` (one order per pair suffices).

        Raises
        ------
        RateError
            An unknown name, a pair without a rate, equal states, a bad value, or two different
            values for the two orders of one pair.
        """
        sp = list(species)
        if any("," in s for s in sp):
            raise RateError(f"swap rate names 'a,b' need species without commas, got {sp}")
        q = len(sp)
        r = np.full((1, q, q), np.nan)
        for name, value in entries.items():
            parts = str(name).split(",")
            if len(parts) != 2 or parts[0] not in sp or parts[1] not in sp:
                raise RateError(
                    f"swap rate name {name!r} is not a pair 'a,b' of species {sp} (e.g. {_pair_name(sp[0], sp[1])!r})"
                )
            a, b = sp.index(parts[0]), sp.index(parts[1])
            if a == b:
                raise RateError(f"swap rate {name!r}: swapping equal states changes nothing; give pairs of different states")
            v = check_rate_value(str(name), value)
            for x, y in ((a, b), (b, a)):
                if not np.isnan(r[0, x, y]) and r[0, x, y] != v:
                    raise RateError(
                        f"swap rates {_pair_name(sp[a], sp[b])} and {_pair_name(sp[b], sp[a])} are given as "
                        f"{r[0, x, y]:g} and {v:g}; bonds have no direction, so they must be equal"
                    )
                r[0, x, y] = v
        missing = [_pair_name(sp[a], sp[b]) for a in range(q) for b in range(a + 1, q) if np.isnan(r[0, a, b])]
        if missing:
            raise RateError(f"no swap rate for the pair(s) {missing}; give every pair with --rate a,b=RATE")
        for a in range(q):
            r[0, a, a] = 0.0
        return cls(tuple(sp), r)

    def rate(self, a: int, b: int, kind: int = 0) -> float:
        """Exchange rate of a bond holding states ``a`` and ``b`` (species indices)."""
        return float(self.rates[kind, a, b])

    @property
    def entries(self) -> dict[str, float]:
        """The table as named entries ``"a,b"`` (``a`` before ``b`` in species order)."""
        q = len(self.species)
        return {
            _pair_name(self.species[a], self.species[b]): float(self.rates[0, a, b])
            for a in range(q)
            for b in range(a + 1, q)
        }

    def to_json(self) -> dict[str, Any]:
        return {"kind": "table", "kinds": list(self.kinds), "rates": self.entries}


@dataclass(frozen=True)
class MetropolisRates:
    """Swap at rate ``attempt · min(1, exp(−ΔE / temperature))`` from a cluster energy."""

    energy: "ClusterEnergy" = field(repr=False)
    temperature: float
    attempt: float = 1.0

    def __post_init__(self) -> None:
        if not self.temperature > 0 or not math.isfinite(self.temperature):
            raise RateError(f"temperature must be positive and finite, got {self.temperature!r}")
        check_rate_value("attempt", self.attempt)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "metropolis",
            "temperature": self.temperature,
            "attempt": self.attempt,
            "energy": self.energy.to_json(),
        }


def swap_rates_from_values(
    species: Sequence[str],
    values: Mapping[str, Any],
    *,
    energy: "ClusterEnergy | None" = None,
    equations: "RateEquations | None" = None,
) -> SwapRateTable | MetropolisRates:
    """The swap rates named by ``values``: a table (``"a,b"``), window rates (``k1``…) or Metropolis.

    Parameters
    ----------
    species : sequence of str
    values : mapping
        Rate names → values: every pair ``"a,b"``; or every rate constant of ``equations`` (the pair
        hierarchy); or ``temperature`` (and optionally ``attempt``) for Metropolis rates.
    energy : ClusterEnergy, optional
        Needed for Metropolis rates.
    equations : RateEquations, optional
        The swap hierarchy whose rate constants may be given.

    Raises
    ------
    RateError
        No rates, a mix of kinds of names, unknown or missing names, bad values, a k vector no table
        realises, Metropolis without an energy.
    """
    names = set(values)
    k_names = [r.name for r in equations.rates] if equations is not None else []
    hint = (
        "give --rate a,b=RATE for every pair of species (e.g. --rate "
        f"{_pair_name(species[0], species[1])}=1), the window rate constants (--rate k1=...), or "
        "--rate temperature=T for Metropolis rates from the model's energy"
    )
    if not names:
        raise RateError(f"swap dynamics need a rate table: {hint}")
    if names & set(METROPOLIS_NAMES):
        other = sorted(names - set(METROPOLIS_NAMES))
        if other:
            raise RateError(f"Metropolis rates take only {list(METROPOLIS_NAMES)}; also given: {other}")
        if energy is None:
            raise RateError("Metropolis rates need a model with an energy (--model NAME)")
        if "temperature" not in values:
            raise RateError("Metropolis rates need --rate temperature=T")
        t = check_rate_value("temperature", values["temperature"])
        return MetropolisRates(energy, t, check_rate_value("attempt", values.get("attempt", 1.0)))
    if any("," in str(n) for n in names):
        return SwapRateTable.from_entries(species, values)
    if k_names and names & set(k_names):
        return table_from_window_rates(equations, values)
    raise RateError(f"unknown swap rate name(s) {sorted(names)}: {hint}")


def _swapped_pair(reaction: Any) -> tuple[int, int]:
    a, b = reaction.states[reaction.active], reaction.states[reaction.partner]
    return (a, b) if a <= b else (b, a)


def window_rates(equations: "RateEquations", table: SwapRateTable) -> dict[str, float]:
    """The rate constants ``k1 … kN`` of a swap hierarchy that a rate table implies.

    Every rate constant drives one reaction orbit, a swap of an active window site with a partner;
    its value is the table's exchange rate of the two states swapped.
    """
    if equations.dynamics_name != "swap":
        raise ConfigurationError("window rates of a rate table need swap equations")
    out = {}
    for rate in equations.rates:
        pairs = {_swapped_pair(r) for r in rate.reactions}
        (a, b), = pairs
        out[rate.name] = table.rate(a, b)
    return out


def table_from_window_rates(equations: "RateEquations", values: Mapping[str, Any]) -> SwapRateTable:
    """The rate table realising window rate constants, or a :class:`RateError` naming the violated relation.

    Raises
    ------
    RateError
        Missing or unknown rate names, bad values, or two rate constants that swap the same pair of
        states with different values (relation ``ki = kj``).
    """
    names = [r.name for r in equations.rates]
    _check_names(values, names, f"the window-{equations.window_size} swap hierarchy")
    sp = equations.species
    q = len(sp)
    table = np.zeros((1, q, q))
    first: dict[tuple[int, int], str] = {}
    for rate in equations.rates:
        v = check_rate_value(rate.name, values[rate.name])
        (a, b), = {_swapped_pair(r) for r in rate.reactions}
        if (a, b) in first:
            other = first[(a, b)]
            if float(values[other]) != v:
                raise RateError(
                    f"no microscopic rate table gives {other} = {float(values[other]):g} and {rate.name} = {v:g}: "
                    f"both are the rate of exchanging {sp[a]} with {sp[b]} on a bond, so the relation "
                    f"{other} = {rate.name} must hold"
                )
        else:
            first[(a, b)] = rate.name
            table[0, a, b] = table[0, b, a] = v
    missing = [(a, b) for a in range(q) for b in range(a + 1, q) if (a, b) not in first]
    if missing:  # pairs no window reaction swaps (the hierarchy cannot tell their rate)
        pairs = [_pair_name(sp[a], sp[b]) for a, b in missing]
        raise RateError(f"the window rate constants do not fix the swap rate of {pairs}; give a rate table instead")
    return SwapRateTable(tuple(sp), table)
