"""Extract and run the code examples of the Markdown documentation (the convention of docs/contributing.md).

A page is a session: its examples run in order, in one fresh working directory, sharing one Python
namespace. Fenced blocks by info string:

``pycon``    Python prompts (``>>> ``, ``... ``) with the expected output below each statement (doctest).
``console``  shell prompts (``$ ``) with the expected output (stdout and stderr) below each command.
``python``   a Python script; it must run without error (its output is not compared).
``bash``     shell commands; each must exit with status 0 (output not compared).
other        not executed (files, formats, output shown on its own).

An HTML comment on the line before a block changes that: ``<!-- example: skip REASON -->`` (not run),
``<!-- example: file NAME -->`` (the block's text is written to NAME in the working directory),
``<!-- example: excerpt PATH -->`` (the block's lines must occur in the repository file PATH, in
order; lines in between may be left out).

Expected output is compared line by line (trailing blanks ignored); ``...`` matches any text, also
several lines; a number followed by a time unit (``4.1 s``, ``23 ns``, ``2 min``) matches any number
with that unit; a last line ``[exit N]`` says that the last command exits with status N (default 0).
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

#: Info strings of executed blocks.
EXECUTED = ("pycon", "console", "python", "bash")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_MARK = re.compile(r"^\s*<!--\s*example:\s*(?P<kind>skip|file|excerpt)\b\s*(?P<arg>.*?)\s*-->\s*$")
_TIME_UNITS = r"(?:ns|µs|us|ms|s|min|h)"
_NUMBER = r"\d+(?:\.\d+)?"
#: A time: a number (or a range such as 23–35) followed by a time unit.
_TIMING = re.compile(_NUMBER + r"(?:\s*[–-]\s*" + _NUMBER + r")?(?=\s*" + _TIME_UNITS + r"\b)")
_EXIT = re.compile(r"^\[exit (\d+)\]$")


@dataclass
class Block:
    """One fenced code block of a page."""

    page: str
    line: int  # 1-based line of the opening fence
    info: str
    text: str
    mark: tuple[str, str] | None = None  # (kind, argument) of an ``<!-- example: ... -->`` comment

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def kind(self) -> str:
        """``run`` (an executed example), ``skip``, ``file``, ``excerpt`` or ``shown`` (not executed)."""
        if self.mark is not None:
            return self.mark[0]
        return "run" if self.info in EXECUTED else "shown"


def pages() -> list[str]:
    """README.md and every Markdown page under docs/ (not build output), relative to the repository."""
    found = [REPO / "README.md"] + sorted((REPO / "docs").rglob("*.md"))
    skip = ("_build", "generated")
    return [str(p.relative_to(REPO)) for p in found if not any(part in skip for part in p.relative_to(REPO).parts)]


def blocks(page: str) -> list[Block]:
    """The fenced code blocks of ``page`` in order, with the mark preceding each."""
    lines = (REPO / page).read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        closing = re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        if j == len(lines):
            raise ValueError(f"{page}:{i + 1}: code block never closed")
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1:j]]
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mark = _MARK.match(lines[k]) if k >= 0 else None
        info = m["info"].strip().split()[0] if m["info"].strip() else ""
        out.append(Block(page, i + 1, info.strip("{}"), "\n".join(body) + "\n",
                         (mark["kind"], mark["arg"]) if mark else None))
        i = j + 1
    return out


def all_examples() -> list[Block]:
    """Every example that is checked: executed blocks and excerpts, of every page."""
    return [b for page in pages() for b in blocks(page) if b.kind in ("run", "excerpt")]


# ---------------------------------------------------------------------------------------- matching


def _line_pattern(want: str) -> str:
    parts = []
    for piece in re.split(r"(\.\.\.)", want):
        if piece == "...":
            parts.append(r"[^\n]*?")
            continue
        pos = 0
        for t in _TIMING.finditer(piece):
            parts.append(re.escape(piece[pos:t.start()]) + _NUMBER + r"(?:\s*[–-]\s*" + _NUMBER + ")?")
            pos = t.end()
        parts.append(re.escape(piece[pos:]))
    return "".join(parts)


def output_matches(want: str, got: str) -> bool:
    """Whether ``got`` shows ``want`` under the rules of the module docstring."""
    want_lines = [ln.rstrip() for ln in want.rstrip("\n").splitlines()]
    got_lines = [ln.rstrip() for ln in got.rstrip("\n").splitlines()]
    if not want_lines:
        return not got_lines
    regex = "".join(r"(?:[^\n]*\n)*?" if ln.strip() == "..." else _line_pattern(ln) + "\n" for ln in want_lines)
    return re.fullmatch(regex, "".join(ln + "\n" for ln in got_lines)) is not None


class _Checker(doctest.OutputChecker):
    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        return super().check_output(want, got, optionflags) or output_matches(want, got)


# ---------------------------------------------------------------------------------------- running


def shell_commands(text: str) -> list[tuple[str, str]]:
    """(command, expected output) pairs of a console block (``$ `` prompts, ``\\`` continuations)."""
    pairs: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("$ "):
            cmd = [ln[2:]]
            while cmd[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd.append(lines[i])
            pairs.append(("\n".join(cmd), []))
        elif pairs:
            pairs[-1][1].append(ln)
        elif ln.strip():
            raise ValueError(f"console block: output before the first '$ ' prompt: {ln!r}")
        i += 1
    return [(cmd, "\n".join(out)) for cmd, out in pairs]


@dataclass
class PageSession:
    """The state one page's examples share: working directory, Python namespace, progress."""

    page: str
    workdir: Path
    namespace: dict[str, Any] = field(default_factory=dict)
    done: int = 0  # blocks of the page run so far
    failed: str | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env["COLUMNS"] = "100"  # argparse wraps --help output at the terminal width
        env.pop("PYTHONWARNINGS", None)
        return env

    def run_until(self, block: Block) -> None:
        """Run the page's blocks up to and including ``block`` (earlier ones once, in order)."""
        page_blocks = blocks(self.page)
        index = next(i for i, b in enumerate(page_blocks) if b.line == block.line)
        while self.done <= index:
            current = page_blocks[self.done]
            self.done += 1
            if self.failed:
                pytest.fail(f"not run: an earlier example of {self.page} failed ({self.failed})", pytrace=False)
            try:
                self._run(current)
            except AssertionError as exc:
                message = str(exc)
            except BaseException:
                self.failed = current.id
                raise
            else:
                continue
            self.failed = current.id
            pytest.fail(message, pytrace=False)  # the message says it all: expected and actual output

    def _run(self, block: Block) -> None:
        if block.kind == "file":
            (self.workdir / block.mark[1]).write_text(block.text, encoding="utf-8")
            return
        if block.kind == "excerpt":
            missing = _not_in_order(block.text, (REPO / block.mark[1]).read_text(encoding="utf-8"))
            assert missing is None, f"{block.id}: not an excerpt of {block.mark[1]}: {missing!r} is not there (in order)"
            return
        if block.kind != "run":
            return
        if block.info in ("console", "bash"):
            self._shell(block)
        else:
            self._python(block)

    def _shell(self, block: Block) -> None:
        if block.info == "bash":
            commands = [(ln, None) for ln in _bash_commands(block.text)]
        else:
            commands = shell_commands(block.text)
        for cmd, want in commands:
            status = 0
            if want is not None:
                lines = want.rstrip("\n").splitlines()
                if lines and _EXIT.match(lines[-1].strip()):
                    status = int(_EXIT.match(lines[-1].strip())[1])
                    want = "\n".join(lines[:-1])
            proc = subprocess.run(["bash", "-c", cmd], cwd=self.workdir, env=self.env(), text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
            assert proc.returncode == status, f"{block.id}: `{cmd}` exited {proc.returncode}:\n{proc.stdout[-3000:]}"
            if want is not None:
                assert output_matches(want, proc.stdout), (
                    f"{block.id}: `{cmd}` shows different output.\n--- expected\n{want}\n--- got\n{proc.stdout}"
                )

    def _python(self, block: Block) -> None:
        cwd = os.getcwd()
        os.chdir(self.workdir)
        try:
            if block.info == "python":
                exec(compile(block.text, block.id, "exec"), self.namespace)
                return
            test = doctest.DocTestParser().get_doctest(block.text, self.namespace, block.id, block.page, block.line)
            runner = doctest.DocTestRunner(checker=_Checker(), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            report = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()):
                runner.run(test, out=report.write, clear_globs=False)
            self.namespace.update(test.globs)  # DocTest works on a copy of the namespace
            assert runner.failures == 0, f"{block.id}: output differs\n{report.getvalue()}"
        finally:
            os.chdir(cwd)


def _bash_commands(text: str) -> list[str]:
    out: list[str] = []
    for ln in text.splitlines():
        if out and out[-1].endswith("\\"):
            out[-1] += "\n" + ln
        elif ln.strip() and not ln.lstrip().startswith("#"):
            out.append(ln)
    return out


def _not_in_order(excerpt: str, source: str) -> str | None:
    """The first line of ``excerpt`` not found in ``source`` after the previous one (None: all are)."""
    lines = [ln.strip() for ln in source.splitlines()]
    pos = 0
    for want in (ln.strip() for ln in excerpt.splitlines()):
        if not want:
            continue
        try:
            pos = lines.index(want, pos) + 1
        except ValueError:
            return want
    return None
