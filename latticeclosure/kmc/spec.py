"""What to simulate: a validated, picklable description of one kinetic Monte Carlo study point.

:func:`make_spec` checks every input and resolves the rates (flip-rule values, a swap rate table or
Metropolis rates) and the initial condition; :func:`spec_from_model` does the same for a registered
model, with rates and initial fractions overridden by a parameter point. Every refusal is a
:class:`~latticeclosure.errors.LatticeClosureError` naming what was wrong and what is allowed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..errors import ConfigurationError, GeometryError, SizeLimitError
from .rates import (
    MetropolisRates,
    SwapRateTable,
    check_rate_value,
    flip_rule_rates,
    swap_rates_from_values,
    window_rates,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..anneal.energy import ClusterEnergy
    from ..equations.dynamics import FlipRule
    from ..lattice import Lattice
    from ..model import Model
    from ..supercell import Supercell
    from .process import FlipProcess, SwapProcess

__all__ = [
    "KMCSpec",
    "make_spec",
    "spec_from_model",
    "check_initial",
    "DYNAMICS",
    "DEFAULT_RECORDS",
    "MAX_CLASS_SIZE",
    "MAX_SITES",
]

#: Dynamics the simulator runs.
DYNAMICS = ("flip", "swap")
#: Record intervals over the run when no interval is given.
DEFAULT_RECORDS = 100
#: Largest recorded cluster size.
MAX_CLASS_SIZE = 5
#: Largest number of lattice sites.
MAX_SITES = 10**8


@dataclass(frozen=True)
class KMCSpec:
    """One simulation setting (everything but the seed and the number of replicas).

    Attributes
    ----------
    lattice : Lattice
    species : tuple of str
    dynamics : {"flip", "swap"}
    rules : tuple of FlipRule
        Flip rules (flip dynamics).
    rule_rates : tuple of float
        Numeric rate of every rule.
    swap_rates : SwapRateTable or MetropolisRates or None
        Swap dynamics.
    rates : dict
        The named rate values the rates were resolved from (recorded in the metadata).
    initial : dict
        Initial site fractions per species (every site drawn independently).
    size : tuple of int
        Supercell side lengths.
    time : float
        Physical end time.
    record_every : float
        Record interval (records at 0, Δ, 2Δ, … and at ``time``).
    max_class_size : int
        Concentrations of all classes of connected shapes up to this size are recorded.
    save_configurations : bool
    model : str or None
    model_info : dict or None
    window_rates : dict
        Swap with a rate table: the pair hierarchy's rate constants ``k1 … kN`` the table implies.
    """

    lattice: "Lattice"
    species: tuple[str, ...]
    dynamics: str
    rules: tuple["FlipRule", ...] = ()
    rule_rates: tuple[float, ...] = ()
    swap_rates: SwapRateTable | MetropolisRates | None = None
    rates: Mapping[str, float] = field(default_factory=dict)
    initial: Mapping[str, float] = field(default_factory=dict)
    size: tuple[int, ...] = ()
    time: float = 1.0
    record_every: float = 0.01
    max_class_size: int = 3
    save_configurations: bool = False
    model: str | None = None
    model_info: Mapping[str, Any] | None = None
    window_rates: Mapping[str, float] = field(default_factory=dict)

    def supercell(self) -> "Supercell":
        return self.lattice.supercell(self.size)

    def check_geometry(self) -> None:
        """Refuse a supercell too small for the lattice's neighbours or the recorded shapes.

        Raises
        ------
        GeometryError
        """
        from ..clusters import ConnectedEnumerator
        from ..counting import check_supercell_holds

        try:
            sc = self.supercell()
            sc.neighbours
            check_supercell_holds(sc, ConnectedEnumerator().enumerate(self.lattice, self.max_class_size))
        except GeometryError as exc:
            raise GeometryError(f"lattice size {list(self.size)} does not fit the simulation: {exc}") from None

    def process(self, supercell: "Supercell | None" = None) -> "FlipProcess | SwapProcess":
        """The process compiled onto the supercell."""
        from .process import FlipProcess, SwapProcess

        sc = supercell if supercell is not None else self.supercell()
        if self.dynamics == "flip":
            return FlipProcess(sc, self.species, self.rules, self.rule_rates)
        return SwapProcess(sc, self.species, self.swap_rates)

    def record_times(self) -> np.ndarray:
        """0, Δ, 2Δ, … up to ``time`` (and ``time`` itself when it is not on the grid)."""
        n = int(math.floor(self.time / self.record_every * (1 + 1e-12)))
        times = np.arange(n + 1, dtype=float) * self.record_every
        if self.time - times[-1] > 1e-9 * self.record_every:
            times = np.append(times, self.time)
        return times

    def dynamics_record(self) -> dict[str, Any]:
        """The process as plain data (metadata)."""
        if self.dynamics == "flip":
            return {
                "kind": "flip",
                "rules": [
                    {"from": r.source, "to": r.target, "rate": r.rate, "catalyst": r.catalyst, "value": v}
                    for r, v in zip(self.rules, self.rule_rates)
                ],
            }
        out = {"kind": "swap", "rates": self.swap_rates.to_json()}
        if self.window_rates:
            out["window_rates"] = dict(self.window_rates)
        return out

    def to_json(self) -> dict[str, Any]:
        """Everything that defines the simulation, as plain data."""
        return {
            "model": self.model,
            "lattice": self.lattice.name,
            "species": list(self.species),
            "dynamics": self.dynamics_record(),
            "rates": dict(self.rates),
            "initial": dict(self.initial),
            "size": list(self.size),
            "time": self.time,
            "record_every": self.record_every,
            "max_class_size": self.max_class_size,
            "save_configurations": self.save_configurations,
        }

    def fingerprint(self) -> str:
        """A stable string identifying the simulation (checkpoint compatibility)."""
        return json.dumps(self.to_json(), sort_keys=True)


def check_initial(initial: Mapping[str, Any], species: Sequence[str]) -> dict[str, float]:
    """Validate initial site fractions: known species, numbers in [0, 1] summing to 1.

    Species not named get 0.

    Raises
    ------
    ConfigurationError
    """
    sp = list(species)
    if not initial:
        raise ConfigurationError(
            f"no initial condition: give the initial site fraction of every species, e.g. "
            f"--initial {sp[0]}=0.9 --initial {sp[1]}=0.1 (fractions summing to 1)"
        )
    unknown = [s for s in initial if s not in sp]
    if unknown:
        raise ConfigurationError(f"initial condition names unknown species {unknown}; species are {sp}")
    out = {}
    for s in sp:
        v = initial.get(s, 0.0)
        if isinstance(v, bool):
            raise ConfigurationError(f"initial fraction of {s!r} must be a number, got {v!r}")
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ConfigurationError(f"initial fraction of {s!r} must be a number, got {v!r}") from None
        if not math.isfinite(f) or not 0 <= f <= 1:
            raise ConfigurationError(f"initial fraction of {s!r} = {v!r} must lie in [0, 1]")
        out[s] = f
    total = sum(out.values())
    if abs(total - 1) > 1e-9:
        raise ConfigurationError(
            f"initial fractions {out} sum to {total:.12g}; they must sum to 1 (species not named count as 0)"
        )
    return out


def _positive(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool) or not math.isfinite(v) or v <= 0:
        raise ConfigurationError(f"{what} must be a positive finite number, got {value!r}")
    return v


def _size(size: Any, dimension: int) -> tuple[int, ...]:
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size),) * dimension
    try:
        out = tuple(int(s) for s in size)
        exact = all(float(s) == float(v) for s, v in zip(out, size))
    except (TypeError, ValueError):
        out, exact = (), False
    if len(out) != dimension or not exact or any(s < 1 for s in out):
        raise GeometryError(f"lattice size must be {dimension} positive integer(s), got {size!r}")
    return out


def make_spec(
    *,
    lattice: "Lattice | str",
    species: Sequence[str],
    dynamics: str,
    flip_spec: Any = None,
    rates: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
    size: Any,
    time: Any,
    record_every: Any = None,
    max_class_size: int = 3,
    save_configurations: bool = False,
    energy: "ClusterEnergy | None" = None,
    exclude_closed: bool = False,
    rate_naming: str | None = None,
    model: str | None = None,
    model_info: Mapping[str, Any] | None = None,
) -> KMCSpec:
    """Validate a simulation setting and resolve its rates.

    Parameters
    ----------
    lattice : Lattice or str
        A lattice or a registered lattice name.
    species : sequence of str
    dynamics : {"flip", "swap"}
    flip_spec : path, mapping, list of rules or list of FlipRule
        The flip rules (flip dynamics; the same spec ``latticeclosure equations --flip-spec`` reads).
    rates : mapping
        Named rate values: the parameters of the flip rates; or for swaps every pair ``"a,b"``, or
        the pair hierarchy's ``k1 … kN``, or ``temperature`` (and ``attempt``) for Metropolis rates.
    initial : mapping
        Initial site fraction per species (summing to 1).
    size : int or sequence of int
    time : float
        Physical end time (> 0).
    record_every : float, optional
        Record interval (> 0); default ``time / 100``.
    max_class_size : int, default 3
    save_configurations : bool, default False
    energy : ClusterEnergy, optional
        For Metropolis swap rates.
    exclude_closed : bool, default False
        Convention of the pair hierarchy whose k's may name swap rates.
    rate_naming : str, optional
        Naming of that hierarchy's rates (default: a registered naming that applies, else k1…kN).
    model : str, optional
    model_info : mapping, optional

    Raises
    ------
    LatticeClosureError
        (subclasses) for every bad input, with a specific message.
    """
    from ..clusters import validate_species

    if isinstance(lattice, str):
        from ..registry import get_lattice

        lattice = get_lattice(lattice)
    sp = validate_species(species)
    if dynamics not in DYNAMICS:
        raise ConfigurationError(f"the simulator runs dynamics {list(DYNAMICS)}, not {dynamics!r}")
    rates = dict(rates or {})
    rules: tuple = ()
    rule_rates: tuple = ()
    swap_rates = None
    implied: dict[str, float] = {}
    if dynamics == "flip":
        from ..equations.dynamics import FlipDynamics, FlipSpecError

        if flip_spec is None:
            raise FlipSpecError("flip dynamics need a flip spec (--flip-spec FILE): which state flips to which, at what rate")
        rules = tuple(FlipDynamics(rules=flip_spec).rules(sp))
        rule_rates = tuple(flip_rule_rates(rules, rates))
    else:
        if flip_spec is not None:
            raise ConfigurationError("a flip spec only applies to flip dynamics (--dynamics flip)")
        equations = None
        if not ({"temperature", "attempt"} & set(rates)):  # a table or k's: the pair hierarchy names them
            from ..equations import generate_equations

            equations = generate_equations(
                lattice, sp, "swap", window_size=2, exclude_closed=exclude_closed,
                naming=_naming(rate_naming, lattice, sp, exclude_closed),
            )
        swap_rates = swap_rates_from_values(sp, rates, energy=energy, equations=equations)
        if isinstance(swap_rates, SwapRateTable):
            implied = window_rates(equations, swap_rates)
    checked_rates = {k: check_rate_value(k, v) for k, v in rates.items()}
    init = check_initial(initial or {}, sp)
    dims = _size(size, lattice.dimension)
    n_sites = int(np.prod(dims, dtype=object)) * lattice.n_basis
    if n_sites > MAX_SITES:
        raise SizeLimitError(f"lattice size {list(dims)} has {n_sites:.3g} sites, more than the simulator's limit {MAX_SITES:.0e}")
    t_end = _positive(time, "the simulated time (--time)")
    dt = t_end / DEFAULT_RECORDS if record_every is None else _positive(record_every, "the record interval (--record-every)")
    if isinstance(max_class_size, bool) or not isinstance(max_class_size, (int, np.integer)) or not 1 <= max_class_size <= MAX_CLASS_SIZE:
        raise ConfigurationError(f"the largest recorded class size must be an integer in 1..{MAX_CLASS_SIZE}, got {max_class_size!r}")
    if t_end / dt > 10**6:
        raise SizeLimitError(f"time {t_end:g} with records every {dt:g} makes more than 10^6 records; record less often")
    spec = KMCSpec(
        lattice=lattice, species=sp, dynamics=dynamics, rules=rules, rule_rates=rule_rates, swap_rates=swap_rates,
        rates=checked_rates, initial=init, size=dims, time=t_end, record_every=dt,
        max_class_size=int(max_class_size), save_configurations=bool(save_configurations), model=model,
        model_info=dict(model_info) if model_info else None, window_rates=implied,
    )
    spec.check_geometry()
    return spec


def _naming(name: str | None, lattice: Any, species: Sequence[str], exclude_closed: bool) -> Any:
    """The model's rate naming when it applies to the pair hierarchy, else any registered one that does."""
    if name:
        from ..equations.dynamics import SwapDynamics
        from ..registry import get_registry

        naming = get_registry().get("rate_namings", name)
        if naming.applies(lattice=lattice, species=species, dynamics=SwapDynamics(exclude_closed), window_size=2):
            return naming
    return "auto"


