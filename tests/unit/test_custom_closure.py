"""Custom closures from files: formats, safe parsing, validation against the index."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import sympy

from closure_testdata import counted_series, index
from latticeclosure.closures import CustomClosure, PairClosure
from latticeclosure.closures.calibration import calibrate
from latticeclosure.closures.evaluation import closure_values
from latticeclosure.closures.custom import parse_closure_expression
from latticeclosure.closures.dataset import as_dataset
from latticeclosure.errors import ClosureError

S = sympy.Symbol


def test_plain_lines_json_and_toml(tmp_path):
    idx = index()
    lines = tmp_path / "sa.txt"
    lines.write_text(
        "# sparse closure in plain lines\n"
        "L+++ = C++\n"
        "T+++ = C++^2 / C+     # uniform triangle\n"
        "L++- = {C++}*{C+-}/{C+}\n"
    )
    c = CustomClosure(path=str(lines))
    assert c.expression("L+++", idx) == S("C++")
    assert c.expression("T+++", idx) == S("C++") ** 2 / S("C+")
    assert sympy.simplify(c.expression("L++-", idx) - PairClosure().expression("L++-", idx)) == 0
    js = tmp_path / "c.json"
    js.write_text(json.dumps({"closures": {"A+-+": "C+-**2/C-"}, "parameters": {}}))
    assert CustomClosure(path=str(js)).expression("A+-+", idx) == S("C+-") ** 2 / S("C-")
    tm = tmp_path / "c.toml"
    tm.write_text('[closures]\n"T---" = "exp(log(C--)*2) / C-"\n')
    assert sympy.simplify(CustomClosure(path=str(tm)).expression("T---", idx) - S("C--") ** 2 / S("C-")) == 0
    assert not CustomClosure(path=str(tm)).can_close("L+++", idx)
    with pytest.raises(ClosureError, match="no expression for class 'L---'"):
        c.expression("L---", idx)


@pytest.mark.parametrize(
    "src, match",
    [
        ("__import__('os').system('true')", "dunder|strings"),
        ("C++.conjugate()", "attribute"),
        ("(lambda q: q)(C++)", "lambda"),
        ("C++ if C+ else C-", "IfExp|not allowed"),
        ("eval(C++)", "call of 'eval'"),
        ("open(C+)", "call of 'open'"),
        ("[C++][0]", "List|Subscript|not allowed"),
        ("foo * C++", "unknown symbol 'foo'"),
        ("C++ * L+++", "may not use"),
        ("C++ ** 10 ** 10", "nested powers"),
        ("C++ ; C+", "statements"),
        ("C++ == C+", "assignments"),
        ("{C+++}", "unknown class"),
        ("C++ C+-", "cannot parse"),
        ("_c0", "'_'"),
        ("C++ * 1e300", "out of range"),
        ("sqrt(C++, x=1)", "keyword|assignments"),
        ("C+ . real", "attribute"),
        ("(C++).__class__", "dunder"),
    ],
)
def test_rejects_disallowed_syntax_and_unknown_symbols(src, match):
    idx = index()
    with pytest.raises(ClosureError, match=match):
        CustomClosure(expressions={"L+++": src}).expression("L+++", idx)


def test_parser_is_direct_and_restricted():
    idx = index()
    names = list(idx.by_name)
    pairs = {"C++", "C--", "C+-", "C+", "C-"}
    e = parse_closure_expression("C+- - C+", names, pairs)
    assert e == S("C+-") - S("C+")
    e = parse_closure_expression("2*C++^2/C+ + sqrt(C+-)", names, pairs)
    assert e == 2 * S("C++") ** 2 / S("C+") + sympy.sqrt(S("C+-"))
    with pytest.raises(ClosureError, match="uses \\['L\\+\\+\\+'\\]"):
        parse_closure_expression("L+++", names, pairs)


def test_unknown_class_keys_and_bad_files(tmp_path):
    idx = index()
    with pytest.raises(ClosureError, match=re.escape("'Q+++'") + ".*not a class"):
        CustomClosure(expressions={"Q+++": "C++"}).expression("L+++", idx)
    with pytest.raises(ClosureError, match="singlet"):
        CustomClosure(expressions={"C+": "C++"}).expression("C+", idx)
    with pytest.raises(ClosureError, match="cannot read"):
        CustomClosure(path=str(tmp_path / "missing.txt"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ClosureError, match="invalid JSON"):
        CustomClosure(path=str(bad))
    lines = tmp_path / "bad.txt"
    lines.write_text("L+++ C++\n")
    with pytest.raises(ClosureError, match="expected 'class = expression'"):
        CustomClosure(path=str(lines))
    twice = tmp_path / "twice.txt"
    twice.write_text("L+++ = C++\nL+++ = C--\n")
    with pytest.raises(ClosureError, match="defined twice"):
        CustomClosure(path=str(twice))
    with pytest.raises(ClosureError, match="parameter name"):
        CustomClosure(expressions={"L+++": "C++"}, parameters={"exp": 1.0})


def test_parameters_can_be_calibrated(tmp_path):
    idx = index()
    f = tmp_path / "p.txt"
    f.write_text("parameter a = 1.0 in [0, 3]\nL+++ = C++^a * C+^(1 - a)\n")
    c = CustomClosure(path=str(f))
    assert [str(p) for p in c.parameters("L+++", idx)] == ["a"]
    assert c.initial_values("L+++", idx) == {S("a"): 1.0}
    run = counted_series(n_records=5)
    truth = run["C++"] ** 1.7 * run["C+"] ** (-0.7)
    d = as_dataset(run, idx)
    d.columns["L+++"] = truth
    res = calibrate(c, d, idx, ["L+++"])
    assert res.classes["L+++"].params["p[a]"] == pytest.approx(1.7, abs=1e-5)
    g = closure_values(res.closure(), "L+++", idx, d)
    np.testing.assert_allclose(g, truth, rtol=1e-6)
