"""Every file a command writes gets the permissions of the user's umask (0644 under 022, 0600 under 077),
whatever writer made it: reports, summaries, datasets, manifests, figures, CSV exports."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from latticeclosure.cli.main import main


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("umask,expected", [(0o022, 0o644), (0o077, 0o600)])
def test_files_follow_the_umask(tmp_path, ising_plugin, umask, expected):
    old = os.umask(umask)
    try:
        run_dir = tmp_path / "run"
        assert main(["run", "--model", ising_plugin, "--out", str(run_dir), "--workers", "2", "--grid", "0.3", "0.5",
                     "--no-progress"]) == 0
        assert main(["anneal", "--model", ising_plugin, "-x", "0.5", "-L", "8", "--schedule", "1:2", "-o",
                     str(tmp_path / "one" / "a.npz"), "--no-progress"]) == 0
        assert main(["sweep", "--model", ising_plugin, "-x", "0.3", "0.5", "-L", "8", "--schedule", "1:2",
                     "-o", str(tmp_path / "sweep"), "--no-progress", "-j", "2"]) == 0
        assert main(["data", "export", str(tmp_path / "one" / "a.npz"), "-o", str(tmp_path / "one" / "a.csv")]) == 0
    finally:
        os.umask(old)
    modes = _modes(tmp_path)
    kinds = {Path(name).suffix for name in modes}
    assert {".md", ".json", ".npz", ".png", ".csv", ".txt", ".tex"} <= kinds
    wrong = {name: oct(mode) for name, mode in modes.items() if mode != expected}
    assert not wrong, wrong
