"""Window method on lattices with bond kinds, several shells, explicit bonds and sublattices.

With unit rates, the generated right-hand side evaluated at the measured concentrations of a random
periodic configuration must equal the exact change of those concentrations under every allowed move:
every swap of two different states across a bond (of the allowed kinds), or every flip (spontaneous,
or once per neighbour across an allowed bond in the catalysing state). Only the counting code and the
lattice's bond list are used, never the generator's reactions.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from latticeclosure.counting import ClassCounter
from latticeclosure.equations import generate_equations
from latticeclosure.equations.dynamics import FlipDynamics, FlipRule, SwapDynamics
from latticeclosure.errors import GeometryError
from latticeclosure.registry import get_lattice
from latticeclosure.sublattices import sublattice_cell

SPECIES = ["+", "-"]
SIS = [FlipRule("+", "-", "tau", catalyst="-"), FlipRule("-", "+", "gamma")]


def _lattice(name):
    if name == "triangular-sqrt3":
        return sublattice_cell(get_lattice("triangular"), [[1, 1], [-1, 2]], name="triangular-sqrt3")
    return get_lattice(name)


def _supercell(lattice, shapes, start=3):
    for side in range(start, 12):
        cell = lattice.supercell(side)
        try:
            ClassCounter(cell, shapes, SPECIES)
            _ = cell.neighbours
        except GeometryError:
            continue
        return cell
    raise AssertionError("no supercell holds the shapes")  # pragma: no cover


def _moves(cell, kinds):
    """Bonded index pairs (i < j) of the supercell, across bonds of the allowed kinds."""
    lat = cell.lattice
    keys = cell.site_keys
    pairs = set()
    for i, key in enumerate(keys):
        for nb in lat.neighbours[int(key[-1])]:
            if kinds is not None and nb.kind not in kinds:
                continue
            target = key.copy()
            target[:-1] += np.asarray(nb.cell_offset)
            target[-1] = nb.basis
            j = int(cell.site_index(target)[0])
            pairs.add((min(i, j), max(i, j), nb.kind))
    return sorted({(i, j) for i, j, _ in pairs})


def _check(lattice_name, n, dynamics, kinds):
    lattice = _lattice(lattice_name)
    eqs = generate_equations(lattice, SPECIES, dynamics, n, naming=None)
    shapes_n, shapes_n1 = eqs.index.shapes_of_size(n), eqs.index.shapes_of_size(n + 1)
    cell = _supercell(lattice, shapes_n + shapes_n1)
    window = ClassCounter(cell, shapes_n, SPECIES)
    context = ClassCounter(cell, shapes_n1, SPECIES)
    rng = np.random.default_rng(zlib.crc32(f"{lattice_name}-{n}-{dynamics.name}-{kinds}".encode()))
    config = (rng.random(cell.n_sites) < 0.5).astype(np.int64)
    measured = window.as_dict(config)
    measured.update(context.as_dict(config))
    predicted = eqs.numeric_rhs(measured, 1.0)

    before = window.concentrations(config)
    change = np.zeros_like(before)
    moves = _moves(cell, kinds)
    if dynamics.name == "swap":
        for i, j in moves:
            if config[i] != config[j]:
                swapped = config.copy()
                swapped[i], swapped[j] = config[j], config[i]
                change += window.concentrations(swapped) - before
    else:
        partners = {i: [] for i in range(cell.n_sites)}
        for i, j in moves:
            partners[i].append(j)
            partners[j].append(i)
        for i in range(cell.n_sites):
            flipped = config.copy()
            flipped[i] = 1 - config[i]
            delta = window.concentrations(flipped) - before
            if config[i] == 1:  # "-" → "+" spontaneously
                change += delta
            else:  # "+" → "-" once per neighbour in "-"
                change += delta * sum(1 for j in partners[i] if config[j] == 1)
    exact = dict(zip(window.class_names, change))
    for name in window.class_names:
        assert predicted[name] == pytest.approx(exact[name], abs=1e-12), name
    assert np.abs(change).max() > 0


CASES = [
    ("rectangular", None), ("rectangular", ("x",)),
    ("square-j1j2", None), ("square-j1j2", ("J2",)),
    ("dice", None),
]


@pytest.mark.parametrize("lattice_name,kinds", CASES)
@pytest.mark.parametrize("n", [2, 3])
def test_swap_window_equals_exact_change(lattice_name, kinds, n):
    _check(lattice_name, n, SwapDynamics(bond_kinds=kinds), kinds)


@pytest.mark.parametrize("lattice_name,kinds", CASES)
@pytest.mark.parametrize("n", [2, 3])
def test_flip_window_equals_exact_change(lattice_name, kinds, n):
    _check(lattice_name, n, FlipDynamics(rules=SIS, bond_kinds=kinds), kinds)


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("dynamics", ["swap", "flip"])
def test_sublattice_resolved_triangular(n, dynamics):
    dyn = SwapDynamics() if dynamics == "swap" else FlipDynamics(rules=SIS)
    _check("triangular-sqrt3", n, dyn, None)


def test_bond_kind_restriction_changes_the_equations():
    lattice = get_lattice("square-j1j2")
    all_bonds = generate_equations(lattice, SPECIES, SwapDynamics(), 2, naming=None)
    j1_only = generate_equations(lattice, SPECIES, SwapDynamics(bond_kinds=["J1"]), 2, naming=None)
    assert len(j1_only.rates) < len(all_bonds.rates)
    # restricted to J1, no swap runs across the diagonal: the J2 pair only changes through J1 swaps
    assert all(r.reactions[0].context.shape.size == 3 for r in j1_only.rates)
