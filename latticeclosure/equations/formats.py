"""Output formats of generated equations: text, LaTeX (sympy's printer), JSON, Python module.

The JSON document follows the public schema ``latticeclosure.equations/1``; the Python module is
importable and has a vectorised numpy right-hand side ``rhs(C, k)`` printed by sympy's code printer.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.printing.pycode import pycode

if TYPE_CHECKING:  # pragma: no cover
    from ..clusters import ClusterClass
    from .generator import RateEquations

__all__ = ["to_text", "to_latex", "to_json", "to_json_dict", "to_python", "display_name", "latex_name", "latex_text",
           "FORMATS"]

FORMATS = ("text", "latex", "json", "python")

_SUBSCRIPTS = dict(
    zip(
        "+-0123456789aehijklmnoprstuvx",
        "₊₋₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ",
    )
)
_MINUS = "\u2212"


def display_name(cls: "ClusterClass") -> str:
    """Unicode name like ``A₊₋₊`` when every state has a subscript glyph, else the ASCII class name."""
    text = "".join(cls.states)
    if all(len(s) == 1 for s in cls.states) and all(ch in _SUBSCRIPTS for ch in text):
        return cls.shape.symbol + "".join(_SUBSCRIPTS[ch] for ch in text)
    return cls.name


#: Characters with a meaning in LaTeX, as text-mode escapes.
_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "_": r"\_", "#": r"\#", "%": r"\%", "&": r"\&", "$": r"\$",
                  "{": r"\{", "}": r"\}", "^": r"\^{}", "~": r"\~{}"}


def latex_text(text: str) -> str:
    """``text`` as an upright name valid inside math mode: ``\\text{...}`` with LaTeX's special
    characters escaped (needs amsmath); a single letter stays as it is."""
    if len(text) == 1 and text.isalpha() and text.isascii():
        return text
    return r"\text{%s}" % "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)


def latex_name(cls: "ClusterClass") -> str:
    """LaTeX name like ``A_{+-+}``: the shape symbol (upright and escaped when it is more than one
    letter, e.g. ``\\text{K4\\_1}``), the states as one subscript (joined when each is one ``+``, ``-``
    or letter, else upright names separated by commas)."""
    if all(s in ("+", "-") or (len(s) == 1 and s.isalpha() and s.isascii()) for s in cls.states):
        sub = "".join(cls.states)
    else:
        sub = ",".join(s if s in ("+", "-") else latex_text(s) for s in cls.states)
    return f"{latex_text(cls.shape.symbol)}_{{{sub}}}"


def _coefficient_text(coeff: Fraction) -> str:
    if coeff == 1:
        return ""
    if coeff.denominator == 1:
        return str(coeff.numerator)
    return f"({coeff.numerator}/{coeff.denominator})"


def _factor_text(coeff: Fraction, rate: str) -> str:
    """Coefficient and rate of a term: ``4k1``, ``(1/4)lam``, ``2(a + b)``, ``(1/2)`` (fixed rate)."""
    from .generator import FIXED_RATE

    if rate == FIXED_RATE:
        return _coefficient_text(coeff)
    if not rate.isidentifier():
        rate = f"({rate})" if any(op in rate for op in "+-") else rate
    return f"{_coefficient_text(coeff)}{rate}"


def _ordered_terms(eqs: "RateEquations", lhs: str) -> list[tuple[Fraction, str, str]]:
    """Gains first, then losses; each by rate order, then variable order (as eq. 5 is written)."""
    terms = eqs.terms[lhs]
    return [t for t in terms if t[0] > 0] + [t for t in terms if t[0] < 0]


def to_text(eqs: "RateEquations", details: bool = False) -> str:
    """Plain-text equations, e.g. ``dC₊₊/dt = 4k1 A₊₋₊ + 2k2 L₊₋₊ − 4k3 A₊₊₋ − 2k4 L₊₊₋``.

    With ``details``: conservation laws, composition drift, drift relations and equilibrium constants.
    """
    by_name = {c.name: c for c in eqs.variables}
    lines = []
    for cls in eqs.window_classes:
        parts = []
        for coeff, rate, var in _ordered_terms(eqs, cls.name):
            body = f"{_factor_text(abs(coeff), rate)} {display_name(by_name[var])}".lstrip()
            if not parts:
                parts.append(body if coeff > 0 else f"{_MINUS}{body}")
            else:
                parts.append(("+ " if coeff > 0 else f"{_MINUS} ") + body)
        rhs = " ".join(parts) if parts else "0"
        lines.append(f"d{display_name(cls)}/dt = {rhs}")
    if details:
        lines.append("")
        lines.append("conservation laws (verified symbolically):")
        for law in eqs.conservation_laws:
            lines.append(f"  {_rename(law.lhs, eqs)} = 0")
        if eqs.dynamics_name == "swap":
            first = eqs.species[0]
            lines.append(f"composition drift d C_{first}/dt = {_rename(eqs.composition_drift[first], eqs)}")
            rel = eqs.drift_relations
            if rel:
                lines.append("it vanishes identically (on marginally consistent concentrations) iff:")
                for eq in rel:
                    lines.append(f"  {eq.lhs} = {eq.rhs}")
            else:
                lines.append("it vanishes identically for independent rate constants")
            if eqs.equilibrium_constants:
                lines.append("equilibrium constants:")
                for q in eqs.equilibrium_constants:
                    lines.append(
                        f"  {q.name} = {q.forward}/{q.reverse} = {_rename(q.concentration_ratio, eqs)}"
                    )
        lines.append("rates: " + ", ".join(
            r.name + (f" (reverse {r.reverse})" if r.reverse and r.reverse != r.name else "") for r in eqs.rates
        ))
    return "\n".join(lines)


def _rename(expr: Any, eqs: "RateEquations") -> str:
    by_name = {c.name: c for c in eqs.variables}
    mapping = {}
    for s in sp.sympify(expr).free_symbols:
        name = s.name
        if name in by_name:
            mapping[s] = sp.Symbol(display_name(by_name[name]))
        elif name.startswith("d") and name.endswith("/dt") and name[1:-3] in by_name:
            mapping[s] = sp.Symbol(f"d{display_name(by_name[name[1:-3]])}/dt")
    return sp.sstr(sp.sympify(expr).xreplace(mapping))


def to_latex(eqs: "RateEquations") -> str:
    r"""LaTeX ``align`` environment printed with sympy's LaTeX printer, terms in eq. (5) order."""
    from .generator import FIXED_RATE

    names = {eqs.symbols[c.name]: latex_name(c) for c in eqs.variables}
    lines = []
    for cls in eqs.window_classes:
        terms = []
        for c, r, v in _ordered_terms(eqs, cls.name):
            factors = [] if c == 1 else [sp.Rational(c.numerator, c.denominator)]
            factors += [] if r == FIXED_RATE else [eqs.term_rate(r)]
            terms.append(sp.Mul(*factors, eqs.symbols[v], evaluate=False) if factors else eqs.symbols[v])
        rhs = sp.Add(*terms, evaluate=False) if terms else sp.Integer(0)
        body = sp.latex(rhs, order="none", symbol_names=names, mul_symbol=None)
        lines.append(r"\frac{d %s}{dt} &= %s" % (latex_name(cls), body))
    return "\\begin{align}\n" + " \\\\\n".join(lines) + "\n\\end{align}"


