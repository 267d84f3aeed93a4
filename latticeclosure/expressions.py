"""The one restricted parser that turns user-written text into a sympy expression.

Users write expressions in closure files (``L+++ = C++^2 / C+``), in mapping closures
(``close_equations(eqs, {"A+-+": "C+-"})``) and in flip specs (``rate = "tau"``). Every one of these
paths calls :func:`parse_expression`; nothing of the text is ever handed to Python's ``eval`` (nor to
:func:`sympy.parse_expr`, which evaluates its input and is no sandbox). Instead:

1. a lexical check rejects what never belongs to an expression (strings, dunder names, ``lambda``,
   ``import``, statements, attribute access, comments, control characters, …) and text longer than
   :data:`MAX_LENGTH`;
2. class names (``C++``, ``L+-+``, ``C[Mn,Li]`` …) are replaced by placeholder identifiers, greedily,
   longest name first (``{C+-}`` in braces is explicit);
3. Python's parser builds the syntax tree (only parsing, no compilation), which is walked against a
   whitelist: numbers (finite, at most :data:`MAX_CONSTANT` in size), ``+ - * / ** ^``, parentheses,
   calls of :data:`FUNCTIONS` only (no keywords, no starred arguments), :data:`CONSTANTS`, and the
   allowed names; at most :data:`MAX_NODES` nodes and :data:`MAX_DEPTH` levels of nesting;
4. the sympy expression is *built from that tree* by this module: numbers become ``Integer``/
   ``Float`` (or ``Rational``), names the symbols they stand for, operators sympy's operators and
   calls the whitelisted functions. No other object is ever reachable from the text.

The result is refused when it is infinite or undefined (``1/0``) or, unless ``real=False``, when a
constant part of it is not real (``sqrt(-1)*C++``). Every failure raises the caller's error class (a
subclass of :class:`~latticeclosure.errors.LatticeClosureError`) with a message naming the offending
part.
"""

from __future__ import annotations

import ast
import keyword
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
    "MAX_DEPTH",
    "MAX_CONSTANT",
    "MAX_NUMERIC_EXPONENT",
    "parse_expression",
    "expression_names",
    "lexical_check",
    "substitute_names",
    "check_tree",
    "check_real",
    "check_parameter_name",
    "RESERVED_NAMES",
    "as_expression",
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

#: Names that can never be a parameter, a rate or a variable: Python keywords and the soft
#: keywords, the functions and constants above, and Python's literal names.
RESERVED_NAMES: frozenset[str] = frozenset(
    set(keyword.kwlist) | set(getattr(keyword, "softkwlist", ())) | set(FUNCTIONS) | set(CONSTANTS)
    | {"None", "True", "False", "I", "oo", "zoo", "nan"}
)

#: Longest accepted expression text.
MAX_LENGTH = 4000
#: Largest accepted syntax tree.
MAX_NODES = 800
#: Deepest accepted nesting of operators, calls and parentheses.
MAX_DEPTH = 60
#: Largest accepted absolute value of a literal number.
MAX_CONSTANT = 1e6
#: Largest accepted absolute exponent of a power whose base is a number (``2^1000000`` would be computed).
MAX_NUMERIC_EXPONENT = 1000

_ALLOWED_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_ALLOWED_UNARY = (ast.UAdd, ast.USub)
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

ErrorType = type[LatticeClosureError]


def _show(src: str, limit: int = 60) -> str:
    """The text for an error message: quoted, cut to ``limit`` characters (messages stay one short line)."""
    return repr(src) if len(src) <= limit else repr(src[: limit - 1] + "…")


# ----------------------------------------------------------------------------------- lexical layer
def lexical_check(src: Any, where: str, error: ErrorType = LatticeClosureError) -> None:
    """Reject what can never be part of an expression, before any parsing.

    Raises
    ------
    error
        Not a string, too long, empty, or holding characters or words no expression contains.
    """
    if not isinstance(src, str):
        raise error(f"{where}: expression must be a string, got {type(src).__name__}")
    if len(src) > MAX_LENGTH:
        raise error(f"{where}: expression longer than {MAX_LENGTH} characters")
    if not src.strip():
        raise error(f"{where}: empty expression")
    control = next((ch for ch in src if not ch.isprintable() and ch != " "), None)
    if control is not None:
        raise error(f"{where}: control character {control!r} in the expression")
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
        ("#", "comments"),
        ("!", "factorials"),
        ("$", "dollar signs"),
        ("?", "question marks"),
    ):
        if bad in src:
            raise error(f"{where}: disallowed syntax ({why}) in {_show(src)}")
    for m in re.finditer(r"\.\s*[A-Za-z_]", src):
        k = m.start()
        exponent = k > 0 and src[k - 1].isdigit() and re.match(r"\.[eE][+-]?\d", src[k:])
        if not exponent:
            raise error(f"{where}: attribute access is not allowed in {_show(src)}")


