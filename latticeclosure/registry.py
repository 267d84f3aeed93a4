"""The plugin manager: every lattice, enumerator, dynamics, closure, ... by kind and by name.

Plugins are loaded from the ``latticeclosure`` entry-point group (built-in plugin sets included) and
validated at load time: a function or method whose name starts with ``latticeclosure_`` but is no hook
of :mod:`latticeclosure.hookspecs` is an error naming the plugin and the bad hook. Objects are
collected per kind on first use, each attributed to the plugin (and distribution) that contributed
it, so a duplicate name is an error naming both sources and an unknown name is an error listing the
known ones.

This module must stay cheap to import (no numba, no sympy): the CLI imports it on start-up.

Examples
--------
>>> from latticeclosure.registry import get_registry, get_lattice
>>> sorted(get_registry().all("lattices"))[:2]          # doctest: +SKIP
['chain', 'cubic']
>>> get_lattice("square").dimension                      # doctest: +SKIP
2
"""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect
import itertools
import os
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

from . import hookspecs
from .errors import DuplicateNameError, LatticeClosureError, UnknownNameError
from .protocols import describe_protocol, missing_members

__all__ = [
    "KINDS",
    "PROTOCOLS",
    "DISABLE_ENV",
    "PluginError",
    "check_kind",
    "Source",
    "Entry",
    "Registry",
    "get_registry",
    "reset_registry",
    "disable_plugins",
    "disabled_from_environment",
    "get_lattice",
    "get_cluster_enumerator",
    "get_dynamics",
    "get_closure",
    "get_data_backend",
    "get_model",
    "get_rate_naming",
    "get_closure_preset",
]

_PREFIX = hookspecs.PROJECT_NAME + "_"
_IMPL_MARK = hookspecs.PROJECT_NAME + "_impl"  # attribute pluggy's HookimplMarker sets
_SPEC_MARK = hookspecs.PROJECT_NAME + "_spec"  # attribute pluggy's HookspecMarker sets


def _hook_protocols() -> dict[str, Any]:
    """Kind → protocol, read from the hook specifications (their ``Sequence[Protocol]`` return types)."""
    found: dict[str, Any] = {}
    for name, fn in vars(hookspecs).items():
        if name.startswith(_PREFIX) and callable(fn) and hasattr(fn, _SPEC_MARK):
            returned = typing.get_type_hints(fn, vars(hookspecs))["return"]
            found[name[len(_PREFIX):]] = typing.get_args(returned)[0]
    return found


#: Protocol of every plugin kind, derived from :mod:`latticeclosure.hookspecs`.
PROTOCOLS: dict[str, Any] = _hook_protocols()

#: Plugin kinds, in the order of the hook specification. The hook of kind ``k`` is
#: ``latticeclosure_<k>``.
KINDS: tuple[str, ...] = tuple(PROTOCOLS)

#: Kinds whose names :meth:`Registry.resolve` also looks up in another kind (presets of closures).
_FALLBACK_KINDS: dict[str, str] = {"closures": "closure_presets"}


def _singular(kind: str) -> str:
    """``"cluster_enumerators"`` → ``"cluster enumerator"`` (for messages)."""
    if kind == "cli_commands":
        return "CLI command"
    if kind == "dynamics":
        return kind
    return kind[:-1].replace("_", " ")


def _plural(kind: str) -> str:
    return "CLI commands" if kind == "cli_commands" else kind.replace("_", " ")


_HOOK_NAMES: frozenset[str] = frozenset(_PREFIX + kind for kind in KINDS)

#: Distribution that ships the core and the built-in plugin sets; listed first.
_CORE_DISTRIBUTION = hookspecs.PROJECT_NAME

#: Environment variable with comma-separated names of plugins not to load.
DISABLE_ENV = "LATTICECLOSURE_DISABLE_PLUGINS"


class PluginError(LatticeClosureError):
    """A plugin that cannot be loaded, implements an unknown hook, or returns malformed objects."""


