"""A small LaTeX checker for the package's LaTeX output (document-body fragments for amsmath).

It finds what makes pdflatex stop on such fragments, without a TeX system: unbalanced braces, badly
nested or unknown environments, ``_``/``^``/``&``/``\\\\`` outside math, ``aligned`` outside math, double
subscripts or superscripts, commands outside a known list, and text-mode characters that need
escaping. :func:`wrap_document` makes a complete document of a fragment, for pdflatex when present.
"""

from __future__ import annotations

import re

#: Environments and whether their content is math.
MATH_ENVIRONMENTS = {"align", "align*", "equation", "equation*", "gather", "gather*", "multline", "multline*"}
INNER_MATH = {"aligned", "gathered", "cases", "matrix", "pmatrix", "bmatrix", "array", "split"}
ALIGNING = {"align", "align*", "aligned", "split", "cases", "matrix", "pmatrix", "bmatrix", "array"}

#: Commands allowed in math mode (amsmath and the LaTeX kernel), in text mode, and everywhere.
MATH_COMMANDS = {
    "frac", "dfrac", "tfrac", "left", "right", "cdot", "times", "sqrt", "log", "ln", "exp", "sin", "cos",
    "mathrm", "mathit", "mathbf", "operatorname", "infty", "partial", "sum", "prod", "int", "quad", "qquad",
    "le", "leq", "ge", "geq", "neq", "approx", "to", "min", "max", "tag", "nonumber", "notag",
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota",
    "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi",
    "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi",
    "Omega", "text", "mathbin", "mathrel", "lvert", "rvert", "vert", "ldots", "cdots", "dots",
}
TEXT_COMMANDS = {"textbackslash", "textit", "textbf", "textrm", "par", "noindent", "section", "subsection"}
ANY_COMMANDS = {"begin", "end", "_", "#", "%", "&", "$", "{", "}", "^", "~", ",", ";", "!", " ", "\\", "[", "]",
                "(", ")", "|"}

_TOKEN = re.compile(r"\\(?:[A-Za-z]+\*?|.)|[{}_^&$%#~]|\n|[^\\{}_^&$%#~\n]+")


class LatexError(ValueError):
    """What pdflatex would stop on, with the offset in the text."""


def check_latex(text: str) -> list[str]:
    """The problems found in ``text`` (empty when none), each ``"offset N: message"``."""
    try:
        _Checker(text).run()
    except LatexError as exc:
        return [str(exc)]
    return []


def wrap_document(fragment: str) -> str:
    """A complete LaTeX document with ``fragment`` as its body (amsmath loaded)."""
    return "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n" + fragment + "\n\\end{document}\n"


