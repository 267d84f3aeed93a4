"""The triangular NMC reference model plugin: registration, energy, charges, compositions."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest

from latticeclosure.anneal import AnnealBackend, Schedule
from latticeclosure.errors import ConfigurationError, SpeciesError
from latticeclosure.model import Model, realise_composition
from latticeclosure.registry import get_data_backend, get_model, get_registry
from latticeclosure_nmc.energy import CATION_CHARGES, li_mn_ground_state_energy, oxygen_energy
from latticeclosure_nmc.model import STOICHIOMETRIES, nmc_model

pytestmark = pytest.mark.nmc


def test_registered_through_the_public_hooks():
    reg = get_registry()
    assert "nmc" in reg.names("models") and "nmc-anneal" in reg.names("data_backends")
    assert reg.source("models", "nmc").module == "latticeclosure_nmc"
    backend = get_data_backend("nmc-anneal")
    assert isinstance(backend, AnnealBackend) and backend.resolve_model().name == "nmc"


def test_model_fields():
    m = get_model("nmc")
    assert isinstance(m, Model)
    assert m.lattice == "triangular" and m.lattice_object().name == "triangular"
    assert m.species == ("+", "-") and m.composition_species == "-"
    assert m.species_info["+"] == {"element": "Mn", "charge": 4.0}
    assert m.species_info["-"] == {"element": "Li", "charge": 1.0}
    assert m.stoichiometries == (0.25, 0.30, 0.33, 0.36, 0.42, 0.50, 0.58, 0.64, 0.70, 0.75) == STOICHIOMETRIES
    assert m.dynamics == "swap" and m.rate_naming == "triangular-pair-paper"
    assert m.closure_presets == ("SA", "OA-hard", "OA-soft")
    from latticeclosure.registry import get_registry

    reg = get_registry()
    assert m.rate_naming in reg.names("rate_namings")
    assert set(m.closure_presets) <= set(reg.names("closure_presets"))
    assert isinstance(m.default_schedule, Schedule)
    temps = m.default_schedule.temperatures
    assert temps[0] >= 1.0 and temps[-1] <= 0.05 and list(temps) == sorted(temps, reverse=True)
    assert m.energy.shape == "triangle" and m.energy.unit == "oxygen energy"
    assert pickle.loads(pickle.dumps(m)).energy.fingerprint() == m.energy.fingerprint()


def test_oxygen_energy_is_n_mn_minus_two_squared_over_four():
    m = get_model("nmc")
    for pattern in itertools.product(range(2), repeat=3):
        code = pattern[0] * 4 + pattern[1] * 2 + pattern[2]
        n_mn = sum(p == 0 for p in pattern)
        assert m.energy.table[code] == (n_mn - 2) ** 2 / 4
    assert oxygen_energy([4, 4, 1]) == 0.0


def test_general_charges_and_more_species():
    m = nmc_model(species=("+", "-", "n", "c"), cations={"+": "Mn", "-": "Li", "n": "Ni", "c": "Co"})
    assert m.species_info["n"]["charge"] == CATION_CHARGES["Ni"] == 2
    code = 0 * 16 + 2 * 4 + 3  # Mn, Ni, Co
    assert m.energy.table[code] == pytest.approx(((4 + 2 + 3) / 6 + 0.5 - 2) ** 2)
    assert m.energy.quantised()[1] == pytest.approx(1 / 36)
    q = nmc_model(charges={"+": 4, "-": 1}, li_layer_charge=0.5)
    assert np.array_equal(q.energy.table, get_model("nmc").energy.table)
    with pytest.raises(SpeciesError, match="unknown cation"):
        nmc_model(cations={"+": "Unobtainium", "-": "Li"})
    with pytest.raises(SpeciesError, match="no cation or charge"):
        nmc_model(species=("+", "-", "n"))
    with pytest.raises(SpeciesError, match="positive"):
        nmc_model(charges={"+": 4, "-": float("nan")})
    with pytest.raises(SpeciesError, match="unknown species"):
        nmc_model(charges={"+": 4, "-": 1, "z": 2})


def test_configure():
    m = get_model("nmc")
    ni = m.configure(cations={"+": "Ni", "-": "Li"})
    assert ni.species_info["+"]["charge"] == 2 and m.species_info["+"]["charge"] == 4
    short = m.configure(stoichiometries=[0.5], default_size=24)
    assert short.stoichiometries == (0.5,) and short.default_size == 24 and short.energy is m.energy
    assert get_registry().get("models", "nmc", default_size=12).default_size == 12
    with pytest.raises(ConfigurationError, match="cations"):
        m.configure(bogus=1)
    bare = Model("bare", "square", ("a", "b"))
    with pytest.raises(ConfigurationError, match="unknown option"):
        bare.configure(bogus=1)


def test_compositions():
    m = get_model("nmc")
    assert m.composition(0.33, 48 * 48) == (1536, 768)            # exactly 1/3
    assert m.composition(0.33, 50 * 50) == (2500 - 825, 825)      # round(0.33·2500): N not divisible by 3
    assert m.composition(0.25, 48 * 48) == (1728, 576)
    assert m.composition(0.3, 2304)[1] == round(0.3 * 2304)
    assert m.composition(0.67, 36) == (12, 24)                    # 2/3
    assert realise_composition({"a": 0.5, "b": 0.25, "c": 0.25}, 10, ("a", "b", "c"), "b") == (5, 3, 2)
    for bad in (0.0, 1.0, -0.1, 1.5, float("nan"), float("inf")):
        with pytest.raises(ConfigurationError):
            m.composition(bad, 100)
    with pytest.raises(ConfigurationError, match="rounds to no"):
        m.composition(0.004, 100)
    with pytest.raises(ConfigurationError, match="two species"):
        nmc_model(species=("+", "-", "n"), cations={"+": "Mn", "-": "Li", "n": "Ni"}).composition(0.3, 100)


def test_ground_state_energy_closed_form():
    assert li_mn_ground_state_energy(1 / 3) == 0
    assert li_mn_ground_state_energy(0.25) == pytest.approx(0.125)
    assert li_mn_ground_state_energy(0.5) == pytest.approx(0.25)
    assert li_mn_ground_state_energy(0.70) == pytest.approx(0.65)
    assert li_mn_ground_state_energy(0.75) == pytest.approx(0.875)
    with pytest.raises(ValueError):
        li_mn_ground_state_energy(1.5)


def test_backend_runs_the_default_model_and_records_metadata():
    traj = get_data_backend("nmc-anneal").run(x=0.33, L=9, seed=1, schedule=Schedule([1.0, 0.2], 4))
    meta = traj.metadata
    assert meta["model"] == "nmc" and meta["backend"] == "nmc-anneal"
    assert meta["lattice"]["name"] == "triangular" and meta["supercell"] == [9, 9]
    assert meta["x_target"] == 0.33 and meta["x_realised"] == pytest.approx(1 / 3)
    assert meta["species_info"]["-"]["element"] == "Li"
    assert meta["energy"]["lower_bound_per_site"] == 0.0 and meta["energy"]["quantum"] == 0.25
    assert meta["model_info"]["options"]["cations"] == {"+": "Mn", "-": "Li"}
    names = traj.class_names
    assert names[:5] == ["C+", "C-", "C++", "C--", "C+-"]
    assert {n[0] for n in names[5:]} == {"L", "A", "T"} and len(names) == 21
