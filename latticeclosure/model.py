"""Models: a lattice, species, an energy, dynamics, rate naming and presets, bundled under a name.

Models are contributed by plugins through the ``latticeclosure_models`` hook and used by data
backends (simulators),
the equation generator and the main job. A model is plain, picklable data, so it can be shipped to
worker processes of a sweep.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from .errors import ConfigurationError
from .io.jsonsafe import to_jsonable

if TYPE_CHECKING:  # pragma: no cover
    from .anneal.energy import ClusterEnergy
    from .anneal.schedule import Schedule
    from .lattice import Lattice

__all__ = ["Model", "realise_composition"]

#: Fields that :meth:`Model.configure` replaces directly.
_DIRECT_OPTIONS = (
    "description",
    "default_schedule",
    "stoichiometries",
    "default_size",
    "rate_naming",
    "closure_presets",
    "min_size",
    "dynamics_options",
    "rates",
    "initial",
    "observables",
    "study",
    "default",
)


@dataclass(frozen=True, eq=False)
class Model:
    """A lattice model.

    Parameters
    ----------
    name : str
        Unique registered name (e.g. ``"ising-square"``).
    lattice : str or Lattice
        Name of a registered lattice, or a lattice object.
    species : tuple of str
        Species names (``("+", "-")``); configurations hold indices into this tuple.
    description : str
    energy : ClusterEnergy, optional
        Energy as a table over a cluster shape (needed by the annealer).
    default_schedule : Schedule, optional
        Annealing schedule used when none is given.
    stoichiometries : tuple of float
        The model's reference stoichiometries ``x`` (fraction of sites holding ``x_species``).
    dynamics : str
        Name of the reaction generator (``"swap"``: Kawasaki nearest-neighbour exchange; ``"flip"``).
    dynamics_options : mapping
        Options for the dynamics' ``configure`` (e.g. ``{"rules": [...]}``, the flip spec of an
        epidemic model, or ``{"exclude_closed": True}``).
    rates : mapping
        Known rate values by rate name (models whose microscopic rates are known, e.g. SIS), used by
        simulators and to integrate closed models; empty when the rates are to be inferred.
    initial : mapping
        Default initial singlet fractions by species (simulators with an initial condition).
    observables : mapping
        Named observables as expressions over class names (e.g. ``{"prevalence": "C_I"}``).
    rate_naming : str, optional
        Name of a registered rate naming for the generated equations.
    closure_presets : tuple of str
        Names of closure presets that belong to the model.
    x_species : str, optional
        The species whose site fraction is the stoichiometry x (default: the last species).
    species_info : mapping
        Per species extra data, e.g. ``{"+": {"element": "Fe", "charge": 3}}``.
    default_size : int
        Default supercell side length.
    min_size : int
        Smallest supported side length (the annealer and the counting may need more; they check).
    exact_fractions : tuple of float
        Stoichiometries meant as exact fractions: an ``x`` within 0.005 of one of them is realised
        as exactly that fraction when ``fraction · N`` is an integer (the paper's 0.33 = 1/3).
    study : object, optional
        What ``latticeclosure run --model NAME`` does for this model (a study specification).
    default : bool
        The model ``latticeclosure run`` uses without ``--model`` (exactly one registered model may
        claim it).
    factory : callable, optional
        ``factory(**options) -> Model``: rebuilds the model from model-specific options (e.g. the
        charges of the species of an electrostatic model); :meth:`configure` passes everything it does not handle itself.
    options : mapping
        The options the model was built with (recorded in dataset metadata).
    """

    name: str
    lattice: Any
    species: tuple[str, ...]
    description: str = ""
    energy: "ClusterEnergy | None" = None
    default_schedule: "Schedule | None" = None
    stoichiometries: tuple[float, ...] = ()
    dynamics: str = "swap"
    rate_naming: str | None = None
    closure_presets: tuple[str, ...] = ()
    x_species: str | None = None
    species_info: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    default_size: int = 48
    min_size: int = 3
    exact_fractions: tuple[float, ...] = ()
    dynamics_options: Mapping[str, Any] = field(default_factory=dict)
    rates: Mapping[str, float] = field(default_factory=dict)
    initial: Mapping[str, float] = field(default_factory=dict)
    observables: Mapping[str, str] = field(default_factory=dict)
    study: Any = field(default=None, repr=False)
    default: bool = False
    factory: Callable[..., "Model"] | None = field(default=None, repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from .clusters import validate_species

        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError("a model needs a non-empty string name")
        object.__setattr__(self, "species", validate_species(self.species))
        object.__setattr__(self, "stoichiometries", tuple(float(x) for x in self.stoichiometries))
        object.__setattr__(self, "closure_presets", tuple(self.closure_presets))
        if self.x_species is not None and self.x_species not in self.species:
            raise ConfigurationError(
                f"model {self.name!r}: x_species {self.x_species!r} is not one of the species {list(self.species)}"
            )
        if self.energy is not None and tuple(self.energy.species) != tuple(self.species):
            raise ConfigurationError(
                f"model {self.name!r}: energy species {list(self.energy.species)} differ from the "
                f"model species {list(self.species)}"
            )
        for x in self.stoichiometries:
            if not 0 < x < 1:
                raise ConfigurationError(f"model {self.name!r}: stoichiometry {x} outside (0, 1)")

    # ------------------------------------------------------------------ configuration
    def configure(self, **options: Any) -> "Model":
        """A copy with options applied.

        ``description``, ``default_schedule``, ``stoichiometries``, ``default_size``, ``min_size``,
        ``rate_naming`` and ``closure_presets`` are replaced directly; every other option goes to
        the model's ``factory`` (e.g. species charges).

        Raises
        ------
        ConfigurationError
            For an option the model does not know.
        """
        direct = {k: v for k, v in options.items() if k in _DIRECT_OPTIONS}
        rest = {k: v for k, v in options.items() if k not in _DIRECT_OPTIONS}
        model = self
        if rest:
            accepted: list[str] = []
            if self.factory is not None:
                import inspect

                accepted = [p for p in inspect.signature(self.factory).parameters if p not in _DIRECT_OPTIONS]
            unknown = sorted(set(rest) - set(accepted))
            if unknown:
                raise ConfigurationError(
                    f"model {self.name!r}: unknown option(s) {unknown}; allowed: "
                    f"{', '.join(list(_DIRECT_OPTIONS) + accepted)}"
                )
            merged = {**dict(self.options), **rest}
            model = self.factory(**merged)
        if "stoichiometries" in direct:
            direct["stoichiometries"] = tuple(float(x) for x in direct["stoichiometries"])
        if "closure_presets" in direct:
            direct["closure_presets"] = tuple(direct["closure_presets"])
        return dataclasses.replace(model, **direct) if direct else model

    # ------------------------------------------------------------------ queries
    def lattice_object(self) -> "Lattice":
        """The lattice (looked up in the registry when given by name)."""
        from .lattice import Lattice

        if isinstance(self.lattice, Lattice):
            return self.lattice
        from .registry import get_lattice

        return get_lattice(str(self.lattice))

    @property
    def lattice_name(self) -> str:
        from .lattice import Lattice

        return self.lattice.name if isinstance(self.lattice, Lattice) else str(self.lattice)

    @property
    def composition_species(self) -> str:
        """The species whose site fraction is ``x``."""
        return self.x_species if self.x_species is not None else self.species[-1]

    def composition(self, x: float | Mapping[str, float], n_sites: int) -> tuple[int, ...]:
        """Number of sites of every species for stoichiometry ``x`` on ``n_sites`` sites.

        ``x`` is the fraction of :attr:`composition_species` (two species: the rest is the other
        one), or a mapping species → fraction for any number of species. See
        :func:`realise_composition`.
        """
        return realise_composition(x, n_sites, self.species, self.composition_species, self.exact_fractions)

    def to_json(self) -> dict[str, Any]:
        """Plain-data summary for dataset metadata."""
        return {
            "name": self.name,
            "lattice": self.lattice_name,
            "species": list(self.species),
            "species_info": {k: dict(v) for k, v in self.species_info.items()},
            "x_species": self.composition_species,
            "dynamics": self.dynamics,
            "energy": self.energy.to_json() if self.energy is not None else None,
            "options": to_jsonable(self.options),
            "description": self.description,
        }

    def fingerprint(self) -> str:
        """What defines the model's configurations and energies: lattice (name and geometry), species,
        energy table, the composition species and exact fractions, and the model's options.

        Checkpoints and finished datasets record it, so that a resumed run refuses files written for
        another model — also one configured differently under the same name.
        """
        import hashlib
        import json

        energy = self.energy.fingerprint() if self.energy is not None else "none"
        defining = {
            "lattice": self.lattice_object().to_json(),
            "x_species": self.composition_species,
            "exact_fractions": [float(v) for v in self.exact_fractions],
            "options": to_jsonable(self.options),
        }
        digest = hashlib.sha256(json.dumps(defining, sort_keys=True, default=str).encode()).hexdigest()[:16]
        return f"{self.lattice_name}|{','.join(self.species)}|{energy}|{digest}"

    def describe(self) -> dict[str, Any]:
        """Summary for listings."""
        return {
            "name": self.name,
            "lattice": self.lattice_name,
            "species": list(self.species),
            "description": self.description,
            "stoichiometries": list(self.stoichiometries),
        }


def realise_composition(
    x: float | Mapping[str, float],
    n_sites: int,
    species: Sequence[str],
    x_species: str,
    exact_fractions: Sequence[float] = (),
) -> tuple[int, ...]:
    """Site counts per species for a target composition.

    Parameters
    ----------
    x : float or mapping
        Fraction of ``x_species`` in (0, 1), realised as ``round(x·N)`` sites (halves rounded up), or
        an exact fraction from ``exact_fractions`` when ``x`` is within 0.005 of it and it gives a
        whole number of sites; or a mapping species → fraction (largest-remainder rounding).
    n_sites : int
    species : sequence of str
    x_species : str
    exact_fractions : sequence of float

    Raises
    ------
    ConfigurationError
        If ``x`` is not finite, lies outside (0, 1), or leaves some species with 0 sites or all sites.
    """
    sp = list(species)
    if isinstance(x, Mapping):
        unknown = [s for s in x if s not in sp]
        if unknown:
            from .errors import SpeciesError

            raise SpeciesError(f"composition names unknown species {unknown}; species are {sp}")
        fr = [float(x.get(s, 0.0)) for s in sp]
        if any(not math.isfinite(v) or v < 0 for v in fr) or abs(sum(fr) - 1) > 1e-9:
            raise ConfigurationError(f"composition fractions {dict(x)} must be ≥ 0 and sum to 1")
        raw = [v * n_sites for v in fr]
        counts = [int(math.floor(v)) for v in raw]
        order = sorted(range(len(sp)), key=lambda k: (-(raw[k] - counts[k]), k))
        for k in order[: n_sites - sum(counts)]:
            counts[k] += 1
        wanted = [v > 0 for v in fr]
    else:
        try:
            xv = float(x)
        except (TypeError, ValueError):
            raise ConfigurationError(f"stoichiometry x must be a number, got {x!r}") from None
        if not math.isfinite(xv) or not 0 < xv < 1:
            raise ConfigurationError(f"stoichiometry x = {x!r} must lie strictly between 0 and 1")
        if len(sp) != 2:
            raise ConfigurationError(
                f"a single stoichiometry x needs two species; give a composition mapping for {sp}"
            )
        n_x = int(math.floor(xv * n_sites + 0.5))
        for frac in exact_fractions:
            if abs(xv - frac) <= 0.005 and abs(frac * n_sites - round(frac * n_sites)) < 1e-9:
                n_x = int(round(frac * n_sites))
        counts = [n_sites - n_x if s != x_species else n_x for s in sp]
        wanted = [True] * len(sp)
    empty = [s for s, c, w in zip(sp, counts, wanted) if c <= 0 and w]
    full = [s for s, c in zip(sp, counts) if c >= n_sites]
    if empty or full:
        what = f"no {empty[0]!r} sites" if empty else f"all sites {full[0]!r}"
        raise ConfigurationError(
            f"composition {x!r} on {n_sites} sites rounds to {what} (counts {dict(zip(sp, counts))}); "
            "use a larger lattice or a stoichiometry further from 0 and 1"
        )
    return tuple(counts)
