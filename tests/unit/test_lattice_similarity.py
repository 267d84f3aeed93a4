"""Lattices recognised by geometry (rate naming), and pair closures on the bond a pair sits on."""

from __future__ import annotations

import math

import numpy as np

from latticeclosure.classindex import ClassIndex
from latticeclosure.closures.base import geometry
from latticeclosure.equations import generate_equations
from latticeclosure.lattice import Lattice
from latticeclosure.registry import get_lattice
from latticeclosure.similarity import same_geometry

S3 = math.sqrt(3.0)


def _rates(lattice):
    eqs = generate_equations(lattice, ["+", "-"], "swap", 2, exclude_closed=True)
    return sorted(r.name for r in eqs.rates)


def test_paper_naming_applies_to_any_triangular_lattice():
    th = math.radians(23)
    rot = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    renamed = Lattice("my-layer", 2.84 * np.array([[1, 0], [0.5, S3 / 2]]) @ rot.T)
    assert same_geometry(renamed, get_lattice("triangular"))
    assert _rates(renamed) == [f"k{i}" for i in range(1, 9)]
    # same equations as the registered lattice
    a = generate_equations(renamed, ["+", "-"], "swap", 2, exclude_closed=True)
    b = generate_equations(get_lattice("triangular"), ["+", "-"], "swap", 2, exclude_closed=True)
    assert {k: str(v) for k, v in a.rhs.items()} == {k: str(v) for k, v in b.rhs.items()}


def test_other_geometries_are_not_triangular():
    tri = get_lattice("triangular")
    for name in ("square", "honeycomb", "kagome", "triangular-j1j2"):
        assert not same_geometry(get_lattice(name), tri)
    # sites of a triangular lattice but named "triangular": the dice bonds are another graph
    dice = get_lattice("dice").configure(name="triangular")
    assert not same_geometry(dice, tri)
    assert not same_geometry(get_lattice("triangular").configure(sublattices=[[1, 1], [-1, 2]]), tri)


def test_pair_closure_uses_the_kind_of_each_bond():
    lat = get_lattice("square-j1j2")
    index = ClassIndex(lat, ["+", "-"], 3)
    bent = next(s for s in index.shapes if s.name == "angled135")
    assert sorted(bent.bond_kinds) == ["J1", "J2"]
    cls = index.classes_of[bent.name][0]
    geo = geometry(cls, index)
    kinds = sorted(index.by_name[name].bond_kind for name in geo.bond_classes)
    assert kinds == ["J1", "J2"]