def _point(values: Any) -> list[float]:
    return [float(round(v, 12)) + 0.0 for v in values]


def to_json_dict(eqs: "RateEquations") -> dict[str, Any]:
    """The ``latticeclosure.equations/1`` document as plain data."""
    variables = []
    for c in eqs.variables:
        variables.append(
            {
                "name": c.name,
                "size": c.size,
                "sites": [_point(p) for p in c.shape.positions],
                "states": list(c.states),
                "multiplicity": c.multiplicity,
            }
        )
    equations = []
    for cls in eqs.window_classes:
        terms = []
        for coeff, rate, var in eqs.terms[cls.name]:
            value: Any = coeff.numerator if coeff.denominator == 1 else coeff.numerator / coeff.denominator
            terms.append({"coefficient": value, "rate": rate, "variable": var})
        equations.append({"lhs": cls.name, "terms": terms})
    lat = eqs.lattice
    return {
        "schema": "latticeclosure.equations/1",
        "lattice": {
            "name": lat.name,
            "dimension": int(lat.dimension),
            "vectors": [_point(v) for v in lat.vectors],
            "basis": [_point(b) for b in lat.basis],
        },
        "species": list(eqs.species),
        "dynamics": eqs.dynamics_name,
        "window_size": eqs.window_size,
        "exclude_closed": bool(eqs.exclude_closed),
        "variables": variables,
        "rates": [r.to_json() for r in eqs.rates],
        "equations": equations,
    }


def to_json(eqs: "RateEquations") -> str:
    """The JSON document, indented, as a string."""
    return json.dumps(to_json_dict(eqs), indent=2, ensure_ascii=False)


