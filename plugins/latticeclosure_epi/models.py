"""The epidemic and contact-process models, with their known rates, initial conditions and grids.

Rates are per unit time. Infection in SIS and SIR is catalysed: a susceptible site becomes infected
at rate ``tau`` per infected nearest neighbour; an infected site recovers at rate ``gamma``. In the
contact process an occupied site (``1``) infects each empty neighbour at rate ``lam/z`` and empties
at rate 1 (``lam`` is the total infection rate of an occupied site, z the coordination). In the voter
model a site adopts the opinion of each differing neighbour at rate ``nu/z`` (so at total rate ``nu``
times the fraction of disagreeing neighbours).
"""

from __future__ import annotations

from latticeclosure.model import Model

from .study import epidemic_study

__all__ = ["epidemic_models", "sis_model", "sir_model", "contact_process_model", "voter_model"]


def sis_model() -> Model:
    """SIS on the square lattice: S → I at ``tau`` per infected neighbour, I → S at ``gamma``."""
    rules = [{"from": "S", "to": "I", "rate": "tau", "catalyst": "I"}, {"from": "I", "to": "S", "rate": "gamma"}]
    return Model(
        name="sis", lattice="square", species=("S", "I"),
        description="SIS epidemic on the square lattice (infection tau per infected neighbour, recovery gamma)",
        dynamics="flip", dynamics_options={"rules": rules}, rates={"tau": 0.5, "gamma": 1.0},
        initial={"S": 0.9, "I": 0.1}, observables={"prevalence": "CI"}, default_size=64,
        study=epidemic_study("tau", (0.4, 0.5, 0.7), "infection rate tau (per infected neighbour; gamma = 1)",
                             time=10.0),
    )


def sir_model() -> Model:
    """SIR on the square lattice: S → I at ``tau`` per infected neighbour, I → R at ``gamma``."""
    rules = [{"from": "S", "to": "I", "rate": "tau", "catalyst": "I"}, {"from": "I", "to": "R", "rate": "gamma"}]
    return Model(
        name="sir", lattice="square", species=("S", "I", "R"),
        description="SIR epidemic on the square lattice (infection tau per infected neighbour, recovery gamma)",
        dynamics="flip", dynamics_options={"rules": rules}, rates={"tau": 1.0, "gamma": 1.0},
        # R starts above 0 so that every class occurs at t = 0 (closures divide by pair and singlet
        # concentrations)
        initial={"S": 0.9, "I": 0.05, "R": 0.05}, observables={"recovered": "CR", "infected": "CI"}, default_size=64,
        study=epidemic_study("tau", (0.8, 1.0, 1.5), "infection rate tau (per infected neighbour; gamma = 1)",
                             time=12.0),
    )


def contact_process_model() -> Model:
    """The contact process on the square lattice: 1 → 0 at rate 1, 0 → 1 at ``lam/4`` per occupied neighbour."""
    rules = [{"from": "0", "to": "1", "rate": "lam/4", "catalyst": "1"}, {"from": "1", "to": "0", "rate": 1}]
    return Model(
        name="contact-process", lattice="square", species=("0", "1"),
        description="contact process on the square lattice (infection lam/z per occupied neighbour, death 1)",
        dynamics="flip", dynamics_options={"rules": rules}, rates={"lam": 2.5},
        initial={"0": 0.5, "1": 0.5}, observables={"density": "C1"}, default_size=64,
        study=epidemic_study("lam", (2.0, 2.5, 3.5), "infection rate lam (per occupied site; death 1)", time=10.0),
    )


def voter_model() -> Model:
    """The voter model on the square lattice: a site copies each differing neighbour at ``nu/4``."""
    rules = [{"from": "A", "to": "B", "rate": "nu/4", "catalyst": "B"},
             {"from": "B", "to": "A", "rate": "nu/4", "catalyst": "A"}]
    return Model(
        name="voter", lattice="square", species=("A", "B"),
        description="voter model on the square lattice (each differing neighbour is copied at rate nu/z)",
        dynamics="flip", dynamics_options={"rules": rules}, rates={"nu": 1.0},
        initial={"A": 0.5, "B": 0.5}, observables={"interfaces": "2*CAB", "A": "CA"}, default_size=64,
        study=epidemic_study("initial.A", (0.3, 0.5, 0.7), "initial fraction of A", time=8.0, fitted=False),
    )


def epidemic_models() -> list[Model]:
    return [sis_model(), sir_model(), contact_process_model(), voter_model()]
