"""The numba annealer: RNG, kernels, energy tracking, determinism, checkpoints, bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from latticeclosure.anneal import AnnealRun, ClusterEnergy, EnergyError, Schedule, ScheduleError
from latticeclosure.anneal.geometry import SwapGeometry
from latticeclosure.anneal.plans import KernelUnavailable, make_plan
from latticeclosure.anneal.rng import seed_state
from latticeclosure.clusters import ConnectedEnumerator, class_lookup, enumerate_classes
from latticeclosure.counting import shape_embeddings
from latticeclosure.errors import ConfigurationError, GeometryError, LatticeClosureError
from latticeclosure.model import Model
from latticeclosure.registry import get_lattice

SHORT = Schedule([2.0, 0.8, 0.3, 0.1], 6)

#: A triangle energy on the triangular lattice, defined here (not taken from a plugin): zero when a
#: triangle holds exactly two "+", growing quadratically away from it.
TRI = Model(
    "triangle-test", "triangular", ("+", "-"),
    energy=ClusterEnergy.from_function("triangle", 3, ("+", "-"), lambda s: (s.count("+") - 2) ** 2 / 4),
    default_schedule=SHORT, stoichiometries=(0.25, 1 / 3, 0.5), min_size=4, exact_fractions=(1 / 3, 2 / 3),
)


def tri_run(x=1 / 3, L=12, seed=0, schedule=SHORT, **kw) -> AnnealRun:
    return AnnealRun(TRI, x, L, seed, schedule, **kw)


# ---------------------------------------------------------------------------------- rng
def test_seed_state_is_deterministic_and_seed_dependent():
    assert np.array_equal(seed_state(7), seed_state(7))
    assert not np.array_equal(seed_state(7), seed_state(8))
    assert not np.array_equal(seed_state(7), seed_state(7, stream=1))
    with pytest.raises(ValueError):
        seed_state(-1)


def test_mul128_and_exact_bounded_draws():
    import numba as nb

    from latticeclosure.anneal.rng import bounded_exact, mul128

    @nb.njit
    def product(a, b):
        return mul128(a, b)

    rng = np.random.default_rng(0)
    for _ in range(50):
        a, b = (int(v) for v in rng.integers(0, 2**63, size=2, dtype=np.uint64))
        a, b = a * 2 + 1, b
        hi, lo = product(np.uint64(a), np.uint64(b))
        assert (int(hi) << 64) | int(lo) == a * b
    state = seed_state(1)
    draws = np.array([bounded_exact(state, 6) for _ in range(6000)])
    counts = np.bincount(draws, minlength=6)
    assert draws.min() == 0 and draws.max() == 5
    assert np.all(np.abs(counts - 1000) < 150)


# ---------------------------------------------------------------------------------- energy
def test_cluster_energy_validation_and_quantisation():
    with pytest.raises(EnergyError):
        ClusterEnergy("triangle", 3, ("+", "-"), np.zeros(7))
    with pytest.raises(EnergyError):
        ClusterEnergy("triangle", 3, ("+", "-"), [0, 0, 0, np.nan, 0, 0, 0, 0])
    table, quantum = TRI.energy.quantised()
    assert quantum == 0.25
    assert np.array_equal(table * quantum, TRI.energy.table)
    assert TRI.energy.is_symmetric()
    rough = ClusterEnergy("pair", 2, ("a", "b"), [0.1234567, 0.2, 0.2, np.pi])
    assert rough.quantised() is None


def test_unknown_energy_shape():
    bad = ClusterEnergy("hexagon", 3, ("+", "-"), np.zeros(8))
    with pytest.raises(EnergyError, match="hexagon"):
        SwapGeometry(get_lattice("triangular").supercell(8), bad)


# ---------------------------------------------------------------------------------- kernels
KERNEL_CASES = [
    # lattice, shape, size, species, L
    ("triangular", "triangle", 3, ("+", "-"), 8),
    ("triangular", "triangle", 3, ("a", "b", "c"), 7),
    ("square", "pair", 2, ("a", "b"), 6),
    ("honeycomb", "pair", 2, ("a", "b"), 5),
    ("kagome", "triangle", 3, ("a", "b"), 5),
    ("cubic", "pair", 2, ("a", "b"), 5),
    ("chain", "pair", 2, ("a", "b"), 9),
    ("square", "linear", 3, ("a", "b"), 7),
    ("fcc", "pair", 2, ("a", "b"), 5),
]


@pytest.mark.parametrize("lattice,shape,size,species,L", KERNEL_CASES)
def test_kernels_track_the_energy_and_agree_bit_for_bit(lattice, shape, size, species, L):
    rng = np.random.default_rng(hash((lattice, shape, len(species))) % 2**32)
    energy = ClusterEnergy(shape, size, species, rng.integers(-3, 4, size=len(species) ** size) / 4)
    geometry = SwapGeometry(get_lattice(lattice).supercell(L), energy)
    n = geometry.supercell.n_sites
    results = {}
    for kernel in ("mask", "stencil", "clusters"):
        try:
            plan = make_plan(geometry, energy, kernel)
        except KernelUnavailable:
            continue
        state = seed_state(3)
        real = np.random.default_rng(3).permutation(np.arange(n) % len(species)).astype(np.int8)
        e0 = energy.total(real, geometry.embeddings)
        work = plan.new_work(real)
        delta = 0
        for temperature in (3.0, 0.7, 0.2, 0.0):
            _, d = plan.run(work, state, 30 * n, plan.temperature_tables(temperature))
            delta += d
        final = plan.real(work)
        assert e0 + delta * plan.quantum == pytest.approx(energy.total(final, geometry.embeddings), abs=1e-9)
        assert np.array_equal(np.bincount(final, minlength=len(species)), np.bincount(real, minlength=len(species)))
        results[kernel] = (final, state)
    assert len(results) >= (1 if lattice == "fcc" else 2)  # fcc: 2²⁰ bond patterns, only the cluster kernel
    first = next(iter(results.values()))
    for final, state in results.values():
        assert np.array_equal(final, first[0]) and np.array_equal(state, first[1])


def test_float_energies_use_exp_and_track_the_energy():
    rng = np.random.default_rng(5)
    energy = ClusterEnergy("triangle", 3, ("a", "b"), rng.normal(size=8))
    assert energy.quantised() is None
    geometry = SwapGeometry(get_lattice("triangular").supercell(8), energy)
    for kernel in ("mask", "clusters"):
        plan = make_plan(geometry, energy, kernel)
        assert not plan.integer
        state = seed_state(1)
        real = (np.arange(64) % 2).astype(np.int8)
        work = plan.new_work(real)
        total = energy.total(real, geometry.embeddings)
        for temperature in (1.0, 0.0):
            total += plan.run(work, state, 2000, plan.temperature_tables(temperature))[1]
        assert total == pytest.approx(energy.total(plan.real(work), geometry.embeddings), abs=1e-9)


# ---------------------------------------------------------------------------------- runs
def test_tracked_energy_equals_recomputed_energy_and_composition_is_conserved():
    for x in (0.25, 1 / 3, 0.5, 0.75):
        run = tri_run(x, L=12, seed=2)
        start = run.configuration()
        traj = run.run()
        final = run.configuration()
        assert run.energy_per_site == run.recomputed_energy_per_site()  # exact: integer energies
        assert traj.energy_per_site[-1] == run.recomputed_energy_per_site()
        assert np.array_equal(np.bincount(final, minlength=2), np.bincount(start, minlength=2))
        assert np.array_equal(traj.final_configuration, final)
        assert traj.metadata["composition"]["-"] == round(x * 144) or x == 1 / 3


def _independent_counts(config, supercell, species, sizes=(1, 2, 3)):
    """Class concentrations by explicit embedding lists (numpy; not the ClassCounter kernels)."""
    out = {}
    q = len(species)
    for shape in ConnectedEnumerator().enumerate(supercell.lattice, max(sizes)):
        if shape.size not in sizes:
            continue
        classes = enumerate_classes(shape, species)
        lookup = class_lookup(shape, classes, q)
        emb = shape_embeddings(supercell, shape)
        codes = config[emb] @ (q ** np.arange(shape.size - 1, -1, -1))
        hist = np.bincount(lookup[codes], minlength=len(classes))
        for c, count in zip(classes, hist):
            out[c.name] = count / (len(emb) * c.multiplicity)
    return out


def test_recorded_concentrations_equal_an_independent_recount_of_saved_configurations():
    run = tri_run(0.42, L=9, seed=4, save_configurations=True, record_every=3)
    traj = run.run()
    assert traj.configurations.shape == (traj.n_records, 81)
    assert len(traj.class_names) == 2 + 3 + 16
    for k in range(traj.n_records):
        recount = _independent_counts(traj.configurations[k], run.supercell, TRI.species)
        got = dict(zip(traj.class_names, traj.concentrations[k]))
        assert set(recount) == set(got)
        for name, value in recount.items():
            assert got[name] == pytest.approx(value, abs=1e-12), (k, name)


def test_same_seed_gives_bit_identical_runs_and_other_seeds_differ():
    a = tri_run(0.3, seed=11).run()
    b = tri_run(0.3, seed=11).run()
    c = tri_run(0.3, seed=12).run()
    for name in ("step", "time", "temperature", "energy_per_site", "acceptance", "concentrations", "final_configuration"):
        assert np.array_equal(a.arrays[name], b.arrays[name]), name
    assert a.metadata == b.metadata
    assert not np.array_equal(a.final_configuration, c.final_configuration)


@pytest.mark.parametrize("kernel", ["mask", "stencil", "clusters"])
def test_kernels_give_the_same_trajectory(kernel):
    ref = tri_run(0.36, L=9, seed=5).run()
    other = tri_run(0.36, L=9, seed=5, kernel=kernel).run()
    assert np.array_equal(ref.concentrations, other.concentrations)
    assert np.array_equal(ref.final_configuration, other.final_configuration)


def test_checkpoint_and_resume_equal_the_uninterrupted_run(tmp_path):
    whole = tri_run(0.58, L=12, seed=6, save_configurations=True, record_every=2).run()
    part = tri_run(0.58, L=12, seed=6, save_configurations=True, record_every=2)
    part.advance(part.total_steps // 3 + 17)  # stop in the middle of a level and of a record interval
    ckpt = part.save_checkpoint(tmp_path / "run.ckpt.npz")
    del part
    resumed = AnnealRun.from_checkpoint(ckpt, TRI)
    resumed.advance(resumed.total_steps // 5)
    resumed = AnnealRun.from_checkpoint(resumed.save_checkpoint(ckpt), TRI)
    traj = resumed.run()
    for name, arr in whole.arrays.items():
        assert np.array_equal(arr, traj.arrays[name]), name


def test_backend_resumes_from_a_checkpoint_and_refuses_a_foreign_one(tmp_path):
    from latticeclosure.errors import DataError
    from latticeclosure.anneal import AnnealBackend

    backend = AnnealBackend("test-anneal", model=TRI)
    ckpt = tmp_path / "c.npz"
    run = backend.prepare(None, 0.5, 9, 3, SHORT, None, checkpoint=ckpt)
    run.advance(1000)
    run.save_checkpoint(ckpt)
    traj = backend.run(None, 0.5, 9, 3, SHORT, checkpoint=ckpt)
    assert np.array_equal(traj.concentrations, backend.run(None, 0.5, 9, 3, SHORT).concentrations)
    with pytest.raises(DataError, match="another run"):
        backend.prepare(None, 0.5, 9, 4, SHORT, None, checkpoint=ckpt)
    (tmp_path / "bad.npz").write_bytes(ckpt.read_bytes()[:200])
    with pytest.raises(DataError, match="corrupt"):
        AnnealRun.from_checkpoint(tmp_path / "bad.npz", TRI)


def test_rectangular_supercells_and_other_models():
    run = AnnealRun(TRI, 0.5, (12, 6), 1, SHORT)
    run.run()
    assert run.energy_per_site == run.recomputed_energy_per_site()
    ising = Model(
        "ising-square", get_lattice("square"), ("u", "d"),
        energy=ClusterEnergy("pair", 2, ("u", "d"), [-1.0, 1.0, 1.0, -1.0]),
        default_schedule=Schedule([3.0, 1.0], 20),
    )
    traj = AnnealRun(ising, 0.5, 10, 0).run()
    assert [c["shape"] for c in traj.classes][:3] == ["site", "site", "pair"]
    assert traj.energy_per_site[-1] < traj.energy_per_site[0]


# ---------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(x=1.2), ConfigurationError, "between 0 and 1"),
        (dict(x=0.0), ConfigurationError, "between 0 and 1"),
        (dict(x=float("nan")), ConfigurationError, "between 0 and 1"),
        (dict(x=0.001, L=6), ConfigurationError, "rounds to no '-' sites"),
        (dict(x=0.999, L=6), ConfigurationError, "no .+. sites"),
        (dict(L=3), GeometryError, "too small"),
        (dict(L=0), GeometryError, "positive"),
        (dict(kernel="fast"), LatticeClosureError, "unknown annealing kernel"),
        (dict(seed=-1), ConfigurationError, "seed"),
        (dict(record_every=0), ConfigurationError, "record interval"),
    ],
)
def test_bad_run_input(kwargs, error, match):
    args = dict(x=0.5, L=8)
    args.update(kwargs)
    x, L = args.pop("x"), args.pop("L")
    with pytest.raises(error, match=match):
        AnnealRun(TRI, x, L, schedule=SHORT, **args)


def test_bad_schedules():
    for temps, sweeps, match in (([], 1, "empty"), ([1.0, -0.5], 1, "≥ 0"), ([float("inf")], 1, "finite"),
                                 ([1.0], 0, "> 0"), ([1.0, 2.0], [1.0, 2.0, 3.0], "level lengths")):
        with pytest.raises(ScheduleError, match=match):
            Schedule(temps, sweeps)
    with pytest.raises(ScheduleError):
        Schedule.parse("1:2,x")
    assert Schedule.parse("geometric:2:0.5:3:10").temperatures == (2.0, 1.0, 0.5)
    assert Schedule.parse("1:5,0.5:10").level_steps(100).tolist() == [500, 1000]
    assert Schedule.from_json(Schedule([1.0], 2).to_json()) == Schedule([1.0], 2)


def test_model_without_energy_is_refused():
    bare = Model("bare", "triangular", ("+", "-"))
    with pytest.raises(ConfigurationError, match="no energy"):
        AnnealRun(bare, 0.5, 8, schedule=SHORT)


# ---------------------------------------------------------------------------------- numba cache
def test_kernels_are_cached_across_processes():
    tri_run(0.5, L=8).advance(100)  # make sure this process compiled (and cached) the kernel
    code = (
        "from latticeclosure.anneal.engine import AnnealRun\n"
        "from latticeclosure.anneal import Schedule\n"
        "from latticeclosure.model import Model\n"
        "from latticeclosure.anneal import ClusterEnergy\n"
        "e = ClusterEnergy.from_function('triangle', 3, ('+', '-'), lambda s: (s.count('+') - 2) ** 2 / 4)\n"
        "m = Model('t', 'triangular', ('+', '-'), energy=e, min_size=4)\n"
        "AnnealRun(m, 0.5, 8, 0, Schedule([1.0], 2)).advance(100)\n"
    )
    # numba reports every cache event (NUMBA_DEBUG_CACHE): a fresh process must only load, never compile
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "NUMBA_DEBUG_CACHE": "1"})
    assert res.returncode == 0, res.stderr
    events = [line for line in res.stdout.splitlines() if line.startswith("[cache]")]
    assert any("data loaded" in line for line in events), res.stdout[-2000:]
    assert not any("data saved" in line for line in events), [e for e in events if "saved" in e]


