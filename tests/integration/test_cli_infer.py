"""`latticeclosure infer` end to end on a small synthetic dataset; bad input exits 2 and writes nothing."""

import json

import numpy as np
import pytest

from latticeclosure.cli.main import main
from latticeclosure.closedmodel import close_equations
from latticeclosure.equations import generate_equations


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    eqs = generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)
    model = close_equations(eqs, "pair")
    t = np.linspace(0, 1, 31)
    sol = model.solve(t, {"C++": 0.40, "C--": 0.15, "C+-": 0.225}, [1.2, 0.7, 0.9, 0.4, 0.8, 0.5, 1.1, 0.6])
    path = tmp_path_factory.mktemp("data") / "synthetic.npz"
    np.savez(path, time=t, **{n: sol[n] for n in model.window_names})
    return path


@pytest.mark.nmc  # relies on the reference plugin's k1…k8 naming
@pytest.mark.slow
@pytest.mark.nmc  # the SA preset of the reference plugin
def test_infer_writes_summary_and_refuses_bad_input(data_file, tmp_path, capsys):
    out = tmp_path / "run"
    args = [str(data_file), "--exclude-closed", "--closure", "pair", "SA", "--samples", "300", "--chains", "2", "--n-starts", "3",
            "--no-progress", "--out", str(out)]
    assert main(["infer", *args]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["schema"] == "latticeclosure.infer-summary/1"
    pa = summary["closures"]["pair"]
    assert pa["best"]["F"] < 1e-5 and set(pa["posterior"]) == {f"k{i}" for i in range(1, 9)}
    assert {"r_hat", "ess_bulk", "ess_tail", "cv"} <= set(pa["posterior"]["k1"])
    assert summary["closures"]["SA"]["kind"] == "combinations"
    assert (out / "figures" / "fig14.png").exists() and (out / "chains" / "pair_chain0.npz").exists()
    before = (out / "summary.json").read_bytes()
    # an existing run is not overwritten; resuming with other settings is refused
    assert main(["infer", *args]) == 2
    assert main(["infer", *[a if a != "300" else "400" for a in args], "--resume"]) == 2
    assert (out / "summary.json").read_bytes() == before
    # resuming with the same settings gives the same chains
    chain = np.load(out / "chains" / "pair_chain0.npz", allow_pickle=False)["samples"]
    assert main(["infer", *args, "--resume"]) == 0
    assert np.array_equal(np.load(out / "chains" / "pair_chain0.npz", allow_pickle=False)["samples"], chain)


def test_auto_temperature_from_the_best_fit(tmp_path):
    eqs = generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)
    model = close_equations(eqs, "pair")
    t = np.linspace(0, 1, 31)
    sol = model.solve(t, {"C++": 0.40, "C--": 0.15, "C+-": 0.225}, [1.2, 0.7, 0.9, 0.4, 0.8, 0.5, 1.1, 0.6])
    rng = np.random.default_rng(0)
    cols = {n: sol[n] + (rng.normal(0, 1e-3, len(t)) * (t > 0) if n in model.state_names else 0) for n in model.window_names}
    cols["C++"] = 1.0 - cols["C--"] - 2.0 * cols["C+-"]
    path = tmp_path / "noisy.npz"
    np.savez(path, time=t, **cols)
    out = tmp_path / "auto"
    assert main(["infer", str(path), "--exclude-closed", "--closure", "pair", "--method", "lsq", "--n-starts", "2",
                 "--temperature", "auto", "--no-progress", "--out", str(out)]) == 0
    pa = json.loads((out / "summary.json").read_text())["closures"]["pair"]
    temp = pa["temperature"]
    assert temp["setting"] == "auto" and temp["n_residuals"] == 3 * 30
    assert temp["value"] == pytest.approx(2 * pa["best"]["F"] / 90, rel=1e-12)
    assert "(auto)" in (out / "report.md").read_text()


@pytest.mark.parametrize("extra", [["--samples", "0"], ["--alpha", "-1"], ["--closure", "no-such-closure"], ["--chains", "0"],
                                   ["--temperature", "0"], ["--temperature", "hot"]])
def test_bad_options_exit_2(data_file, tmp_path, extra):
    out = tmp_path / "bad"
    argv = ["infer", str(data_file), "--closure", "pair", "--no-progress", "--out", str(out)] + extra
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse rejects an option value of the wrong type
        status = exc.code
    assert status == 2
    assert not out.exists()