def substitute_names(src: str, names: Iterable[str], where: str,
                     error: ErrorType = LatticeClosureError) -> tuple[str, dict[str, str]]:
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
                raise error(f"{where}: unclosed brace in {_show(src)}")
            name = src[i + 1 : j].strip()
            if name not in known:
                raise error(f"{where}: unknown class {{{name}}} in {_show(src)}")
            out.append(ph(name))
            i = j + 1
            continue
        if ch == "}":
            raise error(f"{where}: unmatched '}}' in {_show(src)}")
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


# ----------------------------------------------------------------------------------- syntax tree
def _syntax_tree(code: str, where: str, original: str, error: ErrorType, hint: str) -> ast.Expression:
    depth = 0
    for ch in code:  # Python's parser recurses per bracket: refuse deep nesting before parsing
        depth += ch in "(["
        depth -= ch in ")]"
        if depth > MAX_DEPTH:
            raise error(f"{where}: brackets nested deeper than {MAX_DEPTH} levels in {_show(original)}")
    try:
        return ast.parse(code.strip(), mode="eval")
    except SyntaxError as exc:
        raise error(f"{where}: cannot parse {_show(original)} ({exc.msg}){hint}") from None
    except (RecursionError, MemoryError, ValueError):
        raise error(f"{where}: cannot parse {_show(original)} (nested too deeply or malformed)") from None


