"""Flip processes: single-site state changes, spontaneous or catalysed per neighbour (numba kernel).

A site's total rate depends only on its state ``s`` and on how many of its neighbours hold each
catalyst state *of the rules leaving s* (for SIS: a susceptible site's rate depends on its number of
infected neighbours, an infected site's on nothing). That pair is the site's class key: keys come in
one block per state,

    key = offset_s + Σ_c  w_{s,c} · n_c(neighbours),      w_{s,c} = (z_max + 1)^rank_s(c)

over the catalysts c of the rules leaving s, so a susceptible site with two infected neighbours has one
key and one rate. Per key the tables hold the total rate and, per possible target state, the
cumulative rate of the options (rules of equal target merged). When a site flips from ``s`` to ``t``
the key of a neighbour in state ``u`` changes by ``w_{u,t} − w_{u,s}`` and the site's own key is
recomputed from its neighbours: a handful of class moves per event, whatever the lattice size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numba as nb
import numpy as np

from ..anneal.rng import next_u64, u64_to_unit
from ..errors import SizeLimitError
from .classes import ROOM_CHECK, has_room, move_unit
from .exponential import standard_exponential

if TYPE_CHECKING:  # pragma: no cover
    from ..equations.dynamics import FlipRule

__all__ = ["FlipTables", "flip_tables", "flip_keys", "flip_advance", "MAX_KEYS"]

#: Largest number of class keys of a flip process (q · (z+1)^catalysts).
MAX_KEYS = 1 << 20


class FlipTables:
    """The per-key tables of a flip process on one supercell (see the module docstring).

    Attributes
    ----------
    q : int
    offset : (q,) int64
        First key of every state's block.
    weight : (q, q) int64
        ``w_{s,c}``: key weight of a neighbour in state ``c`` for a site in state ``s``.
    rate : (n_keys,) float64
        Total rate of a site with that key.
    active : (n_active,) int32
        Keys with a positive rate that some site can have, in increasing order.
    state_of : (n_keys,) int64
        State of a site with that key.
    opt_n : (n_keys,) int32
    opt_cum : (n_keys, max_options) float64
        Cumulative option rates.
    opt_target : (n_keys, max_options) int8
        Target state of every option.
    dkey : (q, q, q) int64
        ``dkey[u, s, t]``: key change of a neighbour in state ``u`` when a site flips from ``s`` to ``t``.
    """

    def __init__(self, q, offset, weight, rate, active, state_of, opt_n, opt_cum, opt_target, dkey):
        self.q = q
        self.state_of = state_of
        self.offset = offset
        self.weight = weight
        self.rate = rate
        self.active = active
        self.opt_n = opt_n
        self.opt_cum = opt_cum
        self.opt_target = opt_target
        self.dkey = dkey

    @property
    def n_keys(self) -> int:
        return int(self.rate.shape[0])


def flip_tables(rules: Sequence["FlipRule"], rule_rates: Sequence[float], species: Sequence[str], z_max: int) -> FlipTables:
    """Tabulate the rates of every class key.

    Parameters
    ----------
    rules : sequence of FlipRule
    rule_rates : sequence of float
        The numeric rate of every rule (per catalysing neighbour for catalysed rules).
    species : sequence of str
    z_max : int
        Largest coordination number of the lattice.

    Raises
    ------
    SizeLimitError
        If the number of keys exceeds :data:`MAX_KEYS`.
    """
    sp = list(species)
    q = len(sp)
    base = z_max + 1
    src = [sp.index(r.source) for r in rules]
    tgt = [sp.index(r.target) for r in rules]
    cat = [-1 if r.catalyst is None else sp.index(r.catalyst) for r in rules]
    rr = [float(v) for v in rule_rates]
    relevant = [sorted({cat[j] for j in range(len(rules)) if src[j] == s and cat[j] >= 0}) for s in range(q)]
    weight = np.zeros((q, q), dtype=np.int64)
    block = []
    for s in range(q):
        for rank, c in enumerate(relevant[s]):
            weight[s, c] = base**rank
        block.append(base ** len(relevant[s]))
    n_keys = int(sum(block))
    if n_keys > MAX_KEYS:
        raise SizeLimitError(
            f"the flip spec's catalysts on a lattice of coordination {z_max} give {n_keys} site classes, "
            f"more than the simulator's limit {MAX_KEYS}"
        )
    offset = np.concatenate([[0], np.cumsum(block)[:-1]]).astype(np.int64)

    rate = np.zeros(n_keys)
    opt_rates = np.zeros((n_keys, q))
    reachable = np.zeros(n_keys, dtype=bool)
    for s in range(q):
        for mixed in range(block[s]):
            key = int(offset[s]) + mixed
            counts = {c: (mixed // base**rank) % base for rank, c in enumerate(relevant[s])}
            reachable[key] = sum(counts.values()) <= z_max
            for j in range(len(rules)):
                if src[j] == s:
                    opt_rates[key, tgt[j]] += rr[j] if cat[j] < 0 else rr[j] * counts[cat[j]]
            rate[key] = opt_rates[key].sum()
    max_opt = max(1, int((opt_rates > 0).sum(axis=1).max()))
    opt_n = np.zeros(n_keys, dtype=np.int32)
    opt_cum = np.zeros((n_keys, max_opt))
    opt_target = np.zeros((n_keys, max_opt), dtype=np.int8)
    for key in range(n_keys):
        acc, k = 0.0, 0
        for t in range(q):
            if opt_rates[key, t] > 0:
                acc += opt_rates[key, t]
                opt_cum[key, k] = acc
                opt_target[key, k] = t
                k += 1
        opt_n[key] = k
    # keys no site can have keep no member list: their rate is irrelevant
    rate[~reachable] = 0.0
    active = np.nonzero(rate > 0)[0].astype(np.int32)
    state_of = np.repeat(np.arange(q, dtype=np.int64), block)
    dkey = (weight[:, None, :] - weight[:, :, None]).astype(np.int64)
    return FlipTables(q, offset, weight, rate, active, state_of, opt_n, opt_cum, opt_target, dkey)


@nb.njit(cache=True)
def flip_keys(config, nbr, offset, weight):
    """Class key of every site, computed from scratch."""
    n, z = nbr.shape
    keys = np.empty(n, dtype=np.int64)
    for i in range(n):
        s = config[i]
        m = offset[s]
        for c in range(z):
            j = nbr[i, c]
            if j >= 0:
                m += weight[s, config[j]]
        keys[i] = m
    return keys


@nb.njit(cache=True)
def flip_advance(info, pool, offset, capacity, count, rng, clock, counters, t_stop, max_events,
                 rate, active, state_of, opt_n, opt_cum, opt_target, offset_of_state, weight, dkey, ke, we, fe):
    """Run events until the next one would happen after ``t_stop`` or ``max_events`` are done.

    ``info[u] = (key, list position, neighbour 1, …, neighbour z)`` (−1 pads the neighbours of
    sites of smaller coordination): one row per site, so a site's class and neighbours share a cache
    line. The site states live in the keys (``state_of[key]``). ``clock = [time of the last event, time of
    the pending next event or −1]``; the pending time is kept across calls, so the sequence of states
    does not depend on where a run is cut into calls. ``counters[0]`` counts events.

    Returns
    -------
    int
        :data:`~latticeclosure.kmc.classes.DONE`, or ``NEEDS_ROOM`` when a member list must grow
        before the next event (nothing of that event has been drawn yet).
    """
    s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]
    t = clock[0]
    tn = clock[1]
    n_active = active.shape[0]
    z = info.shape[1] - 2
    margin = z + 1
    status = 0
    done = 0
    rate_a = np.empty(n_active)  # the active keys' rates, contiguous
    for a in range(n_active):
        rate_a[a] = rate[active[a]]
    w = np.empty(n_active)
    while done < max_events:
        # room for the next ROOM_CHECK events: checking every event would cost more than the events
        if done % ROOM_CHECK == 0 and not has_room(count, capacity, ROOM_CHECK * margin):
            status = 1
            break
        total = 0.0
        for a in range(n_active):
            w[a] = count[active[a]] * rate_a[a]
            total += w[a]
        if tn < 0.0:
            if total <= 0.0:
                tn = np.inf
            else:
                e, s0, s1, s2, s3 = standard_exponential(s0, s1, s2, s3, ke, we, fe)
                tn = t + e / total
        if tn > t_stop:
            break
        t = tn
        tn = -1.0
        # one draw picks the class, the site within it and the option
        r, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        x = u64_to_unit(r) * total
        key = -1
        last = -1
        for a in range(n_active):
            if w[a] == 0.0:
                continue
            last = a
            if x < w[a]:
                key = a
                break
            x -= w[a]
        if key < 0:  # rounding pushed x past the last class
            key = last
            x = w[key] * (1.0 - 1e-16)
        rk = rate_a[key]
        key = active[key]
        n_k = count[key]
        idx = np.int64(x / rk)
        if idx >= n_k:
            idx = n_k - 1
        resid = x - idx * rk
        i = pool[offset[key] + idx]
        o = 0
        while o < opt_n[key] - 1 and resid >= opt_cum[key, o]:
            o += 1
        new = opt_target[key, o]
        old = state_of[key]
        m = offset_of_state[new]
        for c in range(z):
            j = info[i, 2 + c]
            if j >= 0:
                kj = info[j, 0]
                u = state_of[kj]
                m += weight[new, u]
                d = dkey[u, old, new]
                if d != 0:
                    move_unit(j, kj + d, info, pool, offset, count)
        move_unit(i, m, info, pool, offset, count)
        done += 1
    rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3
    clock[0] = t
    clock[1] = tn
    counters[0] += done
    return status
