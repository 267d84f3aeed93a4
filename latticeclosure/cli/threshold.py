"""``latticeclosure threshold``: critical rates of absorbing states, per closure and window size.

Examples::

    latticeclosure threshold --model contact-process --rate lam
    latticeclosure threshold --lattice square --species 0 1 --flip-spec cp.toml --rate lam_z \\
        --closure mean-field pair kirkwood --window-size 1 2 3 --range 0:1 --figure cp.png
    latticeclosure threshold --model sis --rate tau --set gamma=1 --format json
    latticeclosure threshold --model contact-process --rate lam --simulate --sizes 32 64

One line per closure and window, ``closure=pair window=2 critical=0.3333333333``; ``--format json``
gives everything (crossings, growth rates, branches). Bad input exits with status 2.
"""

from __future__ import annotations

import argparse
from typing import Any

from .output import parse_key_value

__all__ = ["COMMAND", "ThresholdCommand", "parse_range", "parse_closure_spec"]

DEFAULT_CLOSURES = ("mean-field", "pair", "kirkwood")
#: Window sizes tried, in order, for a closure without --window-size: the pair level first (window 2,
#: the classical pair approximation), then 3. Mean field is the singlet equation (window 1): at its
#: natural level it needs no pairs, and every closure at window 1 reduces to it.
AUTO_WINDOWS = (2, 3)
MEAN_FIELD_WINDOWS = (1,)


def parse_range(text: str) -> tuple[float, float]:
    """``"a:b"`` → ``(a, b)`` (validated by :func:`latticeclosure.steady.threshold.check_range`)."""
    from ..errors import SteadyStateError
    from ..steady.threshold import check_range

    parts = str(text).split(":")
    if len(parts) != 2:
        raise SteadyStateError(f"--range must be a:b (two numbers), got {text!r}")
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise SteadyStateError(f"--range must be a:b (two numbers), got {text!r}") from None
    return check_range(lo, hi)


def parse_closure_spec(text: str) -> tuple[str, dict[str, Any]]:
    """``"pair:loop=chain,other=1"`` → ``("pair", {"loop": "chain", "other": 1})``."""
    from ..errors import ClosureError

    name, _, rest = str(text).partition(":")
    options: dict[str, Any] = {}
    if rest:
        for item in rest.split(","):
            try:
                key, value = parse_key_value(item)
            except argparse.ArgumentTypeError:
                raise ClosureError(f"closure {text!r}: options must be KEY=VALUE after ':', got {item!r}") from None
            options[key] = value
    if not name:
        raise ClosureError(f"closure {text!r}: missing the closure name")
    return name, options


