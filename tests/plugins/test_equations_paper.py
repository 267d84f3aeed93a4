"""The triangular pair window against the paper's eq. (5) and (7), output formats and bad input."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
import sympy as sp

from latticeclosure.equations import FlipSpecError, generate_equations
from latticeclosure.equations.formats import to_json_dict, to_python, to_text
from latticeclosure.errors import LatticeClosureError, SizeLimitError, SpeciesError, UnknownNameError

pytestmark = pytest.mark.nmc

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tri_pair():
    return generate_equations("triangular", ["+", "-"], "swap", 2, exclude_closed=True)


def test_equation_5_symbolically(tri_pair):
    k1, k2, k3, k4, k5, k6, k7, k8 = sp.symbols("k1:9")
    A = {p: sp.Symbol("A" + p) for p in ("+-+", "++-", "-+-", "--+")}
    L = {p: sp.Symbol("L" + p) for p in ("+-+", "++-", "-+-", "--+")}
    expected = {
        "C++": 4 * k1 * A["+-+"] + 2 * k2 * L["+-+"] - 4 * k3 * A["++-"] - 2 * k4 * L["++-"],
        "C--": 4 * k5 * A["-+-"] + 2 * k6 * L["-+-"] - 4 * k7 * A["--+"] - 2 * k8 * L["--+"],
        "C+-": 2 * k3 * A["++-"] + k4 * L["++-"] + 2 * k7 * A["--+"] + k8 * L["--+"]
        - 2 * k1 * A["+-+"] - k2 * L["+-+"] - 2 * k5 * A["-+-"] - k6 * L["-+-"],
    }
    assert [c.name for c in tri_pair.window_classes] == ["C++", "C--", "C+-"]
    for lhs, rhs in expected.items():
        assert sp.expand(tri_pair.rhs[lhs] - rhs) == 0, lhs
    assert [r.name for r in tri_pair.rates] == [f"k{i}" for i in range(1, 9)]
    reverse = {r.name: r.reverse for r in tri_pair.rates}
    assert reverse == {"k1": "k3", "k3": "k1", "k2": "k4", "k4": "k2", "k5": "k7", "k7": "k5", "k6": "k8", "k8": "k6"}


def test_equation_7_equilibrium_constants(tri_pair):
    k = sp.symbols("k1:9")
    q = {c.forward: c for c in tri_pair.equilibrium_constants}
    assert sp.simplify(q["k1"].rate_ratio - k[0] / k[2]) == 0
    assert sp.simplify(q["k1"].concentration_ratio - sp.Symbol("A++-") / sp.Symbol("A+-+")) == 0
    assert sp.simplify(q["k2"].concentration_ratio - sp.Symbol("L++-") / sp.Symbol("L+-+")) == 0
    assert sp.simplify(q["k5"].concentration_ratio - sp.Symbol("A--+") / sp.Symbol("A-+-")) == 0
    assert sp.simplify(q["k6"].concentration_ratio - sp.Symbol("L--+") / sp.Symbol("L-+-")) == 0
    assert len(tri_pair.equilibrium_constants) == 4


def test_conservation_and_drift(tri_pair):
    (law,) = tri_pair.conservation_laws
    assert sp.expand(law.lhs - (sp.Symbol("dC++/dt") + sp.Symbol("dC--/dt") + 2 * sp.Symbol("dC+-/dt"))) == 0
    drift = tri_pair.composition_drift["+"]
    assert drift != 0  # not conserved for independent rate constants
    assert sp.expand(drift - (tri_pair.rhs["C++"] + tri_pair.rhs["C+-"])) == 0
    relations = {eq.lhs: eq.rhs for eq in tri_pair.drift_relations}
    assert relations  # non-trivial conditions
    # equal rates satisfy them
    ones = {s: 1 for s in tri_pair.rate_symbols}
    for lhs, rhs in relations.items():
        assert sp.sympify(rhs).subs(ones) == 1


def test_text_output_is_equation_5(tri_pair):
    assert to_text(tri_pair).splitlines() == [
        "dC₊₊/dt = 4k1 A₊₋₊ + 2k2 L₊₋₊ − 4k3 A₊₊₋ − 2k4 L₊₊₋",
        "dC₋₋/dt = 4k5 A₋₊₋ + 2k6 L₋₊₋ − 4k7 A₋₋₊ − 2k8 L₋₋₊",
        "dC₊₋/dt = 2k3 A₊₊₋ + k4 L₊₊₋ + 2k7 A₋₋₊ + k8 L₋₋₊ − 2k1 A₊₋₊ − k2 L₊₋₊ − 2k5 A₋₊₋ − k6 L₋₊₋",
    ]


def test_json_schema(tri_pair):
    doc = to_json_dict(tri_pair)
    assert doc["schema"] == "latticeclosure.equations/1"
    assert set(doc) == {"schema", "lattice", "species", "dynamics", "window_size", "exclude_closed", "variables", "rates", "equations"}
    assert doc["lattice"]["name"] == "triangular" and doc["lattice"]["dimension"] == 2
    assert doc["species"] == ["+", "-"] and doc["dynamics"] == "swap" and doc["window_size"] == 2
    assert doc["exclude_closed"] is True
    names = [v["name"] for v in doc["variables"]]
    assert len(names) == len(set(names))
    for v in doc["variables"]:
        assert set(v) == {"name", "size", "sites", "states", "multiplicity"}
        assert len(v["sites"]) == len(v["states"]) == v["size"]
        assert all(len(p) == 2 for p in v["sites"])
    lhs = [e["lhs"] for e in doc["equations"]]
    assert lhs == ["C++", "C--", "C+-"]
    used = {t["variable"] for e in doc["equations"] for t in e["terms"]}
    assert used <= set(names)
    for e in doc["equations"]:
        keys = [(t["rate"], t["variable"]) for t in e["terms"]]
        assert len(keys) == len(set(keys))  # merged
    assert [r["name"] for r in doc["rates"]] == [f"k{i}" for i in range(1, 9)]
    committed = json.loads((ROOT / "docs" / "examples" / "triangular-pair-equations.json").read_text())
    assert committed == json.loads(json.dumps(doc))


def test_python_module_matches_symbolic(tri_pair, tmp_path):
    path = tmp_path / "tri_pair_rhs.py"
    path.write_text(to_python(tri_pair))
    spec = importlib.util.spec_from_file_location("tri_pair_rhs", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rng = np.random.default_rng(3)
    C = rng.random((5, len(mod.VARIABLES)))
    k = rng.random(len(mod.RATES))
    out = mod.rhs(C, k)
    assert out.shape == (5, 3)
    subs_rates = {sp.Symbol(n): v for n, v in zip(mod.RATES, k)}
    for row in range(5):
        subs = {sp.Symbol(n): C[row, i] for i, n in enumerate(mod.VARIABLES)} | subs_rates
        for j, lhs in enumerate(mod.LHS):
            assert out[row, j] == pytest.approx(float(tri_pair.rhs[lhs].subs(subs)), rel=1e-12)


def test_one_dimensional_json_sites():
    doc = to_json_dict(generate_equations("chain", ["A", "B"], "swap", 2))
    assert all(len(p) == 1 for v in doc["variables"] for p in v["sites"])


def test_sis_flip_window_one():
    rules = [
        {"from": "S", "to": "I", "rate": "tau", "catalyst": "I"},
        {"from": "I", "to": "S", "rate": "gamma"},
    ]
    eqs = generate_equations("square", ["S", "I"], "flip", 1, flip_spec={"rule": rules})
    tau, gamma = sp.symbols("tau gamma")
    # dC_I/dt = z tau C_SI - gamma C_I with z = 4 neighbours (per-shape normalised pair C_SI)
    assert sp.expand(eqs.rhs["CI"] - (4 * tau * sp.Symbol("CSI") - gamma * sp.Symbol("CI"))) == 0
    assert sp.expand(eqs.rhs["CS"] + eqs.rhs["CI"]) == 0


def test_internal_swaps_matter_from_three_sites():
    eqs = generate_equations("triangular", ["+", "-"], "swap", 3, naming=None)
    internal = [r for r in eqs.reactions if r.kind == "internal"]
    assert internal, "linear +-- <-> -+- must change the class through an internal swap"
    pair = generate_equations("triangular", ["+", "-"], "swap", 2, naming=None)
    assert not [r for r in pair.reactions if r.kind == "internal"]


@pytest.mark.parametrize(
    "kwargs,error",
    [
        (dict(species=["+", "+"]), SpeciesError),
        (dict(species=["+"]), SpeciesError),
        (dict(window_size=9), SizeLimitError),
        (dict(window_size=0), SizeLimitError),
        (dict(dynamics="teleport"), UnknownNameError),
        (dict(dynamics="flip"), FlipSpecError),
        (dict(dynamics="flip", flip_spec={"rule": [{"from": "x", "to": "-", "rate": 1}]}), FlipSpecError),
        (dict(dynamics="flip", flip_spec={"rule": [{"from": "+", "to": "-", "rate": -1}]}), FlipSpecError),
    ],
)
def test_bad_input(kwargs, error):
    args = dict(lattice="triangular", species=["+", "-"], dynamics="swap", window_size=2)
    args.update(kwargs)
    with pytest.raises(error) as info:
        generate_equations(**args)
    assert isinstance(info.value, LatticeClosureError)
    assert str(info.value)


def test_cli_prints_equation_5():
    res = run_cli("equations", "--lattice", "triangular", "--species", "+", "-", "--window-size", "2", "--exclude-closed")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "dC₊₊/dt = 4k1 A₊₋₊ + 2k2 L₊₋₊ − 4k3 A₊₊₋ − 2k4 L₊₊₋"


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--lattice", "triangular", "--species", "+", "+"], "distinct"),
        (["--lattice", "triangular", "--window-size", "12"], "window size"),
        (["--lattice", "triangular", "--dynamics", "warp"], "warp"),
        (["--lattice", "hexagonal"], "hexagonal"),
        (["--lattice", "square", "--dynamics", "flip", "--flip-spec", "/nonexistent.toml"], "does not exist"),
    ],
)
def test_cli_bad_input_exit_2(args, fragment, tmp_path):
    res = run_cli("equations", *args)
    assert res.returncode == 2
    assert fragment in res.stderr
    assert "Traceback" not in res.stderr


def test_cli_flip_spec_file(tmp_path):
    spec = tmp_path / "sis.toml"
    spec.write_text('[[rule]]\nfrom = "S"\nto = "I"\nrate = "tau"\ncatalyst = "I"\n\n[[rule]]\nfrom = "I"\nto = "S"\nrate = -2\n')
    res = run_cli("equations", "--lattice", "square", "--species", "S", "I", "--dynamics", "flip", "--flip-spec", str(spec), "--window-size", "1")
    assert res.returncode == 2 and "non-negative" in res.stderr
    spec.write_text(spec.read_text().replace("rate = -2", 'rate = "gamma"'))
    res = run_cli("equations", "--lattice", "square", "--species", "S", "I", "--dynamics", "flip", "--flip-spec", str(spec), "--window-size", "1", "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert {r["name"] for r in doc["rates"]} == {"tau", "gamma"}
