"""Rules for generated Python source: user text only ever enters as a checked literal.

The package writes Python modules (``latticeclosure equations --format python`` and the compiled
closed-model modules imported by ``solve``). Class, species, lattice and rate names are user text;
interpolated into source they could end a string and run code when the module is imported. The
generators therefore follow two rules, both enforced here:

1. Names become *safe identifiers* chosen by the generator (``v0``, ``y_3``, ``p_1`` …); the mapping
   to the user's names is kept as data (a list literal such as ``VARIABLES = [...]``).
2. User text appears only through :func:`literal` — the ``repr`` of plain data (``str``, ``int``,
   ``float``, ``bool``, ``None`` and lists, tuples and dicts of them), converted to the built-in
   types first and checked to read back as exactly that data with :func:`ast.literal_eval`.

:func:`verify_module` then parses the whole generated module and refuses it (an internal error,
never written or imported) if it uses any name outside the generator's vocabulary or holds anything
but the expected statements.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["literal", "safe_identifier", "verify_module", "GeneratedCodeError", "IDENTIFIER"]

#: What a generator-chosen identifier looks like.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class GeneratedCodeError(RuntimeError):
    """Generated source failed its safety check (a bug in a generator, never a user error)."""


def _plain(value: Any) -> Any:
    """``value`` as built-in data (subclasses of str/int/float could override ``__repr__``)."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        v = float.__float__(value)
        if not math.isfinite(v):
            raise GeneratedCodeError(f"cannot write the non-finite number {v!r} as a literal")
        return v
    if isinstance(value, Mapping):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    raise GeneratedCodeError(f"cannot write a {type(value).__name__} as a literal")


def literal(value: Any) -> str:
    """Python source of plain data, safe to place anywhere an expression may stand.

    Raises
    ------
    GeneratedCodeError
        For values that are not plain data or do not read back identically.
    """
    plain = _plain(value)
    text = repr(plain)
    try:
        back = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:  # pragma: no cover - repr of plain data always reads back
        raise GeneratedCodeError(f"literal does not read back: {exc}") from None
    if back != plain or "\n" in text:
        raise GeneratedCodeError("literal does not read back identically")  # pragma: no cover
    return text


def safe_identifier(name: str) -> str:
    """``name`` if it is a plain ASCII identifier (``[A-Za-z_][A-Za-z0-9_]*``); else GeneratedCodeError."""
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise GeneratedCodeError(f"{name!r:.40} is not a safe identifier")
    return name


_ALLOWED_NODES = (
    ast.Module, ast.Expr, ast.Assign, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.If,
    ast.Raise, ast.Call, ast.Name, ast.Load, ast.Store, ast.Constant, ast.Attribute, ast.Subscript,
    ast.Slice, ast.Tuple, ast.List, ast.Dict, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare,
    ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.keyword, ast.Starred, ast.JoinedStr,
    ast.FormattedValue, ast.Import, ast.ImportFrom, ast.alias, ast.IfExp,
)


def verify_module(source: str, names: Iterable[str] = (), patterns: Iterable[str] = (),
                  modules: Iterable[str] = ()) -> None:
    """Refuse generated source that uses anything outside the generator's vocabulary.

    Parameters
    ----------
    source : str
        The generated module.
    names : iterable of str
        Every name the module may use (assigned or read), besides those matching ``patterns``.
    patterns : iterable of str
        Regular expressions of generated names (e.g. ``r"y_\\d+"``).
    modules : iterable of str
        Modules it may import (``import X`` / ``from X import ...``).

    Raises
    ------
    GeneratedCodeError
        A syntax error, a node type outside simple assignments, functions, arithmetic and calls, an
        unknown name, an unexpected import, or a string that is not a plain literal argument.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise GeneratedCodeError(f"generated source does not parse: {exc.msg} (line {exc.lineno})") from None
    allowed = set(names)
    regexes = [re.compile(p + r"\Z") for p in patterns]
    mods = set(modules)

    def known(name: str) -> bool:
        return name in allowed or any(r.match(name) for r in regexes)

    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise GeneratedCodeError(f"generated source holds a {type(node).__name__} node")
        if isinstance(node, ast.Name) and not known(node.id):
            raise GeneratedCodeError(f"generated source uses the unknown name {node.id!r:.40}")
        if isinstance(node, ast.FunctionDef) and not known(node.name):
            raise GeneratedCodeError(f"generated source defines the unknown function {node.name!r:.40}")
        if isinstance(node, ast.arg) and not known(node.arg):
            raise GeneratedCodeError(f"generated source has the unknown argument {node.arg!r:.40}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise GeneratedCodeError(f"generated source reads the private attribute {node.attr!r:.40}")
        if isinstance(node, ast.Import):
            bad = [a.name for a in node.names if a.name not in mods]
            if bad:
                raise GeneratedCodeError(f"generated source imports {bad}")
        if isinstance(node, ast.ImportFrom) and node.module not in mods:
            raise GeneratedCodeError(f"generated source imports from {node.module!r:.40}")