def _depth(tree: ast.AST) -> int:
    """Nesting depth of a syntax tree, computed without recursion."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _check_nodes(tree: ast.Expression, allowed_names: set[str], where: str, original: str,
                 error: ErrorType) -> None:
    if _depth(tree) > 2 * MAX_DEPTH:
        raise error(f"{where}: expression nested deeper than {MAX_DEPTH} levels in {_show(original)}")
    count = 0
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}

    def pow_inside(node: ast.AST) -> bool:
        return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(node))

    for node in ast.walk(tree):
        count += 1
        if count > MAX_NODES:
            raise error(f"{where}: expression too large (more than {MAX_NODES} syntax nodes)")
        if isinstance(node, (ast.Expression, ast.expr_context, ast.operator, ast.unaryop)):
            continue  # operators are checked on their BinOp/UnaryOp
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, _ALLOWED_BINOPS):
                raise error(f"{where}: operator {type(node.op).__name__} is not allowed in {_show(original)}")
            if isinstance(node.op, ast.Pow) and pow_inside(node.right):
                raise error(f"{where}: nested powers in an exponent are not allowed in {_show(original)}")
            continue
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, _ALLOWED_UNARY):
                raise error(f"{where}: operator {type(node.op).__name__} is not allowed in {_show(original)}")
            continue
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise error(f"{where}: constant {v!r} is not allowed in {_show(original)}")
            if not math.isfinite(float(v)) or abs(v) > MAX_CONSTANT:
                raise error(f"{where}: constant {v!r} out of range in {_show(original)} (at most {MAX_CONSTANT:g})")
            continue
        if isinstance(node, ast.Name):
            if node.id not in allowed_names:
                raise error(f"{where}: unknown symbol {node.id!r} in {_show(original)}")
            if node.id in FUNCTIONS and id(node) not in called:
                raise error(f"{where}: the function {node.id!r} is used without an argument in {_show(original)}")
            continue
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                if isinstance(node.func, ast.Attribute):
                    raise error(f"{where}: attribute access is not allowed in {_show(original)}")
                fn = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
                raise error(
                    f"{where}: call of {fn!r} is not allowed in {_show(original)}; allowed functions: {sorted(FUNCTIONS)}"
                )
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise error(f"{where}: keyword or starred arguments are not allowed in {_show(original)}")
            if not node.args:
                raise error(f"{where}: {node.func.id}() needs an argument in {_show(original)}")
            continue
        raise error(f"{where}: {type(node).__name__} is not allowed in {_show(original)}")


def check_tree(code: str, allowed_names: set[str], where: str, original: str,
               error: ErrorType = LatticeClosureError, hint: str = "") -> None:
    """Walk the syntax tree of ``code`` against the whitelist (see the module docstring)."""
    _check_nodes(_syntax_tree(code, where, original, error, hint), allowed_names, where, original, error)


def _free_identifiers(tree: ast.Expression) -> set[str]:
    """Identifiers used as values (not as called functions) that are neither constants nor placeholders."""
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and id(n) not in called and n.id not in CONSTANTS and not n.id.startswith("_c")
    }


# ----------------------------------------------------------------------------------- building
class _Builder:
    """Builds the sympy expression of a checked syntax tree (no ``eval`` anywhere)."""

    def __init__(self, code: str, names: dict[str, Any], rational: bool, where: str, original: str,
                 error: ErrorType) -> None:
        self.code = code
        self.names = names
        self.rational = rational
        self.where = where
        self.original = original
        self.error = error

    def number(self, node: ast.Constant) -> sympy.Expr:
        if isinstance(node.value, int):
            return sympy.Integer(node.value)
        text = ast.get_source_segment(self.code, node) or repr(node.value)
        return sympy.Rational(text) if self.rational else sympy.Float(text)

    def build(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.names[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BinOp):
            left, right = self.build(node.left), self.build(node.right)
            op = node.op
            if isinstance(op, ast.Add):
                return left + right
            if isinstance(op, ast.Sub):
                return left - right
            if isinstance(op, ast.Mult):
                return left * right
            if isinstance(op, ast.Div):
                return left / right
            if getattr(left, "is_number", False) and getattr(right, "is_number", False):
                if abs(complex(sympy.N(right))) > MAX_NUMERIC_EXPONENT:
                    raise self.error(
                        f"{self.where}: a number raised to a power above {MAX_NUMERIC_EXPONENT} in {_show(self.original)}"
                    )
            return left**right
        if isinstance(node, ast.Call):
            return FUNCTIONS[node.func.id](*[self.build(a) for a in node.args])  # type: ignore[union-attr]
        raise self.error(f"{self.where}: {type(node).__name__} is not allowed in {_show(self.original)}")  # pragma: no cover


def check_real(expr: sympy.Basic, where: str, error: ErrorType = LatticeClosureError) -> None:
    """Refuse an expression with a constant part that is not real (``I``, ``sqrt(-1)``, ``log(-2)``).

    Raises
    ------
    error
    """
    walk = sympy.preorder_traversal(expr)
    for sub in walk:
        if not (isinstance(sub, sympy.Basic) and sub.is_number):
            continue
        walk.skip()  # a maximal constant part: checked as a whole
        if sub.is_real is True:
            continue
        try:
            value = complex(sympy.N(sub))
        except (TypeError, ValueError, OverflowError):
            continue  # not numerically evaluable (e.g. huge): left to the later numeric checks
        if value.imag != 0 and abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
            raise error(f"{where}: {sympy.sstr(sub)} is not a real number (complex values are not allowed)")


def check_parameter_name(name: Any, where: str, error: ErrorType = LatticeClosureError,
                         taken: Iterable[str] = (), what: str = "parameter") -> str:
    """Check a user-chosen name of a parameter or rate: an identifier that is not reserved.

    Refuses non-strings, names that are not ``[A-Za-z][A-Za-z0-9_]*``, Python keywords, the
    whitelisted functions and constants (a rate called ``E`` would silently be Euler's number) and
    the names in ``taken`` (e.g. class names).

    Returns
    -------
    str
        The name.
    """
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise error(f"{where}: invalid {what} name {name!r} (letters, digits and '_', starting with a letter)")
    if name in RESERVED_NAMES:
        raise error(f"{where}: {what} name {name!r} is reserved (a Python keyword, function or constant)")
    if name in set(taken):
        raise error(f"{where}: {what} name {name!r} is also the name of a class")
    return name


def parse_expression(
    src: str,
    *,
    class_names: Iterable[str] = (),
    allowed_classes: Iterable[str] | None = None,
    parameters: Iterable[str] | None = (),
    class_symbol: Callable[[str], sympy.Symbol] = sympy.Symbol,
    rational: bool = False,
    real: bool = True,
    where: str = "expression",
    error: ErrorType = LatticeClosureError,
    hint: str = "",
) -> sympy.Expr:
    """Parse one expression safely (see the module docstring).

    Parameters
    ----------
    src : str
        The text, e.g. ``"C++^2 / C+"`` or ``"lam/4"`` (``^`` means ``**``).
    class_names : iterable of str
        Class names recognised in the text (replaced before parsing).
    allowed_classes : iterable of str, optional
        The classes the expression may use (default: all of ``class_names``).
    parameters : iterable of str or None
        Names of parameters the expression may use; ``None`` admits every other identifier as a
        parameter (rate expressions: ``lam``, ``tau`` …) except reserved names. Identifiers starting
        with ``_`` never are.
    class_symbol : callable
        Symbol of a class name (default ``sympy.Symbol``).
    rational : bool, default False
        Read decimal numbers as exact rationals (``0.3`` → 3/10).
    real : bool, default True
        Refuse constant parts that are not real numbers.
    where : str
        Prefix of error messages.
    error : type
        Exception class raised on bad input (a :class:`~latticeclosure.errors.LatticeClosureError`).
    hint : str
        Appended to "cannot parse" messages.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    error
        Disallowed syntax, unknown symbols, classes it may not use, infinite, undefined or complex
        values.
    """
    lexical_check(src, where, error)
    names = [str(n) for n in class_names]
    code, mapping = substitute_names(src.replace("^", "**"), names, where, error)
    allowed = set(names) if allowed_classes is None else set(allowed_classes)
    not_allowed = sorted(set(mapping) - allowed)
    if not_allowed:
        raise error(f"{where}: {_show(src)} uses {not_allowed}, which it may not use; allowed classes: {sorted(allowed)}")
    code = code.strip()
    tree = _syntax_tree(code, where, src, error, hint)
    if parameters is None:
        params = _free_identifiers(tree) - set(FUNCTIONS)
        for p in sorted(params):
            check_parameter_name(p, where, error)
    else:
        params = {str(p) for p in parameters}
    allowed_names = set(mapping.values()) | params | set(FUNCTIONS) | set(CONSTANTS)
    _check_nodes(tree, allowed_names, where, src, error)
    symbols: dict[str, Any] = dict(CONSTANTS)
    symbols.update({p: sympy.Symbol(p) for p in params})
    symbols.update({ph: class_symbol(name) for name, ph in mapping.items()})
    try:
        expr = sympy.sympify(_Builder(code, symbols, rational, where, src, error).build(tree))
    except LatticeClosureError:
        raise
    except (ArithmeticError, TypeError, ValueError, RecursionError, MemoryError) as exc:
        raise error(f"{where}: cannot interpret {_show(src)}: {type(exc).__name__}") from None
    if not isinstance(expr, sympy.Expr):
        raise error(f"{where}: {_show(src)} is not an arithmetic expression")
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise error(f"{where}: {_show(src)} is infinite or undefined (a division by zero?)")
    if real:
        check_real(expr, where, error)
    return expr


def expression_names(expr: sympy.Expr) -> list[str]:
    """Names of the free symbols of an expression, sorted."""
    return sorted(str(s) for s in expr.free_symbols)


def as_expression(value: Any, where: str, error: ErrorType = LatticeClosureError) -> sympy.Expr:
    """``value`` as a sympy expression *without parsing*: sympy objects pass, finite numbers convert.

    Text is refused: ``sympy.sympify`` would hand it to ``eval``; text is only ever read by
    :func:`parse_expression`. Used where objects from plugins or API callers enter (closure
    expressions, right-hand sides of equation objects).

    Raises
    ------
    error
    """
    if isinstance(value, sympy.Basic):
        if not isinstance(value, sympy.Expr):
            raise error(f"{where}: {type(value).__name__} is not an arithmetic expression")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(
            f"{where}: expected a sympy expression or a number, got {type(value).__name__}"
            + (" (text is read only by latticeclosure.expressions.parse_expression)" if isinstance(value, str) else "")
        )
    if not math.isfinite(value):
        raise error(f"{where}: {value!r} is not a finite number")
    return sympy.Integer(value) if isinstance(value, int) else sympy.Float(value)
