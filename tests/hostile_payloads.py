"""Hostile texts shared by every test of a path that turns user text into an expression or a name.

Each payload, if it were ever evaluated by Python, would create the file :data:`MARKER` in the
working directory (or read something it should not); the tests run in a temporary directory and check
that the package refuses the text with its own error and that the marker never appears.
"""

MARKER = "PWNED"

#: Code-execution attempts through sympy's namespace, Python builtins, attribute chains and escapes.
INJECTIONS = [
    "Symbol.__new__.__globals__['__builtins__']['open']('PWNED','w')",
    "Integer.__class__.__base__.__subclasses__()",
    "__import__('os').system('touch PWNED')",
    "open('PWNED', 'w')",
    "exec(\"open('PWNED','w')\")",
    "eval('1')",
    "(lambda: open('PWNED','w'))()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "C++.__class__",
    "exp.__globals__",
    "sqrt(1).func.__module__",
    "getattr(C++, 'func')",
    "Symbol('x')",
    "Function('f')(C+)",
    "S.Half",
    "C++ if 1 else 0",
    "C++[0]",
    "{'a': 1}",
    "C++; open('PWNED','w')",
    "C++ #",
    "C++\nopen('PWNED','w')",
    "f\"{open('PWNED','w')}\"",
    "b'x'",
    "...",
    "C++ @ C+",
    "C++ := 1",
    "not C++",
    "C++ and C+",
    "C++ < C+",
    "C++ // C+",
    "C++ % C+",
    "~C++",
    "exp(x=1)",
    "exp(*[1])",
    "_c0",
    "__builtins__",
    "Max()",
    "\\x00",
    "C++\x00",
    "`id`",
    "$(touch PWNED)",
]

#: Texts that are syntactically fine but must still be refused (values, not code).
BAD_VALUES = [
    "1/0",
    "sqrt(-1)*C++",
    "log(-2)*C+",
    "(-8)**(1/3)*C+",
    "2**1000000",
    "1e400",
    "(" * 300 + "C+" + ")" * 300,
    "-" * 3000 + "C+",
    "C+ " + "+ C+ " * 2000,
]

PAYLOADS = INJECTIONS + BAD_VALUES


def expression_texts():
    """Hypothesis strategy: texts assembled from expression tokens, code fragments and stray characters."""
    from hypothesis import strategies as st

    tokens = list("C+-()*/^.,_'\"[]{}:;=!#@ \\xeE0123456789") + [
        "__", "lambda", "exp", "import", "os", "sqrt", "C++", "C+-", "{C+-}", "**", "1e9", "open", "Symbol",
        "__class__", "()", "pi", "\n", "\x00", "é",
    ]
    return st.lists(st.sampled_from(tokens), max_size=25).map("".join)
