"""The plugin registry: run-time registration, names, sources, validation, options."""

from __future__ import annotations

import types

import pytest

from latticeclosure.errors import DuplicateNameError, LatticeClosureError, UnknownNameError
from latticeclosure.hookspecs import hookimpl
from latticeclosure.lattice import Lattice
from latticeclosure.registry import KINDS, PluginError, Registry, get_registry


def _lattice_plugin(module_name: str, *lattices: Lattice) -> types.ModuleType:
    """A module-like plugin contributing ``lattices``."""
    module = types.ModuleType(module_name)

    @hookimpl
    def latticeclosure_lattices():
        return list(lattices)

    module.latticeclosure_lattices = latticeclosure_lattices
    return module


def _square(name: str = "sq") -> Lattice:
    return Lattice(name, [[1.0, 0.0], [0.0, 1.0]], description="a square lattice")


@pytest.fixture
def empty() -> Registry:
    return Registry(load_entrypoints=False)


def test_kinds_match_hookspecs():
    from latticeclosure import hookspecs

    hooks = {n for n in dir(hookspecs) if n.startswith("latticeclosure_")}
    assert {f"latticeclosure_{k}" for k in KINDS} == hooks
    assert Registry.kinds() == KINDS


def test_runtime_registration_and_unregistration(empty: Registry):
    plugin = _lattice_plugin("my_plugin_mod", _square("sq"))
    name = empty.register(plugin, name="mine")
    assert name == "mine"
    assert list(empty.all("lattices")) == ["sq"]
    source = empty.source("lattices", "sq")
    assert source.plugin == "mine"
    assert source.module == "my_plugin_mod"
    assert source.distribution is None
    empty.unregister("mine")
    assert empty.all("lattices") == {}


def test_class_instance_plugin(empty: Registry):
    class Plugin:
        @hookimpl
        def latticeclosure_lattices(self):
            return [_square("from_class")]

    empty.register(Plugin(), name="cls")
    assert "from_class" in empty.all("lattices")
    assert empty.source("lattices", "from_class").module.endswith("Plugin")


def test_register_invalidates_cache(empty: Registry):
    empty.register(_lattice_plugin("a_mod", _square("a")), name="a")
    assert list(empty.all("lattices")) == ["a"]
    empty.register(_lattice_plugin("b_mod", _square("b")), name="b")
    assert sorted(empty.all("lattices")) == ["a", "b"]


def test_duplicate_name_names_both_sources(empty: Registry):
    empty.register(_lattice_plugin("first_mod", _square("twin")), name="first")
    empty.register(_lattice_plugin("second_mod", _square("twin")), name="second")
    with pytest.raises(DuplicateNameError) as info:
        empty.all("lattices")
    message = str(info.value)
    assert "'twin'" in message
    assert "first_mod" in message and "second_mod" in message
    assert isinstance(info.value, LatticeClosureError)


def test_duplicate_name_within_one_plugin(empty: Registry):
    empty.register(_lattice_plugin("dup_mod", _square("x"), _square("x")), name="dup")
    with pytest.raises(DuplicateNameError, match="twice by .*dup_mod"):
        empty.all("lattices")


def test_duplicate_of_builtin_name_names_distribution():
    registry = Registry()
    registry.register(_lattice_plugin("clash_mod", _square("square")), name="clash")
    with pytest.raises(DuplicateNameError) as info:
        registry.all("lattices")
    message = str(info.value)
    assert "latticeclosure_std" in message and "clash_mod" in message
    assert "latticeclosure 0." in message  # the distribution and its version


def test_unknown_name_lists_known_names(empty: Registry):
    empty.register(_lattice_plugin("m", _square("beta"), _square("alpha")), name="m")
    with pytest.raises(UnknownNameError) as info:
        empty.get("lattices", "gamma")
    message = str(info.value)
    assert "unknown lattice 'gamma'" in message
    assert "alpha, beta" in message  # sorted
    assert isinstance(info.value, KeyError) and isinstance(info.value, LatticeClosureError)


def test_unknown_name_suggests_close_match(empty: Registry):
    empty.register(_lattice_plugin("m", _square("square")), name="m")
    with pytest.raises(UnknownNameError, match="did you mean 'square'"):
        empty.get("lattices", "sqare")


def test_unknown_name_in_empty_kind(empty: Registry):
    with pytest.raises(UnknownNameError, match="no closures are registered"):
        empty.get("closures", "pair")


def test_unknown_kind(empty: Registry):
    with pytest.raises(UnknownNameError, match="unknown plugin kind 'lattice'.*lattices"):
        empty.all("lattice")


