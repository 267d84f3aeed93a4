"""Event classes: units (sites or bonds) grouped by a class key whose rate all members share.

Rejection-free kinetic Monte Carlo picks a unit with probability proportional to its rate. Units
with the same *class key* (e.g. a susceptible site with two infected neighbours) have the same rate,
so it suffices to know, per key, how many units carry it and to pick one of them uniformly: the cost
per event depends on the number of keys, never on the number of units.

Layout (numba arrays, so a run can be checkpointed and resumed bit for bit):

``info`` (n_units, 2) int32
    ``info[u] = (key, position of u in its key's member list)``;
``pool`` (P,) int32
    the member lists, key ``k`` owning ``pool[offset[k] : offset[k] + capacity[k]]`` of which the
    first ``count[k]`` entries are its members;
``offset``, ``capacity``, ``count`` (n_keys,) int64
    per key: where its list starts in ``pool``, its room, its number of members.

Moving a unit between keys is O(1): it leaves its list by swapping with the last member and joins
the end of the other. (Keys of rate 0 keep lists too: skipping them costs more in branch
mispredictions than the list operations it saves.) A kernel refuses to start events that could overflow a list (every
:data:`ROOM_CHECK` events it checks that every list has room for that many events' moves) and
returns :data:`NEEDS_ROOM`; :func:`grow` then
rebuilds the pool with more room and the kernel continues. Only the order of units *within* a list
affects which unit is picked, and growing keeps it, so the run never depends on the capacities.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["build_classes", "move_unit", "has_room", "grow", "classes_consistent", "NEEDS_ROOM", "DONE", "ROOM_CHECK"]

#: Kernel status: stopped at the time limit or after the requested number of events.
DONE = 0
#: Kernel status: some member list needs more room before the next event (call :func:`grow`).
NEEDS_ROOM = 1
#: Kernels check the room of the lists once per this many events (for that many events' moves).
ROOM_CHECK = 64


@nb.njit(cache=True)
def _layout(count, slack):
    n_keys = count.shape[0]
    capacity = np.zeros(n_keys, dtype=np.int64)
    offset = np.zeros(n_keys, dtype=np.int64)
    total = 0
    for k in range(n_keys):
        capacity[k] = count[k] + max(slack, count[k] // 4)
        offset[k] = total
        total += capacity[k]
    return offset, capacity, total


@nb.njit(cache=True)
def build_classes(keys, n_keys, slack):
    """``(info, pool, offset, capacity, count)`` for the units' keys, in unit order within each key.

    ``slack`` is the minimum free room of every list (at least the kernel's margin).
    """
    n = keys.shape[0]
    count = np.zeros(n_keys, dtype=np.int64)
    for u in range(n):
        count[keys[u]] += 1
    offset, capacity, total = _layout(count, slack)
    pool = np.full(total, -1, dtype=np.int32)
    info = np.empty((n, 2), dtype=np.int32)
    fill = np.zeros(n_keys, dtype=np.int64)
    for u in range(n):
        k = keys[u]
        p = fill[k]
        pool[offset[k] + p] = u
        info[u, 0] = k
        info[u, 1] = p
        fill[k] = p + 1
    return info, pool, offset, capacity, count


@nb.njit(cache=True, inline="always")
def move_unit(u, b, info, pool, offset, count):
    """Move unit ``u`` to key ``b`` (O(1); the caller guarantees room in ``b``'s list)."""
    a = info[u, 0]
    p = info[u, 1]
    n = count[a] - 1
    v = pool[offset[a] + n]
    pool[offset[a] + p] = v
    info[v, 1] = p
    count[a] = n
    p = count[b]
    pool[offset[b] + p] = u
    info[u, 0] = b
    info[u, 1] = p
    count[b] = p + 1


@nb.njit(cache=True, inline="always")
def has_room(count, capacity, margin) -> bool:
    """Whether every list can take ``margin`` more members."""
    for k in range(count.shape[0]):
        if count[k] + margin > capacity[k]:
            return False
    return True


@nb.njit(cache=True)
def _regrow(pool, offset, count, slack):
    new_offset, capacity, total = _layout(count, slack)
    new_pool = np.full(total, -1, dtype=np.int32)
    for k in range(count.shape[0]):
        for p in range(count[k]):
            new_pool[new_offset[k] + p] = pool[offset[k] + p]
    return new_pool, new_offset, capacity


def grow(pool: np.ndarray, offset: np.ndarray, count: np.ndarray, margin: int):
    """A new ``(pool, offset, capacity)`` with room for at least ``margin`` more members in every list.

    The order of the members of every list is kept (it decides which unit a draw picks).
    """
    return _regrow(pool, offset, count, max(int(margin), 16))


@nb.njit(cache=True)
def classes_consistent(info, pool, offset, capacity, count) -> bool:
    """Whether the arrays describe one consistent partition (used by tests and on resume)."""
    n = info.shape[0]
    n_keys = count.shape[0]
    seen = np.zeros(n_keys, dtype=np.int64)
    for u in range(n):
        k = info[u, 0]
        if k < 0 or k >= n_keys:
            return False
        seen[k] += 1
        p = info[u, 1]
        if p < 0 or p >= count[k] or pool[offset[k] + p] != u:
            return False
    for k in range(n_keys):
        if seen[k] != count[k] or count[k] > capacity[k]:
            return False
    return True
