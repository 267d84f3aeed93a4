"""-v/--verbose and -q/--quiet: the package's log records on stderr at the chosen level; progress bars
follow latticeclosure.progress.progress_enabled (asked for, or a terminal; never when quiet)."""

from __future__ import annotations

import logging

import pytest

from latticeclosure.cli.main import main
from latticeclosure.progress import get_logger, progress_enabled, track


def test_default_verbose_and_quiet_levels(capsys, ising_plugin, tmp_path):
    args = ["run", "--model", ising_plugin, "--size", "6", "--grid", "0.3", "0.5", "--no-figures"]
    assert main([*args, "--out", str(tmp_path / "default")]) == 0
    default = capsys.readouterr()
    assert "[1/4] simulating 2 grid point(s)" in default.err and "[4/4] report and summary" in default.err
    assert "debug:" not in default.err
    assert f"results in {tmp_path / 'default'}/" in default.out  # the command's result stays on stdout

    assert main(["-q", *args, "--out", str(tmp_path / "quiet")]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert quiet.out.splitlines()[1:] == [ln.replace(str(tmp_path / "default"), str(tmp_path / "quiet"))
                                            for ln in default.out.splitlines()[1:]]

    assert main(["--verbose", "lattices"]) == 0
    verbose = capsys.readouterr().err.splitlines()
    assert verbose[0] == "debug: latticeclosure " + verbose[0].split()[2] + " command 'lattices'"
    assert verbose[-1].startswith("debug: command 'lattices' finished in ")


def test_verbose_and_quiet_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as info:
        main(["-v", "-q", "lattices"])
    assert info.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_logger_state_is_restored_after_a_command(capsys):
    logger = get_logger()
    before = (logger.level, logger.propagate, list(logger.handlers))
    assert main(["-q", "lattices"]) == 0
    assert (logger.level, logger.propagate, list(logger.handlers)) == before


def test_progress_rule(monkeypatch, capsys):
    assert progress_enabled(True) and not progress_enabled(False)
    assert not progress_enabled(None)  # stderr is captured here, not a terminal
    logger = get_logger()
    monkeypatch.setattr(logger, "level", logging.WARNING)
    assert not progress_enabled(True)  # quiet wins
    monkeypatch.setattr(logger, "level", logging.INFO)
    assert list(track(range(3), desc="counting", enabled=True)) == [0, 1, 2]
    err = capsys.readouterr().err
    assert "counting" in err and "3/3" in err


def test_fit_and_cross_validation_show_progress(capsys):
    """The slow stages of a study (fits, cross-validation) draw a bar when asked for."""
    from closure_testdata import counted_series, index

    from latticeclosure.closures import calibrate, cross_validate

    idx = index("square", 3)
    data = [counted_series("square", seed=seed) for seed in (1, 2)]
    calibrate("power-law", data[0], idx, progress=True, n_starts=1)
    fit_err = capsys.readouterr().err
    assert "fitting power-law" in fit_err and "class" in fit_err
    cross_validate(["pair", "power-law"], data, idx, progress=True, n_starts=1)
    cv_err = capsys.readouterr().err
    assert "cross-validation" in cv_err and "2/2" in cv_err and "fold" in cv_err  # one step per fold (two held-out series)
    calibrate("power-law", data[0], idx, n_starts=1)  # default: no bar
    assert capsys.readouterr().err == ""
