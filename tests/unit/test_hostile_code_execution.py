"""Class 1 of the hostile-input issue: no code execution from user text, anywhere.

Every path that turns text into an expression (custom closures, mapping closures, flip-spec rates,
the parser itself) gets the same payload set and must refuse each with a package error, never
running it; generated Python holds user names only as literals; the model cache is hash-checked.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings

from hostile_payloads import MARKER, PAYLOADS, expression_texts
from latticeclosure.classindex import ClassIndex
from latticeclosure.closedmodel import close_equations
from latticeclosure.closures.custom import CustomClosure
from latticeclosure.codegen import GeneratedCodeError, literal, verify_module
from latticeclosure.equations import generate_equations, load_flip_spec
from latticeclosure.equations.formats import to_python
from latticeclosure.errors import LatticeClosureError
from latticeclosure.expressions import parse_expression
from latticeclosure.registry import get_lattice

HOSTILE_SPECIES = 'A"""+__import__("os").mkdir("PWNED")+"""'


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert not (tmp_path / MARKER).exists(), "a payload was executed"


@pytest.fixture(scope="module")
def pair_equations():
    return generate_equations(get_lattice("triangular"), ["+", "-"], "swap", 2, exclude_closed=True)


# ------------------------------------------------------------------ one payload set, every path
@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_parser_refuses_every_payload(payload):
    with pytest.raises(LatticeClosureError):
        parse_expression(payload, class_names=["C++", "C+-", "C--", "C+", "C-"], parameters=None)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_custom_closures_refuse_every_payload(payload):
    idx = ClassIndex(get_lattice("triangular"), ["+", "-"], 3)
    with pytest.raises(LatticeClosureError):
        CustomClosure(expressions={"L+++": payload}).expression("L+++", idx)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_custom_closure_files_refuse_every_payload(payload, tmp_path):
    idx = ClassIndex(get_lattice("triangular"), ["+", "-"], 3)
    (tmp_path / "c.json").write_text('{"closures": {"L+++": %s}}' % _json_string(payload))
    with pytest.raises(LatticeClosureError):
        CustomClosure(path=str(tmp_path / "c.json")).expression("L+++", idx)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_mapping_closures_refuse_every_payload(payload, pair_equations):
    mapping = {c.name: "C+-" for c in pair_equations.context_classes}
    mapping["A+-+"] = payload
    with pytest.raises(LatticeClosureError):
        close_equations(pair_equations, mapping)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_flip_spec_rates_refuse_every_payload(payload):
    with pytest.raises(LatticeClosureError):
        load_flip_spec([{"from": "S", "to": "I", "rate": payload}], ["S", "I"])


def _json_string(text: str) -> str:
    import json

    return json.dumps(text)


def test_the_parser_builds_expressions_without_eval():
    """Valid expressions still mean what they say (independent sympy construction)."""
    cp, cpp, c_p = sp.Symbol("C+-"), sp.Symbol("C++"), sp.Symbol("C+")
    got = parse_expression("C++^2 / C+ + 0.5*{C+-} - 2**3 + exp(C+) + pi", class_names=["C++", "C+-", "C+"])
    assert sp.simplify(got - (cpp**2 / c_p + sp.Float("0.5") * cp - 8 + sp.exp(c_p) + sp.pi)) == 0
    assert parse_expression("lam/4", parameters=None) == sp.Symbol("lam") / 4
    assert parse_expression("3/10", rational=True) == sp.Rational(3, 10)
    assert parse_expression("0.3", rational=True) == sp.Rational(3, 10)


def _parse_paths(eqs):
    idx = ClassIndex(get_lattice("triangular"), ["+", "-"], 3)
    mapping = {c.name: "C+-" for c in eqs.context_classes}
    return {
        "parser": lambda text: parse_expression(text, class_names=["C++", "C+-", "C+"], parameters=None),
        "custom closure": lambda text: CustomClosure(expressions={"L+++": text}).expression("L+++", idx),
        "mapping closure": lambda text: close_equations(eqs, {**mapping, "A+-+": text}),
        "flip-spec rate": lambda text: load_flip_spec([{"from": "S", "to": "I", "rate": text}], ["S", "I"]),
    }


@pytest.mark.parametrize("path", ["parser", "custom closure", "mapping closure", "flip-spec rate"])
def test_random_text_is_a_result_or_a_package_error_on_every_path(path, pair_equations):
    run = _parse_paths(pair_equations)[path]

    @settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(expression_texts())
    def check(text):
        try:
            run(text)
        except LatticeClosureError as exc:
            assert str(exc) and len(str(exc)) <= 400 and "\n" not in str(exc).strip()

    check()


# ------------------------------------------------------------------ generated python source
def test_equations_module_holds_hostile_names_only_as_data(tmp_path):
    eqs = generate_equations(get_lattice("square"), [HOSTILE_SPECIES, "B"], "swap", 2)
    plain = generate_equations(get_lattice("square"), ["A", "B"], "swap", 2)
    path = tmp_path / "eqs_module.py"
    path.write_text(to_python(eqs))
    spec = importlib.util.spec_from_file_location("eqs_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.SPECIES == [HOSTILE_SPECIES, "B"]
    assert module.VARIABLES == [c.name for c in eqs.variables]
    # the same equations as with plain names: the module's rhs agrees with the sympy right-hand sides
    rng = np.random.default_rng(0)
    C = rng.random((4, len(module.VARIABLES)))
    k = rng.random(len(module.RATES))
    out = module.rhs(C, k)
    plain_names = [c.name for c in plain.variables]
    for j, lhs in enumerate(plain.window_classes):
        f = sp.lambdify([sp.Symbol(n) for n in plain_names] + [r.symbol for r in plain.rates], plain.rhs[lhs.name])
        np.testing.assert_allclose(out[:, j], f(*C.T, *k), rtol=1e-13)


def test_closed_model_module_holds_hostile_names_only_as_data(tmp_path, monkeypatch):
    monkeypatch.setenv("LATTICECLOSURE_CACHE", str(tmp_path / "cache"))
    hostile = close_equations(generate_equations(get_lattice("square"), [HOSTILE_SPECIES, "B"], "swap", 2), "pair")
    compiled = hostile.compile()
    assert compiled.module.STATE_NAMES == list(hostile.state_names)
    assert any(HOSTILE_SPECIES in n for n in compiled.module.WINDOW_NAMES)
    # the compiled right-hand side is the model's, evaluated independently with sympy
    y = np.full(compiled.n_state, 0.2)
    p = np.linspace(0.5, 2.0, compiled.n_param)
    f = sp.lambdify([*hostile.state_symbols, *hostile.parameters], [hostile.rhs[n] for n in hostile.state_names])
    np.testing.assert_allclose(compiled.rhs(y, p), f(*y, *p), rtol=1e-12)


def test_literal_and_module_verification_refuse_code():
    class Sneaky(str):
        def __repr__(self):
            return "__import__('os')"

    assert literal([Sneaky("x")]) == "['x']"  # the subclass's repr is never used
    with pytest.raises(GeneratedCodeError):
        literal(object())
    with pytest.raises(GeneratedCodeError):
        verify_module("x = open('PWNED', 'w')\n", names={"x"})
    with pytest.raises(GeneratedCodeError):
        verify_module("import os\n", names=set(), modules={"numpy"})
    with pytest.raises(GeneratedCodeError):
        verify_module("y = x.__class__\n", names={"x", "y"})
    verify_module("import numpy as np\nv0 = np.zeros(3)\n", names={"np"}, patterns=[r"v\d+"], modules={"numpy"})


# ------------------------------------------------------------------ the hash-checked cache
def test_a_tampered_cached_module_is_regenerated_not_imported(tmp_path, pair_equations):
    from latticeclosure.closedmodel.compile import compile_model, hash_path

    cache = tmp_path / "cache"
    model = close_equations(pair_equations, "pair")
    first = compile_model(model, cache_dir=cache)
    path = first.path
    original = path.read_bytes()
    assert hash_path(path).read_text().split()[0] == __import__("hashlib").sha256(original).hexdigest()
    path.write_bytes(original + b"\nopen('PWNED', 'w')\n")
    second = compile_model(model, cache_dir=cache, reload=True)
    assert second.cache_info["source_written"] is True
    assert path.read_bytes() == original
    hash_path(path).unlink()  # a missing hash also regenerates
    third = compile_model(model, cache_dir=cache, reload=True)
    assert third.cache_info["source_written"] is True and hash_path(path).exists()
    fourth = compile_model(model, cache_dir=cache, reload=True)
    assert fourth.cache_info["source_written"] is False  # intact: loaded as it is
    y, p = np.array([0.3, 0.25]), np.linspace(1, 2, first.n_param)
    assert np.array_equal(first.rhs(y, p), fourth.rhs(y, p))


def test_a_cache_directory_others_can_write_is_refused(tmp_path, pair_equations):
    from latticeclosure.closedmodel.compile import compile_model

    models = tmp_path / "cache" / "models"
    models.mkdir(parents=True)
    os.chmod(models, 0o777)
    with pytest.raises(LatticeClosureError, match="writable by other users"):
        compile_model(close_equations(pair_equations, "mean-field"), cache_dir=tmp_path / "cache")


def test_no_module_of_this_package_calls_eval_or_parse_expr_on_text():
    """A static guard: no eval/exec/parse_expr call anywhere in the package, except the one exec of the
    hash-verified generated model module."""
    import ast

    root = Path(__file__).resolve().parents[2] / "latticeclosure"
    allowed = {("closedmodel/compile.py", "exec")}
    offenders = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in ("eval", "exec", "parse_expr") and (str(path.relative_to(root)), name) not in allowed:
                offenders.append(f"{path.relative_to(root)}:{node.lineno}: {name}(")
    assert not offenders, offenders
