"""Lattice set-up time: symmetry group + connected-shape enumeration up to size 5 (lattices issue).

For every shipped 2D lattice a fresh copy is built from its JSON record (nothing cached), then its
space group is computed (spglib + bond filter) and all connected shapes up to size 5 are enumerated.
Prints one line per lattice and ends with ``max_seconds_2d=…`` (target: under 2 s).

Usage: python benchmarks/lattice_setup.py
"""

from __future__ import annotations

import time

from latticeclosure.clusters import ConnectedEnumerator
from latticeclosure.lattice import Lattice
from latticeclosure.registry import get_registry

MAX_SIZE = 5


def main() -> None:
    registry = get_registry()
    worst = 0.0
    figures: list[tuple[str, float]] = []
    print(f"{'lattice':<16} {'|G|':>4} {'shapes':>7} {'symmetry_s':>11} {'enumerate_s':>12} {'total_s':>8}")
    for name in registry.names("lattices"):
        shipped = registry.get("lattices", name)
        if shipped.dimension != 2:
            continue
        record = dict(shipped.to_json(), name=f"{name}-bench-{time.perf_counter_ns()}")
        start = time.perf_counter()
        lattice = Lattice.from_json(record)
        group = lattice.symmetry
        mid = time.perf_counter()
        shapes = ConnectedEnumerator().enumerate(lattice, MAX_SIZE)
        end = time.perf_counter()
        total = end - start
        worst = max(worst, total)
        figures.append((name, total))
        print(f"{name:<16} {len(group):>4} {len(shapes):>7} {mid - start:>11.4f} {end - mid:>12.4f} {total:>8.4f}")
    for name, seconds in figures:
        print(f"seconds_{name.replace('-', '_')}={seconds:.4f}")
    print(f"max_seconds_2d={worst:.4f}")


if __name__ == "__main__":
    main()
