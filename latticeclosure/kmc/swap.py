"""Swap processes: exchange of the states of two neighbouring sites (numba kernel).

The units are the bonds of the supercell. A bond's class key is

* with a **rate table**: ``kind · P + pair(s_i, s_j)``, ``pair`` the index of the unordered pair of
  its end states among the ``P = q(q+1)/2`` pairs (equal states: rate 0);
* with **Metropolis rates**: 0 for equal end states, 1 for a swap that does not raise the energy
  (rate ``attempt``), ``1 + ΔE`` for one raising it by ``ΔE > 0`` energy quanta (rate
  ``attempt · exp(−ΔE·ε/T)``). The energy must be an integer multiple of a quantum ``ε``
  (:meth:`~latticeclosure.anneal.energy.ClusterEnergy.quantised`), so ΔE is exact.

After a swap of bond (i, j) the keys of the bonds it can change are recomputed: the bonds at ``i``
and ``j`` (rate table), or every bond at a site sharing an energy cluster with ``i`` or ``j``
(Metropolis) — a fixed neighbourhood, whatever the lattice size.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..anneal.rng import next_u64, u64_to_unit
from .classes import ROOM_CHECK, has_room, move_unit
from .exponential import standard_exponential

__all__ = ["pair_keys", "bond_keys", "swap_advance", "MODE_TABLE", "MODE_ENERGY", "delta_energy_units"]

MODE_TABLE = 0
MODE_ENERGY = 1


def pair_keys(q: int) -> np.ndarray:
    """(q, q) index of the unordered pair ``{a, b}`` among the ``q(q+1)/2`` pairs."""
    out = np.zeros((q, q), dtype=np.int64)
    k = 0
    for a in range(q):
        for b in range(a, q):
            out[a, b] = out[b, a] = k
            k += 1
    return out


@nb.njit(cache=True)
def delta_energy_units(u, v, config, emb, site_emb, wcode, table):
    """Energy change (in quanta) of swapping the states of sites ``u`` and ``v``."""
    a = config[u]
    b = config[v]
    size = emb.shape[1]
    total = 0
    for side in range(2):
        x0 = u if side == 0 else v
        for c in range(site_emb.shape[1]):
            e = site_emb[x0, c]
            if e < 0:
                continue
            if side == 1:
                holds_u = False
                for p in range(size):
                    if emb[e, p] == u:
                        holds_u = True
                if holds_u:  # counted from u's side already
                    continue
            before = 0
            after = 0
            for p in range(size):
                x = emb[e, p]
                st = config[x]
                before += st * wcode[p]
                if x == u:
                    after += b * wcode[p]
                elif x == v:
                    after += a * wcode[p]
                else:
                    after += st * wcode[p]
            total += table[after] - table[before]
    return total


@nb.njit(cache=True, inline="always")
def _bond_key(bond, config, ends, mode, pair_key, bond_kind, n_pair, emb, site_emb, wcode, table, dmax):
    i = ends[bond, 0]
    j = ends[bond, 1]
    if mode == 0:
        return bond_kind[bond] * n_pair + pair_key[config[i], config[j]]
    if config[i] == config[j]:
        return 0
    d = delta_energy_units(i, j, config, emb, site_emb, wcode, table)
    if d <= 0:
        return 1
    return 1 + min(d, dmax)


@nb.njit(cache=True)
def bond_keys(config, ends, mode, pair_key, bond_kind, n_pair, emb, site_emb, wcode, table, dmax):
    """Class key of every bond, computed from scratch."""
    n = ends.shape[0]
    out = np.empty(n, dtype=np.int64)
    for b in range(n):
        out[b] = _bond_key(b, config, ends, mode, pair_key, bond_kind, n_pair, emb, site_emb, wcode, table, dmax)
    return out


@nb.njit(cache=True, inline="always")
def _rekey(bond, info, pool, offset, count, config, ends, mode, pair_key, bond_kind, n_pair, emb, site_emb,
           wcode, table, dmax):
    k = _bond_key(bond, config, ends, mode, pair_key, bond_kind, n_pair, emb, site_emb, wcode, table, dmax)
    if k != info[bond, 0]:
        move_unit(bond, k, info, pool, offset, count)


@nb.njit(cache=True)
def swap_advance(info, pool, offset, capacity, count, config, ends, site_bonds, rng, clock, counters, t_stop,
                 max_events, rate, active, margin, mode, pair_key, bond_kind, n_pair, emb, site_emb, wcode, table, dmax,
                 ke, we, fe):
    """Run swap events until the next one would happen after ``t_stop`` or ``max_events`` are done.

    Same clock convention and return status as
    :func:`~latticeclosure.kmc.flip.flip_advance`; ``margin`` bounds the bonds one swap re-keys.
    """
    s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]
    t = clock[0]
    tn = clock[1]
    n_active = active.shape[0]
    zb = site_bonds.shape[1]
    status = 0
    done = 0
    while done < max_events:
        # room for the next ROOM_CHECK events: checking every event would cost more than the events
        if done % ROOM_CHECK == 0 and not has_room(count, capacity, ROOM_CHECK * margin):
            status = 1
            break
        total = 0.0
        for a in range(n_active):
            k = active[a]
            total += count[k] * rate[k]
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
        r, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        x = u64_to_unit(r) * total
        key = -1
        last = -1
        for a in range(n_active):
            k = active[a]
            n_k = count[k]
            if n_k == 0:
                continue
            last = k
            w = n_k * rate[k]
            if x < w:
                key = k
                break
            x -= w
        if key < 0:
            key = last
            x = count[key] * rate[key] * (1.0 - 1e-16)
        n_k = count[key]
        idx = np.int64(x / rate[key])
        if idx >= n_k:
            idx = n_k - 1
        bond = pool[offset[key] + idx]
        i = ends[bond, 0]
        j = ends[bond, 1]
        si = config[i]
        config[i] = config[j]
        config[j] = si
        if mode == 0:
            for side in range(2):
                x0 = i if side == 0 else j
                for c in range(zb):
                    bb = site_bonds[x0, c]
                    if bb >= 0:
                        _rekey(bb, info, pool, offset, count, config, ends, mode, pair_key, bond_kind, n_pair,
                               emb, site_emb, wcode, table, dmax)
        else:
            for side in range(2):
                x0 = i if side == 0 else j
                for c in range(site_emb.shape[1]):
                    e = site_emb[x0, c]
                    if e < 0:
                        continue
                    for p in range(emb.shape[1]):
                        y = emb[e, p]
                        for c2 in range(zb):
                            bb = site_bonds[y, c2]
                            if bb >= 0:
                                _rekey(bb, info, pool, offset, count, config, ends, mode, pair_key, bond_kind,
                                       n_pair, emb, site_emb, wcode, table, dmax)
                for c in range(zb):  # a site in no energy cluster still has its own bonds
                    bb = site_bonds[x0, c]
                    if bb >= 0:
                        _rekey(bb, info, pool, offset, count, config, ends, mode, pair_key, bond_kind, n_pair,
                               emb, site_emb, wcode, table, dmax)
        done += 1
    rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3
    clock[0] = t
    clock[1] = tn
    counters[0] += done
    return status
