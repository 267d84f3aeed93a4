"""``latticeclosure threshold``: output lines, JSON, the figure, models from plugins, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import assert_user_error, run_cli

from latticeclosure.cli.main import main
from latticeclosure.hookspecs import hookimpl

CP_TOML = """
[[rule]]
from = "0"
to = "1"
rate = "lam_z"
catalyst = "1"

[[rule]]
from = "1"
to = "0"
rate = 1
"""

#: Spontaneous infection: no uniform state is absorbing.
NOT_ABSORBING_TOML = CP_TOML + """
[[rule]]
from = "0"
to = "1"
rate = "h"
"""


@pytest.fixture
def cp_spec(tmp_path):
    path = tmp_path / "cp.toml"
    path.write_text(CP_TOML)
    return str(path)


class _EpidemicPlugin:
    """Contact process and SIS on the square lattice, through the public model hook."""

    @hookimpl
    def latticeclosure_models(self):
        from latticeclosure.model import Model

        cp = Model(name="cp-test", lattice="square", species=("0", "1"), dynamics="flip",
                   description="contact process (test)",
                   dynamics_options={"rules": [{"from": "0", "to": "1", "rate": "lam_z", "catalyst": "1"},
                                               {"from": "1", "to": "0", "rate": 1}]})
        sis = Model(name="sis-test", lattice="square", species=("S", "I"), dynamics="flip",
                    description="SIS (test)", rates={"tau": 0.5, "gamma": 1.0}, initial={"S": 0.5, "I": 0.5},
                    dynamics_options={"rules": [{"from": "S", "to": "I", "rate": "tau", "catalyst": "I"},
                                                {"from": "I", "to": "S", "rate": "gamma"}]})
        return [cp, sis]


@pytest.fixture
def epidemic_models():
    from latticeclosure.registry import get_registry

    registry = get_registry()
    name = registry.register(_EpidemicPlugin(), name="epidemic-test")
    yield
    registry.unregister(name)


def test_one_line_per_closure_and_window(cp_spec, tmp_path):
    proc = run_cli("threshold", "--lattice", "square", "--species", "0", "1", "--flip-spec", cp_spec,
                   "--rate", "lam_z", "--closure", "mean-field", "pair", "--window-size", "1", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "closure=mean-field window=1 critical=0.25",
        "closure=mean-field window=2 critical=0.2637626158",
        "closure=pair window=2 critical=0.3333333333",
    ]
    assert "pair at window 1 skipped" in proc.stderr


def test_default_closures_json_and_figure(epidemic_models, tmp_path, capsys):
    figure = tmp_path / "out" / "diagram.png"
    status = main(["threshold", "--model", "cp-test", "--rate", "lam_z", "--closure", "mean-field", "pair",
                   "pair:loop=chain", "--format", "json", "--figure", str(figure)])
    assert status == 0
    data = json.loads(capsys.readouterr().out)
    crit = {(r["closure"], r["window"]): r["critical"] for r in data["results"]}
    assert crit == pytest.approx({("mean-field", 1): 0.25, ("pair", 2): 1 / 3, ("pair:loop=chain", 2): 1 / 3},
                                 abs=1e-12)
    pair = next(r for r in data["results"] if r["closure"] == "pair")
    assert pair["threshold"]["crossings"][0]["verified_to"] == 1e-9
    (branch,) = pair["branches"]
    lam = 4 * np.array(branch["values"])
    dens = np.array(branch["density"])
    np.testing.assert_allclose(dens, np.where(lam > 4 / 3, (3 * lam - 4) / (3 * lam - 1), 0.0), atol=1e-9)
    assert branch["bifurcations"][-1]["kind"] == "meets-absorbing"
    # the figure: a PNG written atomically (no temporary file left behind)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in figure.parent.iterdir() if p.name != "diagram.png"]


def test_figure_is_drawn_without_pyplot(cp_spec, tmp_path):
    """A fresh interpreter: drawing the diagram must not import pyplot (other tests may have)."""
    figure = tmp_path / "d.png"
    code = (
        "import sys\n"
        "from latticeclosure.cli.main import main\n"
        f"status = main(['threshold', '--lattice', 'square', '--species', '0', '1', '--flip-spec', {cp_spec!r}, "
        f"'--rate', 'lam_z', '--closure', 'pair', '--figure', {str(figure)!r}])\n"
        "print(status, 'matplotlib.pyplot' in sys.modules, 'matplotlib.figure' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "0 False True"
    assert figure.stat().st_size > 0


def test_rates_of_a_model_and_set(epidemic_models, capsys):
    assert main(["threshold", "--model", "sis-test", "--rate", "tau", "--closure", "pair"]) == 0
    assert capsys.readouterr().out.strip() == "closure=pair window=2 critical=0.3333333333"
    assert main(["threshold", "--model", "sis-test", "--rate", "tau", "--closure", "pair", "--set", "gamma=0.3"]) == 0
    assert capsys.readouterr().out.strip() == "closure=pair window=2 critical=0.1"


def test_a_range_without_a_crossing(cp_spec, capsys):
    assert main(["threshold", "--lattice", "square", "--species", "0", "1", "--flip-spec", cp_spec, "--rate", "lam_z",
                 "--closure", "pair", "--range", "0:0.3"]) == 0
    assert capsys.readouterr().out.strip() == "closure=pair window=2 critical=none status=stable-throughout-the-range"


BAD = {
    "rate not a parameter": (["--rate", "beta"], ["'beta' is not a parameter of the model", "lam_z"]),
    "empty range": (["--rate", "lam_z", "--range", "0.5:0.5"], ["range 0.5:0.5 is empty"]),
    "reversed range": (["--rate", "lam_z", "--range", "1:0.5"], ["range 1:0.5 is reversed"]),
    "malformed range": (["--rate", "lam_z", "--range", "0-1"], ["--range must be a:b"]),
    "negative range": (["--rate", "lam_z", "--range=-1:1"], ["non-negative"]),
    "set the varied rate": (["--rate", "lam_z", "--set", "lam_z=1"], ["this is the varied rate"]),
    "set an unknown rate": (["--rate", "lam_z", "--set", "mu=1"], ["--set mu: not a rate"]),
    "unknown closure": (["--rate", "lam_z", "--closure", "bethe"], ["bethe"]),
    "bad window": (["--rate", "lam_z", "--window-size", "0"], ["--window-size must be ≥ 1"]),
    "figure is not png": (["--rate", "lam_z", "--figure", "x.pdf"], ["PNG"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input(case, cp_spec, tmp_path):
    args, fragments = BAD[case]
    proc = run_cli("threshold", "--lattice", "square", "--species", "0", "1", "--flip-spec", cp_spec, *args,
                   cwd=tmp_path)
    assert_user_error(proc, *fragments)
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("*.pdf"))


def test_model_without_an_absorbing_state(tmp_path):
    spec = tmp_path / "h.toml"
    spec.write_text(NOT_ABSORBING_TOML)
    proc = run_cli("threshold", "--lattice", "square", "--species", "0", "1", "--flip-spec", str(spec),
                   "--rate", "lam_z", "--set", "h=0.1", cwd=tmp_path)
    assert_user_error(proc, "no absorbing state", "no threshold")


def test_model_with_several_absorbing_states(tmp_path):
    voter = tmp_path / "voter.toml"
    voter.write_text('[[rule]]\nfrom = "0"\nto = "1"\nrate = "a"\ncatalyst = "1"\n\n'
                     '[[rule]]\nfrom = "1"\nto = "0"\nrate = "b"\ncatalyst = "0"\n')
    base = ["threshold", "--lattice", "square", "--species", "0", "1", "--flip-spec", str(voter), "--rate", "a",
            "--set", "b=1", "--closure", "pair"]
    assert_user_error(run_cli(*base, cwd=tmp_path), "several absorbing states", "--absorbing")
    proc = run_cli(*base, "--absorbing", "1", "--range", "0:4", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("closure=pair window=2 critical=")