def to_python(eqs: "RateEquations") -> str:
    """Source of an importable module with ``VARIABLES``, ``RATES``, ``LHS`` and ``rhs(C, k)``.

    ``C`` has shape ``(..., len(VARIABLES))`` and ``k`` shape ``(len(RATES),)``; ``rhs`` returns
    ``(..., len(LHS))``. Expressions are printed with sympy's Python code printer on generated
    identifiers (``v0``, ``k0_`` …); class, species, rate and lattice names enter the module only as
    checked literals (the mapping ``VARIABLES``/``RATES``/``LATTICE``/``SPECIES`` is data), so no name,
    however it is spelt, can change what the module does (see :mod:`latticeclosure.codegen`).

    Raises
    ------
    latticeclosure.codegen.GeneratedCodeError
        If the right-hand sides hold a symbol that is neither a variable nor a rate (a bug).
    """
    from ..codegen import GeneratedCodeError, literal, verify_module
    from ..expressions import as_expression

    var_syms = {eqs.symbols[c.name]: sp.Symbol(f"v{i}") for i, c in enumerate(eqs.variables)}
    rate_syms = {r.symbol: sp.Symbol(f"k{i}_") for i, r in enumerate(eqs.rates)}
    lines = [
        '"""Mean-cluster rate equations generated by latticeclosure (window method).',
        "",
        "The setting is recorded in LATTICE, SPECIES, DYNAMICS, WINDOW_SIZE and EXCLUDE_CLOSED.",
        "Concentrations are per-shape normalised (sum of multiplicity * C over a shape's classes = 1).",
        '"""',
        "",
        "import numpy as np",
        "",
        f"LATTICE = {literal(str(eqs.lattice.name))}",
        f"SPECIES = {literal([str(x) for x in eqs.species])}",
        f"DYNAMICS = {literal(str(eqs.dynamics_name))}",
        f"WINDOW_SIZE = {literal(int(eqs.window_size))}",
        f"EXCLUDE_CLOSED = {literal(bool(eqs.exclude_closed))}",
        f"VARIABLES = {literal([str(c.name) for c in eqs.variables])}",
        f"MULTIPLICITIES = {literal([int(c.multiplicity) for c in eqs.variables])}",
        f"RATES = {literal([str(r.name) for r in eqs.rates])}",
        f"REVERSE = {literal([None if r.reverse is None else str(r.reverse) for r in eqs.rates])}",
        f"LHS = {literal([str(c.name) for c in eqs.window_classes])}",
        "",
        "",
        "def rhs(C, k):",
        '    """dC/dt of the LHS classes; C: (..., len(VARIABLES)), k: (len(RATES),)."""',
        "    C = np.asarray(C, dtype=float)",
        "    k = np.asarray(k, dtype=float)",
        "    if C.shape[-1] != len(VARIABLES) or k.shape != (len(RATES),):",
        "        raise ValueError(f'expected C[..., {len(VARIABLES)}] and k[{len(RATES)}], got {C.shape} and {k.shape}')",
    ]
    for i in range(len(eqs.variables)):
        lines.append(f"    v{i} = C[..., {i}]")
    for i in range(len(eqs.rates)):
        lines.append(f"    k{i}_ = k[{i}]")
    lines.append("    out = np.zeros(C.shape[:-1] + (len(LHS),))")
    generated = set(var_syms.values()) | set(rate_syms.values())
    for j, cls in enumerate(eqs.window_classes):
        expr = as_expression(eqs.rhs[cls.name], f"d{cls.name}/dt").xreplace({**var_syms, **rate_syms})
        stray = expr.free_symbols - generated
        if stray:
            raise GeneratedCodeError(f"d{cls.name}/dt holds symbols that are neither classes nor rates: {sorted(map(str, stray))}")
        if expr != 0:
            lines.append(f"    out[..., {j}] = {pycode(expr)}")
    lines.append("    return out")
    lines.append("")
    if any("math." in line for line in lines):  # rate expressions with exp, log, ... (sympy prints math.*)
        lines.insert(lines.index("import numpy as np"), "import math")
    source = "\n".join(lines)
    verify_module(
        source,
        names={"np", "C", "k", "out", "rhs", "len", "float", "ValueError", "LATTICE", "SPECIES", "DYNAMICS", "WINDOW_SIZE",
               "EXCLUDE_CLOSED", "VARIABLES", "MULTIPLICITIES", "RATES", "REVERSE", "LHS", "math"},
        patterns=(r"v\d+", r"k\d+_"),
        modules={"numpy", "math"},
    )
    return source