class _Checker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(text)]
        self.pos = 0

    def fail(self, offset: int, message: str) -> None:
        raise LatexError(f"offset {offset}: {message} (near {self.text[max(0, offset - 30):offset + 30]!r})")

    def next(self) -> tuple[int, str] | None:
        if self.pos >= len(self.tokens):
            return None
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def run(self) -> None:
        self.group(math=False, closing=None, environments=[])
        if self.pos < len(self.tokens):
            self.fail(self.tokens[self.pos][0], "text after the end")

    def argument(self, math: bool, environments: list[str]) -> None:
        """One argument of ``_``/``^``/a command: a token or a braced group."""
        tok = self.next()
        while tok is not None and tok[1].isspace():
            tok = self.next()
        if tok is None:
            self.fail(len(self.text), "missing argument at the end")
        offset, t = tok
        if t == "{":
            self.group(math, "}", environments)
        elif t in ("}", "_", "^", "&"):
            self.fail(offset, f"missing argument before {t!r}")
        elif t.startswith("\\"):
            self.command(offset, t, math, environments)
        # a plain token: only its first character is the argument; the rest continues the group
        elif len(t) > 1:
            self.tokens.insert(self.pos, (offset + 1, t[1:]))

    def group(self, math: bool, closing: str | None, environments: list[str]) -> None:
        sub = sup = False  # the current atom already has a subscript / superscript
        while True:
            tok = self.next()
            if tok is None:
                if closing is not None:
                    self.fail(len(self.text), f"missing {closing!r} at the end")
                return
            offset, t = tok
            if closing is not None and t == closing:
                return
            if t == "}":
                self.fail(offset, "unbalanced '}'")
            if t in ("_", "^"):
                if not math:
                    self.fail(offset, f"{t!r} outside math mode (Missing $ inserted)")
                if (t == "_" and sub) or (t == "^" and sup):
                    self.fail(offset, "double subscript" if t == "_" else "double superscript")
                self.argument(math, environments)
                sub, sup = sub or t == "_", sup or t == "^"
                continue
            if t.isspace():  # spaces do not end an atom: x_{a} _{b} is a double subscript too
                continue
            sub = sup = False
            if t == "{":
                self.group(math, "}", environments)
            elif t == "&":
                if not (environments and environments[-1] in ALIGNING):
                    self.fail(offset, "'&' outside an alignment (Misplaced alignment tab character &)")
            elif t in ("#", "%", "~") or (t == "$" and math):
                self.fail(offset, f"unescaped {t!r}")
            elif t == "$":
                self.fail(offset, "inline math with $ is not used in this output")
            elif t.startswith("\\"):
                if t == "\\end":
                    self.fail(offset, "\\end without \\begin")
                if t in ("\\]",) and closing == "\\]":
                    return
                self.command(offset, t, math, environments)

    def command(self, offset: int, t: str, math: bool, environments: list[str]) -> None:
        name = t[1:]
        if name == "begin":
            env = self.environment_name()
            if env in MATH_ENVIRONMENTS:
                if math:
                    self.fail(offset, f"{env} inside math")
                inner = True
            elif env in INNER_MATH:
                if not math:
                    self.fail(offset, f"{env} outside math mode (it must be inside \\[ \\], equation, ...)")
                inner = True
            else:
                self.fail(offset, f"unknown environment {env!r}")
            self.environment_body(env, inner, environments)
            return
        if name == "[":
            if math:
                self.fail(offset, "\\[ inside math")
            self.group(True, "\\]", [])
            return
        if name == "\\":
            if not (environments and environments[-1] in ALIGNING):
                self.fail(offset, "\\\\ outside an alignment")
            return
        if name == "text":
            tok = self.next()
            if tok is None or tok[1] != "{":
                self.fail(offset, "\\text needs a braced argument")
            self.group(False, "}", [])
            return
        if name in ANY_COMMANDS:
            return
        allowed = MATH_COMMANDS if math else TEXT_COMMANDS
        if name not in allowed:
            self.fail(offset, f"unknown command {t!r} in {'math' if math else 'text'} mode")

    def environment_name(self) -> str:
        tok = self.next()
        if tok is None or tok[1] != "{":
            self.fail(len(self.text) if tok is None else tok[0], "\\begin needs {name}")
        name = []
        while True:
            tok = self.next()
            if tok is None:
                self.fail(len(self.text), "unterminated environment name")
            if tok[1] == "}":
                return "".join(name)
            name.append(tok[1])

    def environment_body(self, env: str, math: bool, environments: list[str]) -> None:
        stack = [*environments, env]
        start = self.pos
        # the body ends at the matching \end{env}: parse tokens up to it
        depth = 0
        for i in range(start, len(self.tokens)):
            t = self.tokens[i][1]
            if t == "\\begin":
                depth += 1
            elif t == "\\end":
                if depth == 0:
                    end = i
                    break
                depth -= 1
        else:
            self.fail(self.tokens[start - 1][0], f"\\begin{{{env}}} never ended")
        body = _Checker.__new__(_Checker)
        body.text, body.tokens, body.pos = self.text, self.tokens[start:end], 0
        body.group(math, None, stack[-1:] if math else stack)
        self.pos = end + 1
        closing = self.environment_name()
        if closing != env:
            self.fail(self.tokens[end][0], f"\\begin{{{env}}} ended by \\end{{{closing}}}")
