"""``latticeclosure close``: close the generated hierarchy with a closure and print the closed model."""

from __future__ import annotations

import argparse
from typing import Any

from .output import parse_key_value

__all__ = ["COMMAND", "CloseCommand"]


class CloseCommand:
    """Generate the equations, substitute a closure, and print the closed model and its analysis."""

    name = "close"
    help = "close the rate equations with a closure; print the closed model, its parameters and closed form"
    description = (
        "Generate the window-method equations (like 'latticeclosure equations'), replace every "
        "size-(N+1) class by a closure, replace smaller classes (singlets) by their exact marginals "
        "of the window classes, eliminate one class per window shape through the normalisation, "
        "and print the closed model: equations, parameters (rate constants, closure parameters), "
        "whether it is linear, and — when it is — the independent rate combinations and the "
        "closed-form solution."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from .equations import add_hierarchy_arguments

        add_hierarchy_arguments(parser)
        parser.add_argument("--closure", metavar="NAME",
                            help="registered closure family (mean-field, pair, kirkwood, power-law, ...) or preset")
        parser.add_argument("--preset", metavar="NAME", help="registered closure preset (a plugin's named closure); instead of --closure")
        parser.add_argument("--closure-option", action="append", default=[], type=parse_key_value, metavar="KEY=VALUE",
                            help="option for the closure's configure() (VALUE parsed as JSON when possible); repeatable")
        parser.add_argument("--keep-all", action="store_true",
                            help="keep every window class as a state variable (no normalisation elimination)")
        parser.add_argument("--explain", action="store_true",
                            help="text format: also print which class produced which term of which equation")
        parser.add_argument("--conserve", action="store_true",
                            help="impose the composition laws of a composition-conserving dynamics exactly (the "
                            "equations of one class per conserved species are replaced by what the laws imply)")
        parser.add_argument("--format", choices=("text", "latex", "json"), default="text")

    def run(self, args: argparse.Namespace) -> int:
        from ..closedmodel import close_equations
        from ..errors import ClosureError
        from ..registry import get_registry
        from .equations import equations_from_arguments

        if bool(args.closure) == bool(args.preset):
            raise ClosureError("give exactly one of --closure NAME or --preset NAME")
        registry = get_registry()
        eqs = equations_from_arguments(args)
        if args.preset:
            closure = registry.get("closure_presets", args.preset, **dict(args.closure_option))
        else:
            closure = registry.resolve("closures", args.closure, **dict(args.closure_option))
        model = close_equations(eqs, closure, eliminate=None if args.keep_all else "first", conserve=args.conserve)
        setting = (
            f"{eqs.lattice.name}, species {' '.join(eqs.species)}, window size {eqs.window_size}"
            f"{' (exclude closed)' if eqs.exclude_closed else ''}, {eqs.dynamics_name} dynamics"
        )
        if args.format == "json":
            from .output import write_json

            data = {"setting": setting, **model.to_json(), "conservation": model.conservation_report().to_json()}
            write_json(data)
            return 0
        if args.format == "latex":
            print(_latex_report(model))
            return 0
        print(_text_report(model, setting, args.explain))
        return 0


def _text_report(model: Any, setting: str, explain: bool) -> str:
    import sympy as sp

    from ..errors import ClosureError

    lines = [f"closed model: {setting}, closure {model.closure_label}", ""]
    lines.append("state: " + ", ".join(model.state_names))
    if model.eliminated:
        lines.append("eliminated by the normalisation: " + ", ".join(
            f"{n} = {sp.sstr(e)}" for n, e in model.eliminated.items()))
    lines.append("rate constants: " + (", ".join(model.rate_names) or "none"))
    lines.append("closure parameters: " + (", ".join(model.closure_parameter_names) or "none"))
    lines.append("")
    lines.append("equations:")
    lines += [f"  d{n}/dt = {sp.sstr(e)}" for n, e in model.rhs.items()]
    linear = model.is_linear()
    lines.append("")
    lines.append(f"linear in the concentrations: {'yes' if linear else 'no'}")
    if linear:
        combos = model.linear_rates()
        if combos:
            lines.append("rate combinations:")
            lines += [f"  {sp.sstr(k)} = {sp.sstr(v)}" for k, v in combos.items()]
        lines.append("linear form:")
        lines += [f"  d{n}/dt = {sp.sstr(e)}" for n, e in model.linear_form().items()]
        try:
            cf = model.solve_closed_form()
            lines.append("closed form:")
            lines += [f"  {n}(t) = {sp.sstr(e)}" for n, e in cf.expressions.items()]
        except ClosureError as exc:
            lines.append(f"closed form: not available ({exc})")
    report = model.conservation_report()
    if report.laws:
        lines += ["", "conservation under the drift relations: " + report.to_text().split(": ", 1)[1]]
        if model.conserved_by:
            lines.append("imposed (--conserve): " + ", ".join(f"d{c}/dt from the law of {q}" for q, c in model.conserved_by.items()))
    if explain:
        lines += ["", "provenance (which class produced which term):", model.explain()]
    return "\n".join(lines)


def _latex_report(model: Any) -> str:
    """The closed model (and, when linear, its rate combinations, linear form and closed form) as
    displayed ``aligned`` blocks: a fragment for the body of a LaTeX document that loads amsmath."""
    import sympy as sp

    from ..errors import ClosureError

    parts = [model.to_latex()]
    if model.is_linear():
        names = model.latex_names()
        combos = model.linear_rates()
        if combos:
            parts.append(
                "\\begin{aligned}\n"
                + " \\\\\n".join(f"{sp.latex(k)} &= {sp.latex(v)}" for k, v in combos.items())
                + "\n\\end{aligned}"
            )
        parts.append(
            "\\begin{aligned}\n"
            + " \\\\\n".join(
                f"\\frac{{d{names.get(sp.Symbol(n), n)}}}{{dt}} &= {sp.latex(e, symbol_names=names)}"
                for n, e in model.linear_form().items()
            )
            + "\n\\end{aligned}"
        )
        try:
            parts.append(model.solve_closed_form().to_latex())
        except ClosureError:
            pass
    # each ``aligned`` block is math: displayed, so the output is valid in a document body (amsmath)
    return "\n\n".join(f"\\[\n{part}\n\\]" for part in parts)


COMMAND = CloseCommand()
