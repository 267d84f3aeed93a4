"""Runs of the simulator: determinism, bit-identical resume, replicas, datasets, the data backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from latticeclosure.anneal.energy import ClusterEnergy
from latticeclosure.data import Trajectory
from latticeclosure.errors import DataError
from latticeclosure.kmc import KMCRun, make_spec, simulate
from latticeclosure.kmc.run import initial_configuration, replica_seeds
from latticeclosure.model import Model

SIS = {"rules": [{"from": "S", "to": "I", "rate": "tau", "catalyst": "I"}, {"from": "I", "to": "S", "rate": "gamma"}]}


def _sis(**kw):
    base = dict(lattice="square", species=["S", "I"], dynamics="flip", flip_spec=SIS,
                rates={"tau": 0.6, "gamma": 1.0}, initial={"S": 0.8, "I": 0.2}, size=12, time=3.0, record_every=0.25)
    base.update(kw)
    return make_spec(**base)


def _swaps():
    energy = ClusterEnergy("pair", 2, ("A", "B", "C"), np.array([0, 1, 2, 1, 0, 1, 2, 1, 0], dtype=float), "|a-b|")
    table = make_spec(lattice="triangular", species=["A", "B", "C"], dynamics="swap",
                      rates={"A,B": 1.0, "A,C": 0.5, "B,C": 2.0}, initial={"A": 0.4, "B": 0.3, "C": 0.3},
                      size=8, time=2.0, record_every=0.5, save_configurations=True)
    metro = make_spec(lattice="square", species=["A", "B", "C"], dynamics="swap", rates={"temperature": 2.0},
                      energy=energy, initial={"A": 0.4, "B": 0.3, "C": 0.3}, size=8, time=8.0, record_every=0.5)
    return [table, metro]


def _same(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("spec", [_sis()] + _swaps(), ids=["sis", "swap-table", "swap-metropolis"])
def test_resume_from_any_checkpoint_is_bit_identical(spec, tmp_path):
    whole = KMCRun(spec, seed=4).run()
    reference = whole.arrays()
    assert whole.events > 100
    for cut in (1, 37, whole.events // 2, whole.events - 1):
        part = KMCRun(spec, seed=4)
        part.advance(cut)
        path = part.save_checkpoint(tmp_path / f"ck{cut}.npz")
        resumed = KMCRun.from_checkpoint(path, spec, seed=4)
        assert resumed.events == part.events
        resumed.run()
        _same(resumed.arrays(), reference)
        assert resumed.events == whole.events
        np.testing.assert_array_equal(resumed.state.rng, whole.state.rng)


def test_chunking_and_record_grid_do_not_change_the_run():
    spec = _sis()
    a = KMCRun(spec, seed=9).run()
    b = KMCRun(spec, seed=9)
    while not b.finished:
        b.advance(7)
    _same(a.arrays(), b.arrays())
    fine = KMCRun(_sis(record_every=0.05), seed=9).run()  # the states at common times are the same
    np.testing.assert_array_equal(fine.arrays()["concentrations"][::5], a.arrays()["concentrations"])
    assert fine.events == a.events
    other = KMCRun(spec, seed=10).run()
    assert not np.array_equal(other.arrays()["concentrations"], a.arrays()["concentrations"])


def test_checkpoints_of_other_runs_and_corrupt_files_are_refused(tmp_path):
    spec = _sis()
    run = KMCRun(spec, seed=1)
    run.advance(50)
    path = run.save_checkpoint(tmp_path / "ck.npz")
    with pytest.raises(DataError, match="another simulation"):
        KMCRun.from_checkpoint(path, _sis(rates={"tau": 0.7, "gamma": 1.0}), seed=1)
    with pytest.raises(DataError, match="another simulation"):
        KMCRun.from_checkpoint(path, spec, seed=2)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="truncated or corrupt"):
        KMCRun.from_checkpoint(bad, spec, seed=1)


def test_replicas_are_independent_of_the_executor_and_equal_single_runs():
    spec = _sis(time=1.0)
    with ThreadPoolExecutor(2) as pool:
        threaded = simulate(spec, seed=5, replicas=3, executor=pool)
    local = simulate(spec, seed=5, replicas=3)  # spawned process pool
    _same(threaded.arrays, local.arrays)
    reps = threaded.arrays["replica_concentrations"]
    for r in range(3):
        np.testing.assert_array_equal(reps[r], KMCRun(spec, seed=5, replica=r).run().arrays()["concentrations"])
    np.testing.assert_allclose(threaded.concentrations, reps.mean(axis=0))
    assert not np.array_equal(reps[0], reps[1])
    np.testing.assert_array_equal(threaded.step, threaded.arrays["replica_step"].sum(axis=0))
    assert threaded.metadata["replicas"] == 3 and threaded.metadata["events"] == threaded.step[-1]


def test_trajectory_dataset_in_physical_time(tmp_path):
    spec = _sis(time=1.1, record_every=0.25, max_class_size=2)
    traj = simulate(spec, seed=0, replicas=2, executor=ThreadPoolExecutor(1))
    np.testing.assert_allclose(traj.time, [0, 0.25, 0.5, 0.75, 1.0, 1.1])
    meta = traj.metadata
    assert meta["time_unit"] == "physical time" and "schedule" not in meta and "x_target" not in meta
    assert traj.class_names == ["CS", "CI", "CSS", "CII", "CSI"]
    loaded = Trajectory.load(traj.save(tmp_path / "sis.npz"))
    _same(loaded.arrays, traj.arrays)
    arrays = dict(traj.arrays)
    arrays["replica_concentrations"] = arrays["replica_concentrations"][:, :-1]
    with pytest.raises(DataError, match="replica_concentrations"):
        Trajectory(meta, arrays)
    arrays = dict(traj.arrays)
    arrays["time"] = -arrays["time"]
    with pytest.raises(DataError, match="negative"):
        Trajectory(meta, arrays)


def test_initial_configuration_draws_independent_sites_with_the_fractions():
    seed, _ = replica_seeds(3, 0)
    config = initial_configuration([0.7, 0.0, 0.3], 200000, seed)
    counts = np.bincount(config, minlength=3) / 200000
    assert counts[1] == 0
    assert abs(counts[0] - 0.7) < 5 * np.sqrt(0.21 / 200000)
    np.testing.assert_array_equal(config, initial_configuration([0.7, 0.0, 0.3], 200000, replica_seeds(3, 0)[0]))
    assert not np.array_equal(config, initial_configuration([0.7, 0.0, 0.3], 200000, replica_seeds(3, 1)[0]))


def test_absorbing_state_keeps_recording():
    run = KMCRun(_sis(initial={"S": 1.0}), seed=0).run()
    out = run.arrays()
    assert run.events == 0 and len(out["time"]) == 13
    np.testing.assert_array_equal(out["concentrations"], np.repeat(out["concentrations"][:1], 13, axis=0))


def test_data_backend_runs_a_task_with_point_overrides():
    from latticeclosure.registry import get_data_backend

    backend = get_data_backend("kmc")
    model = Model(name="sis-test", lattice="square", species=("S", "I"), dynamics="flip",
                  dynamics_options={"rules": SIS["rules"]}, rates={"tau": 0.5, "gamma": 1.0},
                  initial={"S": 0.99, "I": 0.01}, default_size=16)
    task = SimpleNamespace(model=model, point={"tau": 0.8, "initial.I": 0.2}, seed=3, size=10,
                           settings={"time": 1.0, "record_every": 0.5, "max_class_size": 2, "replicas": 1})
    traj = backend.run_task(task)
    assert traj.metadata["rates"] == {"tau": 0.8, "gamma": 1.0}
    assert traj.metadata["initial"] == pytest.approx({"S": 0.8, "I": 0.2})
    assert traj.metadata["supercell"] == [10, 10] and traj.model == "sis-test"
    spec = backend.spec(task)
    _same({"c": traj.concentrations}, {"c": KMCRun(spec, seed=3).run().arrays()["concentrations"]})
    from latticeclosure.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="unknown setting"):
        backend.run_task(SimpleNamespace(**{**vars(task), "settings": {"sweeps": 3}}))
    with pytest.raises(ConfigurationError, match="unknown option"):
        backend.configure(kernel="x")
