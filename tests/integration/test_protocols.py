"""Plugin objects are judged by what they can do: stand-alone objects that subclass nothing of
latticeclosure work everywhere the core's own do, an object missing a member is refused at load
(naming it), a broken plugin can be disabled, and two default models are an error."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from conftest import assert_user_error, run_cli
from latticeclosure.equations import generate_equations
from latticeclosure.equations.dynamics import Event
from latticeclosure.equations.reactions import ROLE_ACTIVE, ROLE_WINDOW
from latticeclosure.hookspecs import hookimpl
from latticeclosure.registry import PluginError, Registry, get_registry


# ------------------------------------------------------------------------------ a rules dynamics
class Recovery:
    """Spontaneous I → S at rate ``gamma``: a rules-style dynamics written from the protocol alone."""

    name = "recovery-only"
    description = "spontaneous recovery I -> S"

    def configure(self, **options):
        return self

    def rules(self, species):
        return [("I", "S", "gamma")]

    def events_for(self, rules, species, lattice, window, pattern, q, bonds):
        keys = np.array(window, dtype=np.int64)
        for src, tgt, rate in rules:
            for w, state in enumerate(pattern):
                if species[state] != src:
                    continue
                after = list(pattern)
                after[w] = species.index(tgt)
                roles = np.full(len(window), ROLE_WINDOW, dtype=np.int64)
                roles[w] = ROLE_ACTIVE
                yield Event("spontaneous", keys, pattern, roles, w, None, tuple(after), tuple(after), rate)


def test_a_stand_alone_rules_dynamics_gives_the_flip_equations():
    mine = generate_equations("square", ["S", "I"], Recovery(), 2)
    flip = generate_equations("square", ["S", "I"], "flip", 2, flip_spec=[{"from": "I", "to": "S", "rate": "gamma"}])
    assert [r.name for r in mine.rates] == ["gamma"]
    for name, rhs in flip.rhs.items():
        assert sp.expand(mine.rhs[name] - rhs) == 0, name


# ------------------------------------------------------------------------------ a data backend
class IndependentSites:
    """A data backend that is no annealer: independent random sites with B-fraction x, 5 records."""

    name = "iid-sites"
    description = "independent random sites (a test backend)"

    def configure(self, **options):
        return self

    def check_task(self, task):
        from latticeclosure.errors import ConfigurationError

        if set(task.point) != {"x"} or not 0 < task.point["x"] < 1:
            raise ConfigurationError(f"iid-sites needs 0 < x < 1, got {task.point}")
        return task.replace(size=task.size or 8, backend=self.name)

    def run_task(self, task, *, checkpoint=None, checkpoint_every=60.0, progress=None):
        from latticeclosure import __version__
        from latticeclosure.classindex import ClassIndex
        from latticeclosure.counting import ClassCounter
        from latticeclosure.data import Trajectory
        from latticeclosure.data.classes import records_for
        from latticeclosure.data.trajectory import SCHEMA

        model = task.model
        lattice = model.lattice_object()
        cell = lattice.supercell(task.size)
        counter = ClassCounter(cell, ClassIndex(lattice, model.species, 3).shapes, model.species)
        rng = np.random.default_rng(np.random.SeedSequence(task.seed))
        configs = [(rng.random(cell.n_sites) < task.point["x"]).astype(np.int8) for _ in range(5)]
        classes, shapes = records_for(counter.classes, model.species)
        meta = {
            "schema": SCHEMA, "model": model.name, "lattice": lattice.to_json(), "supercell": [task.size] * 2,
            "seed": task.seed, "schedule": None, "species": list(model.species), "x_target": task.point["x"],
            "x_realised": float(np.mean(configs[0])), "normalisation": "per-shape",
            "time_unit": "record index", "classes": classes, "shapes": shapes, "task": task.to_json(),
            "software": {"latticeclosure": __version__},
        }
        arrays = {"step": np.arange(5), "time": np.linspace(0, 1, 5),
                  "concentrations": np.array([counter.concentrations(c) for c in configs])}
        return Trajectory(meta, arrays)


def _iid_model():
    from latticeclosure.model import Model
    from latticeclosure.study import ClosureUse, Grid, StudySpec, steps

    study = StudySpec(
        backend="iid-sites", grid=Grid("x", (0.2, 0.5)), size=8, headline=("MF", "PA"),
        steps=(steps.RunsOverview(), steps.Equations(window_size=2),
               steps.EvaluateClosures(uses=(ClosureUse("MF", "mean-field"), ClosureUse("PA", "pair"))),
               steps.ErrorTable(), steps.Verdict(reference="MF")),
    )
    return Model("iid-model", "square", ("A", "B"), stoichiometries=(0.2, 0.5), study=study)


class IidPlugin:
    @hookimpl
    def latticeclosure_models(self):
        return [_iid_model()]

    @hookimpl
    def latticeclosure_data_backends(self):
        return [IndependentSites()]


def test_a_backend_that_is_no_annealer_drives_sweeps_and_studies(tmp_path):
    from latticeclosure.simulation import run_tasks, sweep_tasks
    from latticeclosure.study import run_study

    model = _iid_model()
    tasks = sweep_tasks(model, [0.3, 0.6], [0, 1], backend="iid-sites")
    two = run_tasks(tasks, IndependentSites(), out_dir=tmp_path / "two", workers=2, progress=False)
    one = run_tasks(tasks, IndependentSites(), out_dir=tmp_path / "one", workers=1, progress=False)
    assert len(two.ran) == 4 and [t.x_target for t in two.trajectories()] == [0.3, 0.3, 0.6, 0.6]
    for a, b in zip(two.trajectories(), one.trajectories()):
        assert np.array_equal(a.concentrations, b.concentrations)
    registry = get_registry()
    name = registry.register(IidPlugin(), name="iid-plugin")
    try:
        result = run_study("iid-model", tmp_path / "study", workers=1, progress=False, log=lambda _m: None)
    finally:
        registry.unregister(name)
    s = result.summary
    assert s["grid"]["values"] == [0.2, 0.5] and set(s["E"]) == {"MF", "PA"}
    # independent sites: mean field is the truth up to finite-size noise, and never worse than PA by much
    assert all(e < 1e-3 for e in s["E"]["MF"])
    assert (tmp_path / "study" / "report.md").read_text().count("| 0.") >= 2


# ------------------------------------------------------------------------------ refusals
def _register_objects(kind: str, objects: list) -> Registry:
    import types

    registry = Registry(load_entrypoints=False)
    module = types.ModuleType("partial_plugin")
    hook = hookimpl(lambda: objects)
    hook.__name__ = f"latticeclosure_{kind}"
    setattr(module, f"latticeclosure_{kind}", hook)
    registry.register(module, name="partial")
    return registry


@pytest.mark.parametrize("kind,obj,member", [
    ("closures", type("NoExpression", (), {"name": "half", "description": "", "configure": lambda s: s,
                                           "can_close": lambda s, c, i: True, "parameters": lambda s, c, i: []})(),
     "expression"),
    ("data_backends", type("NoRun", (), {"name": "norun", "description": "", "configure": lambda s: s,
                                         "check_task": lambda s, t: t})(), "run_task"),
    ("dynamics", type("NoEvents", (), {"name": "noevents", "description": "", "configure": lambda s: s})(), "events"),
    ("models", type("NoSpecies", (), {"name": "m", "description": "", "configure": lambda s: s,
                                      "lattice_object": lambda s: None})(), "species"),
])
def test_an_object_missing_a_member_is_refused_at_load(kind, obj, member):
    registry = _register_objects(kind, [obj])
    with pytest.raises(PluginError) as info:
        registry.entries(kind)
    message = str(info.value)
    assert f"'{member}'" in message and "partial" in message and obj.name in message
    assert len(message) <= 400


def test_two_default_models_are_an_error_naming_both():
    from latticeclosure.model import Model

    registry = _register_objects("models", [Model("first", "square", ("a", "b"), default=True),
                                            Model("second", "square", ("a", "b"), default=True)])
    with pytest.raises(PluginError, match="'first'.*'second'"):
        registry.default_model()


def test_close_equations_accepts_a_fit_result_and_refuses_non_closures_briefly():
    from closure_testdata import counted_series, index

    from latticeclosure.closedmodel import close_equations
    from latticeclosure.closures import calibrate

    eqs = generate_equations("square", ["+", "-"], "swap", 2)
    fit = calibrate("power-law", counted_series("square"), index("square"), preset="soft")
    model = close_equations(eqs, fit)
    assert model.closure_parameters == []  # the fitted exponents are pinned
    with pytest.raises(PluginError) as info:
        close_equations(eqs, object())
    assert "lacks" in str(info.value) and len(str(info.value)) <= 400


# ------------------------------------------------------------------------------ a broken plugin
@pytest.fixture
def broken_site(tmp_path: Path) -> Path:
    """A distribution whose plugin module raises on import, installed by hand (dist-info + module)."""
    site = tmp_path / "site"
    (site / "broken_lc_plugin").mkdir(parents=True)
    (site / "broken_lc_plugin" / "__init__.py").write_text("raise RuntimeError('this plugin is broken')\n")
    info = site / "broken_lc_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-lc-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""\
        [latticeclosure]
        broken = broken_lc_plugin
        """))
    return site


def test_a_broken_plugin_can_be_disabled_and_help_still_works(broken_site: Path):
    env = {"PYTHONPATH": str(broken_site)}
    assert_user_error(run_cli("plugins", env=env), "broken", "--disable-plugin broken")
    ok = run_cli("--disable-plugin", "broken", "plugins", "--format", "json", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "broken" not in {p["plugin"] for p in json.loads(ok.stdout)["plugins"]}
    via_env = run_cli("lattices", env={**env, "LATTICECLOSURE_DISABLE_PLUGINS": "broken"})
    assert via_env.returncode == 0 and "square" in via_env.stdout
    help_text = run_cli("--help", env=env)
    assert help_text.returncode == 0 and "equations" in help_text.stdout
