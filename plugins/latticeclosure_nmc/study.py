"""The study of the triangular NMC model: the paper's pipeline, with what clean conventions add.

The steps reproduce Ahmadi, Foster & Protas (2022) on our own annealing data: the ten stoichiometries
annealed on a 48×48 lattice; the pair-level window equations with ``exclude_closed`` (eq. 5) and the
linear SA-closed model (eqs. 28–29); the pair approximation (PA) and the paper's sparse approximation
(SA) at every stoichiometry; the paper's power-law ansatz (OA-hard, OA-soft) fitted at x = 1/3;
leave-one-stoichiometry-out cross-validation of calibratable families; Table II at x = 1/3 and 1/2;
the automatic sparsification of OA-hard at x = 1/2 (SA-auto); marginal-consistency checks; and a
comparison with the paper's headline number; and the rate constants k1..k8 fitted to the x = 1/3
trajectory with PA, the best cross-validated family and SA (multi-start least squares,
identifiability, DR-MH posteriors at s = 1 and at the data-driven temperature; the paper's 10⁵
samples per chain with ``--study-option inference.samples=100000``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from latticeclosure.study import ClosureUse, FamilyUse, FitUse, Grid, StudySpec
from latticeclosure.study import steps

from .paper import SA_IMPROVEMENT, TABLE_II, TABLE_II_NOTE

__all__ = ["nmc_study", "PaperComparison", "PAPER_SA_IMPROVEMENT"]

#: The paper's reported improvement of SA over PA in E averaged over the ten stoichiometries.
PAPER_SA_IMPROVEMENT = SA_IMPROVEMENT

#: Plot styles of the closures the report always shows (the same closure looks the same everywhere).
STYLES = {
    "PA": {"color": "black", "linestyle": "-", "marker": "o"},
    "OA-hard": {"color": "tab:blue", "linestyle": "--", "marker": "s"},
    "OA-soft": {"color": "tab:orange", "linestyle": "-.", "marker": "^"},
    "SA": {"color": "tab:red", "linestyle": ":", "marker": "D"},
    "OA-cv": {"color": "tab:green", "linestyle": (0, (5, 1.5, 1, 1.5, 1, 1.5)), "marker": "v"},
    "best-cv": {"color": "tab:purple", "linestyle": "-", "marker": "P"},
    "SA-auto": {"color": "tab:brown", "linestyle": "-", "marker": "X"},
}

INTRODUCTION = (
    "The paper folds the chain fractions 1/5, 2/5, 2/5 (linear, angled, triangle) into its triplet "
    "concentrations; per-shape normalisation differs from it only by a rescaling of rate constants and closure "
    "prefactors (see docs/conventions.md). Time is the fraction of the annealing run."
)


@dataclass
class PaperComparison:
    """The paper's claim that SA improves on PA by 36.13% in E, set against our data."""

    name: str = "paper-comparison"

    def run(self, context: Any) -> None:
        sa, pa = context.errors["SA"].total, context.errors["PA"].total
        context.results[self.name] = {"SA_total": sa, "PA_total": pa, "ratio": sa / pa}

    def render(self, context: Any) -> str:
        from latticeclosure.io import format_number

        r = context.results[self.name]
        better = "better" if r["SA_total"] < r["PA_total"] else "worse"
        return (
            f"The paper reports that the SA improves on the pair approximation by {100 * PAPER_SA_IMPROVEMENT:.2f}% in "
            f"E averaged over the ten stoichiometries. On our data the SA as read from Table III is {better} than PA: "
            f"total E {format_number(r['SA_total'])} vs {format_number(r['PA_total'])} ({r['ratio']:.2f}×). "
            + ("This contradicts the paper; we report it as measured. " if better == "worse" else "")
            + "The marginal check below shows why: Σ_z C_xyz = C_xy holds exactly for data, and `C_xyz ≈ C_yz` "
            "overshoots by the complementary class.\n"
        )

    def summary(self, context: Any) -> dict[str, Any]:
        r = context.results[self.name]
        return {"paper_comparison": {"paper_SA_improvement": PAPER_SA_IMPROVEMENT,
                                     "SA_over_PA_total": r["ratio"]}}


