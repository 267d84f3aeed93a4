"""The annealer on the reference model: its energy's ground states and bounds, and the anneal CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

from latticeclosure.anneal import AnnealRun, Schedule
from latticeclosure.counting import shape_embeddings
from latticeclosure.registry import get_model

pytestmark = pytest.mark.nmc

SHORT = Schedule([2.0, 0.8, 0.3, 0.1], 6)


def _nmc():
    return get_model("nmc")


def test_lower_bound_linear_programme_matches_the_design_values():
    from latticeclosure_nmc.energy import li_mn_ground_state_energy

    for x in (0.25, 1 / 3, 0.42, 0.5, 2 / 3, 0.7, 0.75, 0.9):
        lp = _nmc().energy.lower_bound_per_site([1 - x, x], 2.0)
        assert lp == pytest.approx(li_mn_ground_state_energy(x), abs=1e-9)
    assert li_mn_ground_state_energy(0.70) == pytest.approx(0.65)
    assert li_mn_ground_state_energy(0.75) == pytest.approx(0.875)
    assert li_mn_ground_state_energy(1 / 3) == 0


def test_honeycomb_ground_state_at_one_third():
    """x = 1/3 on a 12×12 lattice (side divisible by 3) with a fixed slow schedule and seed."""
    schedule = Schedule.geometric(2.0, 0.03, levels=24, sweeps=300)
    run = AnnealRun(_nmc(), 0.33, 12, 0, schedule)
    traj = run.run()
    config = run.configuration()
    assert run.counts == (96, 48)  # 0.33 means exactly 1/3
    triangles = shape_embeddings(run.supercell, run.geometry.shape)
    n_mn = (config[triangles] == 0).sum(axis=1)
    assert np.mean(n_mn != 2) <= 0.01
    assert traj.concentration("C--")[-1] <= 0.005
    assert traj.energy_per_site[-1] == 0.0


def test_final_energies_beside_their_lower_bounds(capsys):
    schedule = Schedule.geometric(2.0, 0.03, levels=16, sweeps=150)
    lines = []
    for x in _nmc().stoichiometries:
        run = AnnealRun(_nmc(), x, 12, 0, schedule, record_every=schedule.total_sweeps)
        run.advance()
        bound = run.energy_lower_bound()
        lines.append(f"x={x:.2f} (realised {run.x_realised:.4f}): E/N = {run.energy_per_site:.4f}, bound {bound:.4f}")
        assert run.energy_per_site >= bound - 1e-12
        assert run.energy_per_site <= bound + 0.05
    with capsys.disabled():
        print("\nfinal energy per site vs lower bound (L = 12, seed 0):\n  " + "\n  ".join(lines))


# ---------------------------------------------------------------------------------- CLI
def test_cli_anneal_writes_a_dataset_and_refuses_bad_input(tmp_path):
    from latticeclosure.cli.main import main
    from latticeclosure.data import Trajectory

    out = tmp_path / "a.npz"
    args = ["anneal", "-x", "0.33", "-L", "9", "--schedule", "1:3,0.2:3", "-o", str(out), "--format", "json",
            "--no-progress", "--csv", str(tmp_path / "a.csv")]
    assert main(args) == 0
    traj = Trajectory.load(out)
    assert traj.x == pytest.approx(1 / 3) and (tmp_path / "a.csv").exists()
    assert not list(tmp_path.glob("*.checkpoint.npz"))
    assert main(args) == 2  # exists
    base = ["anneal", "-L", "9", "-o", str(tmp_path / "b.npz"), "--no-progress"]
    for extra in (["-x", "1.5"], ["-x", "0.5", "--schedule", "1:3,-1:3"], ["-x", "0.5", "--schedule", ""],
                  ["-x", "0.5", "--schedule", "nan:3"], ["-x", "0.5", "-L", "2"], ["-x", "0.5", "--model-option", 'cations={"+": "Mn", "-": "Xx"}'],
                  ["-x", "0.5", "--model-option", 'charges={"+": 4, "-": -1}'], ["-x", "0.5", "--model-option", "nope=1"], ["-x", "0.5", "--species", "+", "-", "n"],
                  ["-x", "0.001", "-L", "5"]):
        assert main(base + extra) == 2, extra
    assert not (tmp_path / "b.npz").exists()


@pytest.mark.slow
def test_cli_anneal_three_species(tmp_path):
    from latticeclosure.cli.main import main
    from latticeclosure.data import Trajectory

    out = tmp_path / "c.npz"
    assert main(["anneal", "--species", "+", "-", "n", "--model-option", 'cations={"+": "Mn", "-": "Li", "n": "Ni"}',
                 "--composition", "0.5", "0.3",
                 "0.2", "-L", "8", "--schedule", "1:2,0.1:2", "-o", str(out), "--no-progress"]) == 0
    traj = Trajectory.load(out)
    assert traj.species == ["+", "-", "n"] and traj.metadata["kernel"] == "stencil"
    assert traj.metadata["composition"] == {"+": 32, "-": 19, "n": 13}
    res = run_cli("anneal", "-x", "0.5", "-L", "3", "-o", str(tmp_path / "d.npz"))
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stderr.startswith("error:")
    json.dumps(traj.metadata)

