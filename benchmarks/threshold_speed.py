"""Wall time of the threshold analysis of the contact process (no target in the issue; a reference).

For each closed model: the symbolic first-order limit at the absorbing state, the critical rate
(41-point scan + Newton + the 1e-9 verification), and the active branch (integration to the steady
state at the top of the range + pseudo-arclength continuation to the absorbing state). Compilation
of the closed models is done (or loaded from the disk cache) before timing and reported apart.

Usage: python benchmarks/threshold_speed.py
Last lines: ``<case>_limit_s=…``, ``<case>_critical_s=…``, ``<case>_branch_s=…``, ``<case>_critical=…``.
"""

from __future__ import annotations

import time

from latticeclosure.closedmodel import close_equations
from latticeclosure.equations import generate_equations
from latticeclosure.steady import (
    SteadyProblem,
    absorbing_states,
    continue_branch,
    critical_rate,
    integrate_to_fixed_point,
    product_state,
)
from latticeclosure.steady.absorbing import state_limit

SPEC = [{"from": "0", "to": "1", "rate": "lam_z", "catalyst": "1"}, {"from": "1", "to": "0", "rate": 1}]
CASES = [("square", 2, "pair"), ("triangular", 2, "pair"), ("square", 3, "pair")]


def main() -> None:
    figures = []
    for lattice, window, closure in CASES:
        name = f"{lattice}_w{window}_{closure}"
        eqs = generate_equations(lattice, ["0", "1"], "flip", window_size=window, flip_spec=SPEC)
        model = close_equations(eqs, closure)
        t0 = time.perf_counter()
        problem = SteadyProblem.from_model(model, {}, "lam_z")
        compile_s = time.perf_counter() - t0
        (state,) = absorbing_states(model)
        t0 = time.perf_counter()
        state_limit(model, state)
        limit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        th = critical_rate(problem, state, 0.0, 1.0)
        critical_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        fp = integrate_to_fixed_point(problem, product_state(model, {"0": 0.1, "1": 0.9}), 1.0)
        branch = continue_branch(problem, fp.state, 1.0, 0.0, 1.0, direction=-1, absorbing=[state])
        branch_s = time.perf_counter() - t0
        print(f"{name:<22} compile/load {compile_s:6.2f} s  limit {limit_s:6.3f} s  critical {critical_s:6.3f} s  "
              f"branch {branch_s:6.3f} s ({len(branch.points)} points)  critical={th.critical:.12g}")
        figures += [(f"{name}_limit_s", limit_s), (f"{name}_critical_s", critical_s), (f"{name}_branch_s", branch_s),
                    (f"{name}_critical", th.critical)]
    for key, value in figures:
        print(f"{key}={value:.6g}" if not key.endswith("_critical") else f"{key}={value:.12g}")


if __name__ == "__main__":
    main()
