"""Class 5 of the hostile-input issue: clean failures on every write.

A failing write — full disk (simulated), a file-size limit (``RLIMIT_FSIZE``: ``EFBIG``), a special
file system, a missing directory — gives one line ``error: cannot write PATH: reason``, a non-zero
exit, and leaves no partial or temporary file; ``--overwrite`` never replaces a device or a FIFO; an
output that is a symbolic link is replaced by a regular file and the link's target is never written.
"""

from __future__ import annotations

import errno
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import hostile_cli
from conftest import assert_user_error, ising_model
from latticeclosure.io import OutputError, write_json_atomic, write_text_atomic


@pytest.fixture(scope="module")
def trajectory():
    from latticeclosure.anneal import AnnealBackend
    from latticeclosure.anneal.schedule import Schedule

    model = ising_model()
    return AnnealBackend("t", model).run(model, 0.5, 8, 0, Schedule([1.0], [2.0]))


@pytest.fixture
def full_disk(monkeypatch):
    """Every fsync fails with ENOSPC, as on a full file system."""
    def fail(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fail)


def _no_leftovers(directory: Path, keep: set[str]) -> None:
    assert {p.name for p in directory.iterdir()} == keep


# ------------------------------------------------------------------ every writer, full disk
def test_every_writer_fails_cleanly_on_a_full_disk(tmp_path, trajectory, full_disk):
    from latticeclosure.anneal.engine import AnnealRun
    from latticeclosure.anneal.schedule import Schedule
    from latticeclosure.report.figures import plot_annealing

    (tmp_path / "old.json").write_text("previous")
    writers = {
        "trajectory.npz": lambda p: trajectory.save(p),
        "trajectory.csv": lambda p: trajectory.to_csv(p),
        "old.json": lambda p: write_json_atomic(p, {"a": 1}),
        "report.md": lambda p: write_text_atomic(p, "text"),
        "figure.png": lambda p: plot_annealing([{"x": 0.5, "time": [0, 1], "temperature": [1, 1],
                                                 "energy": [1, 0.5]}], p),
        "run.checkpoint.npz": lambda p: AnnealRun(ising_model(), 0.5, 8, 0, Schedule([1.0], [1.0])).save_checkpoint(p),
    }
    # a CSV export writes its metadata sidecar (trajectory.metadata.json) too: either file may be hit first
    written = {"trajectory.csv": r"trajectory\.(csv|metadata\.json)"}
    for name, write in writers.items():
        target = re.escape(str(tmp_path)) + "/" + written.get(name, re.escape(name))
        with pytest.raises(OutputError, match=f"cannot write {target}: No space left on device"):
            write(tmp_path / name)
    _no_leftovers(tmp_path, {"old.json"})
    assert (tmp_path / "old.json").read_text() == "previous"  # an existing result is kept whole


def test_a_special_file_system_and_a_missing_directory(tmp_path, trajectory):
    with pytest.raises(OutputError, match="cannot write /proc/"):
        trajectory.save("/proc/latticeclosure-test.npz")
    with pytest.raises(OutputError, match="cannot write"):
        trajectory.save(tmp_path / "missing" / "t.npz")
    with pytest.raises(OutputError, match="cannot write"):
        write_text_atomic(tmp_path / ("x" * 300), "name too long")


# ------------------------------------------------------------------ the command line
def _limit_file_size(nbytes: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return apply


def test_a_file_size_limit_gives_one_error_line_and_no_file(tmp_path):
    proc = hostile_cli.run("anneal", "--model", "ising-square", "-x", "0.5", "-L", "40", "--schedule", "1:2",
                           "--no-progress", "-o", "big.npz", "--save-configurations", cwd=tmp_path,
                           preexec_fn=_limit_file_size(20_000))
    assert_user_error(proc, "cannot write big.npz", "File too large")
    _no_leftovers(tmp_path, set())


def test_a_failing_standard_output_gives_one_error_line(tmp_path):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "latticeclosure", "equations", "--lattice", "kagome",
                               "--window-size", "3"], stdout=full, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert_user_error(proc, "cannot write standard output", "No space left on device")


def test_overwrite_never_replaces_a_fifo_or_a_device(tmp_path, trajectory):
    src = trajectory.save(tmp_path / "t.npz")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    proc = hostile_cli.run("data", "export", str(src), "-o", str(fifo), "--overwrite", cwd=tmp_path)
    assert_user_error(proc, "not a regular file")
    assert fifo.is_fifo()
    with pytest.raises(OutputError, match="not a regular file"):
        write_text_atomic("/dev/null", "x")
    assert Path("/dev/null").is_char_device()


def test_a_symlinked_output_is_replaced_and_its_target_never_written(tmp_path, trajectory):
    src = trajectory.save(tmp_path / "t.npz")
    target = tmp_path / "elsewhere.txt"
    target.write_text("precious")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    proc = hostile_cli.run("data", "export", str(src), "-o", str(link), cwd=tmp_path)
    assert_user_error(proc, "exists", "--overwrite")  # a link to an existing file needs --overwrite
    proc = hostile_cli.run("data", "export", str(src), "-o", str(link), "--overwrite", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not link.is_symlink() and link.read_text().startswith("step,time,")  # the CSV's own header row
    assert target.read_text() == "precious"


def test_output_directories_may_be_symlinks(tmp_path, trajectory):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "via").symlink_to(real, target_is_directory=True)
    trajectory.save(tmp_path / "via" / "t.npz")
    assert (real / "t.npz").is_file()