def nmc_study(backend: str = "nmc-anneal") -> StudySpec:
    """The study ``latticeclosure run`` performs for the NMC model (see the module docstring)."""
    x13, x12 = 1 / 3, 1 / 2
    cv_families = (
        FamilyUse("power-law-hard", "power-law", {"preset": "hard"}),
        FamilyUse("power-law-soft", "power-law", {"preset": "soft"}),
        FamilyUse("pair-corrected", "pair-corrected"),
        FamilyUse("pair-corrected-linear", "pair-corrected", {"terms": "linear"}),
    )
    headline = ("PA", "OA-hard", "OA-soft", "SA", "OA-cv", "best-cv")
    return StudySpec(
        backend=backend,
        grid=Grid("x", (), "stoichiometry x (Li fraction)"),
        title="latticeclosure study: triangular NMC reference model",
        introduction=INTRODUCTION,
        headline=headline,
        styles=STYLES,
        temperature_label="T (oxygen-energy units)",
        steps=(
            steps.RunsOverview(title="Annealing"),
            steps.Equations(window_size=2, exclude_closed=True, dynamics="swap",
                            title="Pair-level rate equations (the paper's eq. 5)"),
            steps.ClosedModels(closures=("SA",)),
            steps.EvaluateClosures(uses=(
                ClosureUse("PA", "pair", note="pair approximation: chains C_xy C_yz / C_y, triangles by Kirkwood superposition"),
                ClosureUse("SA", "SA", note="paper's sparse approximation, Table III as read (chain x-y-z ≈ C_yz)"),
            )),
            steps.FitClosures(fits=(
                FitUse("OA-hard", "OA-hard", x13, note="the paper's power law (power-law, preset hard, degree paper: "
                       "degree 1 everywhere), fitted at x = 1/3"),
                FitUse("OA-soft", "OA-soft", x13, note="the paper's power law (power-law, preset soft, degree paper), "
                       "fitted at x = 1/3"),
            )),
            steps.ErrorTable(labels=headline + ("SA-auto",), title="Closure errors E per stoichiometry"),
            steps.Verdict(reference="PA"),
            PaperComparison(),
            steps.CrossValidateClosures(
                families=cv_families,
                aliases={"OA-cv": "power-law-hard"},
                best_label="best-cv",
                notes={"OA-cv": "power-law, preset hard, default degrees, leave-one-stoichiometry-out",
                       "best-cv": "best calibratable family by total leave-one-out E"},
                reference="PA",
                # nested by default: the default run stays within its 3-minute budget on 2 cores with it
                nested=True,
                title="Leave-one-stoichiometry-out cross-validation",
            ),
            steps.ExponentTables(at=(x13, x12), presets=("hard", "soft"), degree="paper",
                                 columns={"hard": "OA-hard", "soft": "OA-soft"}, figure_at=x13,
                                 title="Exponents (Table II-like)", decimals=2, reference=TABLE_II,
                                 reference_label="paper (hard)", reference_note=TABLE_II_NOTE),
            steps.Sparsify(exponents="exponents", at=x12, preset="hard", label="SA-auto",
                           note="automatic sparsification of OA-hard fitted at x = 1/2 (the paper's route to SA, automated)"),
            steps.Identifiability(),
            steps.Reconstructions(at=(x13, x12), closures=("PA", "OA-hard", "SA", "best-cv")),
            steps.MarginalChecks(at=x13, closures=("PA", "SA", "OA-hard")),
            steps.ConservationChecks(at=x12, closures=("PA", "SA", "OA-hard", "OA-soft", "SA-auto", "best-cv")),
            steps.InferRates(
                uses=(steps.InferenceUse("PA"), steps.InferenceUse("best-cv", best_family_of="cross-validation"),
                      steps.InferenceUse("SA")),
                at=x13, temperatures=(1.0, "auto"), temperature_settings={"auto": {"adaptive": True}},
                figure13=("PA",), title="Rate constants from data (section V)",
            ),
        ),
    )
