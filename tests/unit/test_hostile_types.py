"""Class 3 of the hostile-input issue: types and semantics checked at the edge.

Options and file fields of the wrong type or meaning get a specific package error; flip rate names
that are class names or reserved words, complex closures, inconsistent dataset metadata and file-name
collisions are refused; the Python API raises package errors for wrong types. Property-based tests
generate malformed flip specs, lattice files and dataset metadata.
"""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latticeclosure.classindex import ClassIndex
from latticeclosure.closedmodel import close_equations
from latticeclosure.closures.custom import CustomClosure
from latticeclosure.data import Trajectory, read_csv
from latticeclosure.equations import generate_equations, load_flip_spec
from latticeclosure.errors import (ClosureError, ConfigurationError, DataError, LatticeClosureError, SizeLimitError,
                                   SpeciesError)
from latticeclosure.latticefile import lattice_from_mapping
from latticeclosure.registry import get_lattice, get_registry


@pytest.fixture(scope="module")
def index():
    return ClassIndex(get_lattice("triangular"), ["+", "-"], 3)


@pytest.fixture(scope="module")
def pair_equations():
    return generate_equations(get_lattice("triangular"), ["+", "-"], "swap", 2, exclude_closed=True)


def _trajectory(on=None, **meta_changes):
    """A small valid trajectory on the square lattice (independent sites, exact concentrations)."""
    from latticeclosure.data.classes import records_for

    lat = on or get_lattice("square")
    idx = ClassIndex(lat, ["A", "B"], 2)
    classes = [c for s in idx.shapes for c in idx.classes_of[s.name]]
    records, shapes = records_for(classes, idx.species)
    x = 0.3
    conc = []
    for c in classes:
        p = np.prod([x if s == "B" else 1 - x for s in c.states])
        conc.append(p)
    meta = {
        "schema": "latticeclosure.trajectory/1", "model": "test", "lattice": lat.to_json(), "supercell": [4, 4],
        "n_sites": 16, "seed": 0, "schedule": None, "species": ["A", "B"], "x_target": x, "x_realised": x,
        "normalisation": "per-shape", "time_unit": "fraction of the run", "classes": records, "shapes": shapes,
    }
    meta.update(meta_changes)
    arrays = {"step": np.arange(3), "time": np.linspace(0, 1, 3), "concentrations": np.tile(conc, (3, 1))}
    return meta, arrays


# ------------------------------------------------------------------ options and file fields
@pytest.mark.parametrize("options, match", [
    ({"text": 5}, "text must be a string"),
    ({"path": 5}, "must be a file name"),
    ({"format": "yaml"}, "unknown custom closure format"),
    ({"expressions": ["C++"]}, "expressions must map"),
    ({"parameters": [1, 2]}, "parameters must map"),
    ({"text": "parameter a = x"}, "needs a number"),
    ({"text": '{"closures": {"L+++": "a*C++"}, "parameters": {"a": {"value": 1, "bounds": ["x", 2]}}}'},
     "lower bound of parameter 'a' must be a number"),
    ({"text": '{"closures": {"L+++": "a*C++"}, "parameters": {"a": {"value": "1"}}}'}, "must be a number"),
    ({"text": '{"closures": {"L+++": "a*C++"}, "parameters": {"a": {"value": true}}}'}, "must be a number"),
    ({"text": '{"closures": {"L+++": "E*C++"}, "parameters": {"E": 1}}'}, "reserved"),
    ({"text": '["C++"]', "format": "json"}, "expected a table/object"),
    ({"text": '{"closures": {"L+++": 5}}'}, "must be a string expression"),
])
def test_closure_options_of_the_wrong_type_or_meaning(options, match):
    with pytest.raises(ClosureError, match=match):
        get_registry().resolve("closures", "custom", **options)


