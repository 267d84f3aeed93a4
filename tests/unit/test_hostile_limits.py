"""Class 2 of the hostile-input issue: bounded resources.

Nesting and size limits on JSON/TOML/closure text, endless streams, ``.npz`` members checked before
allocation (declared shape, dtype, decompressed size), class counts that grow with the species,
nearly degenerate lattice vectors, annealer memory, and the long-run estimate.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latticeclosure.classindex import ClassIndex
from latticeclosure.closures.custom import CustomClosure, read_closure_file
from latticeclosure.data import Trajectory
from latticeclosure.equations import load_flip_spec
from latticeclosure.errors import (CheckpointError, ClosureError, DataError, GeometryError, LatticeClosureError,
                                   LatticeFileError, ResourceLimitError, SizeLimitError)
from latticeclosure.io.npzfile import NpzReader, load_npz
from latticeclosure.io.reading import MAX_NESTING, MAX_TEXT_BYTES, parse_json, parse_toml, read_text
from latticeclosure.lattice import Lattice
from latticeclosure.latticefile import read_lattice_file
from latticeclosure.registry import get_lattice

DEEP_JSON = "[" * 100_000 + "]" * 100_000
DEEP_TOML = "rule = " + "[" * 5000 + "1" + "]" * 5000 + "\n"


# ------------------------------------------------------------------ nesting and size of text inputs
def test_deeply_nested_inputs_are_refused_on_every_reader(tmp_path):
    (tmp_path / "c.json").write_text('{"closures": ' + DEEP_JSON + "}")
    (tmp_path / "f.json").write_text('{"rules": ' + DEEP_JSON + "}")
    (tmp_path / "f.toml").write_text(DEEP_TOML)
    (tmp_path / "l.toml").write_text('name = "x"\nvectors = ' + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ClosureError, match="nested deeper"):
        read_closure_file(tmp_path / "c.json")
    with pytest.raises(ClosureError, match="nested deeper"):
        CustomClosure(text='{"closures": ' + DEEP_JSON + "}")
    with pytest.raises(LatticeClosureError, match="nested deeper"):
        load_flip_spec(str(tmp_path / "f.json"), ["S", "I"])
    with pytest.raises(LatticeClosureError, match="nested deeper"):
        load_flip_spec(str(tmp_path / "f.toml"), ["S", "I"])
    with pytest.raises(LatticeFileError, match="nested deeper"):
        read_lattice_file(tmp_path / "l.toml")


def test_nesting_at_the_limit_still_parses():
    text = "[" * MAX_NESTING + "]" * MAX_NESTING
    assert parse_json(text, "x") is not None
    with pytest.raises(DataError):
        parse_json("[" + text + "]", "x")
    deep = "[" * (MAX_NESTING + 10)
    assert parse_json(json.dumps({"a": deep, "b": 'x\\"' + deep}), "x") == {"a": deep, "b": 'x\\"' + deep}
    assert parse_toml(f"# {deep}\na = '{deep}'\nb = \"\"\"{deep}\"\"\"\n", "x") == {"a": deep, "b": deep}


def test_endless_and_oversized_files_are_refused(tmp_path):
    with pytest.raises(ClosureError, match="too large"):
        CustomClosure(path="/dev/zero")
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:  # a sparse file: its size is refused before anything is read
        fh.truncate(MAX_TEXT_BYTES + 1)
    with pytest.raises(DataError, match="too large"):
        read_text(big)
    with pytest.raises(LatticeFileError, match="too large"):
        read_lattice_file(big)


def test_json_constants_and_huge_integers_are_refused():
    with pytest.raises(DataError, match="NaN"):
        parse_json('{"a": NaN}', "x")
    with pytest.raises(DataError):
        parse_json('{"a": ' + "9" * 10000 + "}", "x")


@settings(max_examples=80, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet=st.sampled_from(list('[]{}",:0123456789.-eE tnulrfas#=\n\'\\')), max_size=200))
def test_random_json_and_toml_text_is_data_or_a_package_error(text):
    for parse in (parse_json, parse_toml):
        try:
            parse(text, "input")
        except DataError as exc:
            assert str(exc)


# ------------------------------------------------------------------ .npz members checked before allocation
def _forged(path, descr="<f8", shape=(2**50, 8), body=b""):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.npy", _npy(np.array("{}")))
        z.writestr("step.npy", buf.getvalue() + body)


def _npy(arr):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr)
    return buf.getvalue()


def test_a_tiny_file_declaring_a_huge_array_is_refused_before_allocation(tmp_path):
    path = tmp_path / "huge.npz"
    _forged(path)
    assert path.stat().st_size < 1000
    with pytest.raises(DataError, match="declares"):
        Trajectory.load(path)
    with pytest.raises(DataError, match="declares"):
        load_npz(path)


def test_a_decompression_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("LATTICECLOSURE_MAX_INPUT_BYTES", str(10**7))
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("step.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "|u1", "fortran_order": False, "shape": (5 * 10**7,)})
            for _ in range(50):
                fh.write(bytes(10**6))
    assert path.stat().st_size < 200_000
    with pytest.raises(DataError, match="decompress"):
        load_npz(path)


def test_object_and_structured_members_are_refused(tmp_path):
    np.savez(tmp_path / "obj.npz", a=np.array([{"x": 1}], dtype=object))
    np.savez(tmp_path / "rec.npz", a=np.zeros(3, dtype=[("x", "f8")]))
    np.savez(tmp_path / "cplx.npz", a=np.zeros(3, dtype=complex))
    for name, match in (("obj", "objects"), ("rec", "dtype"), ("cplx", "dtype")):
        with pytest.raises(DataError, match=match):
            load_npz(tmp_path / f"{name}.npz")


def test_declared_shapes_must_fit_the_metadata_before_reading(tmp_path):
    traj_meta = {"classes": [{"name": "a"}, {"name": "b"}]}
    path = tmp_path / "t.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.npy", _npy(np.array(json.dumps(traj_meta))))
        z.writestr("step.npy", _npy(np.arange(3)))
        z.writestr("time.npy", _npy(np.linspace(0, 1, 3)))
        z.writestr("concentrations.npy", _npy(np.zeros((3, 7))))
    with pytest.raises(DataError, match="concentrations"):
        Trajectory.load(path)


def test_checkpoints_go_through_the_same_checks(tmp_path):
    from latticeclosure.anneal.engine import AnnealRun
    from latticeclosure.registry import get_registry

    model = get_registry().get("models", "nmc") if "nmc" in get_registry().names("models") else None
    if model is None:
        pytest.skip("needs a model with an energy")
    path = tmp_path / "c.checkpoint.npz"
    _forged(path)
    with pytest.raises(CheckpointError):
        AnnealRun.from_checkpoint(path, model)
    path.write_bytes(b"PK\x03\x04 garbage")
    with pytest.raises(CheckpointError):
        AnnealRun.from_checkpoint(path, model)


def test_npz_reader_refuses_non_regular_files():
    with pytest.raises(DataError, match="not a regular file"):
        NpzReader("/dev/zero")


# ------------------------------------------------------------------ combinatorial limits
def test_class_counts_grow_with_the_species_and_are_refused_at_once():
    species = [chr(ord("a") + k) for k in range(10)]
    with pytest.raises(SizeLimitError, match="decorated patterns"):
        ClassIndex(get_lattice("triangular"), species, 6)
    ClassIndex(get_lattice("triangular"), species, 2)  # small requests still work


def test_the_clusters_document_applies_the_same_limit():
    from latticeclosure.clusters import ConnectedEnumerator
    from latticeclosure.cli.clusters import clusters_document

    with pytest.raises(SizeLimitError, match="decorated patterns"):
        clusters_document(get_lattice("triangular"), ConnectedEnumerator(), 6, [str(k) for k in range(10)])


@pytest.mark.parametrize("vectors", [
    [[1, 0], [1, 1e-5]],          # nearly collinear
    [[1, 0], [1e5, 1]],           # extremely sheared
    [[1, 0, 0], [0, 1, 0], [1, 1, 1e-6]],
])
def test_nearly_degenerate_vectors_are_refused_before_any_allocation(vectors):
    with pytest.raises(GeometryError, match="degenerate"):
        Lattice("bad", vectors)


def test_a_bond_rule_reaching_too_many_cells_is_refused():
    with pytest.raises(GeometryError, match="unit cells"):
        Lattice("far", [[1, 0], [0, 1]], bonds={"cutoff": 5000.0})


# ------------------------------------------------------------------ annealer memory and time
def test_the_annealer_refuses_runs_above_the_available_memory(monkeypatch):
    from latticeclosure.anneal import engine
    from latticeclosure.anneal.schedule import Schedule
    from latticeclosure.io import npzfile
    from conftest import ising_model

    model = ising_model()
    monkeypatch.setattr(npzfile, "available_memory", lambda: 50 * 2**20)
    with pytest.raises(ResourceLimitError, match="memory"):
        engine.AnnealRun(model, 0.5, 300, 0, Schedule([1.0], [1.0]))
    monkeypatch.setattr(npzfile, "available_memory", lambda: 8 * 2**30)
    with pytest.raises(ResourceLimitError, match="records"):  # one record per attempted swap
        engine.AnnealRun(model, 0.5, 2000, 0, Schedule([1.0], [200.0]), record_every=1e-6)


def test_the_kinetic_monte_carlo_refuses_runs_above_the_available_memory(monkeypatch):
    from latticeclosure.io import npzfile
    from latticeclosure.kmc.simulate import simulate
    from latticeclosure.kmc.spec import make_spec

    rules = [{"from": "S", "to": "I", "rate": "lam", "catalyst": "I"}, {"from": "I", "to": "S", "rate": 1}]
    spec = make_spec(lattice="square", species=["S", "I"], dynamics="flip", flip_spec=rules, rates={"lam": 1.0},
                     initial={"S": 0.5, "I": 0.5}, size=1000, time=1.0, record_every=0.5)
    monkeypatch.setattr(npzfile, "available_memory", lambda: 100 * 2**20)
    with pytest.raises(ResourceLimitError, match="memory"):
        simulate(spec, 0, 1)


def test_long_sweeps_are_announced_with_an_estimate(capsys):
    from latticeclosure.simulation import SimulationTask
    from latticeclosure.simulation.sweep import announce_duration, estimated_duration

    class Slow:
        def estimate_seconds(self, task):
            return 400.0

    tasks = [SimulationTask("m", {"x": v}) for v in (0.1, 0.2, 0.3, 0.4)]
    assert estimated_duration(Slow(), tasks, 2) == 800.0
    assert estimated_duration(Slow(), tasks, 4) == 400.0
    announce_duration(Slow(), tasks, 2)
    assert "notice:" in capsys.readouterr().err
    announce_duration(Slow(), tasks, 4)
    assert capsys.readouterr().err == ""


def test_the_annealer_estimates_its_own_run_time():
    from latticeclosure.anneal import AnnealBackend
    from latticeclosure.anneal.engine import NOMINAL_SWAPS_PER_SECOND
    from latticeclosure.anneal.schedule import Schedule
    from latticeclosure.simulation import SimulationTask
    from conftest import ising_model

    model = ising_model()
    task = SimulationTask(model, {"x": 0.5}, 0, 40, {"schedule": Schedule([1.0, 0.5], [100.0, 50.0])})
    expected = 40 * 40 * 150 / NOMINAL_SWAPS_PER_SECOND
    assert AnnealBackend("b", model).estimate_seconds(task) == pytest.approx(expected)
