"""Run the ``latticeclosure`` command line in a fresh interpreter with the non-NMC test model registered.

``python tests/hostile_cli.py ARGS`` registers the test plugin of ``conftest.py`` (model
``ising-square``, backend ``ising-anneal``) and runs ``latticeclosure ARGS``; :func:`start` and
:func:`run` do that from tests, so that process-level behaviour (signals, locks, exit statuses) is
tested without the reference model's plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _command(args: tuple[str, ...]) -> list[str]:
    return [sys.executable, str(HERE / "hostile_cli.py"), *args]


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    return env


def run(*args: str, cwd: str | os.PathLike | None = None, env: dict[str, str] | None = None,
        timeout: float = 300, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run the command to completion; output captured as text."""
    return subprocess.run(_command(args), capture_output=True, text=True, cwd=cwd, env=_env(env), timeout=timeout,
                          **kwargs)


def start(*args: str, cwd: str | os.PathLike | None = None, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start the command (stderr captured as text); the caller waits or signals it."""
    return subprocess.Popen(_command(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            env=_env(env))


def children(pid: int) -> list[int]:
    """Pids of the direct children of ``pid`` (Linux ``/proc``)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    from conftest import IsingPlugin

    from latticeclosure.cli.main import main
    from latticeclosure.registry import get_registry

    get_registry().register(IsingPlugin(), name="ising-test")
    sys.exit(main(sys.argv[1:]))
