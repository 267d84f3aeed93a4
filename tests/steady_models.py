"""Closed models shared by the steady-state and threshold tests (contact process, SIS)."""

from __future__ import annotations

from functools import lru_cache

#: Contact process: infection at rate lam_z per infected neighbour (λ = z·lam_z), recovery at rate 1.
CP_SPEC = (
    {"from": "0", "to": "1", "rate": "lam_z", "catalyst": "1"},
    {"from": "1", "to": "0", "rate": 1},
)

#: SIS: infection at rate tau per infected neighbour, recovery at rate gamma.
SIS_SPEC = (
    {"from": "S", "to": "I", "rate": "tau", "catalyst": "I"},
    {"from": "I", "to": "S", "rate": "gamma"},
)

COORDINATION = {"square": 4, "triangular": 6, "honeycomb": 3}


@lru_cache(maxsize=None)
def equations(lattice: str, window: int, process: str = "cp"):
    from latticeclosure.equations import generate_equations

    spec, species = {"cp": (CP_SPEC, ["0", "1"]), "sis": (SIS_SPEC, ["S", "I"]),
                     "sir": (SIR_SPEC, ["S", "I", "R"])}[process]
    return generate_equations(lattice, species, "flip", window_size=window, flip_spec=[dict(r) for r in spec])


@lru_cache(maxsize=None)
def closed(lattice: str, window: int, closure: str, process: str = "cp"):
    """A closed model; closure ``"chain"`` is the pair approximation with the chain loop rule."""
    from latticeclosure.closedmodel import close_equations
    from latticeclosure.closures.chain_loop import close_with_chain_loops

    eqs = equations(lattice, window, process)
    if closure == "chain":
        return close_with_chain_loops(eqs)
    return close_equations(eqs, closure)


@lru_cache(maxsize=None)
def problem(lattice: str, window: int, closure: str, process: str = "cp", free: str | None = "lam_z",
            rates: tuple = ()):
    from latticeclosure.steady import SteadyProblem

    return SteadyProblem.from_model(closed(lattice, window, closure, process), dict(rates), free)

#: SIR: infection at rate tau per infected neighbour, removal at rate gamma (every S/R mixture absorbing).
SIR_SPEC = (
    {"from": "S", "to": "I", "rate": "tau", "catalyst": "I"},
    {"from": "I", "to": "R", "rate": "gamma"},
)
