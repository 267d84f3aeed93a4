"""Shared helpers for the closure tests: indices, counted configurations, synthetic series."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from latticeclosure.classindex import ClassIndex
from latticeclosure.counting import ClassCounter
from latticeclosure_std.lattices import standard_lattices

SPECIES = ["+", "-"]


@lru_cache(maxsize=None)
def lattice(name: str):
    return {lat.name: lat for lat in standard_lattices()}[name]


@lru_cache(maxsize=None)
def index(name: str = "triangular", size: int = 3) -> ClassIndex:
    return ClassIndex(lattice(name), SPECIES, size)


def honeycomb_ordered(L: int = 12) -> np.ndarray:
    """x = 1/3 honeycomb order on the triangular lattice: '-' (Li) on the sublattice (i − j) mod 3 = 0."""
    i, j = np.meshgrid(range(L), range(L), indexing="ij")
    return ((i - j) % 3 == 0).astype(np.int8).reshape(-1)


def counted_series(lattice_name: str = "triangular", size: int = 3, L: int = 12, n_records: int = 6,
                   swaps: int = 8, seed: int = 1, config: np.ndarray | None = None) -> dict:
    """Concentrations of a configuration perturbed step by step (correlated, exactly consistent)."""
    idx = index(lattice_name, size)
    lat = lattice(lattice_name)
    sc = lat.supercell(L)
    counter = ClassCounter(sc, idx.shapes, SPECIES)
    rng = np.random.default_rng(seed)
    if config is None:
        config = honeycomb_ordered(L) if lattice_name == "triangular" else (rng.random(sc.n_sites) < 1 / 3).astype(np.int8)
    c = np.array(config, dtype=np.int8).copy()
    recs = []
    for _ in range(n_records):
        recs.append(counter.concentrations(c))
        for _ in range(swaps):
            a, b = rng.integers(len(c), size=2)
            c[a], c[b] = c[b], c[a]
    recs = np.array(recs)
    data = {n: recs[:, k] for k, n in enumerate(counter.class_names)}
    data["time"] = np.linspace(0.0, 1.0, n_records)
    return data


def pair_series(cplus: float, n: int = 201, r_max: float = 0.8, shape: float = 1.0) -> dict:
    """Pair and singlet series at constant composition with a nonlinear correlation path r(t)."""
    t = np.linspace(0.0, 1.0, n)
    r = r_max * (1 - np.exp(-3 * shape * t)) / (1 - np.exp(-3 * shape)) * (1 + 0.3 * np.sin(5 * t))
    r = np.clip(r, 0.0, 0.95)
    cm = 1.0 - cplus
    cpp = cplus * (cplus + cm * r)
    cpm = cplus - cpp
    cmm = cm - cpm
    return {"time": t, "C+": np.full(n, cplus), "C-": np.full(n, cm), "C++": cpp, "C+-": cpm, "C--": cmm}


def power_law_truth(series: dict, gam: dict, xi: dict) -> np.ndarray:
    out = np.ones_like(series["time"])
    for k, v in gam.items():
        out = out * series[k] ** v
    for k, v in xi.items():
        out = out / series[k] ** v
    return out


#: The paper's names of the triangular pair-window rates (eq. 5), by (chain u, w, o) and context shape.
_PAPER_RATES = {
    ((0, 1, 0), "angled"): "k1", ((0, 1, 0), "linear"): "k2",
    ((0, 0, 1), "angled"): "k3", ((0, 0, 1), "linear"): "k4",
    ((1, 0, 1), "angled"): "k5", ((1, 0, 1), "linear"): "k6",
    ((1, 1, 0), "angled"): "k7", ((1, 1, 0), "linear"): "k8",
}


def paper_rate_names(eqs) -> dict[str, str]:
    """The paper's k1…k8 → the rate names ``eqs`` uses, identified by each rate's reaction.

    Core tests use it so that they do not depend on which rate naming plugin is installed: each of
    the paper's rates is found from its chain u–w–o (u the window site that stays, w the one that
    swaps with the outside site o) and whether the chain is straight or angled.
    """
    out = {}
    for rate in eqs.rates:
        r = rate.reactions[0]
        u = 1 - r.active
        chain = (r.states[u], r.states[r.active], r.states[r.partner])
        out[_PAPER_RATES[(chain, r.context.shape.name)]] = rate.name
    return out


class PaperNaming:
    """The paper's k1…k8 as a rate naming written in the tests (core tests pass it explicitly, so they
    do not depend on the reference plugin that ships the same naming)."""

    name = "paper-names-in-tests"
    description = "k1…k8 of eq. (5), identified from each reaction"

    def applies(self, *, lattice, species, dynamics, window_size) -> bool:
        return window_size == 2 and len(species) == 2

    def rate_name(self, reaction) -> str | None:
        if reaction.kind != "outside":
            return None
        u = 1 - reaction.active
        chain = (reaction.states[u], reaction.states[reaction.active], reaction.states[reaction.partner])
        return _PAPER_RATES.get((chain, reaction.context.shape.name))


def paper_pair_equations():
    """The triangular pair-window equations with exclude_closed, rates named as in the paper."""
    from latticeclosure.equations import generate_equations

    return generate_equations("triangular", SPECIES, "swap", 2, exclude_closed=True, naming=PaperNaming())
