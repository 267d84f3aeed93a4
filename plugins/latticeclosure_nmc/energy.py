"""The Pauling charge-neutrality energy of the NMC transition-metal layer (Harris et al. 2017).

Every oxygen sits over one triangle of the triangular transition-metal layer (up and down triangles
alike) and bonds to three Li⁺ of the lithium layer. By Pauling's rule each cation gives charge/6 to
each of its six oxygens, so an oxygen receives 3·(1/6) = 1/2 from the Li layer plus Σ_triangle q/6, and
its energy is the squared deviation from neutrality (O²⁻ needs 2)::

    E_O = (Σ_triangle q/6 + 1/2 − 2)²

With Mn⁴⁺ ("+") and Li⁺ ("−") this is (n_Mn − 2)²/4. The energy per site is Σ_O E_O / N over the
2N triangles. Other cations (Ni²⁺, Co³⁺, …) enter through their charges, with any number of species.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from latticeclosure.anneal.energy import ClusterEnergy
from latticeclosure.errors import SpeciesError

__all__ = [
    "CATION_CHARGES",
    "oxygen_energy",
    "pauling_energy",
    "li_mn_ground_state_energy",
]

#: Formal charges of the cations of layered oxide cathodes (NMC: Ni²⁺, Mn⁴⁺, Co³⁺).
CATION_CHARGES: dict[str, int] = {
    "Li": 1,
    "Na": 1,
    "Mg": 2,
    "Ni": 2,
    "Co": 3,
    "Al": 3,
    "Fe": 3,
    "Cr": 3,
    "Mn": 4,
    "Ti": 4,
}

#: Charge an oxygen receives from the three Li⁺ of the lithium layer (3 × 1/6).
LI_LAYER_CHARGE = 0.5
#: Charge that neutralises an oxygen (O²⁻).
NEUTRAL_CHARGE = 2.0


def oxygen_energy(charges: Sequence[float], li_layer: float = LI_LAYER_CHARGE, target: float = NEUTRAL_CHARGE) -> float:
    """``(Σ q/6 + li_layer − target)²`` for the cation charges ``q`` of one triangle."""
    return (sum(charges) / 6.0 + li_layer - target) ** 2


def resolve_charges(
    species: Sequence[str],
    cations: Mapping[str, str] | None = None,
    charges: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The charge of every species, from explicit ``charges`` or the element names in ``cations``.

    Raises
    ------
    SpeciesError
        For a species with neither, an unknown element, or a non-finite or non-positive charge.
    """
    cations = dict(cations or {})
    charges = dict(charges or {})
    unknown = sorted(set(cations) - set(species)) + sorted(set(charges) - set(species))
    if unknown:
        raise SpeciesError(f"cations/charges given for unknown species {unknown}; species are {list(species)}")
    out: dict[str, float] = {}
    for s in species:
        if s in charges:
            try:
                q = float(charges[s])
            except (TypeError, ValueError):
                raise SpeciesError(f"charge of species {s!r} must be a number, got {charges[s]!r}") from None
        elif s in cations:
            element = cations[s]
            if element not in CATION_CHARGES:
                raise SpeciesError(
                    f"unknown cation {element!r} for species {s!r}; known: "
                    f"{', '.join(f'{k}{v}+' for k, v in CATION_CHARGES.items())} (or give its charge)"
                )
            q = float(CATION_CHARGES[element])
        else:
            raise SpeciesError(f"species {s!r} has no cation or charge; give one (e.g. cations={{{s!r}: 'Ni'}})")
        if not math.isfinite(q) or q <= 0:
            raise SpeciesError(f"charge of species {s!r} must be a positive finite number, got {q!r}")
        out[s] = q
    return out


def pauling_energy(
    species: Sequence[str],
    charges: Mapping[str, float],
    li_layer: float = LI_LAYER_CHARGE,
    target: float = NEUTRAL_CHARGE,
) -> ClusterEnergy:
    """The oxygen energy as a table over triangle patterns (unit: the oxygen energy, k_B = 1)."""
    table_desc = ", ".join(f"{s}:{charges[s]:g}" for s in species)
    return ClusterEnergy.from_function(
        "triangle",
        3,
        species,
        lambda states: oxygen_energy([charges[s] for s in states], li_layer, target),
        description=(
            f"Pauling oxygen energy E_O = (sum_triangle q/6 + {li_layer:g} - {target:g})^2 over all up and "
            f"down triangles, charges {table_desc}; energy per site = sum_O E_O / N"
        ),
        unit="oxygen energy",
    )


def li_mn_ground_state_energy(x: float) -> float:
    """Ground-state energy per site of Li_x Mn_{1−x} (Mn⁴⁺, Li⁺) on the triangular layer.

    The lower convex envelope of the triangle energy ``(n_Mn − 2)²/4`` at the mean Mn count
    ``3(1 − x)``, times two triangles per site (the bound of
    :meth:`latticeclosure.anneal.energy.ClusterEnergy.lower_bound_per_site`, which it equals)::

        |1 − 3x| / 2           for 0 ≤ x ≤ 2/3   (0 at x = 1/3: every triangle 2 Mn + 1 Li)
        2 − 9(1 − x)/2         for 2/3 ≤ x ≤ 1   (0.65 at x = 0.70, 0.875 at x = 0.75)

    Ordered configurations reach it (honeycomb Li₂MnO₃ at x = 1/3), and a slow anneal on a small
    lattice does.
    """
    if not 0 <= x <= 1:
        raise ValueError(f"x must lie in [0, 1], got {x}")
    if x <= 2 / 3:
        return abs(1 - 3 * x) / 2
    return 2 - 9 * (1 - x) / 2
