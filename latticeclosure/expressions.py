"""Safe parsing of user-written expressions with sympy, in a restricted namespace.

Users write expressions in closure files (``L+++ = C++^2 / C+``) and in flip specs
(``rate = "lam/4"``). Nothing of that text is evaluated by Python before it has passed three checks:

1. a lexical check rejecting what never belongs to an expression (strings, dunder names, ``lambda``,
   ``import``, statements, attribute access, comments, …);
2. class names (``C++``, ``L+-+``, ``C[Mn,Li]`` …) are replaced by placeholder identifiers, greedily,
   longest name first (``{C+-}`` in braces is explicit);
3. the syntax tree is walked against a whitelist: numbers (finite, at most :data:`MAX_CONSTANT` in
   size), ``+ - * / ** ^``, parentheses, calls of :data:`FUNCTIONS` only (no keywords, no starred
   arguments), :data:`CONSTANTS`, and the allowed names.

Only then is the text handed to :func:`sympy.parsing.sympy_parser.parse_expr` with a namespace that
holds nothing else. Every failure raises the caller's error class (a subclass of
:class:`~latticeclosure.errors.LatticeClosureError`) with a message naming the offending part.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any, Callable, Iterable

import sympy

from .errors import LatticeClosureError

__all__ = [
    "FUNCTIONS",
    "CONSTANTS",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_CONSTANT",
    "parse_expression",
    "expression_names",
    "lexical_check",
    "substitute_names",
    "check_tree",
]

#: Functions an expression may call.
FUNCTIONS: dict[str, Any] = {
    "exp": sympy.exp,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "Abs": sympy.Abs,
    "abs": sympy.Abs,
    "Min": sympy.Min,
    "Max": sympy.Max,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tanh": sympy.tanh,
}
#: Named constants an expression may use.
CONSTANTS: dict[str, Any] = {"pi": sympy.pi, "E": sympy.E}

#: Longest accepted expression text.
MAX_LENGTH = 4000
#: Largest accepted syntax tree.
MAX_NODES = 800
#: Largest accepted absolute value of a literal number.
MAX_CONSTANT = 1e6

_ALLOWED_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_ALLOWED_UNARY = (ast.UAdd, ast.USub)

ErrorType = type[LatticeClosureError]


def lexical_check(src: Any, where: str, error: ErrorType) -> None:
    """Reject what can never be part of an expression, before any parsing."""
    if not isinstance(src, str):
        raise error(f"{where}: expression must be a string, got {type(src).__name__}")
    if len(src) > MAX_LENGTH:
        raise error(f"{where}: expression longer than {MAX_LENGTH} characters")
    if not src.strip():
        raise error(f"{where}: empty expression")
    for bad, why in (
        ("__", "dunder names"),
        ("lambda", "lambda"),
        ("import", "import"),
        ("'", "strings"),
        ('"', "strings"),
        ("\\", "backslashes"),
        (";", "statements"),
        (":", "slices/annotations"),
        ("=", "assignments/comparisons"),
        ("@", "decorators/matrix products"),
        ("`", "backticks"),
        ("\n", "line breaks"),
        ("#", "comments"),
        ("!", "factorials"),
    ):
        if bad in src:
            raise error(f"{where}: disallowed syntax ({why}) in {src!r}")
    for m in re.finditer(r"\.\s*[A-Za-z_]", src):
        k = m.start()
        exponent = k > 0 and src[k - 1].isdigit() and re.match(r"\.[eE][+-]?\d", src[k:])
        if not exponent:
            raise error(f"{where}: attribute access is not allowed in {src!r}")


def substitute_names(src: str, names: Iterable[str], where: str, error: ErrorType) -> tuple[str, dict[str, str]]:
    """Replace class names (greedy, longest first; ``{name}`` explicit) by identifiers ``_cK``.

    Returns the rewritten text and the mapping name → placeholder. Other identifiers are kept;
    identifiers starting with ``_`` are refused.
    """
    known = set(names)
    ordered = sorted(known, key=len, reverse=True)
    mapping: dict[str, str] = {}
    out: list[str] = []

    def ph(name: str) -> str:
        if name not in mapping:
            mapping[name] = f"_c{len(mapping)}"
        return " " + mapping[name] + " "

    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "{":
            j = src.find("}", i)
            if j < 0:
                raise error(f"{where}: unclosed brace in {src!r}")
            name = src[i + 1 : j].strip()
            if name not in known:
                raise error(f"{where}: unknown class {{{name}}} in {src!r}")
            out.append(ph(name))
            i = j + 1
            continue
        if ch == "}":
            raise error(f"{where}: unmatched '}}' in {src!r}")
        boundary = i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")
        if (ch.isalpha() or ch == "_") and boundary:
            for name in ordered:
                if src.startswith(name, i):
                    end = i + len(name)
                    if (name[-1].isalnum() or name[-1] == "_") and end < n and (src[end].isalnum() or src[end] == "_"):
                        continue
                    out.append(ph(name))
                    i = end
                    break
            else:
                j = i
                while j < n and (src[j].isalnum() or src[j] == "_"):
                    j += 1
                ident = src[i:j]
                if ident.startswith("_"):
                    raise error(f"{where}: names starting with '_' are not allowed ({ident!r})")
                out.append(ident)
                i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out), mapping


def _syntax_tree(code: str, where: str, original: str, error: ErrorType, hint: str) -> ast.Expression:
    try:
        return ast.parse(code.strip(), mode="eval")
    except SyntaxError as exc:
        raise error(f"{where}: cannot parse {original!r} ({exc.msg}){hint}") from None


def check_tree(code: str, allowed_names: set[str], where: str, original: str, error: ErrorType, hint: str = "") -> None:
    """Walk the syntax tree of ``code`` against the whitelist (see the module docstring)."""
    tree = _syntax_tree(code, where, original, error, hint)
    count = 0

    def pow_inside(node: ast.AST) -> bool:
        return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(node))

    for node in ast.walk(tree):
        count += 1
        if count > MAX_NODES:
            raise error(f"{where}: expression too large")
        if isinstance(node, (ast.Expression, ast.expr_context, ast.operator, ast.unaryop)):
            continue  # operators are checked on their BinOp/UnaryOp
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, _ALLOWED_BINOPS):
                raise error(f"{where}: operator {type(node.op).__name__} is not allowed in {original!r}")
            if isinstance(node.op, ast.Pow) and pow_inside(node.right):
                raise error(f"{where}: nested powers in an exponent are not allowed in {original!r}")
            continue
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, _ALLOWED_UNARY):
                raise error(f"{where}: operator {type(node.op).__name__} is not allowed in {original!r}")
            continue
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise error(f"{where}: constant {v!r} is not allowed in {original!r}")
            if not math.isfinite(float(v)) or abs(v) > MAX_CONSTANT:
                raise error(f"{where}: constant {v!r} out of range in {original!r}")
            continue
        if isinstance(node, ast.Name):
            if node.id not in allowed_names:
                raise error(f"{where}: unknown symbol {node.id!r} in {original!r}")
            continue
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                if isinstance(node.func, ast.Attribute):
                    raise error(f"{where}: attribute access is not allowed in {original!r}")
                fn = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
                raise error(
                    f"{where}: call of {fn!r} is not allowed in {original!r}; allowed functions: {sorted(FUNCTIONS)}"
                )
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise error(f"{where}: keyword or starred arguments are not allowed in {original!r}")
            continue
        raise error(f"{where}: {type(node).__name__} is not allowed in {original!r}")


def _free_identifiers(code: str, where: str, original: str, error: ErrorType) -> set[str]:
    """Identifiers used as values (not as called functions) that are neither functions nor constants."""
    tree = _syntax_tree(code, where, original, error, "")
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and id(n) not in called and n.id not in CONSTANTS and not n.id.startswith("_c")
    }


def parse_expression(
    src: str,
    *,
    class_names: Iterable[str] = (),
    allowed_classes: Iterable[str] | None = None,
    parameters: Iterable[str] | None = (),
    class_symbol: Callable[[str], sympy.Symbol] = sympy.Symbol,
    rational: bool = False,
    where: str = "expression",
    error: ErrorType = LatticeClosureError,
    hint: str = "",
) -> sympy.Expr:
    """Parse one expression safely.

    Parameters
    ----------
    src : str
        The text, e.g. ``"C++^2 / C+"`` or ``"lam/4"`` (``^`` means ``**``).
    class_names : iterable of str
        Class names recognised in the text (replaced before parsing, see the module docstring).
    allowed_classes : iterable of str, optional
        The classes the expression may use (default: all of ``class_names``).
    parameters : iterable of str or None
        Names of parameters the expression may use; ``None`` admits every other identifier as a
        parameter (rate expressions: ``lam``, ``tau`` …). Identifiers starting with ``_`` never are.
    class_symbol : callable
        Symbol of a class name (default ``sympy.Symbol``).
    rational : bool, default False
        Read decimal numbers as exact rationals (``0.3`` → 3/10).
    where : str
        Prefix of error messages.
    error : type
        Exception class raised on bad input.
    hint : str
        Appended to "cannot parse" messages.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    error
        Disallowed syntax, unknown symbols, classes it may not use, infinite or undefined values.
    """
    from sympy.parsing.sympy_parser import parse_expr, rationalize, standard_transformations

    lexical_check(src, where, error)
    names = list(class_names)
    code, mapping = substitute_names(src.replace("^", "**"), names, where, error)
    allowed = set(names) if allowed_classes is None else set(allowed_classes)
    not_allowed = sorted(set(mapping) - allowed)
    if not_allowed:
        raise error(f"{where}: {src!r} uses {not_allowed}, which it may not use; allowed classes: {sorted(allowed)}")
    if parameters is None:
        params = _free_identifiers(code, where, src, error) - set(FUNCTIONS)
    else:
        params = set(parameters)
    allowed_names = set(mapping.values()) | params | set(FUNCTIONS) | set(CONSTANTS)
    check_tree(code, allowed_names, where, src, error, hint)
    local: dict[str, Any] = {ph: class_symbol(name) for name, ph in mapping.items()}
    local.update({p: sympy.Symbol(p) for p in params})
    glob: dict[str, Any] = {"__builtins__": {}}
    glob.update({"Integer": sympy.Integer, "Float": sympy.Float, "Rational": sympy.Rational, "Symbol": sympy.Symbol})
    glob.update(FUNCTIONS)
    glob.update(CONSTANTS)
    transformations = standard_transformations + ((rationalize,) if rational else ())
    try:
        expr = parse_expr(code.strip(), local_dict=local, global_dict=glob, transformations=transformations)
        expr = sympy.sympify(expr)
    except Exception as exc:  # noqa: BLE001 - anything sympy raises on valid-but-odd input
        raise error(f"{where}: cannot interpret {src!r}: {exc}") from None
    if not isinstance(expr, sympy.Expr):
        raise error(f"{where}: {src!r} is not an arithmetic expression")
    extra = {str(s) for s in expr.free_symbols} - {str(class_symbol(c)) for c in mapping} - params
    if extra:  # pragma: no cover - guarded by the tree check
        raise error(f"{where}: unknown symbols {sorted(extra)} in {src!r}")
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise error(f"{where}: {src!r} is infinite or undefined (a division by zero?)")
    return expr


def expression_names(expr: sympy.Expr) -> list[str]:
    """Names of the free symbols of an expression, sorted."""
    return sorted(str(s) for s in expr.free_symbols)
