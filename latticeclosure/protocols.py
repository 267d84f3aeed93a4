"""What each plugin kind must be able to do: one :class:`typing.Protocol` per kind.

These protocols are the return types of the hooks in :mod:`latticeclosure.hookspecs` and are checked
when the registry collects a plugin's objects: an object that lacks a required member is refused at
load time with the plugin, the object and the member named (:func:`missing_members`). The core
dispatches on these capabilities, never on ``isinstance`` of a core class, so a plugin object does
not have to subclass anything of latticeclosure: a class with the right members is enough.

All protocols are :func:`typing.runtime_checkable`; ``isinstance(obj, Closure)`` tells whether ``obj``
has every member of the protocol (not whether the signatures match — the tests of a plugin check that).

This module is cheap to import (no numpy, sympy or numba).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import os

    from .data import Trajectory

__all__ = [
    "Lattice",
    "ClusterEnumerator",
    "OrbitDynamics",
    "RuleDynamics",
    "Dynamics",
    "Closure",
    "FittableClosure",
    "DataBackend",
    "Model",
    "RateNaming",
    "CliCommand",
    "StudyStep",
    "missing_members",
    "protocol_members",
    "conforms",
]


@runtime_checkable
class Lattice(Protocol):
    """A periodic lattice (the core's :class:`latticeclosure.lattice.Lattice` is one).

    Symmetry, supercells and neighbour queries are what enumeration, counting and the window method
    use; ``configure(**options)`` returns a modified copy.
    """

    name: str
    description: str
    dimension: int

    @property
    def symmetry(self) -> Any:
        """The space group (point operations and translations mapping the lattice onto itself)."""

    def supercell(self, shape: Any) -> Any:
        """The periodic supercell of ``shape`` unit cells."""

    def neighbour_keys(self, key: Sequence[int]) -> list[tuple[int, ...]]:
        """Site keys of the neighbours of the site ``key``."""

    def are_neighbours(self, a: Sequence[int], b: Sequence[int]) -> bool:
        """Whether the sites ``a`` and ``b`` are joined by a bond."""

    def configure(self, **options: Any) -> Any:
        """A copy with options applied."""


@runtime_checkable
class ClusterEnumerator(Protocol):
    """Connected cluster shapes up to symmetry (``enumerate`` returns :class:`~latticeclosure.clusters.Shape`)."""

    name: str
    description: str
    path_based: bool

    def enumerate(self, lattice: Any, max_size: int) -> list[Any]:
        """Shapes of sizes 1 … ``max_size``; raise ``SizeLimitError`` beyond a configurable limit."""

    def configure(self, **options: Any) -> Any:
        """A copy with options applied."""


@runtime_checkable
class OrbitDynamics(Protocol):
    """Dynamics with one rate constant per reaction orbit (like Kawasaki ``swap``).

    ``events`` yields :class:`~latticeclosure.equations.dynamics.Event` records for a labelled window
    embedding with a given pattern.
    """

    name: str
    description: str

    def events(self, lattice: Any, window: list[tuple], pattern: tuple[int, ...], q: int, bonds: Any) -> Iterator[Any]:
        """Every elementary event that changes the window's pattern, with its context."""

    def configure(self, **options: Any) -> Any:
        """A copy with options applied (``exclude_closed`` at least)."""


@runtime_checkable
class RuleDynamics(Protocol):
    """Dynamics with named rates given by rules (like ``flip``): ``rules(species)`` then ``events_for``."""

    name: str
    description: str

    def rules(self, species: Sequence[str]) -> list[Any]:
        """The validated rules for these species (each names its rate)."""

    def events_for(self, rules: list[Any], species: Sequence[str], lattice: Any, window: list[tuple],
                   pattern: tuple[int, ...], q: int, bonds: Any) -> Iterator[Any]:
        """Every elementary event of the rules on a labelled window with a given pattern."""

    def configure(self, **options: Any) -> Any:
        """A copy with options applied."""


#: A dynamics object is either kind; :func:`missing_members` accepts either.
Dynamics = OrbitDynamics | RuleDynamics


@runtime_checkable
class Closure(Protocol):
    """A closure family: size-(n+1) concentrations as expressions of size-n ones.

    ``expression`` returns a sympy expression in symbols named by class names (singlets included);
    ``parameters`` lists its free parameters (empty for a fixed closure such as the pair
    approximation).
    """

    name: str
    description: str

    def can_close(self, cls: Any, index: Any) -> bool:
        """Whether the family has an expression for class ``cls``."""

    def parameters(self, cls: Any, index: Any) -> list[Any]:
        """Free parameters (sympy symbols) of the expression of ``cls``."""

    def expression(self, cls: Any, index: Any, params: Mapping[Any, float] | None = None) -> Any:
        """The closure of ``cls`` (free parameters substituted by ``params`` when given)."""

    def configure(self, **options: Any) -> Any:
        """A copy with options applied."""


@runtime_checkable
class FittableClosure(Closure, Protocol):
    """A closure family that calibration can fit to data.

    ``ansatz(cls, index)`` returns a :class:`latticeclosure.closures.numeric.Ansatz` — parameter
    symbols, box bounds, linear equality constraints and a vectorised evaluator with its Jacobian —
    which is all the generic fitter uses; ``pinned`` returns the values pinned for a class (``None``
    when it still has free parameters) and ``with_values`` pins fitted values, returning a closure
    without free parameters for those classes (``with_values({})`` unpins everything).
    """

    def ansatz(self, cls: Any, index: Any) -> Any:
        """The numeric ansatz of class ``cls``."""

    def pinned(self, cls: Any, index: Any) -> Mapping[Any, float] | None:
        """The pinned (fitted) parameter values of ``cls`` by symbol, or ``None``."""

    def with_values(self, values: Mapping[str, Mapping[str, float]]) -> Closure:
        """A copy with the parameters ``{class name: {parameter name: value}}`` pinned."""


@runtime_checkable
class DataBackend(Protocol):
    """A simulator producing trajectory datasets for a :class:`~latticeclosure.simulation.SimulationTask`.

    ``check_task`` validates a task (raising a :class:`~latticeclosure.errors.LatticeClosureError`)
    and returns it with the backend's defaults filled in, before any work starts; ``run_task`` runs
    it and returns a :class:`~latticeclosure.data.Trajectory`, resuming from ``checkpoint`` when
    that file exists and rewriting it every ``checkpoint_every`` seconds.
    """

    name: str
    description: str

    def check_task(self, task: Any) -> Any:
        """The task with defaults filled in; raise on bad input."""

    def run_task(self, task: Any, *, checkpoint: "str | os.PathLike | None" = None,
                 checkpoint_every: float = 60.0, progress: Callable[[int, int], None] | None = None) -> "Trajectory":
        """Run the task and return its trajectory."""

    def configure(self, **options: Any) -> Any:
        """A copy with options applied."""


@runtime_checkable
class Model(Protocol):
    """A lattice model: lattice, species and what a study of it needs (see :class:`latticeclosure.model.Model`).

    Optional attributes read where present: ``dynamics``, ``dynamics_options``, ``rates``,
    ``initial``, ``observables``, ``study`` (what ``latticeclosure run --model NAME`` does) and
    ``default`` (the model ``latticeclosure run`` uses without ``--model``).
    """

    name: str
    description: str
    species: tuple[str, ...]

    def lattice_object(self) -> Any:
        """The model's lattice object."""

    def configure(self, **options: Any) -> Any:
        """A copy with options applied."""


@runtime_checkable
class RateNaming(Protocol):
    """Names for the rate constants of a generated hierarchy (replacing the generic ``k1 … kN``)."""

    name: str
    description: str

    def applies(self, *, lattice: Any, species: Sequence[str], dynamics: Any, window_size: int) -> bool:
        """Whether the naming is meant for this setting."""

    def rate_name(self, reaction: Any) -> str | None:
        """The name of the rate of ``reaction`` (a :class:`~latticeclosure.equations.Reaction`)."""


@runtime_checkable
class CliCommand(Protocol):
    """A ``latticeclosure`` subcommand; heavy imports belong inside ``run``."""

    name: str
    help: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's options to its parser."""

    def run(self, args: argparse.Namespace) -> int:
        """Do the work; return the exit status."""


@runtime_checkable
class StudyStep(Protocol):
    """One step of a model's study (see :mod:`latticeclosure.study`).

    ``run(context)`` computes and stores its results on the context; ``render(context)`` returns the
    step's Markdown section of the report (``""`` for none). Optional: ``figures(context, directory)
    -> dict[str, Path]`` and ``summary(context) -> dict`` (merged into ``summary.json``).
    """

    name: str

    def run(self, context: Any) -> None:
        """Compute the step's results."""

    def render(self, context: Any) -> str:
        """The step's report section (Markdown)."""


# ------------------------------------------------------------------------------------- checking
_IGNORED_BASES = {"Protocol", "Generic", "object"}


def protocol_members(protocol: type) -> list[str]:
    """The members a protocol requires: annotated attributes and public methods, in definition order."""
    members: list[str] = []
    for klass in reversed(protocol.__mro__):
        if klass.__name__ in _IGNORED_BASES:
            continue
        for name in list(getattr(klass, "__annotations__", {})) + list(vars(klass)):
            if name.startswith("_") or name in members:
                continue
            members.append(name)
    return members


def _has_member(obj: Any, name: str) -> bool:
    # Look in the instance and class dictionaries first: ``hasattr`` would evaluate properties (a
    # lattice's symmetry group, say) just to check that they exist.
    if name in getattr(obj, "__dict__", {}):
        return True
    if any(name in vars(klass) for klass in type(obj).__mro__):
        return True
    return hasattr(obj, name)


def missing_members(obj: Any, protocol: Any) -> list[str]:
    """Members of ``protocol`` that ``obj`` lacks (``[]`` if it conforms).

    ``protocol`` may be a union of protocols (as :data:`Dynamics`): the object conforms if it has all
    members of one of them; otherwise the missing members of the closest alternative are returned.
    """
    alternatives = getattr(protocol, "__args__", None) or (protocol,)
    best: list[str] | None = None
    for proto in alternatives:
        missing = [m for m in protocol_members(proto) if not _has_member(obj, m)]
        if not missing:
            return []
        if best is None or len(missing) < len(best):
            best = missing
    return best or []


def conforms(obj: Any, protocol: Any) -> bool:
    """Whether ``obj`` has every member of ``protocol`` (or of one alternative of a union)."""
    return not missing_members(obj, protocol)


def describe_protocol(protocol: Any) -> str:
    """``"Name (a, b, c)"`` for messages; alternatives of a union joined by ``or``."""
    alternatives = getattr(protocol, "__args__", None) or (protocol,)
    return " or ".join(f"{p.__name__} ({', '.join(protocol_members(p))})" for p in alternatives)