@dataclass(frozen=True)
class Source:
    """Where a plugin came from.

    Attributes
    ----------
    plugin : str
        Name of the plugin in the manager: the entry-point name (``"std"``) or the name given to
        :meth:`Registry.register`.
    module : str
        Module of the plugin (``"latticeclosure_std"``), or ``module.Class`` for a plugin object.
    distribution : str or None
        Distribution that declared the entry point; ``None`` for plugins registered at run time.
    version : str or None
        Version of that distribution.
    """

    plugin: str
    module: str
    distribution: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        if self.distribution is None:
            return f"{self.module} (registered at run time as {self.plugin!r})"
        return f"{self.distribution} {self.version} ({self.module})"

    def as_dict(self) -> dict[str, str | None]:
        """Plain-data form for JSON output."""
        return {
            "plugin": self.plugin,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
        }


@dataclass(frozen=True)
class Entry:
    """One registered object together with its kind and source."""

    kind: str
    name: str
    obj: Any
    source: Source

    @property
    def description(self) -> str:
        """First line of the object's ``description`` (or ``help``) attribute, else ``""``."""
        for attr in ("description", "help"):
            text = getattr(self.obj, attr, None)
            if isinstance(text, str) and text.strip():
                return text.strip().splitlines()[0]
        return ""


def _module_of(plugin: object) -> str:
    """Human-readable module (or ``module.Class``) of a plugin object."""
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    if isinstance(plugin, type):
        return f"{plugin.__module__}.{plugin.__qualname__}"
    cls = type(plugin)
    return f"{cls.__module__}.{cls.__qualname__}"