def test_complex_closures_are_refused_on_every_path(index, pair_equations):
    with pytest.raises(ClosureError, match="not a real number"):
        CustomClosure(expressions={"L+++": "sqrt(-1)*C++"}).expression("L+++", index)
    mapping = {c.name: "C+-" for c in pair_equations.context_classes}
    with pytest.raises(ClosureError, match="not a real number"):
        close_equations(pair_equations, {**mapping, "A+-+": "sqrt(-1)*C+-"})
    import sympy as sp

    with pytest.raises(ClosureError, match="not a real number"):
        close_equations(pair_equations, {**mapping, "A+-+": sp.I * sp.Symbol("C+-")})


@pytest.mark.parametrize("rate, match", [
    ("CS", "also class names"),        # a class of the square lattice with species S, I
    ("CSI/2", "also class names"),
    ("lambda", "lambda"),
    ("for", "cannot parse"),
    ("None", "constant None"),
    ("exp", "without an argument"),
    ("match", "reserved"),             # a soft keyword as a parameter name
    ("-1", "non-negative"),
    ("sqrt(-1)", "not a real number"),
    ("tau^1000001", "out of range"),
    (True, "a name, a non-negative number or an expression"),
    ([1], "a name, a non-negative number or an expression"),
])
def test_flip_rates_must_be_plain_expressions_of_unreserved_names(rate, match):
    with pytest.raises(LatticeClosureError, match=match):
        generate_equations("square", ["S", "I"], "flip", 2, flip_spec=[{"from": "S", "to": "I", "rate": rate}])


def test_constants_in_flip_rates_are_numbers_not_rate_constants():
    eqs = generate_equations("square", ["S", "I"], "flip", 2, flip_spec=[{"from": "S", "to": "I", "rate": "E*tau"}])
    assert [r.name for r in eqs.rates] == ["tau"]  # E is Euler's number, never a rate called E


def test_flip_spec_states_must_be_strings():
    with pytest.raises(LatticeClosureError, match="must be a state name"):
        load_flip_spec([{"from": 1, "to": "I", "rate": "a"}], ["S", "I"])
    with pytest.raises(LatticeClosureError, match="a file name, a mapping or a list"):
        load_flip_spec(5, ["S", "I"])


# ------------------------------------------------------------------ data files and metadata
def test_data_files_that_are_not_objects(tmp_path):
    from latticeclosure.cli.fit import read_data_file

    (tmp_path / "list.json").write_text("[1, 2, 3]")
    with pytest.raises(DataError, match="must hold a JSON object"):
        read_data_file(str(tmp_path / "list.json"))
    (tmp_path / "cols.json").write_text('{"columns": [1, 2]}')
    with pytest.raises(DataError, match="'columns' must be an object"):
        read_data_file(str(tmp_path / "cols.json"))
    (tmp_path / "meta.json").write_text('{"time": [0, 1], "C++": [1, 1], "metadata": "square"}')
    with pytest.raises(DataError, match="metadata must be a JSON object"):
        read_data_file(str(tmp_path / "meta.json"))


def test_csv_metadata_header_must_be_an_object(tmp_path):
    for header in ("[1, 2]", '"text"', "5", '{"classes": [5]}'):
        path = tmp_path / "h.csv"
        path.write_text(f"# metadata: {header}\nstep,time,C++\n0,0,1\n")
        with pytest.raises(DataError, match="metadata header"):
            read_csv(path)


@pytest.mark.parametrize("energy", ["1.0", [1], {"lower_bound_per_site": "low"}])
def test_energy_metadata_of_the_wrong_type(energy):
    meta, arrays = _trajectory(energy=energy)
    with pytest.raises(DataError, match="energy"):
        Trajectory(meta, arrays)


def test_a_dataset_labelled_square_with_triangular_vectors_is_refused():
    meta, arrays = _trajectory()
    tri = get_lattice("triangular").to_json()
    meta["lattice"] = {**tri, "name": "square"}
    with pytest.raises(DataError, match="labelled 'square'"):
        Trajectory(meta, arrays)
    # a rotated and scaled square lattice is still the square lattice
    c, s = np.cos(0.3), np.sin(0.3)
    meta["lattice"] = {"name": "square", "dimension": 2, "vectors": [[2 * c, 2 * s], [-2 * s, 2 * c]], "basis": [[0, 0]]}
    Trajectory(meta, arrays)


