"""The example third-party plugin distribution in docs/example-plugin (the Lieb lattice).

It is built and installed the way a user would install a plugin (``pip install``), into a
temporary directory (no network: ``--no-deps --no-build-isolation``), and found through its
``latticeclosure`` entry point when that directory is on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "example-plugin"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory holding the installed example plugin (package + dist-info with entry points)."""
    work = tmp_path_factory.mktemp("example-plugin")
    source = work / "src"
    # Build from a copy so that the build leaves nothing behind in the repository.
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    target = work / "site"
    result = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
            "--no-index", "--disable-pip-version-check", "--quiet", "--target", str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"pip install failed:\n{result.stdout}\n{result.stderr}"
    assert (target / "latticeclosure_lieb" / "__init__.py").exists()
    return target


def _cli(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-m", "latticeclosure.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_lieb_is_listed_with_its_source(plugin_site: Path):
    result = _cli(plugin_site, "lattices")
    assert result.returncode == 0, result.stderr
    lieb = next(line for line in result.stdout.splitlines() if line.startswith("lieb "))
    fields = lieb.split()
    assert fields[1:3] == ["2", "3"]  # dimension 2, three basis sites
    assert "latticeclosure-lieb:latticeclosure_lieb" in lieb
    assert "triangular" in result.stdout  # the built-in lattices are still there


def test_lieb_json_source(plugin_site: Path):
    result = _cli(plugin_site, "lattices", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["lieb"]["source"] == {
        "plugin": "lieb",
        "module": "latticeclosure_lieb",
        "distribution": "latticeclosure-lieb",
        "version": "0.1.0",
    }


def test_plugins_lists_the_example(plugin_site: Path):
    result = _cli(plugin_site, "plugins", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert any(p["plugin"] == "lieb" for p in data["plugins"])
    assert [c["name"] for c in data["kinds"]["cli_commands"] if c["plugin"] == "lieb"] == [
        "lieb-info"
    ]


def test_plugin_cli_command(plugin_site: Path):
    result = _cli(plugin_site, "lieb-info", "--scale", "2")
    assert result.returncode == 0, result.stderr
    assert "nearest-neighbour distance: 2" in result.stdout
    assert "coordination per basis site: 4, 2, 2" in result.stdout
    help_text = _cli(plugin_site, "--help").stdout
    assert "lieb-info" in help_text


def test_lieb_geometry_in_process():
    """The plugin's lattice, imported directly: NN distance 1, coordination 4/2/2."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        from latticeclosure_lieb.lattice import lieb_lattice
    finally:
        sys.path.remove(str(EXAMPLE))
    lattice = lieb_lattice()
    assert lattice.name == "lieb"
    assert lattice.nearest_neighbour_distance == pytest.approx(1.0)
    assert tuple(lattice.coordination) == (4, 2, 2)


def test_cli_uses_the_plugin_lattice(plugin_site: Path):
    """The discovered lattice works through the whole front end: clusters and rate equations."""
    result = _cli(plugin_site, "clusters", "--lattice", "lieb", "--max-size", "3", "--species", "+", "-", "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["lattice"]["name"] == "lieb"
    sizes = [s["size"] for s in doc["shapes"]]
    # two inequivalent sites (corner, edge), one bond type, and the 3-site shapes of the Lieb lattice
    assert sizes.count(1) == 2 and sizes.count(2) == 1
    result = _cli(plugin_site, "equations", "--lattice", "lieb", "--species", "+", "-", "--window-size", "2", "--format", "json")
    assert result.returncode == 0, result.stderr
    eqs = json.loads(result.stdout)
    assert eqs["lattice"]["name"] == "lieb" and eqs["equations"]


def _example_closure():
    sys.path.insert(0, str(EXAMPLE))
    try:
        from latticeclosure_lieb.closures import ScaledPairClosure
    finally:
        sys.path.remove(str(EXAMPLE))
    return ScaledPairClosure


def test_the_plugins_fittable_closure_is_calibrated_by_the_generic_fitter():
    """``scaled-pair`` subclasses nothing of latticeclosure; calibrate() recovers its factors exactly."""
    from closure_testdata import counted_series, index

    from latticeclosure.closures import PairClosure, calibrate, closure_values, evaluate
    from latticeclosure.closures.dataset import as_dataset
    from latticeclosure.protocols import FittableClosure

    ScaledPair = _example_closure()
    assert isinstance(ScaledPair(), FittableClosure)
    idx = index("square")
    data = counted_series("square", n_records=8)
    truth = {"L+++": 1.3, "A+-+": 0.7}
    ds = as_dataset(data, idx, normalisation="inputs")
    for name, a in truth.items():  # data in which two classes are exactly a·PA
        data[name] = a * closure_values(PairClosure(), name, idx, ds)
    # (the modified classes break their shapes' normalisation: check only the inputs')
    fit = calibrate(ScaledPair(), data, idx, classes=list(truth), normalisation="inputs")
    for name, a in truth.items():
        assert fit.classes[name].values[0] == pytest.approx(a, rel=1e-9)
        assert fit.classes[name].J == pytest.approx(0.0, abs=1e-20)
    pinned = fit.closure()
    assert pinned.parameters("L+++", idx) == []
    assert evaluate(pinned, data, idx, classes=list(truth), normalisation="inputs").E_total == pytest.approx(0.0, abs=1e-20)


def test_the_plugins_closure_through_the_fit_command(plugin_site: Path, tmp_path: Path):
    from closure_testdata import counted_series

    from latticeclosure.data import Trajectory

    data = counted_series("square", n_records=6)
    csv = tmp_path / "d.csv"
    names = [k for k in data if k != "time"]
    csv.write_text("time," + ",".join(names) + "\n" + "\n".join(
        ",".join(repr(float(v)) for v in [data["time"][i]] + [data[n][i] for n in names]) for i in range(6)) + "\n")
    made = _cli(plugin_site, "data", "import", str(csv), "--lattice", "square", "--species", "+", "-", "-o",
                str(tmp_path / "d.npz"))
    assert made.returncode == 0, made.stderr
    Trajectory.load(tmp_path / "d.npz")
    res = _cli(plugin_site, "fit", str(tmp_path / "d.npz"), "--closure", "scaled-pair", "--format", "json")
    assert res.returncode == 0, res.stderr
    fits = json.loads(res.stdout)["fits"][0]
    assert fits["closure"] == "scaled-pair" and all(c["params"]["a[scale]"] >= 0 for c in fits["classes"])
