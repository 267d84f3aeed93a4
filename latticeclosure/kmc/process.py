"""A microscopic process on one supercell: its tables, its state, and stepping it.

:class:`FlipProcess` and :class:`SwapProcess` compile a process (flip rules with their rates, or swap
rates) onto a periodic :class:`~latticeclosure.supercell.Supercell` once; :class:`KMCState` holds
everything that changes during a run (class lists, configuration, random state, clock, event count),
so many independent runs of one process share the tables, and a state can be packed into plain arrays
and restored exactly.

``process.events(state)`` lists every possible event with its rate, read from the simulator's own
class tables — the basis of the exactness tests (expected change per unit time of any observable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from ..errors import ConfigurationError, DataError
from .classes import NEEDS_ROOM, ROOM_CHECK, build_classes, classes_consistent, grow
from .exponential import ZIGGURAT
from .flip import flip_advance, flip_keys, flip_tables
from .rates import MetropolisRates, RateError, SwapRateTable
from .swap import MODE_ENERGY, MODE_TABLE, bond_keys, pair_keys, swap_advance

if TYPE_CHECKING:  # pragma: no cover
    from ..equations.dynamics import FlipRule
    from ..supercell import Supercell

__all__ = ["KMCState", "FlipProcess", "SwapProcess", "Event"]

#: Minimum free room of every class list.
_SLACK = 16


@dataclass
class KMCState:
    """Everything that changes during a run.

    Attributes
    ----------
    info, pool, offset, capacity, count
        The class lists (see :mod:`latticeclosure.kmc.classes`); for flips ``info`` also holds the
        neighbour table.
    config : ndarray of int8 or None
        The configuration (swap processes; flip processes keep the states in the keys).
    rng : (4,) uint64
        xoshiro256** state.
    clock : (2,) float64
        Time of the last event, time of the pending next event (−1: none drawn).
    counters : (1,) int64
        Events done.
    """

    info: np.ndarray
    pool: np.ndarray
    offset: np.ndarray
    capacity: np.ndarray
    count: np.ndarray
    config: np.ndarray | None
    rng: np.ndarray
    clock: np.ndarray
    counters: np.ndarray

    @property
    def events(self) -> int:
        return int(self.counters[0])

    @property
    def time_of_last_event(self) -> float:
        return float(self.clock[0])


@dataclass(frozen=True)
class Event:
    """One possible event: the sites it changes, their new states, its rate."""

    sites: tuple[int, ...]
    states: tuple[int, ...]
    rate: float


class _Process:
    """Shared stepping, packing and checking of the processes."""

    n_keys: int
    rate: np.ndarray

    def _keys(self, config: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _new_state(self, keys: np.ndarray, config: np.ndarray, rng: np.ndarray) -> KMCState:
        info, pool, offset, capacity, count = build_classes(keys, self.n_keys, max(_SLACK, 2 * ROOM_CHECK * self.margin))
        return KMCState(info, pool, offset, capacity, count, None, np.array(rng, dtype=np.uint64).copy(),
                        np.array([0.0, -1.0]), np.zeros(1, dtype=np.int64))

    def advance(self, state: KMCState, t_stop: float, max_events: int) -> bool:
        """Run up to ``max_events`` events with times ≤ ``t_stop``; return whether ``t_stop`` was reached."""
        before = state.events
        while True:
            status = self._kernel(state, float(t_stop), int(max_events) - (state.events - before))
            if status == NEEDS_ROOM:
                state.pool, state.offset, state.capacity = grow(state.pool, state.offset, state.count,
                                                                2 * ROOM_CHECK * self.margin)
                continue
            break
        return bool(state.clock[1] > t_stop)

    def consistent(self, state: KMCState) -> bool:
        """Whether the class lists are consistent and every key equals the one computed from scratch."""
        ok = classes_consistent(state.info[:, :2].copy(), state.pool, state.offset, state.capacity, state.count)
        return bool(ok) and np.array_equal(self._keys(self.configuration(state)), state.info[:, 0])

    def pack(self, state: KMCState) -> dict[str, np.ndarray]:
        """The state as plain arrays (member lists in key order; capacities are not part of a run)."""
        members = np.concatenate(
            [state.pool[state.offset[k] : state.offset[k] + state.count[k]] for k in range(self.n_keys)]
        ).astype(np.int32)
        return {
            "configuration": self.configuration(state),
            "members": members,
            "count": state.count.copy(),
            "rng": state.rng.copy(),
            "clock": state.clock.copy(),
            "counters": state.counters.copy(),
        }

    def unpack(self, arrays: Mapping[str, np.ndarray]) -> KMCState:
        """Rebuild a state written by :meth:`pack`.

        Raises
        ------
        DataError
            If the arrays do not describe a consistent state of this process.
        """
        try:
            config = np.asarray(arrays["configuration"], dtype=np.int8)
            members = np.asarray(arrays["members"], dtype=np.int64)
            count = np.asarray(arrays["count"], dtype=np.int64)
            rng = np.asarray(arrays["rng"], dtype=np.uint64)
            clock = np.asarray(arrays["clock"], dtype=np.float64)
            counters = np.asarray(arrays["counters"], dtype=np.int64)
        except (KeyError, ValueError, TypeError) as exc:
            raise DataError(f"checkpoint lacks or garbles the simulator state ({exc})") from None
        if count.shape != (self.n_keys,) or members.shape != (self.n_units,) or config.shape != (self.n_sites,) \
                or rng.shape != (4,) or clock.shape != (2,) or counters.shape != (1,) or count.sum() != self.n_units:
            raise DataError("checkpoint state does not fit this simulation (lattice size or process differ)")
        keys = np.repeat(np.arange(self.n_keys), count)
        if np.unique(members).size != self.n_units or members.min() < 0 or members.max() >= self.n_units:
            raise DataError("checkpoint state is inconsistent (its class lists are not a partition of the units)")
        unit_keys = np.empty(self.n_units, dtype=np.int64)
        unit_keys[members] = keys
        state = self._new_state_ordered(unit_keys, members, config, rng)
        state.clock[:] = clock
        state.counters[:] = counters
        if not self.consistent(state):
            raise DataError("checkpoint state is inconsistent (its configuration does not match its event classes)")
        return state

    def _new_state_ordered(self, unit_keys, members, config, rng) -> KMCState:
        """A state whose lists hold the units in the order given by ``members`` (key-major)."""
        # build_classes keeps unit order within a key: relabel units by their rank in ``members``
        state = self._new_state(unit_keys, config, rng)
        pos = 0
        for k in range(self.n_keys):
            n = int(state.count[k])
            lst = members[pos : pos + n]
            state.pool[state.offset[k] : state.offset[k] + n] = lst
            state.info[lst, 1] = np.arange(n, dtype=np.int32)
            pos += n
        return state

    def total_rate(self, state: KMCState) -> float:
        """Sum of the rates of all possible events."""
        return float(np.dot(state.count, self.rate))


class FlipProcess(_Process):
    """Flip rules with numeric rates compiled onto a supercell.

    Parameters
    ----------
    supercell : Supercell
    species : sequence of str
    rules : sequence of FlipRule
    rule_rates : sequence of float
        Numeric rate of every rule (see :func:`latticeclosure.kmc.rates.flip_rule_rates`).
    """

    kind = "flip"

    def __init__(self, supercell: "Supercell", species: Sequence[str], rules: Sequence["FlipRule"],
                 rule_rates: Sequence[float]) -> None:
        self.supercell = supercell
        self.species = tuple(species)
        self.rules = tuple(rules)
        self.rule_rates = tuple(float(r) for r in rule_rates)
        self.nbr = np.ascontiguousarray(supercell.neighbours, dtype=np.int32)
        self.tables = flip_tables(self.rules, self.rule_rates, self.species, int(self.nbr.shape[1]))
        self.n_keys = self.tables.n_keys
        self.rate = self.tables.rate
        self.margin = int(self.nbr.shape[1]) + 1
        self.n_sites = self.n_units = supercell.n_sites

    def _keys(self, config: np.ndarray) -> np.ndarray:
        return flip_keys(np.asarray(config, dtype=np.int8), self.nbr, self.tables.offset, self.tables.weight)

    def new_state(self, config: np.ndarray, rng: np.ndarray) -> KMCState:
        """A state at time 0 with configuration ``config`` and xoshiro state ``rng``."""
        config = self.supercell.validate_configuration(config, len(self.species)).astype(np.int8)
        return self._new_state(self._keys(config), config, rng)

    def _new_state(self, keys, config, rng) -> KMCState:
        state = super()._new_state(keys, config, rng)
        state.info = np.ascontiguousarray(np.concatenate([state.info, self.nbr], axis=1), dtype=np.int32)
        return state

    def _kernel(self, state: KMCState, t_stop: float, max_events: int) -> int:
        tb = self.tables
        return flip_advance(state.info, state.pool, state.offset, state.capacity, state.count, state.rng,
                            state.clock, state.counters, t_stop, max_events, tb.rate, tb.active, tb.state_of,
                            tb.opt_n, tb.opt_cum, tb.opt_target, tb.offset, tb.weight, tb.dkey, *ZIGGURAT)

    def configuration(self, state: KMCState) -> np.ndarray:
        """The current configuration (int8 species indices)."""
        return self.tables.state_of[state.info[:, 0]].astype(np.int8)

    def events(self, state: KMCState) -> list[Event]:
        """Every possible flip with its rate, from the class tables (site key → options)."""
        tb = self.tables
        out = []
        for i in range(self.n_sites):
            k = int(state.info[i, 0])
            prev = 0.0
            for o in range(int(tb.opt_n[k])):
                cum = float(tb.opt_cum[k, o])
                out.append(Event((i,), (int(tb.opt_target[k, o]),), cum - prev))
                prev = cum
        return out


class SwapProcess(_Process):
    """Swap rates (a rate table or Metropolis rates) compiled onto a supercell.

    Parameters
    ----------
    supercell : Supercell
    species : sequence of str
    rates : SwapRateTable or MetropolisRates
    """

    kind = "swap"

    def __init__(self, supercell: "Supercell", species: Sequence[str], rates: SwapRateTable | MetropolisRates) -> None:
        from ..counting import shape_embeddings

        self.supercell = supercell
        self.species = tuple(species)
        self.rates = rates
        q = len(self.species)
        self.ends = np.ascontiguousarray(supercell.bonds, dtype=np.int32)
        self.n_sites = supercell.n_sites
        self.n_units = len(self.ends)
        nbr = supercell.neighbours
        zb = nbr.shape[1]
        site_bonds = np.full((self.n_sites, zb), -1, dtype=np.int32)
        fill = np.zeros(self.n_sites, dtype=np.int64)
        for b, (i, j) in enumerate(self.ends):
            for x in (i, j):
                site_bonds[x, fill[x]] = b
                fill[x] += 1
        self.site_bonds = site_bonds
        self.pair_key = pair_keys(q)
        self.n_pair = q * (q + 1) // 2
        self.bond_kind = np.zeros(self.n_units, dtype=np.int64)
        if isinstance(rates, SwapRateTable):
            if rates.species != self.species:
                raise RateError(f"swap rate table species {list(rates.species)} differ from {list(self.species)}")
            self.mode = MODE_TABLE
            n_kinds = len(rates.kinds)
            self.n_keys = n_kinds * self.n_pair
            rate = np.zeros(self.n_keys)
            for kind in range(n_kinds):
                for a in range(q):
                    for b in range(a, q):
                        rate[kind * self.n_pair + self.pair_key[a, b]] = rates.rate(a, b, kind) if a != b else 0.0
            self.rate = rate
            self.margin = 2 * zb
            self.emb = np.zeros((1, 1), dtype=np.int32)
            self.site_emb = np.full((1, 1), -1, dtype=np.int32)
            self.wcode = np.zeros(1, dtype=np.int64)
            self.table = np.zeros(1, dtype=np.int64)
            self.dmax = 0
        elif isinstance(rates, MetropolisRates):
            from ..anneal.geometry import energy_shape

            energy = rates.energy
            if tuple(energy.species) != self.species:
                raise RateError(f"energy species {list(energy.species)} differ from {list(self.species)}")
            quant = energy.quantised()
            if quant is None:
                raise RateError(
                    "Metropolis swap rates need an energy table whose values are integer multiples of one "
                    "quantum (e.g. 1/4); this table is not"
                )
            table, quantum = quant
            self.mode = MODE_ENERGY
            emb = shape_embeddings(supercell, energy_shape(supercell.lattice, energy)).astype(np.int32)
            per_site = np.bincount(emb.ravel(), minlength=self.n_sites)
            e_max = int(per_site.max())
            site_emb = np.full((self.n_sites, e_max), -1, dtype=np.int32)
            fill = np.zeros(self.n_sites, dtype=np.int64)
            for e, row in enumerate(emb):
                for x in row:
                    site_emb[x, fill[x]] = e
                    fill[x] += 1
            self.emb, self.site_emb = emb, site_emb
            self.wcode = (q ** np.arange(energy.size - 1, -1, -1)).astype(np.int64)
            self.table = np.ascontiguousarray(table, dtype=np.int64)
            # a swap changes at most the 2·e_max clusters at its two sites, each by at most max − min
            self.dmax = int(2 * e_max * (self.table.max() - self.table.min()))
            self.n_keys = 2 + self.dmax
            d = np.arange(self.n_keys) - 1.0
            self.rate = rates.attempt * np.exp(-np.maximum(d, 0.0) * quantum / rates.temperature)
            self.rate[0] = 0.0
            self.quantum = quantum
            self.margin = int(2 * e_max * energy.size * zb + 2 * zb)
        else:
            raise ConfigurationError(f"swap rates must be a SwapRateTable or MetropolisRates, got {type(rates).__name__}")
        self.active = np.nonzero(self.rate > 0)[0].astype(np.int32)

    def _keys(self, config: np.ndarray) -> np.ndarray:
        return bond_keys(np.asarray(config, dtype=np.int8), self.ends, self.mode, self.pair_key, self.bond_kind,
                         self.n_pair, self.emb, self.site_emb, self.wcode, self.table, self.dmax)

    def new_state(self, config: np.ndarray, rng: np.ndarray) -> KMCState:
        """A state at time 0 with configuration ``config`` and xoshiro state ``rng``."""
        config = self.supercell.validate_configuration(config, len(self.species)).astype(np.int8)
        return self._new_state(self._keys(config), config, rng)

    def _new_state(self, keys, config, rng) -> KMCState:
        state = super()._new_state(keys, config, rng)
        state.config = np.array(config, dtype=np.int8).copy()
        return state

    def _kernel(self, state: KMCState, t_stop: float, max_events: int) -> int:
        return swap_advance(state.info, state.pool, state.offset, state.capacity, state.count, state.config,
                            self.ends, self.site_bonds, state.rng, state.clock, state.counters, t_stop, max_events,
                            self.rate, self.active, self.margin, self.mode, self.pair_key, self.bond_kind,
                            self.n_pair, self.emb, self.site_emb, self.wcode, self.table, self.dmax, *ZIGGURAT)

    def configuration(self, state: KMCState) -> np.ndarray:
        """The current configuration (int8 species indices)."""
        return state.config.copy()

    def events(self, state: KMCState) -> list[Event]:
        """Every possible swap with its rate, from the bond classes."""
        out = []
        config = state.config
        for b in range(self.n_units):
            r = float(self.rate[state.info[b, 0]])
            if r > 0:
                i, j = (int(v) for v in self.ends[b])
                out.append(Event((i, j), (int(config[j]), int(config[i])), r))
        return out