@pytest.mark.parametrize("change, match", [
    ({"lattice": {"name": "x", "dimension": 2, "vectors": [[1, 0], [1, 1e-9]], "basis": [[0, 0]]}}, "degenerate"),
    ({"lattice": {"name": "x", "dimension": 2, "vectors": [[1, 0], [0, 1]], "basis": [[0, 0], [1, 0]]}}, "overlap"),
    ({"lattice": {"name": "x", "dimension": True, "vectors": [[1]], "basis": [[0]]}}, "dimension"),
    ({"lattice": {"name": 5, "dimension": 2, "vectors": [[1, 0], [0, 1]], "basis": [[0, 0]]}}, "name"),
    ({"supercell": [4, 4, 4]}, "supercell"),
    ({"supercell": [4, 0]}, "supercell"),
    ({"n_sites": 17}, "n_sites"),
    ({"seed": -1}, "seed"),
    ({"model": 5}, "model"),
])
def test_inconsistent_or_degenerate_dataset_metadata(change, match):
    meta, arrays = _trajectory(**change)
    with pytest.raises(DataError, match=match):
        Trajectory(meta, arrays)


_MUTATIONS = st.sampled_from([None, 0, -1, 1.5, True, "", "x", [], [None], {}, {"a": 1}, [[1, 0], [0, 1]], float("nan")])


@settings(max_examples=120, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_malformed_dataset_metadata_is_always_a_package_error(data):
    meta, arrays = _trajectory()
    meta = copy.deepcopy(meta)
    for _ in range(data.draw(st.integers(1, 3))):
        target = meta
        path = data.draw(st.sampled_from([
            ("lattice",), ("lattice", "vectors"), ("lattice", "basis"), ("lattice", "dimension"), ("species",),
            ("classes",), ("shapes",), ("supercell",), ("n_sites",), ("energy",), ("x_realised",), ("time_unit",),
            ("classes", 0), ("classes", 0, "states"), ("classes", 0, "sites"), ("classes", 0, "multiplicity"),
            ("classes", 1, "name"), ("shapes", 0, "n_classes"), ("shapes", 0, "name"), ("seed",), ("model",),
        ]))
        for key in path[:-1]:
            ok = isinstance(target, dict) and key in target or isinstance(target, list) and isinstance(key, int) \
                and key < len(target)
            target = target[key] if ok else None
        last = path[-1]
        if isinstance(target, dict) or isinstance(target, list) and isinstance(last, int) and last < len(target):
            target[last] = data.draw(_MUTATIONS)
    try:
        Trajectory(json.loads(json.dumps(meta, allow_nan=True)), arrays)
    except DataError as exc:
        assert str(exc) and len(str(exc)) <= 400


# ------------------------------------------------------------------ lattice files
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=True, allow_infinity=True, width=32)
    | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["shells", "cutoff", "explicit",
                                                                               "kind", "a", "b"]), inner, max_size=2),
    max_leaves=10,
)


@settings(max_examples=120, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.sampled_from(["name", "vectors", "basis", "bonds", "sublattices", "description", "extra"]),
                       _VALUES, max_size=5))
def test_malformed_lattice_files_are_always_a_package_error(record):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            lattice_from_mapping(record, where="lattice file")
        except LatticeClosureError as exc:
            assert str(exc)


@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.integers(1, 3), min_size=2, max_size=2).flatmap(
    lambda shape: st.lists(st.lists(st.floats(-3, 3, width=32), min_size=shape[1], max_size=shape[1]),
                           min_size=shape[0], max_size=shape[0])))
def test_random_vectors_make_a_lattice_or_a_package_error(vectors):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            lattice_from_mapping({"name": "r", "vectors": vectors}, where="lattice file")
        except LatticeClosureError as exc:
            assert str(exc)


