"""Generation time of window-method rate equations (issue: rate equations, part 6).

Prints, for each case, the wall time of `generate_equations` (including shape enumeration and the
symbolic conservation check), the number of window classes, context classes, rate constants and
right-hand-side terms. Targets: triangular n = 2 under 1 s, triangular n = 3 under 30 s.

Usage: python benchmarks/equations_speed.py
"""

from __future__ import annotations

import time

from latticeclosure.equations import generate_equations

CASES = [
    ("triangular", 2, True),
    ("triangular", 2, False),
    ("triangular", 3, False),
    ("square", 3, False),
    ("cubic", 3, False),
]


def main() -> None:
    print(f"{'lattice':<11} {'n':>2} {'excl':>5} {'seconds':>8} {'window':>7} {'context':>8} {'rates':>6} {'terms':>6}")
    for lattice, n, exclude in CASES:
        start = time.perf_counter()
        eqs = generate_equations(lattice, ["+", "-"], "swap", n, exclude_closed=exclude, naming=None)
        _ = eqs.conservation_laws
        seconds = time.perf_counter() - start
        terms = sum(len(t) for t in eqs.terms.values())
        print(
            f"{lattice:<11} {n:>2} {str(exclude):>5} {seconds:>8.3f} {len(eqs.window_classes):>7} "
            f"{len(eqs.context_classes):>8} {len(eqs.rates):>6} {terms:>6}"
        )


if __name__ == "__main__":
    main()
