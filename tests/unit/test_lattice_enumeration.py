"""Shape counts on lattices with several bond shells and on bcc, against published counts and an
independent brute force.

The brute force knows nothing of the package's bonds, groups or enumerators: it builds the lattice
points in Cartesian coordinates, finds the neighbour vectors from distances, grows every connected
site set containing the origin with networkx, and identifies sets up to translation (fixed animals)
and up to an explicitly written point group (free animals, i.e. shapes).

Published counts used (OEIS, https://oeis.org):

* square lattice with first and second neighbours (king's graph) = polyplets / polykings:
  fixed A006770 (1, 4, 20, 110, 638), free A030222 (1, 2, 5, 22, 94);
* triangular lattice, nearest neighbours = fixed polyhexes A001207 (1, 3, 11, 44, 186) and simple
  cubic = fixed polycubes A001931 (1, 3, 15, 86, 534) — these check the brute force itself.

For the triangular lattice with two shells and for bcc no published table was at hand; besides the
brute force, the first sizes follow from counting: z/2 pairs per site, and C(z, 2) − 2T connected
triples per site with T triangles per site (bcc: z = 8, bipartite, 28; triangular J1–J2: z = 12,
T = 2 + 6 + 2 = 10 per site (unit J1 triangles, J1–J1–J2 triangles counted at their 120° corner,
equilateral J2 triangles), 66 − 20 = 46).
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np

from latticeclosure.clusters import ConnectedEnumerator
from latticeclosure.registry import get_lattice

S3 = math.sqrt(3.0)


def _neighbour_offsets(vectors, n_shells):
    """Integer cell offsets of the first ``n_shells`` distance shells (a 1-site Bravais lattice)."""
    vec = np.asarray(vectors, dtype=float)
    cells = np.array(list(itertools.product(range(-3, 4), repeat=len(vec))))
    dist = np.linalg.norm(cells @ vec, axis=1)
    shells = sorted({round(x, 6) for x in dist if x > 1e-9})[:n_shells]
    return [tuple(int(v) for v in c) for c, x in zip(cells, dist) if round(x, 6) in shells]


def _brute_force(vectors, n_shells, max_size, point_group):
    """Fixed animals per site and free animals (up to ``point_group``) of sizes 1..max_size.

    Sites are integer cell coordinates (exact); Cartesian coordinates only for the point group.
    """
    vec = np.asarray(vectors, dtype=float)
    offsets = _neighbour_offsets(vectors, n_shells)
    origin = (0,) * len(vec)
    frontier = {frozenset([origin])}
    fixed, free = [], []
    for size in range(1, max_size + 1):
        if size > 1:
            grown = set()
            for cluster in frontier:
                for site in cluster:
                    for off in offsets:
                        new = tuple(a + b for a, b in zip(site, off))
                        if new not in cluster:
                            grown.add(cluster | {new})
            frontier = grown
        # every set is connected by construction; networkx confirms it on a sample
        for cluster in itertools.islice(frontier, 50):
            sub = nx.Graph()
            sub.add_nodes_from(cluster)
            sub.add_edges_from(
                (a, b) for a in cluster for b in cluster if tuple(y - x for x, y in zip(a, b)) in offsets
            )
            assert nx.is_connected(sub)
        translation_classes = {_integer_normal(c) for c in frontier}
        fixed.append(len(translation_classes))
        free.append(len({min(_normal(np.array(c) @ vec @ g.T) for g in point_group) for c in translation_classes}))
    return fixed, free


def _integer_normal(cluster):
    pts = sorted(cluster)
    return tuple(tuple(a - b for a, b in zip(p, pts[0])) for p in pts)


def _normal(points):
    """Cartesian point set up to translation: sorted, first point at the origin (rounded once)."""
    pts = np.asarray(points, dtype=float)
    order = np.lexsort(np.round(pts, 4).T[::-1])
    pts = pts[order] - pts[order[0]]
    return tuple(map(tuple, np.round(pts, 4) + 0.0))


def _square_group():
    return [np.array(m) * s for m in ([[1, 0], [0, 1]], [[0, 1], [1, 0]])
            for s in (np.array([1, 1]), np.array([1, -1]), np.array([-1, 1]), np.array([-1, -1]))]


def _hexagonal_group():
    ops = []
    for k in range(6):
        c, s = math.cos(k * math.pi / 3), math.sin(k * math.pi / 3)
        rot = np.array([[c, -s], [s, c]])
        ops += [rot, rot @ np.diag([1.0, -1.0])]
    return ops


def _cubic_group():
    ops = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            m = np.zeros((3, 3))
            for i, j in enumerate(perm):
                m[i, j] = signs[i]
            ops.append(m)
    return ops


def _package_counts(lattice, max_size):
    shapes = ConnectedEnumerator().enumerate(lattice, max_size)
    fixed = [int(round(sum(s.embeddings_per_site for s in shapes if s.size == k))) for k in range(1, max_size + 1)]
    free = [sum(1 for s in shapes if s.size == k) for k in range(1, max_size + 1)]
    return fixed, free


SQUARE = [[1.0, 0.0], [0.0, 1.0]]
TRIANGULAR = [[1.0, 0.0], [0.5, S3 / 2]]
BCC = [[-1 / S3, 1 / S3, 1 / S3], [1 / S3, -1 / S3, 1 / S3], [1 / S3, 1 / S3, -1 / S3]]


def test_brute_force_reproduces_published_polyhex_and_polycube_counts():
    fixed, _ = _brute_force(TRIANGULAR, 1, 5, _hexagonal_group())
    assert fixed == [1, 3, 11, 44, 186]  # OEIS A001207
    fixed, _ = _brute_force(np.eye(3), 1, 4, _cubic_group())
    assert fixed == [1, 3, 15, 86]  # OEIS A001931


def test_square_nearest_and_next_nearest_are_polyplets():
    lattice = get_lattice("square-j1j2")
    fixed, free = _package_counts(lattice, 5)
    assert fixed == [1, 4, 20, 110, 638]  # OEIS A006770, fixed polyplets
    assert free == [1, 2, 5, 22, 94]  # OEIS A030222, polyplets (polykings)
    assert (fixed, free) == _brute_force(SQUARE, 2, 5, _square_group())


def test_triangular_with_two_shells_against_brute_force():
    lattice = get_lattice("triangular-j1j2")
    fixed, free = _package_counts(lattice, 4)
    assert fixed[:3] == [1, 6, 46]  # z/2 = 6; C(12, 2) - 2*10 = 46
    assert (fixed, free) == _brute_force(TRIANGULAR, 2, 4, _hexagonal_group())


def test_bcc_against_brute_force():
    lattice = get_lattice("bcc")
    fixed, free = _package_counts(lattice, 4)
    assert fixed[:3] == [1, 4, 28]  # z/2 = 4; C(8, 2) = 28 (no triangles)
    assert (fixed, free) == _brute_force(BCC, 1, 4, _cubic_group())
