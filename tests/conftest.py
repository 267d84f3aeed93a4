"""Shared test helpers: one CLI runner, and a small test model that is not the reference model.

``ising_plugin`` is a plugin object written exactly as a third-party plugin would write one (only the
public hooks): a two-species swap model on the square lattice with a nearest-neighbour pair energy
(unlike neighbours cost 1), annealed by the generic annealer, with a complete study.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from latticeclosure.hookspecs import hookimpl

TEST_MODEL = "ising-square"
TEST_BACKEND = "ising-anneal"


def run_cli(*args: str, cwd: str | os.PathLike | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m latticeclosure ARGS`` in a fresh interpreter; output captured as text."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "latticeclosure", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=timeout)


def assert_user_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    """One line ``error: ...`` on stderr, exit status 2, no traceback, and every fragment in it."""
    err = proc.stderr.strip()
    assert "Traceback" not in err, err
    assert proc.returncode == 2, (proc.returncode, err)
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    for frag in fragments:
        assert frag in err, (frag, err)


def nmc_available() -> bool:
    """Whether the reference model's plugin is loaded."""
    from latticeclosure.registry import get_registry

    return "nmc" in get_registry().names("models")


def pytest_collection_modifyitems(config, items):
    """Tests of the reference plugin (marker ``nmc``, everything under tests/plugins/ of it) are
    skipped when that plugin is disabled (``LATTICECLOSURE_DISABLE_PLUGINS=nmc``): the core's tests
    must pass without it."""
    if nmc_available():
        return
    skip = pytest.mark.skip(reason="the latticeclosure_nmc plugin is disabled")
    for item in items:
        if item.get_closest_marker("nmc") is not None:
            item.add_marker(skip)


def ising_model(size: int = 10, values: tuple[float, ...] = (0.3, 0.5, 0.6)):
    """The test model: square lattice, species A/B, energy 1 per unlike nearest-neighbour pair."""
    from latticeclosure.anneal import Schedule
    from latticeclosure.anneal.energy import ClusterEnergy
    from latticeclosure.model import Model
    from latticeclosure.study import ClosureUse, FamilyUse, FitUse, Grid, StudySpec, steps

    energy = ClusterEnergy.from_function("pair", 2, ("A", "B"), lambda s: float(s[0] != s[1]),
                                         description="1 per unlike nearest-neighbour pair", unit="J")
    study = StudySpec(
        backend=TEST_BACKEND,
        grid=Grid("x", values, "fraction of B"),
        size=size,
        settings={"schedule": Schedule.geometric(3.0, 0.5, levels=3, sweeps=20)},
        headline=("PA", "MF"),
        steps=(
            steps.RunsOverview(),
            steps.Equations(window_size=2),
            steps.EvaluateClosures(uses=(ClosureUse("PA", "pair", note="pair approximation"),
                                         ClosureUse("MF", "mean-field", note="mean field"))),
            steps.FitClosures(fits=(FitUse("PL", "power-law", 0.5, {"preset": "soft"}, note="power law at 0.5"),)),
            steps.ErrorTable(),
            steps.Verdict(reference="PA"),
            steps.CrossValidateClosures(families=(FamilyUse("pl-soft", "power-law", {"preset": "soft"}),),
                                        best_label="best-cv"),
            steps.Reconstructions(at=(0.5,), closures=("PA", "PL")),
            steps.MarginalChecks(at=0.5, closures=("PA",)),
        ),
    )
    return Model(name=TEST_MODEL, lattice="square", species=("A", "B"), description="Ising-type test model",
                 energy=energy, default_schedule=Schedule.geometric(3.0, 0.5, levels=3, sweeps=20),
                 stoichiometries=values, dynamics="swap", default_size=size, study=study)


class IsingPlugin:
    """A plugin contributing the test model and its annealer through the public hooks."""

    @hookimpl
    def latticeclosure_models(self):
        return [ising_model()]

    @hookimpl
    def latticeclosure_data_backends(self):
        from latticeclosure.anneal import AnnealBackend

        return [AnnealBackend(TEST_BACKEND, model=TEST_MODEL, description="anneals the Ising test model")]


@pytest.fixture
def ising_plugin():
    """Register the test-model plugin in the process-wide registry for one test."""
    from latticeclosure.registry import get_registry

    registry = get_registry()
    name = registry.register(IsingPlugin(), name="ising-test")
    yield TEST_MODEL
    registry.unregister(name)


@pytest.fixture
def tests_dir() -> Path:
    return Path(__file__).parent
