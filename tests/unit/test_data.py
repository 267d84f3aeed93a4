"""Trajectory datasets: npz round trip, atomic writes, validation errors, CSV export/import, CLI."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from latticeclosure.anneal import Schedule
from latticeclosure.data import SCHEMA, Trajectory, load_trajectory, read_csv, write_csv
from latticeclosure.io import atomic_write
from latticeclosure.errors import DataError, UnknownNameError
from latticeclosure.anneal import AnnealBackend, ClusterEnergy
from latticeclosure.model import Model

#: A triangle-energy model on the triangular lattice, defined in the test (no plugin needed).
TRI = Model("triangle-data-test", "triangular", ("+", "-"), min_size=4,
            energy=ClusterEnergy.from_function("triangle", 3, ("+", "-"), lambda s: (s.count("+") - 2) ** 2 / 4))


@pytest.fixture(scope="module")
def traj() -> Trajectory:
    backend = AnnealBackend("test-anneal", model=TRI)
    return backend.run(x=0.42, L=9, seed=3, schedule=Schedule([1.5, 0.3], 4), record_every=0.5,
                       save_configurations=True)


def _same(a: Trajectory, b: Trajectory, arrays=None) -> None:
    assert a.metadata == b.metadata
    for name in arrays or a.arrays:
        assert np.array_equal(a.arrays[name], b.arrays[name]), name
        assert a.arrays[name].dtype == b.arrays[name].dtype, name


def test_npz_round_trip(traj, tmp_path):
    path = traj.save(tmp_path / "t.npz")
    back = Trajectory.load(path)
    _same(traj, back)
    assert back.source == str(path)
    assert set(back.arrays) == {"step", "time", "temperature", "energy_per_site", "acceptance", "concentrations",
                                "final_configuration", "configurations"}
    assert back.metadata["schema"] == SCHEMA
    assert load_trajectory(path).n_records == traj.n_records
    assert traj.save(tmp_path / "noext").name == "noext.npz"


def test_readable_with_numpy_and_json_only(traj, tmp_path):
    """The reader of docs/data-format.md."""
    path = traj.save(tmp_path / "t.npz")
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z["metadata"].item())
        conc = z["concentrations"]
        names = [c["name"] for c in meta["classes"]]
        c_pm = conc[:, names.index("C+-")]
    assert np.array_equal(c_pm, traj.concentration("C+-"))
    assert meta["normalisation"] == "per-shape"


def test_accessors(traj):
    assert traj.class_names[:5] == ["C+", "C-", "C++", "C--", "C+-"]
    assert traj.concentration("T+++").shape == (traj.n_records,)
    pair = traj.select(["C++", "C--", "C+-"])
    assert pair.class_names == ["C++", "C--", "C+-"] and pair.concentrations.shape == (traj.n_records, 3)
    assert [s["name"] for s in pair.metadata["shapes"]] == ["pair"]
    pair.validate()
    part = traj.select(["C+-", "L+++"])  # incomplete shapes are checked for Σ ≤ 1 only
    part.validate()
    with pytest.raises(UnknownNameError, match="known classes"):
        traj.concentration("C+++")
    with pytest.raises(UnknownNameError):
        traj.select(["nope"])
    assert traj.x == pytest.approx(34 / 81) and traj.seed == 3 and TRI.name in traj.name
    assert traj.concentrations.flags.writeable is False
    d = traj.as_dict()
    assert np.array_equal(d["C--"], traj.concentration("C--"))


def test_atomic_write_keeps_the_old_file_on_failure(traj, tmp_path):
    path = traj.save(tmp_path / "t.npz")
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        with atomic_write(path) as fh:
            fh.write(b"partial")
            raise RuntimeError("disk full")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.npz"]


# ---------------------------------------------------------------------------------- validation
def _write(tmp_path, meta, arrays, name="bad.npz"):
    path = tmp_path / name
    payload = dict(arrays)
    payload["metadata"] = np.array(json.dumps(meta))
    np.savez(path, **payload)
    return path


def _parts(traj):
    return json.loads(json.dumps(traj.metadata)), {k: np.array(v) for k, v in traj.arrays.items()}


def _expect(tmp_path, meta, arrays, match):
    with pytest.raises(DataError, match=match):
        Trajectory.load(_write(tmp_path, meta, arrays))


def test_missing_metadata_field(traj, tmp_path):
    meta, arrays = _parts(traj)
    del meta["species"], meta["time_unit"]
    _expect(tmp_path, meta, arrays, "missing metadata field.*species, time_unit")


def test_wrong_schema(traj, tmp_path):
    meta, arrays = _parts(traj)
    meta["schema"] = "latticeclosure.trajectory/2"
    _expect(tmp_path, meta, arrays, "schema 'latticeclosure.trajectory/2'")


def test_wrong_shapes(traj, tmp_path):
    meta, arrays = _parts(traj)
    arrays["concentrations"] = arrays["concentrations"][:, :-1]
    _expect(tmp_path, meta, arrays, r"'concentrations' has shape .*expected")
    meta, arrays = _parts(traj)
    arrays["temperature"] = arrays["temperature"][:-1]
    _expect(tmp_path, meta, arrays, "'temperature' has shape")
    meta, arrays = _parts(traj)
    arrays["configurations"] = arrays["configurations"][:, :10]
    _expect(tmp_path, meta, arrays, "n_sites")


def test_missing_array(traj, tmp_path):
    meta, arrays = _parts(traj)
    del arrays["time"]
    _expect(tmp_path, meta, arrays, "missing array 'time'")


def test_nan(traj, tmp_path):
    meta, arrays = _parts(traj)
    arrays["energy_per_site"][2] = np.nan
    _expect(tmp_path, meta, arrays, "'energy_per_site' contains NaN")
    meta, arrays = _parts(traj)
    arrays["concentrations"][1, 4] = np.inf
    _expect(tmp_path, meta, arrays, "'concentrations' contains NaN or infinity")


def test_negative_values(traj, tmp_path):
    meta, arrays = _parts(traj)
    arrays["concentrations"][3, 2] = -0.01
    _expect(tmp_path, meta, arrays, "concentration of class 'C\\+\\+' is negative")
    meta, arrays = _parts(traj)
    arrays["temperature"][0] = -1
    _expect(tmp_path, meta, arrays, "'temperature' has negative")


def test_unnormalised(traj, tmp_path):
    meta, arrays = _parts(traj)
    arrays["concentrations"][2, 2] += 1e-6  # C++
    _expect(tmp_path, meta, arrays, "shape 'pair' are not normalised at record 2")
    meta, arrays = _parts(traj)
    meta["classes"][4]["multiplicity"] = 1  # C+- has m = 2
    _expect(tmp_path, meta, arrays, "not normalised")


def test_non_monotonic_time(traj, tmp_path):
    meta, arrays = _parts(traj)
    arrays["time"][[1, 2]] = arrays["time"][[2, 1]]
    _expect(tmp_path, meta, arrays, "'time' must be non-decreasing")


def test_bad_class_records(traj, tmp_path):
    meta, arrays = _parts(traj)
    meta["classes"][5]["states"] = ["+", "x", "+"]
    _expect(tmp_path, meta, arrays, "outside the species")
    meta, arrays = _parts(traj)
    meta["classes"][6]["name"] = meta["classes"][5]["name"]
    _expect(tmp_path, meta, arrays, "appears twice")


def test_truncated_and_corrupt_files(traj, tmp_path):
    good = traj.save(tmp_path / "good.npz").read_bytes()
    for n, data in enumerate((good[: len(good) // 2], good[:100], b"not a zip at all", b"")):
        path = tmp_path / f"broken{n}.npz"
        path.write_bytes(data)
        with pytest.raises(DataError, match="truncated or corrupt"):
            Trajectory.load(path)
    flipped = bytearray(good)
    flipped[len(flipped) // 3] ^= 0xFF
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    with pytest.raises(DataError):
        Trajectory.load(tmp_path / "flipped.npz")
    np.savez(tmp_path / "nometa.npz", step=np.arange(3))
    with pytest.raises(DataError, match="no 'metadata'"):
        Trajectory.load(tmp_path / "nometa.npz")
    with zipfile.ZipFile(tmp_path / "badjson.npz", "w") as zf:
        with zf.open("metadata.npy", "w") as fh:
            np.lib.format.write_array(fh, np.array("{not json"))
    with pytest.raises(DataError, match="not valid JSON"):
        Trajectory.load(tmp_path / "badjson.npz")
    with pytest.raises(DataError, match="does not exist"):
        Trajectory.load(tmp_path / "missing.npz")


# ---------------------------------------------------------------------------------- CSV
def test_csv_round_trip_is_exact(traj, tmp_path):
    path = write_csv(traj, tmp_path / "t.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.metadata.json"]
    sidecar = json.loads((tmp_path / "t.metadata.json").read_text())
    assert sidecar["schema"] == "latticeclosure.trajectory-csv/1" and sidecar["metadata"] == json.loads(json.dumps(traj.metadata))
    back = read_csv(path)
    _same(traj, back, ["step", "time", "temperature", "energy_per_site", "acceptance", "concentrations"])
    assert back.metadata == traj.metadata
    assert load_trajectory(path).n_records == traj.n_records


def test_pandas_reads_the_exported_csv_as_it_is(traj, tmp_path):
    import pandas as pd  # a test dependency: the [test] extra installs it

    frame = pd.read_csv(write_csv(traj, tmp_path / "t.csv"))
    assert list(frame.columns) == ["step", "time", "temperature", "energy_per_site", "acceptance", *traj.class_names]
    assert frame["step"].dtype == np.int64 and np.array_equal(frame["step"].to_numpy(), traj.step)
    assert np.array_equal(frame["time"].to_numpy(), traj.time)  # 17 significant digits: exact
    assert np.array_equal(frame[traj.class_names].to_numpy(), traj.concentrations)


def test_csv_of_earlier_versions_with_comment_metadata(traj, tmp_path):
    """Exports used to carry the metadata as '# metadata: {...}' lines above the header; still read."""
    path = write_csv(traj, tmp_path / "t.csv")
    (tmp_path / "t.metadata.json").unlink()
    with pytest.raises(DataError, match="give the lattice and the species"):
        read_csv(path)
    old = tmp_path / "old.csv"
    old.write_text("# latticeclosure trajectory, schema latticeclosure.trajectory/1\n"
                   f"# metadata: {json.dumps(traj.metadata)}\n" + path.read_text())
    _same(traj, read_csv(old), ["step", "time", "concentrations"])
    (tmp_path / "old.metadata.json").write_text('{"schema": "something else"}')
    _same(traj, read_csv(old), ["step", "time", "concentrations"])  # the file's own lines win
    (tmp_path / "t.metadata.json").write_text('{"schema": "something else"}')
    with pytest.raises(DataError, match="expected a JSON object with schema"):
        read_csv(path)


def test_csv_import_from_another_simulator(traj, tmp_path):
    names = ["C++", "C--", "C+-", "A+-+", "L++-"]
    sub = traj.select(names)
    lines = ["t,T," + ",".join(names)]
    for k in range(traj.n_records):
        lines.append(",".join([repr(float(traj.step[k] * 10))] + [repr(float(traj.temperature[k]))]
                              + [repr(float(v)) for v in sub.concentrations[k]]))
    path = tmp_path / "other.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="give the lattice and the species"):
        read_csv(path)
    with pytest.raises(DataError, match="fraction of the run"):
        read_csv(path, lattice="triangular", species=["+", "-"])
    imp = read_csv(path, lattice="triangular", species=["+", "-"], rescale_time=True, metadata={"x_realised": 0.42})
    assert imp.class_names == ["C++", "C--", "C+-", "L++-", "A+-+"]  # canonical class order
    assert imp.x == 0.42 and imp.model is None
    for name in names:
        assert np.array_equal(imp.concentration(name), sub.concentration(name))
    assert np.allclose(imp.time, traj.time) and np.array_equal(imp.temperature, traj.temperature)
    assert {c["name"]: c["multiplicity"] for c in imp.classes}["C+-"] == 2
    out = imp.save(tmp_path / "imported.npz")
    _same(imp, Trajectory.load(out))


def test_csv_import_errors(tmp_path):
    def bad(text, match, **kw):
        p = tmp_path / "bad.csv"
        p.write_text(text)
        with pytest.raises(DataError, match=match):
            read_csv(p, lattice="triangular", species=["+", "-"], **kw)

    bad("time,C++,C--,C+-,C+++\n0,1,0,0,0\n", "neither")
    bad("time,C++,C--,C+-\n0,1,0\n", "3 fields, but the header has 4")
    bad("time,C++,C--,C+-\n0,one,0,0\n", "'one' is not a number")
    bad("time,C++,C--,C+-\n0,0.5,0.5,0.5\n", "not normalised")
    bad("time,C++,C--,C+-\n", "no data rows")
    bad("# only comments\n", "no header row")
    bad("time,step\n0,0\n", "no class columns")
    bad("time,C++,C++\n0,1,1\n", "duplicate column")


# ---------------------------------------------------------------------------------- CLI
def test_cli_data_commands(traj, tmp_path, capsys):
    from latticeclosure.cli.main import main

    npz = traj.save(tmp_path / "t.npz")
    assert main(["data", "show", str(npz)]) == 0
    assert "C+-" in capsys.readouterr().out
    assert main(["data", "show", str(npz), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == traj.n_records
    assert main(["data", "export", str(npz), "-o", str(tmp_path / "t.csv")]) == 0
    assert main(["data", "export", str(npz), "-o", str(tmp_path / "t.csv")]) == 2  # exists
    assert main(["data", "import", str(tmp_path / "t.csv"), "-o", str(tmp_path / "u.npz")]) == 0
    _same(traj, Trajectory.load(tmp_path / "u.npz"), ["concentrations", "step", "time"])
    assert main(["data", "validate", str(npz), str(tmp_path / "u.npz")]) == 0
    (tmp_path / "cut.npz").write_bytes(npz.read_bytes()[:300])
    capsys.readouterr()
    assert main(["data", "validate", str(tmp_path / "cut.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "truncated or corrupt" in err and "Traceback" not in err
    assert main(["data", "show", str(tmp_path / "nothere.npz")]) == 2