class ThresholdCommand:
    """Critical rate of the absorbing state for every closure and window size, side by side."""

    name = "threshold"
    help = "critical rate of an absorbing state (contact process, SIS) per closure and window size"
    description = (
        "Close the window-method equations of a flip model with each closure at each window size, "
        "find the rate at which its absorbing state loses stability (exactly: Newton on the "
        "absorbing state's critical mode, verified to 1e-9), continue the branch of active steady "
        "states across the range, and print one line per closure and window. --simulate adds the "
        "kinetic Monte Carlo estimate (needs the 'kmc' data backend); --figure draws the "
        "bifurcation diagram."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        src = parser.add_argument_group("model")
        src.add_argument("--model", metavar="NAME", help="registered model (see 'latticeclosure plugins')")
        src.add_argument("--lattice", help="registered lattice (instead of --model)")
        src.add_argument("--species", nargs="+", metavar="STATE", help="the states (with --lattice)")
        src.add_argument("--dynamics", default="flip", help="dynamics (with --lattice; default flip)")
        src.add_argument("--flip-spec", metavar="FILE", help="TOML/JSON flip rules (with --lattice)")
        src.add_argument("--exclude-closed", action="store_true",
                         help="drop outside catalysts adjacent to another window site")
        parser.add_argument("--rate", required=True, metavar="NAME", help="the rate to vary")
        parser.add_argument("--closure", nargs="+", metavar="SPEC", default=list(DEFAULT_CLOSURES),
                            help="closures NAME or NAME:KEY=VALUE,... (pair:loop=chain closes loops as "
                            "open chains); default: mean-field pair kirkwood")
        parser.add_argument("--window-size", nargs="+", type=int, metavar="N",
                            help="window sizes (default: 1 for mean-field, 2 for the others)")
        parser.add_argument("--range", metavar="A:B", help="range of the rate (default 0:b, b found automatically)")
        parser.add_argument("--set", action="append", default=[], type=parse_key_value, metavar="NAME=VALUE",
                            help="value of another rate (repeatable; overrides the model's defaults)")
        parser.add_argument("--absorbing", metavar="SPECIES", help="which absorbing state, if there are several")
        parser.add_argument("--initial", action="append", default=[], type=parse_key_value, metavar="S=FRACTION",
                            help="site fractions the active branch is integrated from (repeatable)")
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument("--figure", metavar="FILE.png", help="write the bifurcation diagram")
        sim = parser.add_argument_group("simulation (--simulate)")
        sim.add_argument("--simulate", action="store_true", help="add the kinetic Monte Carlo estimate")
        sim.add_argument("--sizes", nargs="+", type=int, default=[32, 64], metavar="L", help="lattice sizes")
        sim.add_argument("--replicas", type=int, default=4, help="runs per rate and size (default 4)")
        sim.add_argument("--sim-time", type=float, default=200.0, help="physical time per run (default 200)")
        sim.add_argument("--sim-points", type=int, default=8, help="rates simulated (default 8)")
        sim.add_argument("--seed", type=int, default=0, help="seed of the simulations (default 0)")

    def run(self, args: argparse.Namespace) -> int:
        from ..errors import SteadyStateError

        if args.figure is not None:
            _check_figure_path(args.figure)
        setting = _setting(args)
        value_range = parse_range(args.range) if args.range is not None else None
        if args.window_size is not None:
            bad = [n for n in args.window_size if n < 1]
            if bad:
                raise SteadyStateError(f"--window-size must be ≥ 1, got {bad[0]}")
        if args.simulate:
            from ..steady.simulate import kmc_backend

            kmc_backend()  # fail now, before any work, if the simulator is missing
        specs = [parse_closure_spec(s) for s in args.closure]
        models = _closed_models(setting, specs, args.window_size)
        rate_names = set(models[0][1].rate_names) if models else set()
        if args.rate not in rate_names:
            raise SteadyStateError(
                f"rate {args.rate!r} is not a parameter of the model; its rates are: {', '.join(sorted(rate_names))}"
            )
        rates = {k: v for k, v in setting["rates"].items() if k in rate_names and k != args.rate}
        for key, value in args.set:
            if key not in rate_names:
                raise SteadyStateError(
                    f"--set {key}: not a rate of the model; its rates are: {', '.join(sorted(rate_names))}"
                )
            if key == args.rate:
                raise SteadyStateError(f"--set {key}: this is the varied rate (--rate); it needs no value")
            rates[key] = value
        initial = dict(args.initial) or dict(setting.get("initial") or {}) or None
        from ..steady.analysis import analyse_many

        closed = [m for _, m in models]
        results = analyse_many(closed, args.rate, rates, value_range, absorbing=args.absorbing, initial=initial)
        simulation = None
        if args.simulate:
            simulation = _simulate(setting, args, rates, results)
        if args.figure:
            _figure(args.figure, results, args.rate, simulation)
        if args.format == "json":
            from ..io import to_jsonable
            from .output import write_json

            write_json(to_jsonable({
                "schema": "latticeclosure.threshold/1",
                "setting": setting["label"],
                "rate": args.rate,
                "results": [r.to_json() for r in results],
                "simulation": None if simulation is None else simulation.to_json(),
                "figure": args.figure,
            }))
            return 0
        for r in results:
            print(_line(r))
        if simulation is not None:
            sizes = ",".join(str(s) for s in args.sizes)
            crit = "none" if simulation.critical is None else f"{simulation.critical:.10g}"
            err = "" if simulation.error is None else f" error={simulation.error:.2g}"
            print(f"simulation=kmc sizes={sizes} critical={crit}{err}")
        return 0


def _line(result: Any) -> str:
    crit = "none" if result.critical is None else f"{result.critical:.10g}"
    line = f"closure={result.closure} window={result.window} critical={crit}"
    if result.method != "threshold":
        line += f" method={result.method}"
    if result.critical is None and result.threshold is not None:
        line += " status=" + result.threshold.status().replace(" ", "-")
    return line


def _setting(args: argparse.Namespace) -> dict[str, Any]:
    """Lattice, species, dynamics, default rates and the Model object, from --model or --lattice."""
    from ..errors import SteadyStateError
    from ..registry import get_model, get_registry

    registry = get_registry()
    if args.model is not None:
        if args.lattice is not None or args.species is not None or args.flip_spec is not None:
            raise SteadyStateError("give --model NAME or --lattice/--species/--flip-spec, not both")
        model = get_model(args.model)
        options = dict(model.dynamics_options)
        if args.exclude_closed:
            options["exclude_closed"] = True
        dynamics = registry.get("dynamics", model.dynamics).configure(**options)
        return {"label": f"model {model.name}", "model": model, "lattice": model.lattice_object(),
                "species": list(model.species), "dynamics": dynamics, "rates": dict(model.rates),
                "initial": dict(model.initial)}
    if args.lattice is None or args.species is None:
        raise SteadyStateError("give --model NAME, or --lattice NAME --species S1 S2 ... --flip-spec FILE")
    if args.dynamics == "flip" and args.flip_spec is None:
        raise SteadyStateError("--lattice with flip dynamics needs --flip-spec FILE (which state flips to which, at what rate)")
    from ..model import Model

    lattice = registry.get("lattices", args.lattice)
    options: dict[str, Any] = {"exclude_closed": args.exclude_closed}
    if args.flip_spec is not None:
        options["rules"] = args.flip_spec
    dynamics = registry.get("dynamics", args.dynamics).configure(**options)
    model = Model(name="threshold", lattice=args.lattice, species=tuple(args.species), dynamics=args.dynamics,
                  dynamics_options={k: v for k, v in options.items() if k != "exclude_closed" or v})
    return {"label": f"{args.lattice}, species {' '.join(args.species)}, {args.dynamics} dynamics",
            "model": model, "lattice": lattice, "species": list(args.species), "dynamics": dynamics,
            "rates": {}, "initial": {}}


def _closed_models(setting: dict[str, Any], specs: list[tuple[str, dict[str, Any]]],
                   windows: list[int] | None) -> list[tuple[tuple[str, int], Any]]:
    """Every (closure, window) that closes, in the order asked for."""
    import sys

    from ..closedmodel import close_equations
    from ..closures.chain_loop import close_with_chain_loops
    from ..equations import generate_equations
    from ..errors import ClosureError
    from ..registry import get_registry

    registry = get_registry()
    cache: dict[int, Any] = {}

    def equations(n: int) -> Any:
        if n not in cache:
            cache[n] = generate_equations(setting["lattice"], setting["species"], dynamics=setting["dynamics"],
                                          window_size=n)
        return cache[n]

    def close(name: str, options: dict[str, Any], n: int) -> Any:
        eqs = equations(n)
        opts = dict(options)
        if name == "pair" and opts.get("loop") == "chain":
            opts.pop("loop")
            base = registry.get("closures", "pair").configure(**opts) if opts else "pair"
            model = close_with_chain_loops(eqs, base)
            model.closure_label = _label(name, options)
            return model
        closure = registry.get("closures", name)
        if opts:
            closure = closure.configure(**opts)
        model = close_equations(eqs, closure)
        model.closure_label = _label(name, options)
        return model

    out = []
    for name, options in specs:
        registry.get("closures", name)  # unknown names fail at once, with the known ones listed
        if windows is None:
            errors = []
            for n in (MEAN_FIELD_WINDOWS if name == "mean-field" else AUTO_WINDOWS):
                try:
                    out.append(((name, n), close(name, options, n)))
                    break
                except ClosureError as exc:
                    errors.append(str(exc))
            else:
                raise ClosureError(f"closure {_label(name, options)!r} closes none of the default window sizes: "
                                   f"{errors[-1]}")
        else:
            for n in windows:
                try:
                    out.append(((name, n), close(name, options, n)))
                except ClosureError as exc:
                    print(f"note: closure {_label(name, options)} at window {n} skipped: {exc}", file=sys.stderr)
    if not out:
        raise ClosureError("no closure closes the equations at the window sizes asked for")
    return out


def _label(name: str, options: dict[str, Any]) -> str:
    return name + (":" + ",".join(f"{k}={v}" for k, v in options.items()) if options else "")


def _simulate(setting: dict[str, Any], args: argparse.Namespace, rates: dict[str, float], results: list[Any]) -> Any:
    import numpy as np

    from ..errors import SteadyStateError
    from ..steady.simulate import simulated_threshold

    crits = [r.critical for r in results if r.critical is not None]
    if not crits:
        raise SteadyStateError("--simulate needs at least one closure with a critical rate (to place the simulated rates)")
    hi = max(r.range[1] for r in results)
    lo = max(crits)
    if args.sim_points < 4:
        raise SteadyStateError("--sim-points must be at least 4 (the fit has three parameters)")
    values = np.linspace(lo, hi, args.sim_points + 1)[1:]
    absorbing = results[0].absorbing
    index = results[0].problem.model.equations.index
    singlet = next(c.name for c in index.classes_of_size(1) if setting["species"][c.pattern[0]] == absorbing)
    return simulated_threshold(setting["model"], args.rate, rates, values, absorbing=absorbing, sizes=args.sizes,
                               replicas=args.replicas, time=args.sim_time, seed=args.seed, singlet=singlet)


def _check_figure_path(path: str) -> None:
    from pathlib import Path

    from ..errors import SteadyStateError

    target = Path(path)
    if target.is_dir():
        raise SteadyStateError(f"--figure {path}: is a directory; give a file name such as diagram.png")
    if target.suffix.lower() != ".png":
        raise SteadyStateError(f"--figure {path}: the diagram is written as PNG; give a name ending in .png")


def _figure(path: str, results: list[Any], rate: str, simulation: Any) -> None:
    from ..steady.figure import diagram_curves, plot_bifurcation_diagram

    simulated = None
    if simulation is not None:
        largest = max(p.size for p in simulation.points)
        pts = [p for p in simulation.points if p.size == largest]
        simulated = {"values": [p.value for p in pts], "densities": [p.density for p in pts],
                     "errors": [p.error for p in pts], "label": f"KMC, L={largest}", "critical": simulation.critical}
    from ..errors import SteadyStateError

    try:
        plot_bifurcation_diagram(path, [diagram_curves(r) for r in results], rate, simulated=simulated,
                                 title="bifurcation diagram")
    except OSError as exc:
        raise SteadyStateError(f"cannot write the figure {path}: {exc.strerror or exc}") from None


COMMAND = ThresholdCommand()