def _suggest(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for a close match, else the empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is a plugin kind, else raise :class:`UnknownNameError`."""
    if kind not in KINDS:
        raise UnknownNameError(
            f"unknown plugin kind {kind!r}; known kinds: {', '.join(KINDS)}{_suggest(kind, KINDS)}"
        )
    return kind


class Registry:
    """All plugins of latticeclosure and the objects they contribute, by kind and name.

    Parameters
    ----------
    load_entrypoints : bool, default True
        Load the plugins declared in the entry-point group ``group`` (built-in ones included).
        ``False`` gives an empty registry, useful in tests.
    group : str, default ``"latticeclosure"``
        Entry-point group to load.
    disabled : iterable of str
        Names of plugins (entry-point names, e.g. ``"lieb"``) not to load at all: a broken or unwanted
        plugin is never imported.

    Raises
    ------
    PluginError
        If a plugin cannot be imported, two distributions declare the same entry-point name, or a
        plugin implements an unknown hook.
    """

    def __init__(
        self,
        *,
        load_entrypoints: bool = True,
        group: str = hookspecs.PROJECT_NAME,
        disabled: Iterable[str] = (),
    ) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._group = group
        self._order: dict[str, int] = {}
        self._counter = itertools.count()
        self._cache: dict[str, dict[str, Entry]] = {}
        self.disabled: tuple[str, ...] = tuple(dict.fromkeys(n for n in disabled if n))
        for name in self.disabled:
            self._pm.set_blocked(name)
        if load_entrypoints:
            self._load_entrypoints()

    # ------------------------------------------------------------------ loading and validation
    def _load_entrypoints(self) -> None:
        declared = _declared_entrypoints(self._group)
        try:
            self._pm.load_setuptools_entrypoints(self._group)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must become a one-line error
            culprit = next(
                (
                    (dist, ep)
                    for dist, ep in declared
                    if not self._pm.has_plugin(ep.name) and not self._pm.is_blocked(ep.name)
                ),
                None,
            )
            where = (
                f"entry point {culprit[1].name} = {culprit[1].value} of distribution {culprit[0]}"
                if culprit
                else f"an entry point of group {self._group!r}"
            )
            if isinstance(exc, pluggy.PluginValidationError):
                raise PluginError(f"cannot register plugin {where}: {exc}") from exc
            name = f" (run without it: --disable-plugin {culprit[1].name})" if culprit else ""
            raise PluginError(
                f"cannot load plugin {where}: {type(exc).__name__}: {_first_line(exc)}{name}"
            ) from exc
        for name, plugin in self._pm.list_name_plugin():
            if plugin is None:  # blocked
                continue
            self._order[name] = next(self._counter)
            self._validate_plugin(plugin)
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:  # safety net; _validate_plugin says more
            raise PluginError(f"invalid plugin {_module_of(exc.plugin)}: {exc}") from exc

    def _validate_plugin(self, plugin: object) -> None:
        """Raise :class:`PluginError` for unknown or unmarked ``latticeclosure_*`` hooks."""
        source = self._source_of(plugin)
        for caller in self._pm.get_hookcallers(plugin) or []:
            if caller.has_spec():
                continue
            impls = [i for i in caller.get_hookimpls() if i.plugin is plugin]
            if all(i.optionalhook for i in impls):
                continue
            raise PluginError(
                f"plugin {source} implements unknown hook {caller.name!r}"
                f"{_suggest(caller.name, _HOOK_NAMES)} (known hooks: {', '.join(sorted(_HOOK_NAMES))})"
            )
        for attr in dir(plugin):
            if not attr.startswith(_PREFIX):
                continue
            value = getattr(plugin, attr, None)
            if not inspect.isroutine(value) or hasattr(value, _IMPL_MARK):
                continue
            if attr in _HOOK_NAMES:
                raise PluginError(
                    f"plugin {source} defines {attr}() without the @hookimpl marker "
                    "(use `from latticeclosure.hookspecs import hookimpl`)"
                )
            raise PluginError(
                f"plugin {source} defines {attr}(), which is no hook of latticeclosure"
                f"{_suggest(attr, _HOOK_NAMES)} (the prefix {_PREFIX!r} is reserved for hooks)"
            )

    def _source_of(self, plugin: object) -> Source:
        name = self._pm.get_name(plugin) or "?"
        for plug, dist in self._pm.list_plugin_distinfo():
            if plug is plugin:
                return Source(name, _module_of(plugin), dist.project_name, dist.version)
        return Source(name, _module_of(plugin))

    # ------------------------------------------------------------------ run-time registration
    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin (module, class or object with ``@hookimpl`` functions) at run time.

        Parameters
        ----------
        plugin : object
            The plugin; typically a module or an instance of a class whose methods are decorated
            with :data:`latticeclosure.hookspecs.hookimpl`.
        name : str, optional
            Plugin name; default pluggy's canonical name (the module name or ``id``).

        Returns
        -------
        str
            The name under which the plugin was registered.

        Raises
        ------
        PluginError
            If the name is taken, the plugin is already registered, or it implements an unknown hook.
        """
        try:
            registered = self._pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"cannot register plugin {_module_of(plugin)}: {exc}") from exc
        except ValueError as exc:  # name taken or plugin already registered
            raise PluginError(f"cannot register plugin {_module_of(plugin)}: {exc}") from exc
        if registered is None:
            raise PluginError(f"cannot register plugin {name!r}: that name is blocked")
        try:
            self._validate_plugin(plugin)
        except PluginError:
            self._pm.unregister(plugin)
            raise
        self._order[registered] = next(self._counter)
        self._cache.clear()
        return registered

    def unregister(self, plugin_or_name: object) -> object:
        """Remove a plugin, given as the object or its name; return the plugin object."""
        if isinstance(plugin_or_name, str):
            plugin = self._pm.get_plugin(plugin_or_name)
            if plugin is None:
                known = [n for n, _ in self._pm.list_name_plugin()]
                raise UnknownNameError(
                    f"no plugin named {plugin_or_name!r}; registered plugins: {', '.join(sorted(known))}"
                )
        else:
            plugin = plugin_or_name
        name = self._pm.get_name(plugin)
        if name is None:
            raise UnknownNameError(f"plugin {_module_of(plugin)} is not registered")
        self._pm.unregister(plugin)
        self._order.pop(name, None)
        self._cache.clear()
        return plugin

    # ------------------------------------------------------------------ queries
    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The underlying :class:`pluggy.PluginManager` (for advanced use)."""
        return self._pm

    @staticmethod
    def kinds() -> tuple[str, ...]:
        """The plugin kinds, e.g. ``"lattices"``, ``"closures"``."""
        return KINDS

    def plugins(self) -> list[Source]:
        """Sources of all registered plugins: core distribution first, then by distribution."""
        plugins = [p for _, p in self._pm.list_name_plugin() if p is not None]
        return sorted((self._source_of(p) for p in plugins), key=self._source_key)

    def _source_key(self, source: Source) -> tuple[int, str, int]:
        rank = 0 if source.distribution == _CORE_DISTRIBUTION else 1 if source.distribution else 2
        return (rank, source.distribution or "", self._order.get(source.plugin, 0))

    def entries(self, kind: str) -> dict[str, Entry]:
        """All objects of ``kind`` with their sources, keyed by name (cached).

        Raises
        ------
        DuplicateNameError
            If two objects of this kind share a name; the message names both sources.
        PluginError
            If a hook fails or returns something other than a sequence of named objects.
        """
        check_kind(kind)
        if kind not in self._cache:
            self._cache[kind] = self._collect(kind)
        return self._cache[kind]

    def _collect(self, kind: str) -> dict[str, Entry]:
        hook_name = _PREFIX + kind
        caller = getattr(self._pm.hook, hook_name)
        impls = [(impl, self._source_of(impl.plugin)) for impl in caller.get_hookimpls()]
        impls.sort(key=lambda pair: self._source_key(pair[1]))
        found: dict[str, Entry] = {}
        for impl, source in impls:
            if impl.hookwrapper or impl.wrapper:
                raise PluginError(
                    f"plugin {source}: {hook_name} must be a plain @hookimpl, not a hook wrapper"
                )
            try:
                result = impl.function()
            except Exception as exc:  # noqa: BLE001 - attribute the failure to the plugin
                raise PluginError(
                    f"plugin {source}: {hook_name}() failed: {type(exc).__name__}: {_first_line(exc)} "
                    f"(run without it: --disable-plugin {source.plugin})"
                ) from exc
            for obj in _as_objects(result, source, hook_name):
                _check_protocol(kind, obj, source)
                name = obj.name
                if name in found:
                    first = found[name].source
                    both = (
                        f"twice by {first}"
                        if first == source
                        else f"by {first} and by {source}"
                    )
                    raise DuplicateNameError(
                        f"duplicate {_singular(kind)} name {name!r}: registered {both}; "
                        f"rename one of them"
                    )
                found[name] = Entry(kind, name, obj, source)
        return found

    def all(self, kind: str) -> dict[str, Any]:
        """All objects of ``kind`` keyed by name, core distribution first."""
        return {name: entry.obj for name, entry in self.entries(kind).items()}

    def names(self, kind: str) -> list[str]:
        """Sorted names of the objects of ``kind``."""
        return sorted(self.entries(kind))

    def entry(self, kind: str, name: str) -> Entry:
        """The :class:`Entry` of one object; unknown names raise :class:`UnknownNameError`."""
        entries = self.entries(kind)
        try:
            return entries[name]
        except (KeyError, TypeError):
            pass
        plural = _plural(kind)
        if not entries:
            raise UnknownNameError(
                f"unknown {_singular(kind)} {name!r}: no {plural} are registered "
                "(is latticeclosure installed, so that its entry points are visible?)"
            )
        raise UnknownNameError(
            f"unknown {_singular(kind)} {name!r}; known {plural}: {', '.join(sorted(entries))}"
            f"{_suggest(str(name), entries)}"
        )

    def get(self, kind: str, name: str, **options: Any) -> Any:
        """The object registered as ``name`` of ``kind`` (configured by ``options``).

        Unlike :meth:`resolve`, this looks in ``kind`` only (no presets) and accepts names only.

        Raises
        ------
        UnknownNameError
            If nothing of this kind is registered under ``name``; the message lists the known names.
        PluginError
            If options are given but the object has no ``configure`` method.
        """
        return _configured(kind, name, self.entry(kind, name).obj, options)

    def resolve(self, kind: str, name_or_object: Any, **options: Any) -> Any:
        """The object of ``kind`` for a registered name or an object, configured by ``options``.

        This is the one place where names become objects: public entry points that accept names call
        it once, at their top, and pass objects on. A closure name is looked up among the closures
        first, then among the closure presets.

        Parameters
        ----------
        kind : str
            One of :meth:`kinds`.
        name_or_object : str or object
            A registered name, or an object satisfying the kind's protocol
            (:data:`PROTOCOLS`), which is returned as it is (configured when options are given).
        **options
            Passed to the object's ``configure`` method, which returns a configured copy.

        Raises
        ------
        UnknownNameError
            For an unknown name; the message lists the known names (presets included).
        PluginError
            For an object that lacks a member of the kind's protocol, or options for an object
            without ``configure``.
        """
        check_kind(kind)
        if not isinstance(name_or_object, str):
            missing = missing_members(name_or_object, PROTOCOLS[kind])
            if missing:
                raise PluginError(
                    f"{_describe(name_or_object)} is not a {_singular(kind)}: it lacks "
                    f"{', '.join(missing)} (a {_singular(kind)} has {describe_protocol(PROTOCOLS[kind])})"
                )
            return _configured(kind, getattr(name_or_object, "name", "?"), name_or_object, options)
        fallback = _FALLBACK_KINDS.get(kind)
        entries = self.entries(kind)
        if name_or_object in entries or fallback is None:
            return self.get(kind, name_or_object, **options)
        extra = self.entries(fallback)
        if name_or_object in extra:
            return self.get(fallback, name_or_object, **options)
        known = sorted(set(entries) | set(extra))
        raise UnknownNameError(
            f"unknown {_singular(kind)} {name_or_object!r}; known {_plural(kind)} and "
            f"{_plural(fallback)}: {', '.join(known)}{_suggest(name_or_object, known)}"
        )

    def default_model(self) -> Any:
        """The model that declares ``default = True`` (used by ``latticeclosure run`` without ``--model``).

        Raises
        ------
        PluginError
            If two models claim to be the default (both named with their plugins).
        UnknownNameError
            If none does.
        """
        claimants = [e for e in self.entries("models").values() if getattr(e.obj, "default", False) is True]
        if len(claimants) > 1:
            raise PluginError(
                "two models claim to be the default model: "
                + " and ".join(f"{e.name!r} of {e.source}" for e in claimants[:2])
                + "; give --model NAME, or disable one plugin"
            )
        if not claimants:
            known = ", ".join(self.names("models")) or "none"
            raise UnknownNameError(f"no registered model declares itself the default; give --model NAME (models: {known})")
        return claimants[0].obj

    def source(self, kind: str, name: str) -> Source:
        """Distribution and module that contributed the object ``name`` of ``kind``."""
        return self.entry(kind, name).source

    def listing(self) -> dict[str, Any]:
        """Everything registered, as plain data for the ``plugins`` command.

        Returns
        -------
        dict
            ``{"plugins": [source...], "kinds": {kind: [{"name", "description", "plugin",
            "module", "distribution", "version"}, ...]}}`` with every kind present.
        """
        return {
            "plugins": [s.as_dict() for s in self.plugins()],
            "kinds": {
                kind: [
                    {"name": e.name, "description": e.description, **e.source.as_dict()}
                    for e in self.entries(kind).values()
                ]
                for kind in KINDS
            },
        }


def _as_objects(result: Any, source: Source, hook_name: str) -> list[Any]:
    """Validate a hook result: ``None`` or a sequence of objects with a non-empty string ``name``."""
    if result is None:
        return []
    if isinstance(result, (str, bytes, Mapping)) or not isinstance(result, Iterable):
        raise PluginError(
            f"plugin {source}: {hook_name}() must return a sequence of objects, "
            f"got {type(result).__name__}"
        )
    objects = list(result)
    for obj in objects:
        name = getattr(obj, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(
                f"plugin {source}: {hook_name}() returned {obj!r}, which has no non-empty "
                "string attribute `name`"
            )
    return objects


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, cut to 200 characters (messages stay short)."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= 200 else line[:197] + "..."


def _describe(obj: Any) -> str:
    name = getattr(obj, "name", None)
    cls = type(obj)
    where = f"{cls.__module__}.{cls.__qualname__}"
    return f"{name!r} ({where})" if isinstance(name, str) else f"object of type {where}"


def _check_protocol(kind: str, obj: Any, source: Source) -> None:
    """Refuse an object that lacks a member of its kind's protocol, naming plugin, object and member."""
    missing = missing_members(obj, PROTOCOLS[kind])
    if missing:
        raise PluginError(
            f"plugin {source}: {_singular(kind)} {_describe(obj)} lacks "
            f"{', '.join(repr(m) for m in missing)}; a {_singular(kind)} needs "
            f"{describe_protocol(PROTOCOLS[kind])} (run without it: --disable-plugin {source.plugin})"
        )


