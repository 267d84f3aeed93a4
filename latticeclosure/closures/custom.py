"""``custom``: closures written as expressions in a file, parsed safely.

File formats (chosen by ``format=`` or the file suffix):

* JSON — ``{"closures": {"L+++": "C++^2 / C+", ...}, "parameters": {"a": 0.5}}`` (or a flat
  ``{"L+++": "..."}``);
* TOML — a ``[closures]`` table (quote the keys: ``"L+++" = "C++^2 / C+"``) and optional ``[parameters]``;
* plain lines — ``L+++ = C++^2 / C+``; ``parameter a = 0.5`` (optionally ``in [lo, hi]``) declares a
  parameter; ``#`` starts a comment.

A parameter may also be declared as ``{"value": 0.5, "bounds": [0, 1]}`` (JSON/TOML). Declared
parameters are free symbols of the closure and can be calibrated like power-law exponents.

Expressions: class names (``C++``, ``C+``, ``L+-+``, ``C[Mn,Li]`` …) are recognised greedily, longest
name first; write ``{C+-}`` (braces) or put spaces to disambiguate (``C+ - C-``). Allowed: numbers,
``+ - * / ** ^``, parentheses, the declared parameters, the functions exp, log, sqrt, Abs, Min, Max,
sin, cos, tanh and the constants pi, E. Nothing is evaluated by Python before the expression has been
checked against that whitelist on its syntax tree (no attribute access, subscripts, lambdas, calls
of other names, dunder names, strings, keyword arguments, nested powers of constants …); only then is
it handed to :func:`sympy.parsing.sympy_parser.parse_expr` with a namespace that holds nothing else.

Validation against an index: every key must be a class of the index of size ≥ 2, and an expression
may use only classes smaller than the class it closes, plus declared parameters; anything else is a
:class:`~latticeclosure.errors.ClosureError` naming the class and the offending symbol.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import sympy

from ..errors import ClosureError
from ..expressions import FUNCTIONS, check_parameter_name, lexical_check, parse_expression
from .base import ParametricClosure, class_symbol, resolve_class
from .numeric import Ansatz

__all__ = ["CustomClosure", "parse_closure_expression", "read_closure_file", "FUNCTIONS"]

_HINT = "; write class names in braces, e.g. {C+-}, when they touch other symbols"


def _lexical_check(src: Any, where: str) -> None:
    lexical_check(src, where, ClosureError)


def parse_closure_expression(
    src: str,
    class_names: list[str],
    allowed_classes: set[str],
    parameters: set[str] = frozenset(),  # type: ignore[assignment]
    where: str = "custom closure",
) -> sympy.Expr:
    """Parse one closure expression safely (with :func:`latticeclosure.expressions.parse_expression`).

    Parameters
    ----------
    src : str
        The expression, e.g. ``"C++^2 / C+"``.
    class_names : list of str
        Every class name of the index (recognised in the text).
    allowed_classes : set of str
        The classes this expression may use (e.g. those smaller than the closed class).
    parameters : set of str
        Declared parameter names.

    Raises
    ------
    ClosureError
        Disallowed syntax, unknown symbols, classes it may not use, infinite or complex values.
    """
    return parse_expression(
        src,
        class_names=class_names,
        allowed_classes=allowed_classes,
        parameters=set(parameters),
        class_symbol=class_symbol,
        where=where,
        error=ClosureError,
        hint=_HINT,
    )


# ------------------------------------------------------------------------------------- file reading
def _number(value: Any, what: str, where: str, allow_none: bool = False) -> float:
    """A real number from a file or option value (no bools, strings or NaN)."""
    if value is None and allow_none:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ClosureError(f"{where}: {what} must be a number, got {type(value).__name__} {value!r:.40}")
    v = float(value)
    if math.isnan(v):
        raise ClosureError(f"{where}: {what} must be a number, got NaN")
    return v


def _parse_param_spec(name: str, spec: Any, where: str) -> tuple[float, float, float]:
    check_parameter_name(name, where, ClosureError)
    lo, hi = -math.inf, math.inf
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - {"value", "bounds"})
        if unknown:
            raise ClosureError(f"{where}: parameter {name!r} has unknown key(s) {unknown}; allowed: value, bounds")
        value = spec.get("value", 0.0)
        if "bounds" in spec:
            b = spec["bounds"]
            if not isinstance(b, (list, tuple)) or len(b) != 2:
                raise ClosureError(f"{where}: bounds of parameter {name!r} must be [lo, hi]")
            lo = _number(b[0], f"the lower bound of parameter {name!r}", where, allow_none=True)
            hi = _number(b[1], f"the upper bound of parameter {name!r}", where, allow_none=True)
            lo = -math.inf if math.isnan(lo) else lo
            hi = math.inf if math.isnan(hi) else hi
    else:
        value = spec
    value = _number(value, f"the value of parameter {name!r}", where)
    if not math.isfinite(value):
        raise ClosureError(f"{where}: the value of parameter {name!r} must be finite, got {value!r}")
    if lo > hi or not (lo <= value <= hi):
        raise ClosureError(f"{where}: parameter {name!r} = {value:g} is outside its bounds [{lo:g}, {hi:g}]")
    return value, lo, hi


_FORMATS = ("auto", "json", "toml", "lines")


def read_closure_file(path: str | Path | None = None, text: str | None = None, fmt: str = "auto") -> tuple[dict[str, str], dict[str, Any]]:
    """Read ``(closures, parameters)`` from a file or a text in JSON, TOML or ``name = expr`` lines.

    The file is read with the bounded reader (:mod:`latticeclosure.io.reading`: size and nesting
    limits).

    Raises
    ------
    ClosureError
        A path or text of the wrong type, an unreadable or malformed file, an unknown format.
    """
    from ..io.reading import MAX_TEXT_BYTES, input_path, parse_json, parse_toml, read_text

    if not isinstance(fmt, str) or fmt not in _FORMATS:
        raise ClosureError(f"unknown custom closure format {fmt!r}; use one of {', '.join(_FORMATS)}")
    if text is not None and not isinstance(text, str):
        raise ClosureError(f"custom closure: text must be a string, got {type(text).__name__} {text!r:.40}")
    where = str(path) if path is not None and text is None else "custom closure text"
    if text is None:
        if path is None:
            return {}, {}
        p = input_path(path, "custom closure: path", ClosureError)
        where = str(p)
        text = read_text(p, what="custom closure file", error=ClosureError)
        if fmt == "auto":
            fmt = {".json": "json", ".toml": "toml"}.get(p.suffix.lower(), "lines")
    elif len(text) > MAX_TEXT_BYTES:
        raise ClosureError(f"custom closure text is longer than {MAX_TEXT_BYTES} characters")
    elif fmt == "auto":
        stripped = text.lstrip()
        fmt = "json" if stripped.startswith("{") else ("toml" if "[closures]" in text else "lines")
    if fmt == "json":
        return _split_tables(parse_json(text, where, ClosureError), where)
    if fmt == "toml":
        return _split_tables(parse_toml(text, where, ClosureError), where)
    closures: dict[str, str] = {}
    params: dict[str, Any] = {}
    for k, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=" not in line:
            raise ClosureError(f"{where}:{k}: expected 'class = expression', got {raw.strip()!r:.60}")
        lhs, rhs = (s.strip() for s in line.split("=", 1))
        if lhs.startswith(("parameter ", "param ")):
            pname = lhs.split(None, 1)[1].strip()
            m = re.fullmatch(r"(.+?)\s+in\s+\[\s*(.+?)\s*,\s*(.+?)\s*\]", rhs)
            try:
                if m:
                    params[pname] = {"value": float(m.group(1)), "bounds": [float(m.group(2)), float(m.group(3))]}
                else:
                    params[pname] = float(rhs)
            except ValueError:
                raise ClosureError(f"{where}:{k}: parameter {pname!r:.40} needs a number, got {rhs!r:.40}") from None
            continue
        if lhs in closures:
            raise ClosureError(f"{where}:{k}: class {lhs!r:.40} defined twice")
        closures[lhs] = rhs
    return closures, params


def _split_tables(data: Any, where: str) -> tuple[dict[str, str], dict[str, Any]]:
    if not isinstance(data, Mapping):
        raise ClosureError(f"{where}: expected a table/object at the top level, got {type(data).__name__}")
    if "closures" in data:
        closures = data["closures"]
        params = data.get("parameters", {}) or {}
        extra = set(data) - {"closures", "parameters", "description", "name"}
        if extra:
            raise ClosureError(f"{where}: unknown top-level keys {sorted(extra)}")
    else:
        closures, params = dict(data), {}
    if not isinstance(closures, Mapping) or not isinstance(params, Mapping):
        raise ClosureError(f"{where}: 'closures' and 'parameters' must be tables")
    for k, v in closures.items():
        if not isinstance(v, str):
            raise ClosureError(f"{where}: the closure of {k!r:.40} must be a string expression, got {v!r:.40}")
    return {str(k): v for k, v in closures.items()}, dict(params)


# ------------------------------------------------------------------------------------- the family
class CustomClosure(ParametricClosure):
    """Closure expressions from a file (``path``) or a string (``text``) or a mapping (``expressions``)."""

    name = "custom"
    description = "closure expressions from a JSON/TOML/'name = expr' file, parsed safely with sympy"
    OPTIONS: dict[str, Any] = {
        "path": None,
        "text": None,
        "format": "auto",
        "expressions": None,
        "parameters": None,
        "exponents": None,
    }

    def _validate(self) -> None:
        o = self.options
        closures, params = read_closure_file(o["path"], o["text"], o["format"])
        if o["expressions"] is not None:
            if not isinstance(o["expressions"], Mapping):
                raise ClosureError(
                    f"custom closure: expressions must map class name → expression string, got "
                    f"{type(o['expressions']).__name__}"
                )
            closures.update({str(k): v for k, v in o["expressions"].items()})
        if o["parameters"] is not None:
            if not isinstance(o["parameters"], Mapping):
                raise ClosureError(
                    f"custom closure: parameters must map names to values, got {type(o['parameters']).__name__}"
                )
            params.update(o["parameters"])
        where = f"custom closure {self.name!r}"
        self._params = {k: _parse_param_spec(k, v, where) for k, v in params.items()}
        for cname, src in closures.items():
            _lexical_check(src, f"{where}, class {cname!r}")
        self._sources: dict[str, str] = dict(closures)

    @property
    def sources(self) -> dict[str, str]:
        return dict(self._sources)

    def validate_index(self, index: Any) -> None:
        """Check that every key is a closable class of ``index`` (mismatched names are errors)."""
        for cname in self._sources:
            if cname not in index.by_name:
                raise ClosureError(
                    f"custom closure {self.name!r} defines {cname!r}, which is not a class of lattice "
                    f"{index.lattice.name!r} with species {list(index.species)}"
                )
            if index.by_name[cname].size < 2:
                raise ClosureError(f"custom closure {self.name!r}: cannot define the singlet class {cname!r}")

    def check(self, cls: Any, index: Any) -> None:
        super(ParametricClosure, self).check(cls, index)
        self.validate_index(index)
        cls = resolve_class(cls, index)
        if cls.name not in self._sources:
            raise ClosureError(
                f"custom closure {self.name!r} has no expression for class {cls.name!r}; it defines "
                f"{sorted(self._sources) or 'nothing'}"
            )
        self._parsed(cls.name, index)

    def _parsed(self, cname: str, index: Any) -> sympy.Expr:
        return _parse_cached(self._sources[cname], cname, index, tuple(sorted(self._params)), self.name)

    def ansatz(self, cls: Any, index: Any) -> Ansatz:
        cls = resolve_class(cls, index)
        expr = self._parsed(cls.name, index)
        used = sorted((str(s) for s in expr.free_symbols if str(s) in self._params))
        symbols = [sympy.Symbol(p) for p in used]
        inputs = sorted(str(s) for s in expr.free_symbols if str(s) not in self._params)
        if not inputs:
            raise ClosureError(f"custom closure {self.name!r}: the expression of {cls.name!r} uses no class")
        dummies = [sympy.Dummy(f"v{k}") for k in range(len(symbols) + len(inputs))]
        sub = dict(zip(symbols + [sympy.Symbol(n) for n in inputs], dummies))
        body = expr.xreplace(sub)
        f = sympy.lambdify(dummies, body, modules="numpy")
        grads = [sympy.lambdify(dummies, sympy.diff(expr, s).xreplace(sub), modules="numpy") for s in symbols]

        def prepare(X: Mapping[str, np.ndarray]):
            return [np.asarray(X[k], float) for k in inputs]

        def value(theta: np.ndarray, P):
            n = len(P[0])
            with np.errstate(all="ignore"):
                g = np.broadcast_to(np.asarray(f(*theta, *P), float), (n,)).copy()
                jac = np.column_stack(
                    [np.broadcast_to(np.asarray(gr(*theta, *P), float), (n,)) for gr in grads]
                ) if grads else np.zeros((n, 0))
            bad = ~np.isfinite(g)
            if bad.any():
                g[bad] = 0.0
            jac[~np.isfinite(jac)] = 0.0
            return g, jac

        lo = np.array([self._params[p][1] for p in used])
        hi = np.array([self._params[p][2] for p in used])
        ref = np.array([self._params[p][0] for p in used])
        return Ansatz(
            class_name=cls.name,
            symbols=symbols,
            keys=used,
            kinds=["p"] * len(used),
            lower=lo,
            upper=hi,
            A_eq=np.zeros((0, len(used))),
            b_eq=np.zeros(0),
            inputs=inputs,
            expression=expr,
            prepare=prepare,
            value=value,
            reference=ref,
            aliases={p: s for p, s in zip(used, symbols)},
        )

    def initial_values(self, cls: Any, index: Any) -> dict[sympy.Symbol, float]:
        return super().initial_values(cls, index)


@lru_cache(maxsize=4096)
def _parse_cached(src: str, cname: str, index: Any, params: tuple[str, ...], family: str) -> sympy.Expr:
    cls = index.by_name[cname]
    names = list(index.by_name)
    allowed = {c.name for s in index.shapes if s.size < cls.size for c in index.classes_of[s.name]}
    clash = sorted(set(params) & set(names))
    if clash:
        raise ClosureError(f"custom closure {family!r}: parameter names {clash} clash with class names")
    return parse_closure_expression(src, names, allowed, set(params), where=f"custom closure {family!r}, class {cname!r}")
