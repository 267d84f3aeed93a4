"""Counting class concentrations: against an independent brute force, path agreement, bad input.

The brute force shares no code with the library's counting, enumeration or symmetry: it builds the
space group itself from Cartesian coordinates (orthogonal maps of the nearest-neighbour vectors,
completed by translations that map every basis site onto a site), enumerates connected site-sets
(and paths) of the supercell's networkx graph, unwraps them into Cartesian clusters and classifies
decorated clusters by a brute-force canonical form. Library classes are matched to brute-force
orbits only through their representative sites and pattern.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from latticeclosure.clusters import ChainEnumerator, ConnectedEnumerator, enumerate_classes
from latticeclosure.counting import ClassCounter, check_supercell_holds, count_concentrations, shape_embeddings
from latticeclosure.errors import ConfigurationError, GeometryError, SpeciesError
from latticeclosure.registry import get_lattice

ROOT = Path(__file__).resolve().parents[2]
TOL = 1e-6


# ------------------------------------------------------------------------------- brute force
class BruteGroup:
    """The space group of a lattice modulo translations, found by brute force in Cartesian space."""

    def __init__(self, lattice):
        self.vectors = np.asarray(lattice.vectors, dtype=float)
        self.basis = np.asarray(lattice.basis, dtype=float)
        self.d = self.vectors.shape[0]
        self.inv = np.linalg.inv(self.vectors)  # fractional = x @ inv
        self.nn_vectors = self._nn_vectors()
        self.ops = self._operations()
        self.R = np.array([r for r, _ in self.ops])
        self.t = np.array([t for _, t in self.ops])

    def _points(self, reach=3):
        cells = np.array(list(itertools.product(range(-reach, reach + 1), repeat=self.d)), dtype=float)
        return np.concatenate([cells @ self.vectors + b for b in self.basis])

    def _nn_vectors(self):
        pts = self._points()
        vecs = []
        dists = []
        for b in self.basis:
            diff = pts - b
            dist = np.linalg.norm(diff, axis=1)
            dist[dist < TOL] = np.inf
            dists.append(dist.min())
            vecs.append(diff)
        dmin = min(dists)
        self.nn_distance = dmin
        out = []
        for diff in vecs:
            dist = np.linalg.norm(diff, axis=1)
            out.extend(diff[np.abs(dist - dmin) < TOL * max(1, dmin)])
        return np.unique(np.round(np.array(out), 9), axis=0)

    def _same_set(self, a, b):
        if len(a) != len(b):
            return False
        return all(np.min(np.linalg.norm(b - v, axis=1)) < 1e-6 for v in a)

    def locate(self, x):
        """(cell, basis) of a Cartesian point, or None."""
        for bi, b in enumerate(self.basis):
            f = (x - b) @ self.inv
            r = np.round(f)
            if np.all(np.abs(f - r) < 1e-6):
                return tuple(int(v) for v in r), bi
        return None

    def _operations(self):
        v = self.nn_vectors
        frame = []
        for vec in v:
            if np.linalg.matrix_rank(np.array(frame + [vec]), tol=1e-8) == len(frame) + 1:
                frame.append(vec)
            if len(frame) == self.d:
                break
        assert len(frame) == self.d, "nearest-neighbour vectors must span space here"
        src = np.array(frame).T
        src_inv = np.linalg.inv(src)
        rots = []
        for combo in itertools.product(range(len(v)), repeat=self.d):
            tgt = v[list(combo)].T
            if not np.allclose(tgt.T @ tgt, src.T @ src, atol=1e-6):
                continue
            rot = tgt @ src_inv
            if not np.allclose(rot.T @ rot, np.eye(self.d), atol=1e-6):
                continue
            if not self._same_set(v @ rot.T, v):
                continue
            # Bravais lattice onto itself
            f = (self.vectors @ rot.T) @ self.inv
            if not np.allclose(f, np.round(f), atol=1e-6):
                continue
            if not any(np.allclose(rot, r, atol=1e-6) for r in rots):
                rots.append(rot)
        ops = []
        for rot in rots:
            for b in self.basis:
                t = b - rot @ self.basis[0]
                if all(self.locate(rot @ x + t) is not None for x in self.basis):
                    ops.append((rot, t))
        return ops

    # -- canonical forms
    def keys(self, points):
        """(G, m, d+1) integer site keys of the images of Cartesian points under every operation."""
        img = np.einsum("gij,mj->gmi", self.R, points) + self.t[:, None, :]
        g, m, _ = img.shape
        keys = np.zeros((g, m, self.d + 1), dtype=np.int64)
        found = np.zeros((g, m), dtype=bool)
        for bi, b in enumerate(self.basis):
            f = (img - b) @ self.inv
            r = np.round(f)
            ok = np.all(np.abs(f - r) < 1e-6, axis=-1) & ~found
            keys[ok, : self.d] = r[ok].astype(np.int64)
            keys[ok, self.d] = bi
            found |= ok
        assert found.all(), "an operation mapped a site off the lattice"
        return keys

    def canonical(self, points, states, path=False):
        return self.canonical_many(points, [states], path)[0]

    def canonical_many(self, points, state_lists, path=False):
        """Smallest translation-normalised image of a decorated cluster over the group.

        Rows (cell, basis, state) are encoded as integers (monotone in the lexicographic order);
        each image is translated so that its smallest row lies in cell 0 and then sorted (site-sets)
        or kept in path order and also reversed (paths); the lexicographically smallest wins.
        """
        keys = self.keys(points)  # (G, m, d+1)
        g, m, _ = keys.shape
        d = self.d
        nb = len(self.basis)
        cells = keys[..., :d]
        lowest = cells.reshape(-1, d).min(axis=0)
        span = 4 * m + 8
        out = []
        for states in state_lists:
            q = max(states) + 2 if len(states) else 2
            st = np.asarray(states, dtype=np.int64)[None, :]

            def encode(c):
                code = np.zeros((g, m), dtype=np.int64)
                for i in range(d):
                    code = code * span + c[..., i]
                return (code * nb + keys[..., d]) * q + st

            anchor = np.argmin(encode(cells - lowest), axis=1)
            rel = cells - cells[np.arange(g), anchor][:, None, :] + 2 * m + 4
            code = encode(rel)
            if path:
                cand = np.concatenate([code, code[:, ::-1]])
            else:
                cand = np.sort(code, axis=1)
            best = cand[np.lexsort(cand.T[::-1])[0]]
            out.append(tuple(best.tolist()))
        return out


def unwrap(supercell, nodes, graph, nn_distance):
    """Cartesian positions of a connected set (or path) of supercell sites, unwrapped."""
    coords = supercell.coordinates
    periods = np.asarray(supercell.shape)[:, None] * np.asarray(supercell.lattice.vectors)
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=len(periods)))) @ periods
    pos = {nodes[0]: coords[nodes[0]]}
    todo = [nodes[0]]
    members = set(nodes)
    while todo:
        u = todo.pop()
        for v in graph.neighbors(u):
            if v in members and v not in pos:
                cand = coords[v] - coords[u] + shifts
                best = cand[np.argmin(np.linalg.norm(cand, axis=1))]
                assert abs(np.linalg.norm(best) - nn_distance) < 1e-6
                pos[v] = pos[u] + best
                todo.append(v)
    return np.array([pos[n] for n in nodes])


def connected_sets(graph, kmax):
    """All connected induced site-sets of sizes 1..kmax, by growth through graph neighbours."""
    level = {frozenset([v]) for v in graph.nodes}
    out = {1: level}
    for k in range(2, kmax + 1):
        level = {s | {w} for s in level for v in s for w in graph.neighbors(v) if w not in s}
        out[k] = level
    return out


def simple_paths(graph, k):
    """All self-avoiding paths with k nodes, each once (a path and its reverse are one)."""
    paths = [[v] for v in graph.nodes]
    for _ in range(k - 1):
        paths = [p + [w] for p in paths for w in graph.neighbors(p[-1]) if w not in p]
    return [p for p in paths if p[0] < p[-1] or k == 1]


def brute_counts(lattice, L, shapes, species, config, path=False):
    """Brute-force N_c, |E_S| and m_c keyed by library class / shape name."""
    group = BruteGroup(lattice)
    sc = lattice.supercell(L)
    graph = sc.graph()
    q = len(species)
    kmax = max(s.size for s in shapes)
    state = np.asarray(config).reshape(-1)
    # library classes -> brute-force orbit keys (through the representative only)
    class_key, shape_key, multiplicity = {}, {}, {}
    for shape in shapes:
        pts = lattice.positions(np.array(shape.sites))
        shape_key[group.canonical(pts, [0] * shape.size, path)] = shape.name
        keys_of_patterns = Counter(
            group.canonical(pts, list(p), path) for p in itertools.product(range(q), repeat=shape.size)
        )
        for c in enumerate_classes(shape, species):
            key = group.canonical(pts, list(c.pattern), path)
            class_key[key] = c.name
            multiplicity[c.name] = keys_of_patterns[key]
    n_class = Counter()
    n_shape = Counter()
    if path:
        groups = {k: simple_paths(graph, k) for k in range(1, kmax + 1)}
    else:
        groups = {k: [sorted(s) for s in sets] for k, sets in connected_sets(graph, kmax).items()}
    wanted = {s.size for s in shapes}
    for k, members in groups.items():
        if k not in wanted:
            continue
        for nodes in members:
            pts = unwrap(sc, nodes, graph, group.nn_distance)
            skey, ckey = group.canonical_many(pts, [[0] * k, [int(state[n]) for n in nodes]], path)
            n_shape[shape_key[skey]] += 1
            n_class[class_key[ckey]] += 1
    return group, n_class, n_shape, multiplicity


def random_config(sc, q, seed):
    return np.random.default_rng(seed).integers(0, q, size=sc.n_sites)


CASES = [
    # lattice, L, max size, species
    ("square", 6, 4, "+-"),
    ("triangular", 6, 4, "+-"),
    ("honeycomb", 5, 4, "+-"),
    ("kagome", 5, 4, "+-"),
    ("cubic", 4, 3, "+-"),
    ("fcc", 4, 3, "+-"),
    ("chain", 9, 4, "+-"),
    ("triangular", 6, 3, "abc"),
    ("kagome", 5, 3, "abc"),
]


@pytest.mark.parametrize("name,L,kmax,species", CASES)
def test_counts_match_brute_force(name, L, kmax, species):
    lattice = get_lattice(name)
    species = list(species)
    shapes = ConnectedEnumerator().enumerate(lattice, kmax)
    sc = lattice.supercell(L)
    config = random_config(sc, len(species), seed=hash(name) % 1000)
    group, n_class, n_shape, mult = brute_counts(lattice, L, shapes, species, config)
    # the brute-force group has the same size as the computed one
    assert len(group.ops) == len(lattice.symmetry)
    for method in ("auto", "histogram", "moments"):
        counter = ClassCounter(sc, shapes, species, method=method)
        got = dict(zip(counter.class_names, counter.counts(config).tolist()))
        assert got == {c: n_class.get(c, 0) for c in counter.class_names}, method
    # multiplicities and embeddings agree with the brute force, concentrations by definition
    counter = ClassCounter(sc, shapes, species)
    conc = counter.as_dict(config)
    for c in counter.classes:
        assert c.multiplicity == mult[c.name]
        n_emb = n_shape[c.shape.name]
        assert n_emb == c.shape.n_orientations * sc.n_cells
        assert conc[c.name] == pytest.approx(n_class.get(c.name, 0) / (n_emb * mult[c.name]), abs=1e-15)


@pytest.mark.parametrize("name,L,kmax", [("triangular", 6, 4), ("square", 6, 4), ("honeycomb", 5, 4)])
def test_chain_counts_match_brute_force(name, L, kmax):
    lattice = get_lattice(name)
    shapes = ChainEnumerator().enumerate(lattice, kmax)
    sc = lattice.supercell(L)
    config = random_config(sc, 2, seed=7)
    _, n_class, n_shape, mult = brute_counts(lattice, L, shapes, ["+", "-"], config, path=True)
    counter = ClassCounter(sc, shapes, ["+", "-"])
    got = dict(zip(counter.class_names, counter.counts(config).tolist()))
    assert got == {c: n_class.get(c, 0) for c in counter.class_names}
    for c in counter.classes:
        assert c.multiplicity == mult[c.name]
        assert n_shape[c.shape.name] == c.shape.n_orientations * sc.n_cells


def test_brute_force_shape_counts_agree_with_enumeration():
    """Distinct brute-force orbits of connected site-sets = library shapes (kagome, fcc)."""
    for name, L, kmax in [("kagome", 5, 4), ("fcc", 4, 3)]:
        lattice = get_lattice(name)
        group = BruteGroup(lattice)
        sc = lattice.supercell(L)
        graph = sc.graph()
        shapes = ConnectedEnumerator().enumerate(lattice, kmax)
        for k, sets in connected_sets(graph, kmax).items():
            forms = {group.canonical(unwrap(sc, sorted(s), graph, group.nn_distance), [0] * k) for s in sets}
            assert len(forms) == sum(1 for s in shapes if s.size == k), (name, k)


# ------------------------------------------------------------------------ the two counting paths
@pytest.mark.parametrize(
    "name,L,kmax",
    [("chain", 12, 5), ("square", 7, 4), ("triangular", 7, 4), ("honeycomb", 6, 4), ("kagome", 6, 4),
     ("cubic", 5, 4), ("fcc", 5, 3)],
)
@pytest.mark.parametrize("q", [2, 3])
def test_moment_and_histogram_paths_identical(name, L, kmax, q):
    lattice = get_lattice(name)
    shapes = ConnectedEnumerator().enumerate(lattice, kmax)
    sc = lattice.supercell(L)
    species = ["a", "b", "c"][:q]
    mom = ClassCounter(sc, shapes, species, method="moments")
    his = ClassCounter(sc, shapes, species, method="histogram")
    assert mom.method == "moments" and his.method == "histogram"
    rng = np.random.default_rng(3)
    for trial in range(3):
        # random, biased and uniform configurations
        p = [None, [0.9] + [0.1 / (q - 1)] * (q - 1), [1.0] + [0.0] * (q - 1)][trial]
        config = rng.choice(q, size=sc.n_sites, p=p)
        assert np.array_equal(mom.counts(config), his.counts(config))
        for hm, hh in zip(mom.histograms(config), his.histograms(config)):
            assert hm.dtype == np.int64 and np.array_equal(hm, hh)


def test_histograms_match_shape_embeddings():
    """Per-orientation histograms equal the pattern codes read off shape_embeddings (numpy)."""
    lattice = get_lattice("kagome")
    shapes = ConnectedEnumerator().enumerate(lattice, 3)
    sc = lattice.supercell(5)
    config = random_config(sc, 3, seed=11)
    counter = ClassCounter(sc, shapes, "xyz")
    for shape, hist in zip(shapes, counter.histograms(config)):
        emb = shape_embeddings(sc, shape).reshape(shape.n_orientations, sc.n_cells, shape.size)
        codes = np.zeros(emb.shape[:2], dtype=np.int64)
        for k in range(shape.size):
            codes = codes * 3 + config[emb[:, :, k]]
        for o in range(shape.n_orientations):
            assert np.array_equal(np.bincount(codes[o], minlength=3**shape.size), hist[o])
        # each embedding (site set) appears once
        sets = {frozenset(row) for row in emb.reshape(-1, shape.size).tolist()}
        assert len(sets) == shape.n_orientations * sc.n_cells


def test_class_index_classifies_every_embedding_like_the_counter():
    """ClassIndex (used by the equation generator) agrees with the counter, embedding by embedding."""
    from latticeclosure.classindex import ClassIndex

    for name, L, species in [("triangular", 5, "+-"), ("kagome", 4, "abc"), ("cubic", 4, "+-")]:
        lattice = get_lattice(name)
        index = ClassIndex(lattice, species, 3)
        sc = lattice.supercell(L)
        config = random_config(sc, len(species), seed=9)
        cells = sc.site_keys[sc.site_keys[:, -1] == 0][:, :-1]
        tally = Counter()
        for shape in index.shapes:
            for orient in shape.orientations:
                for cell in cells:
                    keys = orient.copy()
                    keys[:, :-1] += cell
                    # hand the sites over in a scrambled order: classification must not care
                    perm = np.random.default_rng(int(cell.sum())).permutation(len(keys))
                    keys = keys[perm]
                    pattern = config[sc.site_index(keys)]
                    tally[index.classify(keys, pattern).name] += 1
        counter = ClassCounter(sc, index.shapes, species)
        assert dict(zip(counter.class_names, counter.counts(config).tolist())) == {
            c: tally.get(c, 0) for c in counter.class_names
        }


# ------------------------------------------------------------------------------ normalisation
@pytest.mark.parametrize("name", ["square", "triangular", "honeycomb", "kagome", "cubic", "fcc", "chain"])
def test_normalisation_per_shape(name):
    lattice = get_lattice(name)
    shapes = ConnectedEnumerator().enumerate(lattice, 3)
    sc = lattice.supercell(6)
    counter = ClassCounter(sc, shapes, ["+", "-", "0"])
    conc = counter.concentrations(random_config(sc, 3, seed=5))
    for shape in shapes:
        total = sum(c.multiplicity * x for c, x in zip(counter.classes, conc) if c.shape is shape)
        assert total == pytest.approx(1.0, abs=1e-12)


def test_known_values():
    tri = get_lattice("triangular")
    shapes = ConnectedEnumerator().enumerate(tri, 3)
    sc = tri.supercell(6)
    conc = count_concentrations(np.zeros(sc.n_sites, dtype=int), sc, shapes, ["+", "-"])
    assert conc["C+"] == conc["C++"] == conc["L+++"] == conc["A+++"] == conc["T+++"] == 1.0
    assert conc["C+-"] == conc["T++-"] == 0.0
    # square checkerboard: every bond unlike
    sq = get_lattice("square")
    sc = sq.supercell(6)
    board = np.indices((6, 6)).sum(axis=0) % 2
    conc = count_concentrations(board, sc, ConnectedEnumerator().enumerate(sq, 2), ["+", "-"])
    assert conc["C+-"] == 0.5 and conc["C++"] == conc["C--"] == 0.0
    assert conc["C+"] == conc["C-"] == 0.5


def test_paper_pair_convention():
    """C++ + C-- + 2 C+- = 1 and C+ = C++ + C+- (singlet marginal) on the triangular lattice."""
    tri = get_lattice("triangular")
    sc = tri.supercell(12)
    conc = count_concentrations(random_config(sc, 2, 1), sc, ConnectedEnumerator().enumerate(tri, 2), "+-")
    assert conc["C++"] + conc["C--"] + 2 * conc["C+-"] == pytest.approx(1)
    assert conc["C+"] == pytest.approx(conc["C++"] + conc["C+-"])


@pytest.mark.parametrize(
    "dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64, np.bool_]
)
def test_configuration_dtypes_and_layouts(dtype):
    tri = get_lattice("honeycomb")
    shapes = ConnectedEnumerator().enumerate(tri, 3)
    sc = tri.supercell(5)
    base = random_config(sc, 2, seed=2)
    ref = ClassCounter(sc, shapes, "+-").counts(base)
    counter = ClassCounter(sc, shapes, "+-")
    assert np.array_equal(counter.counts(base.astype(dtype)), ref)
    assert np.array_equal(counter.counts(base.astype(dtype).reshape(sc.index_shape)), ref)
    # one-site basis: (L1, L2) arrays too, and the fast byte path
    sq = get_lattice("square")
    sc2 = sq.supercell(6)
    sh2 = ConnectedEnumerator().enumerate(sq, 3)
    cfg = random_config(sc2, 2, seed=4)
    ref2 = ClassCounter(sc2, sh2, "+-", method="histogram").counts(cfg)
    assert np.array_equal(ClassCounter(sc2, sh2, "+-").counts(cfg.astype(dtype).reshape(6, 6)), ref2)


# ------------------------------------------------------------------------------------ bad input
def test_bad_configurations():
    sq = get_lattice("square")
    sc = sq.supercell(6)
    counter = ClassCounter(sc, ConnectedEnumerator().enumerate(sq, 2), ["+", "-"])
    with pytest.raises(ConfigurationError, match=r"shape \(35,\)"):
        counter.counts(np.zeros(35, dtype=int))
    with pytest.raises(ConfigurationError, match="shape"):
        counter.counts(np.zeros((6, 5), dtype=int))
    with pytest.raises(ConfigurationError, match="integer species indices.*float64"):
        counter.counts(np.zeros(36))
    with pytest.raises(ConfigurationError, match="state value 2; allowed are 0..1"):
        counter.counts(np.full(36, 2))
    with pytest.raises(ConfigurationError, match="state value -1"):
        counter.counts(np.full(36, -1, dtype=np.int8))
    bad = np.zeros(36, dtype=np.int8)
    bad[17] = 5
    with pytest.raises(ConfigurationError, match="state value 5"):
        counter.counts(bad)
    for method in ("moments", "histogram"):
        c3 = ClassCounter(sc, ConnectedEnumerator().enumerate(sq, 2), "abc", method=method)
        with pytest.raises(ConfigurationError, match="state value 3; allowed are 0..2"):
            c3.counts(np.full(36, 3))
    with pytest.raises(ConfigurationError, match="Supercell"):
        count_concentrations(np.zeros(36, dtype=int), "not a supercell", [], "+-")
    shapes = ConnectedEnumerator().enumerate(sq, 2)
    with pytest.raises(ConfigurationError, match="occur more than once"):
        ClassCounter(sc, shapes + shapes[1:], "+-")
    with pytest.raises(ConfigurationError, match="at least one shape"):
        ClassCounter(sc, [], "+-")
    with pytest.raises(ConfigurationError, match="unknown counting method"):
        ClassCounter(sc, ConnectedEnumerator().enumerate(sq, 2), "+-", method="fast")


def test_bad_species():
    sq = get_lattice("square")
    shapes = ConnectedEnumerator().enumerate(sq, 2)
    with pytest.raises(SpeciesError, match="at least two"):
        ClassCounter(sq.supercell(4), shapes, ["+"])
    with pytest.raises(SpeciesError, match="distinct"):
        ClassCounter(sq.supercell(4), shapes, ["+", "+"])


def test_supercell_too_small():
    tri = get_lattice("triangular")
    shapes = ConnectedEnumerator().enumerate(tri, 4)
    with pytest.raises(GeometryError, match="too small for the shape .* needs at least"):
        ClassCounter(tri.supercell(4), shapes, "+-")
    with pytest.raises(GeometryError, match="too small"):
        check_supercell_holds(tri.supercell((8, 3)), shapes[:3])
    linear4 = [s for s in shapes if s.size == 4 and len(s.bonds) == 3][0]
    with pytest.raises(GeometryError, match="too small"):
        shape_embeddings(tri.supercell(4), linear4)
    check_supercell_holds(tri.supercell(5), shapes)  # large enough


# ----------------------------------------------------------------------------------- benchmark
def test_benchmark_script_runs_small():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "count_speed.py"), "--size", "24", "--repeat", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert re.fullmatch(r"ns_per_site=\d+(\.\d+)?", lines[-1])
    assert "counts agree on all three paths" in out.stdout
    assert "vs naive" in out.stdout
