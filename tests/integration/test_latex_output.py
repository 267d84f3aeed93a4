"""Every --format latex output is valid LaTeX: checked by a parser of our own (tests/latex_check.py)
always, and compiled with pdflatex when a TeX system is installed."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from latex_check import check_latex, wrap_document

SIS = '[[rule]]\nfrom = "S"\nto = "I"\nrate = "tau"\ncatalyst = "I"\n\n[[rule]]\nfrom = "I"\nto = "S"\nrate = "gamma"\n'

CASES = {
    "triangular eq. 5": ["equations", "--lattice", "triangular", "--species", "+", "-", "--window-size", "2",
                         "--exclude-closed"],
    "kagome window 3": ["equations", "--lattice", "kagome", "--window-size", "3"],
    "square-j1j2 bond kinds": ["equations", "--lattice", "square-j1j2", "--window-size", "2"],
    "honeycomb, three species": ["equations", "--lattice", "honeycomb", "--species", "Mn", "Li", "n_i",
                                 "--window-size", "2"],
    "SIS flip": ["equations", "--lattice", "square", "--species", "S", "I", "--dynamics", "flip", "--flip-spec",
                 "sis.toml", "--window-size", "2"],
    "close SA (linear, closed form)": ["close", "--lattice", "triangular", "--window-size", "2", "--exclude-closed",
                                       "--preset", "SA"],
    "close power-law (exponents)": ["close", "--lattice", "triangular", "--window-size", "2", "--exclude-closed",
                                    "--closure", "power-law"],
    "close pair on kagome": ["close", "--lattice", "kagome", "--window-size", "2", "--closure", "pair"],
}
NEEDS_NMC = {"triangular eq. 5", "close SA (linear, closed form)"}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    cwd = tmp_path_factory.mktemp("latex")
    (cwd / "sis.toml").write_text(SIS)
    procs = {name: subprocess.Popen([sys.executable, "-m", "latticeclosure", *args, "--format", "latex"], cwd=cwd,
                                    text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name, args in CASES.items()}  # run at once: independent commands
    out = {}
    for name, p in procs.items():
        stdout, stderr = p.communicate(timeout=300)
        out[name] = subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr)
    return out


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.nmc) if n in NEEDS_NMC else n for n in CASES])
def test_latex_output_parses(outputs, name):
    assert outputs[name].returncode == 0, outputs[name].stderr
    text = outputs[name].stdout
    assert "\\frac{d" in text
    assert check_latex(text) == []


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX system (pdflatex) installed")
def test_latex_output_compiles(outputs, tmp_path):
    for name, proc in outputs.items():
        if proc.returncode != 0:  # a case needing a disabled plugin
            continue
        (tmp_path / "doc.tex").write_text(wrap_document(proc.stdout))
        proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (name, proc.stdout[-3000:])


@pytest.mark.parametrize(
    "text,problem",
    [
        ("\\begin{align}\nx &= K4_1_{++}\n\\end{align}", "double subscript"),
        ("\\begin{align}\nx &= a^{2} ^{3}\n\\end{align}", "double superscript"),
        ("\\begin{aligned}\nx &= 1\n\\end{aligned}", "aligned outside math mode"),
        ("\\[\nx = 1 & 2\n\\]", "'&' outside an alignment"),
        ("\\begin{align}\nx &= \\frac{1}{2\n\\end{align}", "missing '}'"),
        ("\\begin{align}\nx &= \\text{a_b}\n\\end{align}", "outside math mode"),
        ("\\begin{align}\nx &= \\foo{1}\n\\end{align}", "unknown command"),
        ("\\begin{align}\nx &= 1\n\\end{aligned}", "ended by"),
        ("x_1", "outside math mode"),
        ("\\[ x = 50% \\]", "unescaped '%'"),
    ],
)
def test_the_checker_finds_what_pdflatex_stops_on(text, problem):
    (found,) = check_latex(text)
    assert problem in found


def test_the_checker_accepts_valid_fragments():
    valid = [
        "\\begin{align}\n\\frac{d L_{+++}}{dt} &= 2 k_{9} \\text{K4\\_1}_{++-+} \\\\\ny &= C_{+-}^{\\gamma^{A}_{C}}\n\\end{align}",
        "\\[\n\\begin{aligned}\nC_{++}(t) &= e^{- t \\left(\\alpha_{1} + \\alpha_{2}\\right)}\n\\end{aligned}\n\\]",
        "\\[ x_{a}^{b} + \\text{n\\_i}_{\\text{Mn},\\text{Li}} \\]",
    ]
    for text in valid:
        assert check_latex(text) == [], text
