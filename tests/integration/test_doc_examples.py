"""Every code example of README.md and docs/ runs, and shows the output it shows in the docs.

The convention (which blocks run, how expected output is written, how a block is marked as not run)
is in docs/contributing.md; the runner is tests/doc_examples.py.
"""

from __future__ import annotations

import re

import pytest
from doc_examples import REPO, PageSession, all_examples, blocks, output_matches, pages, shell_commands

EXAMPLES = all_examples()


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    """One session per page, created on the page's first example."""
    made: dict[str, PageSession] = {}

    def get(page: str) -> PageSession:
        if page not in made:
            made[page] = PageSession(page, tmp_path_factory.mktemp(page.replace("/", "-").removesuffix(".md")))
        return made[page]

    return get


@pytest.mark.nmc  # the pages show the shipped plugins, the reference model's included
@pytest.mark.slow  # about a minute for every example together
@pytest.mark.parametrize("block", EXAMPLES, ids=[b.id for b in EXAMPLES])
def test_example(block, sessions):
    sessions(block.page).run_until(block)


def test_every_page_is_covered_and_marks_are_well_formed():
    assert "README.md" in pages() and "docs/contributing.md" in pages()
    for page in pages():
        for b in blocks(page):
            if b.kind == "skip":
                assert b.mark[1], f"{b.id}: a skipped example needs a reason"
            if b.kind in ("file", "excerpt"):
                assert b.mark[1], f"{b.id}: 'example: {b.kind}' needs a path"
            if b.kind == "excerpt":
                assert (REPO / b.mark[1]).is_file(), f"{b.id}: {b.mark[1]} is not in the repository"
    assert len(EXAMPLES) >= 30


@pytest.mark.parametrize(
    "want,got,ok",
    [
        ("a b", "a b", True),
        ("a b", "a c", False),
        ("took 4.1 s", "took 12.73 s", True),  # timings by pattern
        ("took 4.1 s", "took 12.73 ms", False),  # ... not their unit
        ("23–35 ns per site", "19–41 ns per site", True),
        ("x = 0.33", "x = 0.35", False),  # other numbers digit by digit
        ("first\n...\nlast", "first\nmiddle 1\nmiddle 2\nlast", True),
        ("first\n...\nlast", "first\nlast", True),
        ("first\nlast", "first\nextra\nlast", False),
        ("value ... end", "value 1, 2, 3 end", True),
        ("", "", True),
        ("", "unexpected", False),
    ],
)
def test_output_rules(want, got, ok):
    assert output_matches(want, got) is ok


def test_console_blocks_split_into_commands_and_output():
    text = "$ echo a \\\n  b\na b\n$ true\n$ printf 'x\\ny'\nx\ny\n"
    assert shell_commands(text) == [("echo a \\\n  b", "a b"), ("true", ""), ("printf 'x\\ny'", "x\ny")]


_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
_PATH = re.compile(r"`((?:latticeclosure|latticeclosure_\w+|plugins|tests|docs|benchmarks|\.ci)/[\w./-]*)`")


def test_pages_refer_only_to_files_in_the_repository():
    """Links and quoted repository paths of every page point at files that exist."""
    missing = []
    for page in pages():
        text = (REPO / page).read_text(encoding="utf-8")
        base = (REPO / page).parent
        for target in _LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            if not (base / target).exists():
                missing.append(f"{page}: link {target}")
        for path in _PATH.findall(text):
            if "*" in path or path.endswith("/...") or path.startswith("latticeclosure/cli/<"):
                continue
            # plugin packages are quoted by their import name: shipped ones or the example plugin
            where = [REPO / path, REPO / "plugins" / path, REPO / "docs" / "example-plugin" / path]
            if not any(p.exists() for p in where):
                missing.append(f"{page}: path {path}")
    assert missing == []