def _configured(kind: str, name: str, obj: Any, options: Mapping[str, Any]) -> Any:
    if not options:
        return obj
    configure = getattr(obj, "configure", None)
    if not callable(configure):
        raise PluginError(
            f"{_singular(kind)} {name!r} takes no options (it has no configure method); "
            f"got {', '.join(sorted(options))}"
        )
    return configure(**options)


def _declared_entrypoints(group: str) -> list[tuple[str, importlib.metadata.EntryPoint]]:
    """(distribution, entry point) pairs of ``group`` in pluggy's loading order.

    Raises
    ------
    PluginError
        If two different distributions declare the same entry-point name (pluggy would silently
        load only one of them).
    """
    declared: list[tuple[str, importlib.metadata.EntryPoint]] = []
    owner: dict[str, tuple[str, str]] = {}
    for dist in importlib.metadata.distributions():
        dist_name = dist.metadata["Name"] or "?"
        for ep in dist.entry_points:
            if ep.group != group:
                continue
            declared.append((dist_name, ep))
            previous = owner.setdefault(ep.name, (dist_name, ep.value))
            if _normalise(previous[0]) != _normalise(dist_name):
                raise PluginError(
                    f"entry point name {ep.name!r} of group {group!r} is declared by distribution "
                    f"{previous[0]} ({previous[1]}) and by distribution {dist_name} ({ep.value}); "
                    "one of them must rename its entry point"
                )
    return declared


