"""The study of an epidemic-type model: simulate with known rates, close at windows 1–3, compare dynamics."""

from __future__ import annotations

from latticeclosure.study import ClosureUse, FamilyUse, Grid, StudySpec, steps

__all__ = ["epidemic_study", "DYNAMICAL_CLOSURES", "STYLES"]

#: The closed models compared on the dynamics: mean field at windows 1–2, the pair approximation and
#: Kirkwood superposition at windows 2–3, and at window 3 both loop rules of the pair closure.
DYNAMICAL_CLOSURES = (
    steps.WindowClosure("mean-field w1", "mean-field", 1),
    steps.WindowClosure("mean-field w2", "mean-field", 2),
    steps.WindowClosure("pair w2", "pair", 2),
    steps.WindowClosure("kirkwood w2", "kirkwood", 2),
    steps.WindowClosure("pair w3", "pair", 3),
    steps.WindowClosure("pair w3 (tree-mean loops)", "pair", 3, {"loop": "tree-mean"}),
    steps.WindowClosure("kirkwood w3", "kirkwood", 3),
)

STYLES = {
    "mean-field w1": {"color": "tab:gray", "linestyle": ":"},
    "mean-field w2": {"color": "tab:brown", "linestyle": "--"},
    "pair w2": {"color": "black", "linestyle": "-"},
    "kirkwood w2": {"color": "tab:orange", "linestyle": "-."},
    "pair w3": {"color": "tab:blue", "linestyle": "-"},
    "pair w3 (tree-mean loops)": {"color": "tab:cyan", "linestyle": "--"},
    "kirkwood w3": {"color": "tab:red", "linestyle": "-."},
    "power-law w2 (cv)": {"color": "tab:purple", "linestyle": (0, (5, 1.5, 1, 1.5))},
}


def epidemic_study(parameter: str, values: tuple[float, ...], label: str, *, time: float, fitted: bool = True) -> StudySpec:
    """A study over one rate (or initial fraction) of a flip model, simulated by the ``kmc`` backend."""
    fits = (FamilyUse("power-law", "power-law", {"preset": "soft"}),) if fitted else ()
    return StudySpec(
        backend="kmc",
        grid=Grid(parameter, values, label),
        seeds=(0,),
        settings={"time": time, "record_every": time / 100, "max_class_size": 3, "replicas": 4},
        headline=("mean-field", "PA", "kirkwood"),
        styles=STYLES,
        steps=(
            steps.RunsOverview(),
            steps.Equations(window_size=2),
            steps.DynamicalErrors(closures=DYNAMICAL_CLOSURES, fitted=fits, fit_window=2),
            steps.EvaluateClosures(uses=(
                ClosureUse("mean-field", "mean-field", note="product of singlets"),
                ClosureUse("PA", "pair", note="pair approximation (Bethe on trees, Kirkwood on loops)"),
                ClosureUse("kirkwood", "kirkwood", note="generalised Kirkwood superposition"),
            )),
            *((steps.CrossValidateClosures(families=fits, best_label=None, reference="PA",
                                           title="Reconstruction: leave-one-point-out cross-validation"),) if fitted else ()),
            steps.ErrorTable(title="Reconstruction errors E (eq. 30) of the triplets from the simulated pairs"),
            steps.Verdict(reference="PA"),
        ),
    )
