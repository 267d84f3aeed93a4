"""Generated rate equations against brute-force dynamics on small periodic configurations.

With unit rates the window-method right-hand side, evaluated with the *measured* concentrations of a
configuration, must equal the exact change of those concentrations under all nearest-neighbour swaps
(each swap of two different states applied, every class recounted, changes summed). This check does
not use the generator's reaction list: only the counting code and the configuration.

With random rates per reaction orbit, the right-hand side is compared against a direct count of the
reactions in the configuration, each weighted with the rate of its orbit.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from latticeclosure.counting import ClassCounter
from latticeclosure.equations import generate_equations
from latticeclosure.equations.reactions import ROLE_ACTIVE, ROLE_PARTNER, ROLE_WINDOW, orbit_key
from latticeclosure.registry import get_registry

SPECIES = ["+", "-"]

# (lattice, window size, supercell side): sides just large enough for size n+1 shapes
CASES = [
    ("chain", 1, 10), ("chain", 2, 11), ("chain", 3, 12),
    ("square", 1, 5), ("square", 2, 5), ("square", 3, 6),
    ("triangular", 1, 5), ("triangular", 2, 5), ("triangular", 3, 6),
    ("honeycomb", 1, 4), ("honeycomb", 2, 4), ("honeycomb", 3, 5),
    ("kagome", 1, 4), ("kagome", 2, 4), ("kagome", 3, 5),
    ("cubic", 1, 4), ("cubic", 2, 4), ("cubic", 3, 5),
    ("fcc", 1, 4), ("fcc", 2, 4), ("fcc", 3, 5),
]


def _lattice(name):
    return get_registry().get("lattices", name)


def _random_config(n_sites, seed, p=0.5):
    rng = np.random.default_rng(seed)
    return (rng.random(n_sites) < p).astype(np.int64)


@pytest.mark.parametrize("lattice_name,n,side", CASES)
def test_unit_rates_equal_exact_change_under_all_swaps(lattice_name, n, side):
    lattice = _lattice(lattice_name)
    eqs = generate_equations(lattice, SPECIES, "swap", n, exclude_closed=False, naming=None)
    cell = lattice.supercell(side)
    shapes_n = eqs.index.shapes_of_size(n)
    shapes_n1 = eqs.index.shapes_of_size(n + 1)
    window_counter = ClassCounter(cell, shapes_n, SPECIES)
    context_counter = ClassCounter(cell, shapes_n1, SPECIES)
    config = _random_config(cell.n_sites, seed=zlib.crc32(f"config-{lattice_name}-{n}".encode()))

    measured = window_counter.as_dict(config)
    measured.update(context_counter.as_dict(config))
    predicted = eqs.numeric_rhs(measured, 1.0)

    before = window_counter.concentrations(config)
    change = np.zeros_like(before)
    activity = np.zeros_like(before)
    for i, j in cell.bonds:
        if config[i] == config[j]:
            continue
        swapped = config.copy()
        swapped[i], swapped[j] = config[j], config[i]
        delta = window_counter.concentrations(swapped) - before
        change += delta
        activity += np.abs(delta)
    exact = dict(zip(window_counter.class_names, change))
    for name in window_counter.class_names:
        assert predicted[name] == pytest.approx(exact[name], abs=1e-12), name
    # swaps conserve singlets exactly; from pairs on the configuration must exercise the equations
    if n >= 2:
        assert activity.max() > 0


def _embedding_keys(shape, cell_index):
    """Unwrapped site keys of every embedding: (n_orientations, n_cells, size, d+1)."""
    cells = cell_index
    out = shape.orientations[:, None, :, :].repeat(len(cells), axis=1).copy()
    out[:, :, :, :-1] += cells[None, :, None, :]
    return out


@pytest.mark.parametrize(
    "lattice_name,n,side,exclude",
    [
        ("triangular", 2, 5, True), ("triangular", 2, 5, False), ("triangular", 3, 6, False),
        ("square", 2, 5, False), ("square", 3, 6, True), ("honeycomb", 2, 4, False),
        ("kagome", 2, 4, True), ("cubic", 2, 4, False), ("fcc", 2, 4, True),
    ],
)
def test_random_rates_equal_direct_per_orbit_count(lattice_name, n, side, exclude):
    lattice = _lattice(lattice_name)
    eqs = generate_equations(lattice, SPECIES, "swap", n, exclude_closed=exclude, naming=None)
    rng = np.random.default_rng(7)
    rate_values = {r.name: float(rng.uniform(0.1, 2.0)) for r in eqs.rates}
    rate_of_key = {}
    for r in eqs.rates:
        for reaction in r.reactions:
            rate_of_key[reaction.key] = rate_values[r.name]

    cell = lattice.supercell(side)
    shapes_n = eqs.index.shapes_of_size(n)
    counter = ClassCounter(cell, shapes_n + eqs.index.shapes_of_size(n + 1), SPECIES)
    config = _random_config(cell.n_sites, seed=11)
    measured = counter.as_dict(config)
    predicted = eqs.numeric_rhs(measured, rate_values)

    group = lattice.symmetry
    cells = cell.site_keys[cell.site_keys[:, -1] == 0][:, :-1]
    direct = {c.name: 0.0 for c in eqs.window_classes}
    memo = {}
    for shape in shapes_n:
        n_embeddings = shape.n_orientations * len(cells)
        for o, orient in enumerate(shape.orientations):
            window = [tuple(k) for k in orient.tolist()]
            members = set(window)
            for c_idx, origin in enumerate(cells):
                keys = orient.copy()
                keys[:, :-1] += origin
                idx = cell.site_index(keys)
                pattern = tuple(int(v) for v in config[idx])
                reactant = eqs.index.classify(keys, pattern)
                for w in range(shape.size):
                    for nb in lattice.neighbour_keys(window[w]):
                        if nb in members:
                            continue
                        if exclude and any(lattice.are_neighbours(nb, window[v]) for v in range(shape.size) if v != w):
                            continue
                        rel = np.array(nb, dtype=np.int64)
                        o_key = rel.copy()
                        o_key[:-1] += origin
                        s_o = int(config[cell.site_index(o_key[None, :])[0]])
                        if s_o == pattern[w]:
                            continue
                        memo_key = (shape.name, o, w, tuple(nb), pattern, s_o)
                        if memo_key not in memo:
                            ctx = np.vstack([orient, rel[None, :]])
                            roles = np.full(shape.size + 1, ROLE_WINDOW)
                            roles[w], roles[-1] = ROLE_ACTIVE, ROLE_PARTNER
                            states = np.array(pattern + (s_o,))
                            key = ("orbit", orbit_key(group, ctx, roles, states))
                            after = list(pattern)
                            after[w] = s_o
                            product = eqs.index.classify(orient, after)
                            memo[memo_key] = (rate_of_key.get(key, 0.0), product)
                        k, product = memo[memo_key]
                        if k == 0.0:
                            assert product.name == reactant.name
                            continue
                        direct[product.name] += k / (n_embeddings * product.multiplicity)
                        direct[reactant.name] -= k / (n_embeddings * reactant.multiplicity)
                # internal swaps
                for a, b in shape.bonds:
                    if pattern[a] == pattern[b]:
                        continue
                    memo_key = (shape.name, o, "internal", a, b, pattern)
                    if memo_key not in memo:
                        roles = np.full(shape.size, ROLE_WINDOW)
                        roles[a] = roles[b] = ROLE_ACTIVE
                        key = ("orbit", orbit_key(group, orient, roles, np.array(pattern)))
                        after = list(pattern)
                        after[a], after[b] = pattern[b], pattern[a]
                        memo[memo_key] = (rate_of_key.get(key, 0.0), eqs.index.classify(orient, after))
                    k, product = memo[memo_key]
                    if k == 0.0:
                        assert product.name == reactant.name
                        continue
                    direct[product.name] += k / (n_embeddings * product.multiplicity)
                    direct[reactant.name] -= k / (n_embeddings * reactant.multiplicity)
    for name in direct:
        assert predicted[name] == pytest.approx(direct[name], abs=1e-12), name


@pytest.mark.parametrize("lattice_name,n,side", [c for c in CASES if c[1] <= 3])
def test_conservation_laws_hold_symbolically(lattice_name, n, side):
    eqs = generate_equations(_lattice(lattice_name), SPECIES, "swap", n, naming=None)
    laws = eqs.conservation_laws  # raises if any law fails
    assert len(laws) == len(eqs.index.shapes_of_size(n))
