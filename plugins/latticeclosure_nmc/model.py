"""The triangular NMC model: Li_x Mn_{1−x} on the transition-metal layer of Li[Li₁/₃Mn₂/₃]O₂.

Lattice ``triangular``; species ``+`` (Mn⁴⁺) and ``−`` (Li⁺); x = fraction of Li sites; energy the
Pauling oxygen energy of :mod:`latticeclosure_nmc.energy` over all up and down triangles; swap
(Kawasaki) dynamics; the paper's ten stoichiometries; a stepwise annealing schedule from a disordered
high temperature down to the ground state (the paper's Fig. 2). Other cations are an option:
``nmc_model(species=("+", "-", "n"), cations={"+": "Mn", "-": "Li", "n": "Ni"})``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from latticeclosure.anneal.schedule import Schedule
from latticeclosure.model import Model

from .energy import LI_LAYER_CHARGE, NEUTRAL_CHARGE, pauling_energy, resolve_charges
from .study import nmc_study

__all__ = ["nmc_model", "default_schedule", "STOICHIOMETRIES", "MODEL_NAME"]

MODEL_NAME = "nmc"

#: The stoichiometries x of Ahmadi, Foster & Protas (2022); 0.33 means exactly 1/3 where N allows.
STOICHIOMETRIES = (0.25, 0.30, 0.33, 0.36, 0.42, 0.50, 0.58, 0.64, 0.70, 0.75)

_DEFAULT_CATIONS = {"+": "Mn", "-": "Li"}


def default_schedule() -> Schedule:
    """The default stepwise schedule (temperatures in units of the oxygen energy).

    24 levels, geometrically spaced from T = 2 (disordered) down to T = 0.03 (frozen), 1000 sweeps
    each: a quench in steps with equilibration at every level, as in the paper's Fig. 2. The
    honeycomb order of x = 1/3 sets in between T ≈ 0.37 and 0.28. On a 48×48 lattice this schedule
    reached the ground-state energy (:func:`latticeclosure_nmc.energy.li_mn_ground_state_energy`) in
    all of 20 seeds at x = 1/3 and 4 seeds at each other stoichiometry of the paper (16 levels of
    400 sweeps missed it in 1 of 6 seeds at x = 1/3: honeycomb domain walls freeze in). About 55
    million attempted swaps, a few seconds per run on one core.
    """
    return Schedule.geometric(2.0, 0.03, levels=24, sweeps=1000)


def nmc_model(
    species: Sequence[str] = ("+", "-"),
    cations: Mapping[str, str] | None = None,
    charges: Mapping[str, float] | None = None,
    x_species: str = "-",
    li_layer_charge: float = LI_LAYER_CHARGE,
    neutral_charge: float = NEUTRAL_CHARGE,
    name: str = MODEL_NAME,
) -> Model:
    """The triangular NMC model (see the module docstring).

    Parameters
    ----------
    species : sequence of str, default ("+", "-")
    cations : mapping species → element, optional
        Default ``{"+": "Mn", "-": "Li"}``; charges come from
        :data:`latticeclosure_nmc.energy.CATION_CHARGES`.
    charges : mapping species → charge, optional
        Overrides the element charges.
    x_species : str, default "-"
        The species whose fraction is the stoichiometry x (Li).
    li_layer_charge, neutral_charge : float
        Charge an oxygen gets from the Li layer (1/2) and the charge that neutralises it (2).
    name : str, default "nmc"

    Raises
    ------
    SpeciesError
        Unknown cation, missing or invalid charge, unknown species.
    """
    species = tuple(species)
    if cations is None and charges is None:
        cations = {k: v for k, v in _DEFAULT_CATIONS.items() if k in species}
    q = resolve_charges(species, cations, charges)
    elements = dict(cations or {})
    info = {s: {"element": elements.get(s), "charge": q[s]} for s in species}
    energy = pauling_energy(species, q, li_layer_charge, neutral_charge)
    names = ", ".join(f"{s}={elements.get(s) or 'q'}{q[s]:g}+" for s in species)
    options: dict[str, Any] = {
        "species": list(species),
        "cations": elements or None,
        "charges": dict(charges) if charges else None,
        "x_species": x_species,
        "li_layer_charge": li_layer_charge,
        "neutral_charge": neutral_charge,
        "name": name,
    }
    return Model(
        name=name,
        lattice="triangular",
        species=species,
        description=(
            f"triangular NMC transition-metal layer ({names}): Pauling charge-neutrality energy over "
            "oxygen-bearing triangles, Kawasaki swaps (Harris et al. 2017; Ahmadi, Foster, Protas 2022)"
        ),
        energy=energy,
        default_schedule=default_schedule(),
        stoichiometries=STOICHIOMETRIES,
        dynamics="swap",
        rate_naming="triangular-pair-paper",
        closure_presets=("SA", "OA-hard", "OA-soft"),
        x_species=x_species,
        species_info=info,
        default_size=48,
        min_size=4,
        exact_fractions=(1 / 3, 2 / 3),
        study=nmc_study(),
        default=True,
        factory=nmc_model,
        options=options,
    )
