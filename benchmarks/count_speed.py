#!/usr/bin/env python
"""Benchmark: count all pair and triplet classes on an L×L triangular configuration.

Counts the 3 pair classes and the 16 triplet classes (6 linear, 6 angled, 4 triangle) of a random
two-species configuration with :class:`latticeclosure.counting.ClassCounter` (automatic path: the
one-hot moment kernel here), with the general histogram path, and with a plain per-site numba loop
written below as the baseline. All three must give the same integer counts. Times are the best of
``--repeat`` runs after compilation, per lattice site, on one core; the full public call is timed
(validation and layout conversion included).

Usage::

    python benchmarks/count_speed.py [--size L] [--repeat N] [--seed S]

The last line printed is ``ns_per_site=<number>`` (the automatic path).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="side L of the L×L supercell (default 1024)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per method; the best counts (default 7)")
    parser.add_argument("--seed", type=int, default=12345, help="seed of the random configuration")
    args = parser.parse_args(argv)
    if args.size < 6:
        parser.error("--size must be at least 6 (the triplets need room)")
    if args.repeat < 1:
        parser.error("--repeat must be positive")
    return args


def _naive_kernel():
    """The baseline: a plain per-site numba loop, written as one would write it by hand in C.

    The configuration is copied once into a periodically padded array, so that every cluster site
    is a fixed flat offset from its anchor; then, for every site and every orientation, the loop
    reads the cluster's states, forms the pattern code and increments the count of its class.
    """
    import numba as nb

    return nb.njit(nogil=True, cache=True)(_naive_counts)


def _naive_counts(config, offsets, sizes, lookup, n_classes):
    l0, l1 = config.shape
    pad = max(-offsets.min(), offsets.max())
    p1 = l1 + 2 * pad
    padded = np.empty((l0 + 2 * pad, p1), dtype=config.dtype)
    for i in range(l0 + 2 * pad):
        src = config[(i - pad) % l0]
        padded[i, pad : pad + l1] = src
        padded[i, :pad] = src[l1 - pad :]
        padded[i, pad + l1 :] = src[:pad]
    flat = padded.ravel()
    n_or = offsets.shape[0]
    flat_off = np.zeros((n_or, 3), dtype=np.int64)
    for o in range(n_or):
        for s in range(sizes[o]):
            flat_off[o, s] = offsets[o, s, 0] * p1 + offsets[o, s, 1]
    counts = np.zeros(n_classes, dtype=np.int64)
    for i0 in range(l0):
        for i1 in range(l1):
            n = (i0 + pad) * p1 + i1 + pad
            for o in range(n_or):
                if sizes[o] == 2:
                    code = flat[n + flat_off[o, 0]] * 2 + flat[n + flat_off[o, 1]]
                else:
                    code = (flat[n + flat_off[o, 0]] * 2 + flat[n + flat_off[o, 1]]) * 2 + flat[n + flat_off[o, 2]]
                counts[lookup[o, code]] += 1
    return counts


def _naive_tables(shapes, counter):
    """Orientation offsets and a per-orientation code → global class table for the baseline."""
    n_or = sum(s.n_orientations for s in shapes)
    kmax = max(s.size for s in shapes)
    offsets = np.zeros((n_or, kmax, 2), dtype=np.int64)
    sizes = np.zeros(n_or, dtype=np.int64)
    lookup = np.zeros((n_or, 2**kmax), dtype=np.int64)
    names = counter.class_names
    row = 0
    for shape in shapes:
        classes = [c for c in counter.classes if c.shape is shape]
        for orient in shape.orientations:
            offsets[row, : shape.size] = orient[:, :2]
            sizes[row] = shape.size
            for c in classes:
                for pattern in c.patterns:
                    code = 0
                    for v in pattern:
                        code = code * 2 + v
                    lookup[row, code] = names.index(c.name)
            row += 1
    return offsets, sizes, lookup


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    from latticeclosure.clusters import ConnectedEnumerator
    from latticeclosure.counting import ClassCounter
    from latticeclosure.registry import get_lattice

    lattice = get_lattice("triangular")
    shapes = [s for s in ConnectedEnumerator().enumerate(lattice, 3) if s.size in (2, 3)]
    supercell = lattice.supercell(args.size)
    n_sites = supercell.n_sites
    rng = np.random.default_rng(args.seed)
    config = rng.integers(0, 2, size=(args.size, args.size)).astype(np.int8)

    fast = ClassCounter(supercell, shapes, ["+", "-"])
    general = ClassCounter(supercell, shapes, ["+", "-"], method="histogram")
    naive = _naive_kernel()
    tables = _naive_tables(shapes, fast)

    t0 = time.perf_counter()
    n_fast = fast.counts(config)
    n_general = general.counts(config)
    n_naive = naive(config, *tables, len(fast.classes))
    warm = time.perf_counter() - t0
    if not (np.array_equal(n_fast, n_general) and np.array_equal(n_fast, n_naive)):
        print("MISMATCH between counting paths:", n_fast, n_general, n_naive, file=sys.stderr)
        return 1
    conc = fast.concentrations(config)

    t_fast = _best(lambda: fast.counts(config), args.repeat)
    t_general = _best(lambda: general.counts(config), max(1, min(args.repeat, 3)))
    t_naive = _best(lambda: naive(config, *tables, len(fast.classes)), max(1, min(args.repeat, 3)))

    ns = lambda t: t / n_sites * 1e9  # noqa: E731
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
          f"python={platform.python_version()}")
    print(f"lattice: triangular {args.size}x{args.size} ({n_sites} sites), species + -, "
          f"{len(shapes)} shapes ({', '.join(s.name for s in shapes)}), {len(fast.classes)} classes, "
          f"{sum(s.n_orientations for s in shapes)} embeddings per site")
    print(f"counts agree on all three paths; first calls (compile or cache load): {warm:.2f} s")
    print("  " + "  ".join(f"{n}={c:.4f}" for n, c in zip(fast.class_names, conc)))
    if fast.method == "moments":
        print(f"fast path: {fast.method} ({fast._moment_plan.n_terms} distinct moment terms)")
    else:
        print(f"fast path: {fast.method}")
    print(f"{'method':<28}{'ms/call':>10}{'ns/site':>10}{'vs naive':>10}")
    for label, t in (
        (f"auto ({fast.method})", t_fast),
        ("general histogram path", t_general),
        ("naive per-site numba loop", t_naive),
    ):
        print(f"{label:<28}{t * 1e3:>10.2f}{ns(t):>10.3f}{t_naive / t:>9.1f}x")
    print(f"speed-up of the automatic path over the naive per-site loop: {t_naive / t_fast:.1f}x")
    print(f"ns_per_site={ns(t_fast):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
