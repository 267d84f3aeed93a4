"""Speed of the kinetic Monte Carlo: SIS events (state changes) per second on one core.

SIS on periodic square lattices (infection τ = 0.5 per infected neighbour, recovery γ = 1), started
from half the sites infected at random, after a warm-up to the endemic state; measured on the
simulator's kernel through the public process API. In the same run, EoN's ``fast_SIS`` (Gillespie-type
event-driven SIS of *Epidemics on Networks*) on the same 100×100 periodic lattice graph, with the same
rates and start, is timed over its own events. Rounds of the three timings are interleaved and the
best of each is kept (other work on a shared machine only slows a run down).

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


class Ours:
    """The simulator on a side × side lattice, warmed up to the endemic state."""

    def __init__(self, side: int) -> None:
        spec = make_spec(lattice="square", species=["S", "I"], dynamics="flip", flip_spec=SIS,
                         rates={"tau": TAU, "gamma": GAMMA}, initial={"S": 0.5, "I": 0.5}, size=side, time=1.0,
                         max_class_size=1)
        self.side = side
        self.process = spec.process()
        init, rng = replica_seeds(0, 0)
        self.state = self.process.new_state(initial_configuration([0.5, 0.5], self.process.n_sites, init), rng)
        self.process.advance(self.state, np.inf, 5 * self.process.n_sites)  # compile (cached), endemic state

    def rate(self, events: int) -> float:
        before = self.state.events
        t0 = time.perf_counter()
        self.process.advance(self.state, np.inf, events)
        return (self.state.events - before) / (time.perf_counter() - t0)


class EoNRun:
    """EoN's fast_SIS on the side × side periodic lattice graph, same rates and start."""

    def __init__(self, side: int, tmax: float) -> None:
        import networkx as nx

        self.graph = nx.convert_node_labels_to_integers(nx.grid_2d_graph(side, side, periodic=True))
        rng = np.random.default_rng(0)
        self.infected = [int(v) for v in np.nonzero(rng.random(self.graph.number_of_nodes()) < 0.5)[0]]
        self.tmax = tmax
        self.side = side

    def rate(self) -> float:
        import EoN

        t0 = time.perf_counter()
        t, S, I = EoN.fast_SIS(self.graph, TAU, GAMMA, initial_infecteds=self.infected, tmax=self.tmax)
        elapsed = time.perf_counter() - t0
        self.events, self.prevalence = len(t) - 1, I[-1] / self.side**2
        return (len(t) - 1) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=float, default=2e7, help="events per timed repetition (default 2e7)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; the best of each is kept")
    parser.add_argument("--eon-tmax", type=float, default=20.0)
    args = parser.parse_args()
    small, large, eon = Ours(100), Ours(1000), EoNRun(100, args.eon_tmax)
    best = {"100": 0.0, "1000": 0.0, "eon": 0.0}
    for _ in range(args.repeats):  # interleaved, so that load from other work hits both alike
        best["100"] = max(best["100"], small.rate(int(args.events)))
        best["eon"] = max(best["eon"], eon.rate())
        best["1000"] = max(best["1000"], large.rate(int(args.events)))
    for run in (small, large):
        prevalence = float(run.process.configuration(run.state).mean())
        print(f"kmc {run.side}x{run.side}: {best[str(run.side)]:.3e} events/s (prevalence {prevalence:.3f})")
    print(f"EoN fast_SIS 100x100: {best['eon']:.3e} events/s ({eon.events} events to t = {eon.tmax:g}, "
          f"final prevalence {eon.prevalence:.3f})")
    print(f"eon_events_per_second_100={best['eon']:.4g}")
    print(f"events_per_second_100={best['100']:.4g}")
    print(f"events_per_second_1000={best['1000']:.4g}")
    print(f"ratio_vs_eon={best['100'] / best['eon']:.4g}")


if __name__ == "__main__":
    main()
