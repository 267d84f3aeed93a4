"""How far each closed model's *dynamics* is from the simulated truth, when the rates are known.

For models whose microscopic rates are known (epidemics, the contact process, the voter model), a
closure can be judged on the dynamics, not only on reconstructing larger clusters from data: the
closed model is integrated with the known rates from the simulated initial state, on the simulated
time grid, and compared with the simulated trajectory of every window class —

    F = ½ ∫ Σ_c (C_c(t) − C_c^sim(t))² dt        (the first term of eq. 17, trapezoid over the records)

— per replica of the simulation (each from its own initial state), reported as the mean over
replicas (and seeds) with its standard error. Fitted closures are calibrated on the other grid points
(leave one point out) at one window and integrated at the held-out point. A model's observable (its
``observables``, e.g. the prevalence ``CI``) is compared at stationarity: the mean over the last
tenth of the run, simulated against each closed model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ...io import format_table
from ..context import mean_and_se
from ..spec import FamilyUse
from .report_util import image, relative, with_error

__all__ = ["WindowClosure", "DynamicalErrors"]

#: Fraction of the records (at the end of the run) averaged for stationary values.
STATIONARY_TAIL = 0.1


@dataclass(frozen=True)
class WindowClosure:
    """A closure at one window size, under a report label: ``WindowClosure("pair w2", "pair", 2)``."""

    label: str
    closure: Any
    window: int
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class DynamicalErrors:
    """Closed models integrated with the model's known rates, against the simulation (module docstring).

    Parameters
    ----------
    closures : tuple of WindowClosure
    fitted : tuple of FamilyUse
        Calibratable families fitted at ``fit_window`` on the other grid points and integrated at the
        held-out one (labels ``<label> w<fit_window> (cv)``).
    fit_window : int
    observable : str, optional
        Name of one of the model's observables (default: its first).
    """

    closures: tuple[WindowClosure, ...] = ()
    fitted: tuple[FamilyUse, ...] = ()
    fit_window: int = 2
    observable: str | None = None
    rtol: float = 1e-8
    atol: float = 1e-10
    name: str = "dynamics"
    title: str = "Dynamical errors: closed models integrated with the known rates"

    @property
    def needs_several_points(self) -> bool:
        return bool(self.fitted)

    # ------------------------------------------------------------------ computation
    def run(self, context: Any) -> None:
        from ...closedmodel import close_equations
        from ...registry import get_registry

        registry = get_registry()
        equations = {n: self._equations(context, n) for n in {c.window for c in self.closures} | ({self.fit_window} if self.fitted else set())}
        models: dict[str, list[Any]] = {}  # label → one closed model per grid point
        for use in self.closures:
            closure = registry.resolve("closures", use.closure, **dict(use.options))
            model = close_equations(equations[use.window], closure)
            models[use.label] = [model] * len(context.grid)
        for fam in self.fitted:
            label = f"{fam.label} w{self.fit_window} (cv)"
            models[label] = self._cross_validated(context, equations[self.fit_window], fam)
        observable = self._observable(context)
        errors: dict[str, list[list[float]]] = {}
        stationary: dict[str, list[float]] = {}
        failures: dict[str, int] = {}
        context.log(f"      integrating {len(models)} closed models with the known rates at {len(context.grid)} grid points")
        for label, per_point in models.items():
            errors[label], stationary[label], failures[label] = [], [], 0
            for i, model in enumerate(per_point):
                rates = self._rates(context, i, model)
                values, final, failed = self._compare(context, i, model, rates, observable)
                errors[label].append(values)
                stationary[label].append(final)
                failures[label] += failed
        simulated = [self._simulated_observable(context, i, observable) for i in range(len(context.grid))]
        context.results[self.name] = {"errors": errors, "stationary": stationary, "failures": failures,
                                      "simulated": simulated, "observable": observable[0] if observable else None,
                                      "models": models}

    def _equations(self, context: Any, window: int) -> Any:
        from ...equations import generate_equations
        from ...registry import get_registry

        model = context.model
        dynamics = get_registry().resolve("dynamics", getattr(model, "dynamics", "flip"),
                                          **dict(getattr(model, "dynamics_options", {}) or {}))
        return generate_equations(model.lattice_object(), list(model.species), dynamics, window)

    def _cross_validated(self, context: Any, eqs: Any, fam: FamilyUse) -> list[Any]:
        """One closed model per grid point, its closure fitted on the other points (all seeds).

        The fits are independent tasks on the study's executor (in this process without one).
        """
        from ...closedmodel import close_equations
        from ...parallel import open_executor, run_keyed

        jobs = []
        for i in range(len(context.grid)):
            train = [row[j] for row in context.data for j in range(len(context.grid)) if j != i]
            jobs.append((i, (fam.closure, train, eqs.index, dict(fam.options))))
        fits: dict[int, Any] = {}
        with open_executor(getattr(context, "executor", None), tasks=len(jobs)) as session:
            run_keyed(session, fit_without_point, jobs, fits.__setitem__,
                      describe=lambda i: f"the {fam.closure} fit without grid point {i}")
        return [close_equations(eqs, fits[i]) for i in range(len(context.grid))]

    def _rates(self, context: Any, i: int, model: Any) -> dict[str, float]:
        """The model's known rates with the grid point's overrides (a grid over a rate)."""
        known = dict(getattr(context.model, "rates", {}) or {})
        if not context.parameter.startswith("initial."):  # a grid over a rate
            known[context.parameter] = context.grid[i]
        missing = [r for r in model.rate_names if r not in known]
        if missing:
            from ...errors import ConfigurationError

            raise ConfigurationError(f"the dynamical comparison needs the rates {missing}; the model "
                                     f"{context.model.name!r} knows {sorted(known)}")
        return {r: float(known[r]) for r in model.rate_names}

    def _observable(self, context: Any) -> tuple[str, Any, list[str]] | None:
        observables = dict(getattr(context.model, "observables", {}) or {})
        if not observables:
            return None
        name = self.observable or next(iter(observables))
        if name not in observables:
            from ...errors import ConfigurationError

            raise ConfigurationError(f"model {context.model.name!r} has no observable {name!r}; it has {sorted(observables)}")
        from ...errors import ConfigurationError
        from ...expressions import parse_expression

        classes = [c["name"] for c in context.trajectories[0].classes]
        expr = parse_expression(observables[name], class_names=classes, parameters=(), where=f"observable {name!r}",
                                error=ConfigurationError)
        return name, expr, sorted(str(s) for s in expr.free_symbols)

    @staticmethod
    def _evaluate(expr: Any, names: list[str], columns: Mapping[str, np.ndarray]) -> np.ndarray:
        import sympy as sp

        f = sp.lambdify([sp.Symbol(n) for n in names], expr, modules="numpy")
        n = len(next(iter(columns.values())))
        return np.broadcast_to(np.asarray(f(*[columns[k] for k in names]), dtype=float), (n,))

    def _replicas(self, traj: Any) -> np.ndarray:
        arrays = traj.arrays
        rep = arrays.get("replica_concentrations")
        return np.asarray(rep) if rep is not None else np.asarray(traj.concentrations)[None]

    def _compare(self, context: Any, i: int, model: Any, rates: Mapping[str, float],
                 observable: Any) -> tuple[list[float], float, int]:
        """Per replica (all seeds): F of the model against the simulation; the stationary observable."""
        from ...closures.dataset import trapezoid_weights

        values: list[float] = []
        finals: list[float] = []
        failed = 0
        for row in context.data:
            traj = row[i]
            t = np.asarray(traj.time, dtype=float)
            w = trapezoid_weights(t)
            names = list(traj.class_names)
            cols = [names.index(n) for n in model.window_names]
            for rep in self._replicas(traj):
                data = rep[:, cols]
                init = dict(zip(model.window_names, data[0]))
                with np.errstate(all="ignore"):
                    sol = model.solve(t, init, rates, rtol=self.rtol, atol=self.atol, on_failure="ignore")
                if not sol.success:
                    failed += 1
                    values.append(math.nan)
                    finals.append(math.nan)
                    continue
                pred = np.column_stack([sol[n] for n in model.window_names])
                values.append(0.5 * float(np.sum(w[:, None] * (pred - data) ** 2)))
                if observable is not None:
                    finals.append(self._tail(self._model_observable(model, sol, observable)))
        finite = [f for f in finals if not math.isnan(f)]
        return values, (float(np.mean(finite)) if finite else math.nan), failed

    def _model_observable(self, model: Any, sol: Any, observable: Any) -> np.ndarray:
        import sympy as sp

        _, expr, names = observable
        unknown = [n for n in names if n not in model.window_names and n not in model.marginals]
        if unknown:  # the observable needs classes larger than this model's window
            return np.full(len(sol.t), np.nan)
        # smaller classes of the observable are the model's marginals of its window classes
        subs = {sp.Symbol(n): model.marginals[n] for n in names if n not in model.window_names}
        expr = sp.sympify(expr).xreplace(subs)
        window = sorted(str(s) for s in expr.free_symbols)
        return self._evaluate(expr, window, {n: sol[n] for n in window})

    @staticmethod
    def _tail(series: np.ndarray) -> float:
        k = max(1, int(math.ceil(STATIONARY_TAIL * len(series))))
        return float(np.mean(series[-k:]))

    def _simulated_observable(self, context: Any, i: int, observable: Any) -> tuple[float, float | None] | None:
        if observable is None:
            return None
        _, expr, names = observable
        finals = []
        for row in context.data:
            traj = row[i]
            cls = list(traj.class_names)
            for rep in self._replicas(traj):
                finals.append(self._tail(self._evaluate(expr, names, {n: rep[:, cls.index(n)] for n in names})))
        return mean_and_se(finals)

    # ------------------------------------------------------------------ output
    def figures(self, context: Any, directory: Path) -> dict[str, Path]:
        from ...report.figures import plot_observable

        res = context.results[self.name]
        if res["observable"] is None:
            return {}
        files = {}
        observable = self._observable(context)
        for i, x in enumerate(context.grid):
            traj = context.trajectories[i]
            cls = list(traj.class_names)
            reps = np.array([self._evaluate(observable[1], observable[2], {n: rep[:, cls.index(n)] for n in observable[2]})
                             for rep in self._replicas(traj)])
            t = np.asarray(traj.time, dtype=float)
            curves = {}
            for label, per_point in res["models"].items():
                model = per_point[i]
                mean_init = dict(zip(model.window_names, np.asarray(traj.concentrations)[0, [cls.index(n) for n in model.window_names]]))
                with np.errstate(all="ignore"):
                    sol = model.solve(t, mean_init, self._rates(context, i, model), rtol=self.rtol, atol=self.atol,
                                      on_failure="ignore")
                curves[label] = self._model_observable(model, sol, observable)
            se = reps.std(axis=0, ddof=1) / np.sqrt(len(reps)) if len(reps) > 1 else None
            tag = f"{x:.3g}".replace(".", "p")
            files[f"fig_dynamics_{tag}"] = plot_observable(
                t, reps.mean(axis=0), se, curves, directory / f"dynamics-{context.parameter.replace('.', '-')}{tag}.png",
                ylabel=res["observable"], title=f"{res['observable']}: simulation and closed models "
                f"({context.parameter} = {x:.3g})", styles=context.spec.styles,
            )
        return files

    def render(self, context: Any) -> str:
        res = context.results[self.name]
        labels = list(res["errors"])
        rows = []
        for i, x in enumerate(context.grid):
            rows.append([f"{x:.3g}"] + [with_error(*mean_and_se([v for v in res["errors"][k][i] if not math.isnan(v)] or [math.nan]))
                                        for k in labels])
        n_rep = sum(len(self._replicas(row[0])) for row in context.data)
        text = [f"## {self.title}", "",
                "F = ½∫ Σ_c (C_c − C_c^sim)² dt over the window classes (the first term of eq. 17), each closed "
                f"model integrated with the known rates from the simulated initial state; mean ± standard error "
                f"over {n_rep} simulated replicas per grid point.", "",
                format_table([context.parameter] + labels, rows, markdown=True), ""]
        failed = {k: v for k, v in res["failures"].items() if v}
        if failed:
            text += ["Integrations that failed (loss of positivity or blow-up; left out of the means): "
                     + ", ".join(f"{k}: {v}" for k, v in failed.items()) + ".", ""]
        if res["observable"]:
            obs = res["observable"]
            srows = [[f"{x:.3g}", with_error(*res["simulated"][i])] + [res["stationary"][k][i] for k in labels]
                     for i, x in enumerate(context.grid)]
            text += [f"Stationary {obs} (mean over the last {STATIONARY_TAIL:.0%} of the run):", "",
                     format_table([context.parameter, "simulated"] + labels, srows, markdown=True), ""]
        for key in sorted(k for k in context.files if k.startswith("fig_dynamics_")):
            text += [image("observable along the run", relative(context.files[key], context.out_dir)), ""]
        return "\n".join(text)

    def summary(self, context: Any) -> dict[str, Any]:
        res = context.results[self.name]
        errors = {}
        for label, per_point in res["errors"].items():
            stats = [mean_and_se([v for v in vals if not math.isnan(v)] or [math.nan]) for vals in per_point]
            errors[label] = {"F": [s[0] for s in stats], "F_se": [s[1] for s in stats]}
        out: dict[str, Any] = {"dynamical_errors": errors, "dynamical_failures": res["failures"]}
        if res["observable"]:
            out["stationary"] = {"observable": res["observable"],
                                 "simulated": [s[0] for s in res["simulated"]], "simulated_se": [s[1] for s in res["simulated"]],
                                 **{k: v for k, v in res["stationary"].items()}}
        return out


def fit_without_point(closure: Any, train: list, index: Any, options: dict[str, Any]) -> Any:
    """The calibration of ``closure`` on the training trajectories (a task of any executor's workers)."""
    from ...closures import calibrate

    return calibrate(closure, train, index, extra="ignore", rescale_time=False, **options)
