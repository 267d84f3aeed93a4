"""Event-class lists of the simulator: O(1) moves, growth that keeps the order, consistency."""

from __future__ import annotations

import numpy as np

from latticeclosure.kmc.classes import build_classes, classes_consistent, grow, has_room, move_unit


def _members(pool, offset, count, k):
    return pool[offset[k] : offset[k] + count[k]].tolist()


def test_random_moves_keep_a_partition_matching_a_reference():
    rng = np.random.default_rng(7)
    n_units, n_keys = 200, 7
    keys = rng.integers(0, n_keys, n_units)
    info, pool, offset, capacity, count = build_classes(keys, n_keys, 16)
    reference = keys.copy()
    for _ in range(5000):
        if not has_room(count, capacity, 1):
            before = [_members(pool, offset, count, k) for k in range(n_keys)]
            pool, offset, capacity = grow(pool, offset, count, 1)
            assert [_members(pool, offset, count, k) for k in range(n_keys)] == before
        u, b = int(rng.integers(n_units)), int(rng.integers(n_keys))
        if b == reference[u]:
            continue
        move_unit(u, b, info, pool, offset, count)
        reference[u] = b
        assert classes_consistent(info, pool, offset, capacity, count)
    np.testing.assert_array_equal(info[:, 0], reference)
    np.testing.assert_array_equal(count, np.bincount(reference, minlength=n_keys))
    for k in range(n_keys):
        assert sorted(_members(pool, offset, count, k)) == np.nonzero(reference == k)[0].tolist()


def test_build_keeps_unit_order_within_a_key_and_detects_corruption():
    keys = np.array([2, 0, 2, 1, 0, 2])
    info, pool, offset, capacity, count = build_classes(keys, 3, 4)
    assert _members(pool, offset, count, 2) == [0, 2, 5]
    assert _members(pool, offset, count, 0) == [1, 4]
    assert classes_consistent(info, pool, offset, capacity, count)
    info[3, 1] = 1  # unit 3 claims a position holding another unit
    assert not classes_consistent(info, pool, offset, capacity, count)


def test_has_room_needs_margin_free_slots_in_every_list():
    info, pool, offset, capacity, count = build_classes(np.zeros(10, dtype=np.int64), 2, 3)
    assert capacity.tolist() == [13, 3]
    assert has_room(count, capacity, 3) and not has_room(count, capacity, 4)