# ------------------------------------------------------------------ flip specs
_SPEC_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.floats(allow_nan=True), st.text(max_size=6),
                         st.sampled_from(["S", "I", "R", "tau", "1/2", "E", "CS", "__x", "a b"]),
                         st.lists(st.sampled_from(["S", "I"]), max_size=2))


@settings(max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(
    st.lists(st.dictionaries(st.sampled_from(["from", "to", "rate", "catalyst", "other"]), _SPEC_VALUES, max_size=5),
             max_size=3),
    st.dictionaries(st.sampled_from(["rule", "rules", "x"]), st.lists(st.dictionaries(
        st.sampled_from(["from", "to", "rate", "catalyst"]), _SPEC_VALUES, max_size=4), max_size=2) | _SPEC_VALUES,
        max_size=2),
    _SPEC_VALUES,
))
def test_malformed_flip_specs_are_always_a_package_error(spec):
    try:
        generate_equations("chain", ["S", "I"], "flip", 2, flip_spec=spec)
    except LatticeClosureError as exc:
        assert str(exc) and len(str(exc)) <= 400


# ------------------------------------------------------------------ names and file names
def test_two_stoichiometries_that_map_to_one_file_name_are_refused():
    from latticeclosure.simulation import SimulationTask
    from latticeclosure.simulation.sweep import check_tasks

    class Passthrough:
        def check_task(self, task):
            return task

    tasks = [SimulationTask("m", {"x": 0.1234564}), SimulationTask("m", {"x": 0.1234561})]
    with pytest.raises(ConfigurationError, match="same file name"):
        check_tasks(Passthrough(), tasks)


def test_empty_output_names_are_refused():
    from latticeclosure.io.outdir import check_output_name, prepare_output_directory

    for bad in ("", "   "):
        with pytest.raises(ConfigurationError, match="empty"):
            check_output_name(bad, "-o")
        with pytest.raises(ConfigurationError, match="empty"):
            prepare_output_directory(bad, overwrite=False, resume=False)
    with pytest.raises(ConfigurationError, match="NUL"):
        check_output_name("a\x00b")


@pytest.mark.parametrize("species, match", [
    (None, "list of names"),
    (5, "list of names"),
    ([1, 2], "must be strings"),
    (["a", None], "must be strings"),
    (["a,b", "c"], "contains ','"),
    (["[a]", "b"], "contains"),
    (["a\x07", "b"], "contains"),
    (["a"], "at least two"),
])
def test_species_of_the_wrong_type_or_with_delimiters(species, match):
    with pytest.raises(SpeciesError, match=match):
        generate_equations(get_lattice("square"), species)


def test_the_python_api_raises_package_errors_for_wrong_types(pair_equations):
    from latticeclosure.anneal.schedule import Schedule
    from latticeclosure.simulation import sweep_tasks

    calls = [
        lambda: generate_equations(get_lattice("square"), species=None),
        lambda: generate_equations(get_lattice("square"), ["A", "B"], window_size=None),
        lambda: generate_equations(get_lattice("square"), ["A", "B"], window_size="2"),
        lambda: Trajectory.load(5),
        lambda: Trajectory.load(None),
        lambda: Trajectory(5, {}),
        lambda: Trajectory({}, [1, 2]),
        lambda: read_csv(5),
        lambda: close_equations(None, "pair"),
        lambda: close_equations(pair_equations, "pair", eliminate=5),
        lambda: close_equations(pair_equations, "pair", per_class=["x"]),
        lambda: close_equations(pair_equations, {"A+-+": object()}),
        lambda: ClassIndex(None, ["A", "B"], 2),
        lambda: ClassIndex(get_lattice("square"), ["A", "B"], "2"),
        lambda: Schedule.parse(5),
        lambda: sweep_tasks("m", 0.5),
        lambda: sweep_tasks("m", [0.5], 0),
        lambda: sweep_tasks("m", [0.5, 0.5]),
        lambda: sweep_tasks("m", [0.5], [1, 1]),
    ]
    for call in calls:
        with pytest.raises(LatticeClosureError):
            call()
    assert issubclass(SizeLimitError, LatticeClosureError)
