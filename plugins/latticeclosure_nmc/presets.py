"""Closure presets of the triangular NMC plugin set: the paper's sparse approximation and its OA ansatz.

``SA`` — Table III of Ahmadi, Foster & Protas (2022) in per-shape normalisation. A chain x–y–z
(linear or angled) is closed by the pair ``C_yz``, written so that z is an end that differs from the
middle when one does::

    +++ ≈ C₊₊    −−− ≈ C₋₋    ++− ≈ C₊₋    −−+ ≈ C₊₋    +−+ ≈ C₊₋    −+− ≈ C₊₋

the mixed triangles ``T++−``, ``T−−+`` ≈ C₊₋ and the uniform ones ``T+++ ≈ C₊₊²/C₊``,
``T−−− ≈ C₋₋²/C₋``. (The paper writes its triplets with the chain fractions 1/5, 2/5, 2/5 folded in:
``(1/5) L = (1/5) C`` etc.; in per-shape normalisation the prefactors are 1.) With ``exclude_closed``
the triangles do not enter the pair equations, and the closed triangular pair model is linear:
``dC₊₊/dt = 2α1 C₊₋``, ``dC₋₋/dt = 2α2 C₊₋``, ``dC₊₋/dt = −(α1+α2) C₊₋``.

Note what the marginal-consistency diagnostic shows: Σ_z C_{xyz} = C_xy exactly, so "C_xyz ≈ C_yz"
overshoots by the complementary class (Σ_z L_{++z} ≈ C₊₊ + C₊₋ = C₊ ≠ C₊₊).

``OA-hard`` / ``OA-soft`` — the paper's power-law ansatz with its degree-one constraint everywhere
(``degree="paper"``) and the hard/soft bounds of eq. (16), to be calibrated on data.
"""

from __future__ import annotations

__all__ = ["SA", "SA_PATTERN", "nmc_closure_presets", "sa_pattern"]  # noqa: F822 - SA is built lazily (module __getattr__)


def sa_pattern(plus: str = "+", minus: str = "-") -> dict[str, dict[str, float]]:
    """Table III's sparse approximation as a pattern ``{class: {input class: exponent}}``."""
    p, m = plus, minus
    pp, mm, pm = f"C{p}{p}", f"C{m}{m}", f"C{p}{m}"
    pattern: dict[str, dict[str, float]] = {}
    for shape in ("L", "A"):
        pattern[f"{shape}{p}{p}{p}"] = {pp: 1}
        pattern[f"{shape}{m}{m}{m}"] = {mm: 1}
        for mixed in (p + p + m, m + m + p, p + m + p, m + p + m):
            pattern[f"{shape}{mixed}"] = {pm: 1}
    pattern[f"T{p}{p}{m}"] = {pm: 1}
    pattern[f"T{m}{m}{p}"] = {pm: 1}
    pattern[f"T{p}{p}{p}"] = {pp: 2, f"C{p}": -1}
    pattern[f"T{m}{m}{m}"] = {mm: 2, f"C{m}": -1}
    return pattern


SA_PATTERN = sa_pattern()


def _make_sa():
    from latticeclosure.closures.sparse import SparseClosure

    return SparseClosure(
        pattern=SA_PATTERN,
        name="SA",
        description="the paper's sparse approximation (Table III): chain x-y-z ≈ C_yz, uniform triangles C_yy²/C_y",
    )


def __getattr__(name: str):
    # build SA lazily so that importing the plugin stays cheap (no sympy at import time)
    if name == "SA":
        obj = _make_sa()
        globals()["SA"] = obj
        return obj
    raise AttributeError(name)


def nmc_closure_presets() -> list:
    """The NMC closure presets: ``SA``, ``OA-hard``, ``OA-soft``."""
    from latticeclosure.closures.powerlaw import PowerLawClosure

    return [
        __getattr__("SA"),
        PowerLawClosure(
            preset="hard", degree="paper", name="OA-hard",
            description="the paper's optimal approximation: power law of degree 1, hard bounds (β1=0, β2=δ=2)",
        ),
        PowerLawClosure(
            preset="soft", degree="paper", name="OA-soft",
            description="the paper's optimal approximation: power law of degree 1, soft bounds (δ=6)",
        ),
    ]
