"""Rate constants of closed models fitted to the study's data at one grid point (section V of the paper).

For each declared closure the step closes the study's equations, fits F(K) of eq. (17) by multi-start
least squares, analyses which rate combinations the data determine (Fisher information, structural
combinations, drift relations) and samples the posterior ∝ exp(−F/s) with delayed-rejection
Metropolis–Hastings (:func:`latticeclosure.inference.run_inference`), once per temperature: by
default s = 1 (the posterior of the paper's Algorithm 1) and the data-driven s = 2·F_min/n, the
second reusing the first's fits. Its figures, Markdown section, ``inference/summary-s<T>.json`` files
and a summary entry are written.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ...errors import ConfigurationError
from .report_util import image, relative

__all__ = ["InferenceUse", "InferRates"]


@dataclass(frozen=True)
class InferenceUse:
    """A closed model whose rates the step infers, under a report label.

    Parameters
    ----------
    label : str
    closure : str or closure, optional
        A closure name, preset or object; a calibratable family is first fitted at the step's grid
        point. Default: the closure an earlier step recorded under ``label`` (``context.closures``).
    best_family_of : str, optional
        The name of a cross-validation step: its best family (fitted at the step's grid point).
    options : mapping
        Options when resolving ``closure``.
    """

    label: str
    closure: Any = None
    best_family_of: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


_DEFAULT_SETTINGS = {"samples": 2000, "chains": 2, "n_starts": 6, "segment": 2000}


def _temperature_key(value: Any) -> str:
    return value if isinstance(value, str) else f"{float(value):g}"


@dataclass
class InferRates:
    """Multi-start least squares, identifiability and DR-MH posteriors of rate constants at one grid point.

    Parameters
    ----------
    uses : tuple of InferenceUse
    at : float, optional
        The grid value (the nearest point is used; default the first).
    settings : mapping
        :class:`~latticeclosure.inference.InferenceSettings` fields (default: 2 chains of 2000
        samples, 6 starts); study options override ``samples``, ``chains`` and ``n_starts``.
    temperatures : tuple
        Temperatures s of the likelihood exp(−F/s), numbers or ``"auto"``; the first run fits, the
        others reuse its fits.
    temperature_settings : mapping
        Extra settings per temperature key (``"1"``, ``"auto"``), e.g. ``{"auto": {"adaptive": True}}``.
    figure13 : tuple of str
        Labels whose posterior gets the paper's Fig. 13 (at the last temperature).
    executor : concurrent.futures.Executor, optional
        Where the multi-start fits and chain segments run (default: the study's executor).
    """

    uses: tuple[InferenceUse, ...] = ()
    at: float | None = None
    settings: Mapping[str, Any] = field(default_factory=lambda: dict(_DEFAULT_SETTINGS))
    temperatures: tuple[Any, ...] = (1.0, "auto")
    temperature_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    figure13: tuple[str, ...] = ()
    executor: Any = None
    name: str = "inference"
    title: str = "Rate constants from data"

    @property
    def options(self) -> dict[str, str]:
        """Study options this step reads (``latticeclosure run --study-option NAME=VALUE``)."""
        return {
            f"{self.name}.samples": "samples per DR-MH chain (default 2000; the paper: 100000)",
            f"{self.name}.chains": "number of chains (default 2)",
            f"{self.name}.n-starts": "multi-start points of the least-squares fit (default 6)",
        }

    def check_options(self, options: Mapping[str, str]) -> None:
        """Refuse bad values of this step's study options (called before the study simulates)."""
        self._settings(options)

    # ------------------------------------------------------------------ settings and closures
    def _settings(self, options: Mapping[str, str]) -> dict[str, Any]:
        settings = {**_DEFAULT_SETTINGS, **dict(self.settings)}
        for option, key in (("samples", "samples"), ("chains", "chains"), ("n-starts", "n_starts")):
            text = options.get(f"{self.name}.{option}")
            if text is None:
                continue
            try:
                value = int(text)
            except ValueError:
                value = 0
            if value < 1:
                raise ConfigurationError(f"study option {self.name}.{option} must be a positive integer, got {text!r}")
            settings[key] = value
        settings["segment"] = min(int(settings.get("segment", 2000)), int(settings["samples"]))
        return settings

    def _closure(self, context: Any, use: InferenceUse, trajectory: Any) -> tuple[Any, str]:
        """The closure object of ``use`` and a note saying where it comes from."""
        from ...closures import calibrate
        from ...closures.base import ParametricClosure
        from ...registry import get_registry

        registry = get_registry()
        if use.best_family_of is not None:
            step = next((s for s in context.spec.steps if s.name == use.best_family_of), None)
            result = context.results.get(use.best_family_of)
            if step is None or result is None or "best" not in result:
                raise ConfigurationError(f"inference of {use.label!r} needs the cross-validation step "
                                         f"{use.best_family_of!r} to run before it")
            best = result["best"]
            family = next(f for f in step.families if f.label == best)
            closure = registry.resolve("closures", family.closure, **dict(family.options))
            fit = calibrate(closure, trajectory, context.index)
            return fit.closure(), f"best cross-validated family {best}, fitted at this point"
        if use.closure is not None:
            closure = registry.resolve("closures", use.closure, **dict(use.options))
            if isinstance(closure, ParametricClosure) and not closure.options.get("exponents"):
                return calibrate(closure, trajectory, context.index).closure(), f"{use.closure}, fitted at this point"
            return closure, str(use.closure)
        if use.label not in context.closures:
            raise ConfigurationError(f"inference of {use.label!r}: no earlier step recorded a closure under that label; "
                                     f"recorded: {', '.join(context.closures) or 'none'}")
        fitted = context.errors.get(use.label)
        where = f", fitted at {context.parameter} = {fitted.fitted_at:g}" if fitted is not None and fitted.fitted_at is not None else ""
        return context.closures[use.label], f"the study's {use.label}{where}"

    # ------------------------------------------------------------------ step protocol
    def run(self, context: Any) -> None:
        from ...closedmodel import close_equations
        from ...inference import run_inference

        if not self.uses:
            raise ConfigurationError(f"study step {self.name!r} declares no closures to infer rates for")
        i = context.nearest(self.at) if self.at is not None else 0
        trajectory = context.trajectories[i]
        settings = self._settings(context.options)
        models, notes = {}, {}
        for use in self.uses:
            closure, notes[use.label] = self._closure(context, use, trajectory)
            models[use.label] = close_equations(context.equations, closure)
        results: dict[str, Any] = {}
        first = None
        # the step's own executor, else the study's (its multi-start fits and chain segments are tasks)
        session = getattr(context, "executor", None)
        executor = self.executor if self.executor is not None else getattr(session, "executor", None)
        t0 = time.perf_counter()
        for temperature in self.temperatures:
            key = _temperature_key(temperature)
            run_settings = {**settings, **dict(self.temperature_settings.get(key, {})), "temperature": temperature}
            context.log(f"      rate constants at {context.parameter} = {context.grid[i]:g}, temperature {key}: "
                        f"{', '.join(models)} ({run_settings['chains']} chains x {run_settings['samples']} samples)")
            with warnings.catch_warnings():
                # convergence warnings are listed in the report section instead of on the terminal
                warnings.simplefilter("ignore", RuntimeWarning)
                results[key] = run_inference(models, [trajectory], run_settings, previous=first, executor=executor,
                                             progress=lambda line: context.log("        " + line))
            first = first or results[key]
        seconds = time.perf_counter() - t0
        context.log(f"      rate constants: {seconds:.1f} s")
        context.results[self.name] = {"at": context.grid[i], "index": i, "results": results, "notes": notes,
                                      "seconds": seconds}
        folder = context.out_dir / "inference"
        for key, res in results.items():
            path = folder / f"summary-s{key}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            context.write_text(f"inference_summary_s{key}", str(path.relative_to(context.out_dir)),
                               json.dumps(res.to_summary(), indent=1, allow_nan=False) + "\n")

    def figures(self, context: Any, directory: Path) -> dict[str, Path]:
        from ...inference import figures as fig

        res = context.results[self.name]
        results = res["results"]
        first = next(iter(results.values()))
        tag = f"{res['at']:.2f}".replace(".", "p")
        files: dict[str, Path] = {}
        files["fig_inference_waterfall"] = fig.waterfall_plot(
            {k: ci.multistart.sorted_F() for k, ci in first.closures.items()}, directory / f"inference-waterfall-{tag}.png")
        ci0 = next(iter(first.closures.values()))
        ds = ci0.objective.datasets[0]
        preds = {k: ci.objective.predict(ci.multistart.best.x)[0] for k, ci in first.closures.items()}
        files["fig_inference_trajectories"] = fig.trajectories_plot(
            np.asarray(ds.time), {n: np.asarray(ds[n]) for n in ci0.objective.window_names}, preds,
            ci0.objective.window_names, directory / f"inference-best-fits-{tag}.png",
            title=f"best fits at {context.parameter} = {res['at']:.3g}")
        for key, result in results.items():
            hists = {k: ci.chain_F[:, ci.burn_in:].reshape(-1) for k, ci in result.closures.items()
                     if ci.chains is not None and ci.objective.kind == "rates"}
            reference = {k: ci.multistart.best.F for k, ci in result.closures.items() if ci.objective.kind == "combinations"}
            if hists:
                files[f"fig_inference_fig14_s{key}"] = fig.figure14(hists, directory / f"inference-fig14-s{key}-{tag}.png",
                                                                    reference_F=reference)
        last_key, last = list(results.items())[-1]
        for label in self.figure13:
            ci = last.closures.get(label)
            if ci is None or ci.chains is None or ci.objective.kind != "rates":
                continue
            post = ci.post_burn_in().reshape(-1, ci.objective.n_parameters)
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in label)
            files[f"fig_inference_fig13_{safe}"] = fig.figure13(
                post, ci.chain_F[:, ci.burn_in:].reshape(-1), ci.objective.parameter_names,
                directory / f"inference-fig13-{safe}-s{last_key}-{tag}.png", title=f"{label}, s = {last_key}")
        return files

    def render(self, context: Any) -> str:
        from ...io import format_number, format_table

        res = context.results[self.name]
        results = res["results"]
        first = next(iter(results.values()))
        s = first.settings
        lines = [f"## {self.title} ({context.parameter} = {res['at']:.3g})", ""]
        lines.append(
            f"F(K) of eq. (17) on the {context.parameter} = {res['at']:.3g} trajectory (every window class, trapezoid "
            f"rule, time = fraction of the run, α = {s.alpha:g}), minimised by bounded least squares from "
            f"{s.n_starts} space-filling starts; {s.chains} DR-MH chains of {s.samples} samples started at the best "
            "minimum (σ1 = 0.1·Y1, σ2 = 0.01·Y1, uniform prior on (0, 100·max Y1]) at each temperature s of the "
            "likelihood exp(−F/s): s = 1, the default, and s = 2·F_min/n (auto: the maximum-likelihood residual "
            "variance times the quadrature weight; see docs/inference.md). Rates are in units of 1/(run length). "
            "The full paper-length chains: `--study-option inference.samples=100000`.")
        lines.append("")
        for label, note in res["notes"].items():
            lines.append(f"* {label}: {note}.")
        lines.append("")
        headers = ["closure", "best F", "minima", "temperature s", "acceptance (1 / 2)", "max R-hat", "min ESS bulk",
                   "posterior CV (min … max)"]
        rows = []
        for key, result in results.items():
            for label, ci in result.closures.items():
                acc = rh = ess = cv = "—"
                if ci.posterior:
                    a1, a2 = ci.acceptance()
                    acc = f"{a1:.2f} / {a2:.2f}"
                    rhs = [r["r_hat"] for r in ci.posterior.values() if r["r_hat"] is not None and math.isfinite(r["r_hat"])]
                    eb = [r["ess_bulk"] for r in ci.posterior.values() if r["ess_bulk"] is not None]
                    cvs = [abs(r["cv"]) for r in ci.posterior.values() if r["cv"] is not None and math.isfinite(r["cv"])]
                    rh = f"{max(rhs):.3f}" if rhs else "—"
                    ess = f"{min(eb):.0f}" if eb else "—"
                    cv = f"{min(cvs):.3g} … {max(cvs):.3g}" if cvs else "—"
                temp = f"{format_number(ci.temperature.value)} ({key})"
                rows.append([label, format_number(ci.multistart.best.F), str(ci.multistart.n_minima), temp, acc, rh, ess, cv])
        lines += [format_table(headers, rows, markdown=True), ""]
        for label, ci in first.closures.items():
            lines.append(f"**{label}.** " + ci.determined_sentence().split(" Posterior CV")[0])
            if ci.fisher.near_null:
                lines.append(f"Fisher near-null combinations: {'; '.join(ci.fisher.near_null)}.")
            lines.append("")
        for key, result in results.items():
            for label, ci in result.closures.items():
                if ci.posterior:
                    cvs = ", ".join(f"{n} {r['cv']:.3g}" for n, r in ci.posterior.items() if r["cv"] is not None)
                    lines.append(f"Posterior CV at s = {key}, {label}: {cvs}.")
        lines.append("")
        warned = [f"{label} (s = {key}): {w}" for key, result in results.items() for label, ci in result.closures.items()
                  for w in ci.warnings if "R-hat" in w or "ESS" in w]
        if warned:
            lines.append(f"Convergence warnings ({len(warned)}): chains with R-hat > 1.01 or ESS < 400 do not describe "
                         "the posterior reliably; " + "; ".join(warned[:6]) + (" …" if len(warned) > 6 else "") + ".")
            lines.append("")
        for key in sorted(k for k in context.files if k.startswith("fig_inference_")):
            lines.append(image(key[len("fig_inference_"):], relative(context.files[key], context.out_dir)))
            lines.append("")
        return "\n".join(lines)

    def summary(self, context: Any) -> dict[str, Any]:
        res = context.results[self.name]
        out: dict[str, Any] = {"at": res["at"], "closures": dict(res["notes"]), "seconds": res["seconds"],
                               "temperatures": {}}
        for key, result in res["results"].items():
            entry = {}
            for label, ci in result.closures.items():
                row: dict[str, Any] = {
                    "best_F": ci.multistart.best.F,
                    "best": dict(zip(ci.objective.parameter_names, map(float, ci.multistart.best.x))),
                    "n_minima": ci.multistart.n_minima,
                    "temperature": ci.temperature.value,
                    "near_null": list(ci.fisher.near_null),
                }
                if ci.posterior:
                    a1, a2 = ci.acceptance()
                    row["acceptance"] = {"stage1": a1, "stage2": a2}
                    row["posterior"] = {n: {k: r[k] for k in ("mean", "sd", "cv", "r_hat", "ess_bulk", "ess_tail")}
                                        for n, r in ci.posterior.items()}
                entry[label] = row
            out["temperatures"][key] = entry
        from ...io.jsonsafe import to_jsonable

        return {"inference": to_jsonable(out)}