def _normalise(dist_name: str) -> str:
    return dist_name.lower().replace("-", "_").replace(".", "_")


# ---------------------------------------------------------------------- process-wide registry
_REGISTRY: Registry | None = None
_DISABLED: tuple[str, ...] = ()


def disabled_from_environment() -> tuple[str, ...]:
    """Plugin names listed in ``LATTICECLOSURE_DISABLE_PLUGINS`` (comma-separated)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def get_registry() -> Registry:
    """The process-wide registry, built (and its plugins loaded and validated) on first call.

    Plugins named in ``LATTICECLOSURE_DISABLE_PLUGINS`` or given to :func:`disable_plugins` are not
    loaded.
    """
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry(disabled=disabled_from_environment() + _DISABLED)
    return _REGISTRY


def disable_plugins(names: Iterable[str]) -> None:
    """Do not load the plugins ``names`` (e.g. ``["lieb"]``); takes effect on the next :func:`get_registry`."""
    global _DISABLED
    _DISABLED = tuple(dict.fromkeys(list(_DISABLED) + [n for n in names if n]))
    reset_registry()


def reset_registry() -> None:
    """Forget the process-wide registry; the next :func:`get_registry` reloads all plugins."""
    global _REGISTRY
    _REGISTRY = None


def get_lattice(name: str, **options: Any) -> Any:
    """The registered :class:`~latticeclosure.lattice.Lattice` ``name`` (configured by options)."""
    return get_registry().get("lattices", name, **options)


def get_cluster_enumerator(name: str, **options: Any) -> Any:
    """The registered cluster enumerator ``name`` (configured by options)."""
    return get_registry().get("cluster_enumerators", name, **options)


def get_dynamics(name: str, **options: Any) -> Any:
    """The registered reaction generator ``name`` (configured by options)."""
    return get_registry().get("dynamics", name, **options)


def get_closure(name: str, **options: Any) -> Any:
    """The registered closure family ``name`` (configured by options)."""
    return get_registry().get("closures", name, **options)


def get_data_backend(name: str, **options: Any) -> Any:
    """The registered data backend ``name`` (configured by options)."""
    return get_registry().get("data_backends", name, **options)


def get_model(name: str, **options: Any) -> Any:
    """The registered model ``name`` (configured by options)."""
    return get_registry().get("models", name, **options)


def get_rate_naming(name: str, **options: Any) -> Any:
    """The registered rate naming ``name`` (configured by options)."""
    return get_registry().get("rate_namings", name, **options)


def get_closure_preset(name: str, **options: Any) -> Any:
    """The registered closure preset ``name`` (configured by options)."""
    return get_registry().get("closure_presets", name, **options)
