"""The hierarchy of the model's dynamics (window method) and closed models written out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

__all__ = ["Equations", "ClosedModels"]


@dataclass
class Equations:
    """Generate the window-method equations the later steps close; write them as text, JSON and LaTeX.

    Parameters
    ----------
    window_size : int
    exclude_closed : bool
    dynamics : str, optional
        Default: the model's ``dynamics``, configured with its ``dynamics_options``.
    naming : str or None
        Rate naming (``"auto"``: a registered naming that applies).
    """

    window_size: int = 2
    exclude_closed: bool = False
    dynamics: str | None = None
    naming: Any = "auto"
    name: str = "equations"
    title: str = "Rate equations (window method)"

    def run(self, context: Any) -> None:
        from ...equations import generate_equations
        from ...equations.formats import to_json, to_latex, to_text

        from ...registry import get_registry

        model = context.model
        options = dict(getattr(model, "dynamics_options", {}) or {})
        dynamics = get_registry().resolve("dynamics", self.dynamics or getattr(model, "dynamics", "swap"),
                                          exclude_closed=self.exclude_closed, **options)
        eqs = generate_equations(model.lattice_object(), list(model.species), dynamics, self.window_size,
                                 naming=self.naming)
        context.equations = eqs
        context.write_text("equations_text", "equations.txt", to_text(eqs, details=True) + "\n")
        context.write_text("equations_json", "equations.json", to_json(eqs) + "\n")
        context.write_text("equations_latex", "equations.tex", to_latex(eqs) + "\n")

    def render(self, context: Any) -> str:
        from ...equations.formats import to_text

        eqs = context.equations
        setting = f"window size {eqs.window_size}, {eqs.dynamics_name} dynamics" + (", `exclude_closed`" if eqs.exclude_closed else "")
        return "\n".join([f"## {self.title}: {setting}", "", "```", to_text(eqs), "```", ""])


@dataclass
class ClosedModels:
    """Close the equations with some closures and write each closed model (and its closed form when linear).

    Parameters
    ----------
    closures : tuple of str
        Registered closure or preset names; each gives ``closed-model-<name>.txt``.
    """

    closures: tuple[str, ...] = ()
    name: str = "closed-models"

    def run(self, context: Any) -> None:
        from ...closedmodel import close_equations

        out: dict[str, dict[str, Any]] = {}
        for label in self.closures:
            closed = close_equations(context.equations, label)
            info: dict[str, Any] = {"model": closed, "linear_rates": {}, "linear_form": {}, "closed_form": ""}
            if closed.is_linear():
                info["linear_rates"] = {str(k): str(v) for k, v in closed.linear_rates().items()}
                info["linear_form"] = {k: sp.sstr(v) for k, v in closed.linear_form().items()}
                info["closed_form"] = closed.solve_closed_form().to_text()
            text = closed.to_text() + "\n"
            if info["closed_form"]:
                text += "\nclosed form:\n" + info["closed_form"] + "\n"
            context.write_text(f"closed_{label}", f"closed-model-{label}.txt", text)
            out[label] = info
        context.results[self.name] = out

    def render(self, context: Any) -> str:
        lines = []
        for label, info in context.results[self.name].items():
            target = f"`closed-model-{label}.txt`"
            if info["linear_rates"]:
                form = "; ".join(f"d{k}/dt = {v}" for k, v in info["linear_form"].items())
                combos = ", ".join(f"{k} = {v}" for k, v in info["linear_rates"].items())
                lines.append(f"Closed with {label} the model is linear: {form}, with {combos}; closed form in {target}.")
            else:
                lines.append(f"The model closed with {label} is in {target}.")
            lines.append("")
        return "\n".join(lines)

    def summary(self, context: Any) -> dict[str, Any]:
        return {"closed_models": {k: {"linear_rates": v["linear_rates"]} for k, v in context.results[self.name].items()}}