def test_misspelled_hookimpl_is_rejected_naming_plugin_and_hook(empty: Registry):
    module = types.ModuleType("typo_plugin")

    @hookimpl
    def latticeclosure_latices():
        return []

    module.latticeclosure_latices = latticeclosure_latices
    with pytest.raises(PluginError) as info:
        empty.register(module, name="typo")
    message = str(info.value)
    assert "typo_plugin" in message
    assert "latticeclosure_latices" in message
    assert "did you mean 'latticeclosure_lattices'" in message
    # the failed plugin is not left behind
    assert empty.plugin_manager.get_plugin("typo") is None


def test_unmarked_hook_function_is_rejected(empty: Registry):
    module = types.ModuleType("unmarked_plugin")
    module.latticeclosure_lattices = lambda: [_square()]
    with pytest.raises(PluginError, match="without the @hookimpl marker"):
        empty.register(module, name="unmarked")


def test_misspelled_hookimpl_caught_when_loading_entry_points(monkeypatch):
    """A bad entry-point plugin fails at load time (Registry construction), not at first use."""
    bad = types.ModuleType("bad_ep_plugin")

    @hookimpl
    def latticeclosure_closure():  # singular: misspelled
        return []

    bad.latticeclosure_closure = latticeclosure_closure

    import pluggy

    original = pluggy.PluginManager.load_setuptools_entrypoints

    def load(self, group, name=None):
        count = original(self, group, name)
        self.register(bad, name="bad")
        return count + 1

    monkeypatch.setattr(pluggy.PluginManager, "load_setuptools_entrypoints", load)
    with pytest.raises(PluginError, match="bad_ep_plugin.*'latticeclosure_closure'"):
        Registry()


def test_hook_returning_unnamed_objects_is_rejected(empty: Registry):
    module = types.ModuleType("unnamed_plugin")

    @hookimpl
    def latticeclosure_closures():
        return [object()]

    module.latticeclosure_closures = latticeclosure_closures
    empty.register(module, name="unnamed")
    with pytest.raises(PluginError, match="unnamed_plugin.*no non-empty string attribute `name`"):
        empty.all("closures")


def test_hook_returning_a_mapping_is_rejected(empty: Registry):
    module = types.ModuleType("mapping_plugin")

    @hookimpl
    def latticeclosure_closures():
        return {"pair": object()}

    module.latticeclosure_closures = latticeclosure_closures
    empty.register(module, name="mapping")
    with pytest.raises(PluginError, match="must return a sequence of objects, got dict"):
        empty.all("closures")


def test_register_same_name_twice(empty: Registry):
    empty.register(_lattice_plugin("one", _square("a")), name="p")
    with pytest.raises(PluginError, match="cannot register"):
        empty.register(_lattice_plugin("two", _square("b")), name="p")


def test_get_with_options_calls_configure(empty: Registry):
    empty.register(_lattice_plugin("m", _square("sq")), name="m")
    plain = empty.get("lattices", "sq")
    configured = empty.get("lattices", "sq", description="configured copy")
    assert configured is not plain
    assert configured.description == "configured copy"
    assert plain.description == "a square lattice"  # registered object untouched
    with pytest.raises(LatticeClosureError, match="unknown option"):
        empty.get("lattices", "sq", colour="red")


def test_options_without_configure(empty: Registry):
    class Naming:  # the rate-naming protocol has no configure method
        name = "fixed"
        description = "names nothing"

        def applies(self, *, lattice, species, dynamics, window_size):
            return False

        def rate_name(self, reaction):
            return None

    module = types.ModuleType("fixed_mod")

    @hookimpl
    def latticeclosure_rate_namings():
        return [Naming()]

    module.latticeclosure_rate_namings = latticeclosure_rate_namings
    empty.register(module, name="fixed")
    assert empty.get("rate_namings", "fixed").name == "fixed"
    with pytest.raises(PluginError, match="takes no options"):
        empty.get("rate_namings", "fixed", order=2)


def test_builtin_plugins_come_from_entry_points():
    registry = get_registry()
    plugins = {s.plugin: s for s in registry.plugins()}
    assert plugins["std"].distribution == "latticeclosure"
    assert plugins["std"].module == "latticeclosure_std"


def test_listing_has_every_kind(empty: Registry):
    empty.register(_lattice_plugin("m", _square("sq")), name="m")
    listing = empty.listing()
    assert set(listing["kinds"]) == set(KINDS)
    (row,) = listing["kinds"]["lattices"]
    assert row["name"] == "sq" and row["module"] == "m" and row["description"] == "a square lattice"
    assert [p["plugin"] for p in listing["plugins"]] == ["m"]


def test_registry_does_not_import_numba():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from latticeclosure.registry import get_registry\n"
        "r = get_registry()\n"
        "r.listing()\n"
        "assert 'numba' not in sys.modules, 'numba imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