def _point_initial(base: Mapping[str, float], overrides: Mapping[str, Any], species: Sequence[str]) -> dict[str, float]:
    """Initial fractions with some species overridden; the others share the rest in their proportions."""
    for s in overrides:
        if s not in species:
            raise ConfigurationError(f"point sets initial.{s}, but {s!r} is not one of the species {list(species)}")
    fixed = {s: float(v) for s, v in overrides.items()}
    rest = 1.0 - sum(fixed.values())
    others = [s for s in species if s not in fixed]
    weights = {s: float(base.get(s, 0.0)) for s in others}
    total = sum(weights.values())
    out = dict(fixed)
    if others:
        if total > 0:
            out.update({s: rest * w / total for s, w in weights.items()})
        elif abs(rest) > 1e-9:
            raise ConfigurationError(
                f"point sets {dict(fixed)} but the model gives no initial fraction to {others} to fill the rest"
            )
        else:
            out.update({s: 0.0 for s in others})
    return out


def spec_from_model(
    model: "Model",
    *,
    point: Mapping[str, Any] | None = None,
    size: Any = None,
    time: Any = None,
    record_every: Any = None,
    max_class_size: int = 3,
    save_configurations: bool = False,
    rates: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
    flip_spec: Any = None,
) -> KMCSpec:
    """The setting of a model (its lattice, species, dynamics, rates, initial condition, size).

    Parameters
    ----------
    model : Model
    point : mapping, optional
        Overrides for one parameter point: rate names → values, and ``"initial.<species>"`` →
        fraction. Species not set by the point keep their model proportions, scaled to fill the rest
        (SIS with ``initial.I = 0.05``: ``S = 0.95``).
    size, time, record_every, max_class_size, save_configurations
        As for :func:`make_spec` (size defaults to the model's ``default_size``).
    rates, initial : mapping, optional
        Replace the model's rates (merged by name) and initial fractions (entirely).
    flip_spec : optional
        Replaces the model's flip rules (``dynamics_options["rules"]``).
    """
    options = dict(model.dynamics_options or {})
    merged_rates = {**dict(model.rates), **dict(rates or {})}
    init = dict(initial) if initial else dict(model.initial)
    point_initial = {}
    for key, value in dict(point or {}).items():
        if str(key).startswith("initial."):
            point_initial[str(key)[len("initial."):]] = value
        else:
            merged_rates[str(key)] = value
    if point_initial:
        init = _point_initial(init, point_initial, model.species)
    spec_rules = flip_spec if flip_spec is not None else options.get("rules", options.get("spec"))
    return make_spec(
        lattice=model.lattice_object(),
        species=model.species,
        dynamics=model.dynamics,
        flip_spec=spec_rules if model.dynamics == "flip" else flip_spec,
        rates=merged_rates,
        initial=init,
        size=model.default_size if size is None else size,
        time=time if time is not None else 10.0,
        record_every=record_every,
        max_class_size=max_class_size,
        save_configurations=save_configurations,
        energy=model.energy,
        exclude_closed=bool(options.get("exclude_closed", False)),
        rate_naming=model.rate_naming,
        model=model.name,
        model_info=model.to_json(),
    )

