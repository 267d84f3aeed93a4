"""Speed of the kinetic Monte Carlo: SIS events (state changes) per second on one core.

SIS on periodic square lattices (infection τ = 0.5 per infected neighbour, recovery γ = 1), started
from half the sites infected at random, after a warm-up to the endemic state; measured on the
simulator's kernel through the public process API. In the same run, EoN's ``fast_SIS`` (Gillespie-type
event-driven SIS of *Epidemics on Networks*) on the same 100×100 periodic lattice graph, with the same
rates and start, is timed over its own events. Best of several repetitions for each (other work on a
shared machine only slows a run down).

Needs the ``bench`` extra (``pip install -e '.[bench]'``) for EoN. Last lines::

    eon_events_per_second_100=…
    events_per_second_100=…
    events_per_second_1000=…
    ratio_vs_eon=…
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from latticeclosure.kmc import make_spec
from latticeclosure.kmc.run import initial_configuration, replica_seeds

TAU, GAMMA = 0.5, 1.0
SIS = {"rules": [{"from": "S", "to": "I", "rate": "tau", "catalyst": "I"}, {"from": "I", "to": "S", "rate": "gamma"}]}


def ours(side: int, events: int, repeats: int) -> float:
    spec = make_spec(lattice="square", species=["S", "I"], dynamics="flip", flip_spec=SIS,
                     rates={"tau": TAU, "gamma": GAMMA}, initial={"S": 0.5, "I": 0.5}, size=side, time=1.0,
                     max_class_size=1)
    process = spec.process()
    init, rng = replica_seeds(0, 0)
    state = process.new_state(initial_configuration([0.5, 0.5], process.n_sites, init), rng)
    process.advance(state, np.inf, 5 * process.n_sites)  # compile (cached) and reach the endemic state
    best = 0.0
    for _ in range(repeats):
        before = state.events
        t0 = time.perf_counter()
        process.advance(state, np.inf, events)
        elapsed = time.perf_counter() - t0
        best = max(best, (state.events - before) / elapsed)
    prevalence = float(process.configuration(state).mean())
    print(f"kmc {side}x{side}: {best:.3e} events/s (prevalence {prevalence:.3f})")
    return best


def eon(side: int, tmax: float, repeats: int) -> float:
    import EoN
    import networkx as nx

    graph = nx.convert_node_labels_to_integers(nx.grid_2d_graph(side, side, periodic=True))
    rng = np.random.default_rng(0)
    infected = [int(v) for v in np.nonzero(rng.random(graph.number_of_nodes()) < 0.5)[0]]
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        t, S, I = EoN.fast_SIS(graph, TAU, GAMMA, initial_infecteds=infected, tmax=tmax)
        elapsed = time.perf_counter() - t0
        best = max(best, (len(t) - 1) / elapsed)
    print(f"EoN fast_SIS {side}x{side}: {best:.3e} events/s ({len(t) - 1} events, final prevalence {I[-1] / side**2:.3f})")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=float, default=3e7, help="events per timed repetition (default 3e7)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--eon-tmax", type=float, default=20.0)
    args = parser.parse_args()
    e100 = ours(100, int(args.events), args.repeats)
    e1000 = ours(1000, int(args.events), args.repeats)
    eon100 = eon(100, args.eon_tmax, args.repeats)
    print(f"eon_events_per_second_100={eon100:.4g}")
    print(f"events_per_second_100={e100:.4g}")
    print(f"events_per_second_1000={e1000:.4g}")
    print(f"ratio_vs_eon={e100 / eon100:.4g}")


if __name__ == "__main__":
    main()
