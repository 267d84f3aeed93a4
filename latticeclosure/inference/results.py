"""Results of an inference run: per-closure fits, chains and diagnostics; summary, report, checkpoints.

``InferenceResult.to_summary()`` is plain JSON data with schema ``latticeclosure.infer-summary/1``:
per closure the best F and its parameters, the distinct local minima (F, count, parameters, spread
over the cluster), posterior mean/sd/CV/quantiles, R̂, bulk and tail ESS and MCSE per parameter,
acceptance per stage, prior-boundary flags, failed solves, the Fisher near-null and determined
combinations, the structural combinations, the drift relations, and a sentence saying which rates
and combinations the data determine. ``to_markdown()`` renders the same in words.

Chain checkpoints are ``.npz`` files without pickles (``np.load(..., allow_pickle=False)``): the
samples so far, F along them, the stage codes, the full :class:`~.sampler.ChainState` (the
generator state as JSON text) and the run's settings key; written atomically.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigurationError

__all__ = ["ClosureInference", "InferenceResult", "save_checkpoint", "load_checkpoint", "check_chain_checkpoint", "SCHEMA"]

SCHEMA = "latticeclosure.infer-summary/1"


def save_checkpoint(path: Path, key: str, state: Any, samples: np.ndarray, values: np.ndarray, stage: np.ndarray) -> None:
    """Write one chain's checkpoint atomically (pickle-free ``.npz``)."""
    from ..io.atomic import write_bytes_atomic

    arrays = state.to_arrays()
    arrays.update({"key": np.asarray(key), "samples": samples, "values": values, "stage": stage})
    write_bytes_atomic(path, lambda fh: np.savez(fh, **arrays))


def load_checkpoint(path: Path, key: str) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """``(state, samples, values, stage)`` of a checkpoint, read through the checked ``.npz`` reader.

    Raises
    ------
    CheckpointMismatchError
        A checkpoint written with other settings or data.
    CheckpointError
        An unreadable, truncated or corrupt one.
    """
    from ..errors import CheckpointError, CheckpointMismatchError, LatticeClosureError
    from ..io.npzfile import NpzReader
    from .sampler import ChainState

    with NpzReader(path, "chain checkpoint", CheckpointError, max_ndim=3) as z:
        for name in ("key", "samples", "values", "stage"):
            if name not in z:
                raise CheckpointError(f"chain checkpoint {path} is incomplete: it lacks {name!r}")
        if z.shape("key") != () or str(z.read("key")) != key:
            raise CheckpointMismatchError(f"checkpoint {path} was written with different settings or data; "
                                          "use a new output directory")
        arrays = z.read_all()
    try:
        state = ChainState.from_arrays(arrays)
    except (LatticeClosureError, KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"chain checkpoint {path} is corrupt: {str(exc)[:120]}") from None
    return state, arrays["samples"], arrays["values"], arrays["stage"]


def check_chain_checkpoint(path: Path, state: Any, fresh: Any, samples: np.ndarray, values: np.ndarray,
                           stage: np.ndarray, n: int) -> None:
    """A loaded chain must fit the run: every array of its state shaped like a fresh chain's, at most
    ``n`` samples done and as many stored, a generator state that restores.

    Raises
    ------
    CheckpointError
    """
    import json as _json

    from ..errors import CheckpointError

    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"chain checkpoint {path} is corrupt ({what})")

    for name in fresh.__dataclass_fields__:
        a, b = getattr(state, name), getattr(fresh, name)
        if isinstance(b, np.ndarray) and (not isinstance(a, np.ndarray) or a.shape != b.shape or a.dtype.kind != b.dtype.kind):
            raise bad(f"{name} has shape {getattr(a, 'shape', None)}, expected {b.shape}")
    k = state.n_done
    d = fresh.x.shape[0]
    if not 0 <= k <= n or samples.shape != (k, d) or values.shape != (k,) or stage.shape != (k,):
        raise bad(f"{k} samples done, arrays of shapes {samples.shape}, {values.shape}, {stage.shape}")
    if samples.dtype.kind != "f" or values.dtype.kind != "f" or stage.dtype.kind not in "iu":
        raise bad("arrays of the wrong dtype")
    try:
        rng = _json.loads(state.rng_state)
        ok = isinstance(rng, dict) and set(rng) == set(_json.loads(fresh.rng_state))
        if ok:
            np.random.PCG64().state = rng  # restores, or raises for values of the wrong kind
    except (TypeError, ValueError, KeyError):
        ok = False
    if not ok:
        raise bad("random-generator state")


def _setting(value: Any) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def _num(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, dict):
        return {k: _num(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_num(x) for x in v]
    if isinstance(v, np.ndarray):
        return _num(v.tolist())
    return v


@dataclass
class ClosureInference:
    """Everything inferred for one closed model."""

    label: str
    model: Any
    objective: Any
    multistart: Any
    fisher: Any
    structural: Any
    drift: list[dict[str, Any]]
    profiles: list[Any] = field(default_factory=list)
    start: dict[str, Any] | None = None
    chains: np.ndarray | None = None
    chain_F: np.ndarray | None = None
    chain_stage: np.ndarray | None = None
    chain_states: list[Any] | None = None
    chain_failures: np.ndarray | None = None
    burn_in: int = 0
    posterior: dict[str, dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    temperature: Any = None

    @classmethod
    def fit(cls, label: str, model: Any, objective: Any, settings: Any, executor: Any) -> "ClosureInference":
        from .identifiability import drift_comparison, fisher_analysis, profile_likelihood, structural_combinations
        from .multistart import multistart_fit

        ms = multistart_fit(objective, settings.n_starts, seed=settings.seed, design=settings.design,
                            log_parameters=settings.log_parameters, executor=executor)
        if not ms.minima:
            raise ConfigurationError(f"[{label}] no local fit reached a finite F (every start failed to solve)")
        from .temperature import resolve_temperature

        best = ms.best.x
        temperature = resolve_temperature(settings.temperature, ms.best.F, objective.n_residuals)
        fisher = fisher_analysis(objective, best, temperature=temperature.value, null_rtol=settings.null_rtol)
        structural = None
        drift: list[dict[str, Any]] = []
        if objective.kind == "rates":
            structural = structural_combinations(model, list(objective.closure_values.values()))
            drift = drift_comparison(model, fisher)
        profiles = []
        if settings.profiles:
            profiles = [profile_likelihood(objective, best, i) for i in range(objective.n_parameters)]
        return cls(label, model, objective, ms, fisher, structural, drift, profiles, temperature=temperature)

    def with_temperature(self, settings: Any) -> "ClosureInference":
        """The same fits at ``settings.temperature``: Fisher information recomputed, no chains yet."""
        from .identifiability import drift_comparison, fisher_analysis
        from .temperature import resolve_temperature

        ms = self.multistart
        temperature = resolve_temperature(settings.temperature, ms.best.F, self.objective.n_residuals)
        fisher = fisher_analysis(self.objective, ms.best.x, temperature=temperature.value, null_rtol=settings.null_rtol)
        drift = drift_comparison(self.model, fisher) if self.objective.kind == "rates" else []
        return ClosureInference(self.label, self.model, self.objective, ms, fisher, self.structural, drift,
                                list(self.profiles), temperature=temperature)

    # ---------------------------------------------------------------- posterior
    def post_burn_in(self) -> np.ndarray:
        return self.chains[:, self.burn_in:, :]

    def diagnose(self, settings: Any, executor: Any = None) -> None:
        from .diagnostics import chain_diagnostics
        from .sampler import acceptance_of

        names = self.objective.parameter_names
        post, notes = chain_diagnostics(self.post_burn_in(), names, executor=executor)
        self.posterior = post
        self.warnings = list(notes)
        for c, st in enumerate(self.chain_states or []):
            hits = [names[i] for i, h in enumerate(st.upper_hits) if h > 0]
            if hits:
                self.warnings.append(f"chain {c} reached the prior bound K_max = {self.start['k_max']:.4g} in {', '.join(hits)}")
        if self.chain_failures is not None and int(self.chain_failures.sum()):
            self.warnings.append(f"{int(self.chain_failures.sum())} proposal(s) had a failed solve (F = +inf, rejected)")
        if self.start and self.start["zero_components"]:
            self.warnings.append("Y1 is 0 in " + ", ".join(self.start["zero_components"]) +
                                 ": their proposal scales are 0.1/0.01 × median(Y1)")
        self.acceptance_per_chain = [acceptance_of(st.counts) for st in (self.chain_states or [])]

    def acceptance(self) -> tuple[float, float]:
        from .sampler import acceptance_of

        total = np.sum([st.counts for st in self.chain_states], axis=0)
        return tuple(acceptance_of(total))  # type: ignore[return-value]

    # ---------------------------------------------------------------- words
    def determined_sentence(self) -> str:
        names = self.objective.parameter_names
        fa = self.fisher
        nf = fa.null_fraction()
        det = [n for n in names if nf[n] < 0.01]
        free = [n for n in names if nf[n] >= 0.01]
        parts = []
        if self.objective.kind == "combinations":
            parts.append(f"The model depends on the rates only through {', '.join(f'{k} = {v}' for k, v in self.objective.combinations.items())}; "
                         "the individual rates are not identifiable and the fit is made in these combinations.")
        if self.structural is not None and self.structural.unidentifiable:
            parts.append("Whatever the data, the closed equations depend on the rates only through "
                         f"{self.structural.rank} combination(s) ({'; '.join(self.structural.combinations)}), "
                         f"so {'; '.join(self.structural.unidentifiable)} cannot be determined.")
        if det:
            parts.append(f"The data determine {', '.join(det)} individually (Fisher).")
        if fa.determined:
            parts.append(f"They determine the combinations {'; '.join(fa.determined)}.")
        if fa.near_null:
            parts.append(f"They do not determine {'; '.join(fa.near_null)} (Fisher eigenvalues below "
                         f"{fa.null_rtol:g} of the largest); {', '.join(free)} vary along these directions.")
        rel = fa.relative
        if rel is not None and self.objective.kind == "rates":
            parts.append(f"In relative changes (the Fisher information of ln k) the data determine "
                         f"{len(rel['determined'])} combination(s)"
                         + (f" ({'; '.join(rel['determined'])})" if len(rel["determined"]) <= 3 else "")
                         + (f" and not {'; '.join(rel['near_null'])}" if rel["near_null"] else "") + ".")
        if self.posterior:
            cvs = {n: r["cv"] for n, r in self.posterior.items()}
            well = [n for n, v in cvs.items() if v is not None and math.isfinite(v) and abs(v) < 0.1]
            poor = [n for n, v in cvs.items() if not (v is not None and math.isfinite(v) and abs(v) < 0.1)]
            if well:
                parts.append(f"Posterior CV < 10% for {', '.join(well)}.")
            if poor:
                parts.append(f"Posterior CV ≥ 10% for {', '.join(poor)}.")
        return " ".join(parts)

    def to_summary(self) -> dict[str, Any]:
        ms = self.multistart
        obj = self.objective
        out: dict[str, Any] = {
            "closure": self.model.closure_label,
            "kind": obj.kind,
            "parameters": list(obj.parameter_names),
            "objective": obj.describe(),
            "best": {"F": ms.best.F, "parameters": dict(zip(obj.parameter_names, map(float, ms.best.x)))},
            "n_minima": ms.n_minima,
            "temperature": self.temperature.to_json() if self.temperature is not None else None,
            "multistart": ms.to_json(),
            "fisher": self.fisher.to_json(),
            "structural": self.structural.to_json() if self.structural is not None else None,
            "drift_relations": self.drift,
            "profiles": [{"parameter": p.parameter, "values": p.values, "F": p.F} for p in self.profiles],
            "determined": self.determined_sentence(),
            "seconds": self.seconds,
        }
        if self.posterior is not None:
            a1, a2 = self.acceptance()
            out.update({
                "posterior": self.posterior,
                "acceptance": {"stage1": a1, "stage2": a2,
                               "per_chain": [{"stage1": a.stage1, "stage2": a.stage2} for a in self.acceptance_per_chain]},
                "chains": {"n_chains": int(self.chains.shape[0]), "samples": int(self.chains.shape[1]),
                           "burn_in": int(self.burn_in), "start": _num(self.start),
                           "failed_solves": int(self.chain_failures.sum()) if self.chain_failures is not None else 0,
                           "F_mean": float(np.mean(self.chain_F[:, self.burn_in:])),
                           "F_min": float(np.min(self.chain_F))},
                "warnings": list(self.warnings),
            })
        return _num(out)


@dataclass
class InferenceResult:
    """The result of :func:`~latticeclosure.inference.run.run_inference` (one entry per closed model)."""

    closures: dict[str, ClosureInference]
    settings: Any
    seconds: float

    def __getitem__(self, label: str) -> ClosureInference:
        return self.closures[label]

    def to_summary(self) -> dict[str, Any]:
        first = next(iter(self.closures.values()))
        return _num({
            "schema": SCHEMA,
            "settings": self.settings.to_json(),
            "datasets": [{"name": d.name, "records": d.n_records, "x": d.x} for d in first.objective.datasets],
            "closures": {k: v.to_summary() for k, v in self.closures.items()},
            "seconds": self.seconds,
        })

    def to_markdown(self, heading: str = "##") -> str:
        s = self.settings
        lines = [f"{heading} Rate constants from data", ""]
        lines.append(f"F(K) of eq. (17) (α = {s.alpha:g}, Q_data from {s.q_data}, {s.quadrature} rule), "
                     f"multi-start least squares from {s.n_starts} starts, "
                     + (f"{s.chains} DR-MH chain(s) × {s.samples} samples ({'DRAM' if s.adaptive else 'Algorithm 1'}, "
                        f"σ1 = {s.sigma1:g}·Y1, σ2 = {s.sigma2:g}·Y1, temperature s = {_setting(s.temperature)})."
                        if s.method == "mcmc" else "no sampling (method lsq)."))
        lines.append("")
        lines.append("| closure | best F | distinct minima | temperature s | acceptance (stage 1 / 2) | max R-hat | min ESS (bulk / tail) |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- |")
        for label, ci in self.closures.items():
            acc = rh = ess = "—"
            if ci.posterior:
                a1, a2 = ci.acceptance()
                acc = f"{a1:.2f} / {a2:.2f}"
                rhs = [r["r_hat"] for r in ci.posterior.values() if r["r_hat"] is not None and math.isfinite(r["r_hat"])]
                eb = [r["ess_bulk"] for r in ci.posterior.values() if r["ess_bulk"] is not None]
                et = [r["ess_tail"] for r in ci.posterior.values() if r["ess_tail"] is not None]
                rh = f"{max(rhs):.3f}" if rhs else "—"
                ess = f"{min(eb):.0f} / {min(et):.0f}" if eb and et else "—"
            temp = f"{ci.temperature.value:.4g}" if ci.temperature is not None else "—"
            lines.append(f"| {label} | {ci.multistart.best.F:.6g} | {ci.multistart.n_minima} | {temp} | {acc} | {rh} | {ess} |")
        for label, ci in self.closures.items():
            names = ci.objective.parameter_names
            lines += ["", f"{heading}# {label}", ""]
            lines.append(ci.determined_sentence())
            if ci.temperature is not None:
                lines.append("")
                lines.append(f"Temperature: {ci.temperature.describe()}.")
            lines.append("")
            lines.append("| parameter | best fit | spread over the best minimum | posterior mean | sd | CV | R-hat | ESS bulk | ESS tail |")
            lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            sp = ci.multistart.best.spread
            for j, n in enumerate(names):
                row = [n, f"{ci.multistart.best.x[j]:.5g}", f"{sp[n]['min']:.4g} … {sp[n]['max']:.4g}"]
                if ci.posterior:
                    r = ci.posterior[n]
                    row += [f"{r['mean']:.5g}", f"{r['sd']:.3g}", f"{r['cv']:.3g}",
                            f"{r['r_hat']:.3f}" if r["r_hat"] is not None else "—",
                            f"{r['ess_bulk']:.0f}" if r["ess_bulk"] is not None else "—",
                            f"{r['ess_tail']:.0f}" if r["ess_tail"] is not None else "—"]
                else:
                    row += ["—"] * 6
                lines.append("| " + " | ".join(row) + " |")
            minima = ci.multistart.minima
            lines.append("")
            lines.append("Local minima (F, fits): " + ", ".join(f"{m.F:.6g} ({len(m.members)})" for m in minima[:10])
                         + (" …" if len(minima) > 10 else ""))
            lines.append("Fisher eigenvalues: " + ", ".join(f"{v:.3g}" for v in ci.fisher.eigenvalues))
            if ci.fisher.near_null:
                lines.append("Near-null combinations: " + "; ".join(ci.fisher.near_null))
            for rel in ci.drift:
                lines.append(f"Drift relation {rel['relation']}: share in the determined space {rel['determined_share']:.3f}, "
                             f"relative residual at the fit {rel['relative_residual']:.3g}")
            for q in ci.objective.q_notes:
                lines.append(f"Note: {q}")
            for w in ci.warnings:
                lines.append(f"Warning: {w}")
        return "\n".join(lines) + "\n"

    # ---------------------------------------------------------------- files
    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """``summary.json``, ``report.md``, per-closure fits and chains (``.npz``) and the figures."""
        from ..io.atomic import write_bytes_atomic, write_text_atomic
        from ..io.outdir import ensure_directory

        out = Path(out_dir)
        ensure_directory(out / "fits")
        paths: dict[str, Path] = {}
        write_text_atomic(out / "summary.json", json.dumps(self.to_summary(), indent=1, allow_nan=False) + "\n")
        paths["summary"] = out / "summary.json"
        write_text_atomic(out / "report.md", self.to_markdown())
        paths["report"] = out / "report.md"
        for label, ci in self.closures.items():
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in label)
            ms = ci.multistart
            arrays = {"parameter_names": np.array(ms.parameter_names), "starts": ms.starts,
                      "x": np.array([f.x for f in ms.fits]), "F": np.array([f.F for f in ms.fits]),
                      "status": np.array([f.status for f in ms.fits]),
                      "fisher_eigenvalues": ci.fisher.eigenvalues, "fisher_eigenvectors": ci.fisher.eigenvectors}
            write_bytes_atomic(out / "fits" / f"{safe}.npz", lambda fh, a=arrays: np.savez(fh, **a))
            paths[f"fits:{label}"] = out / "fits" / f"{safe}.npz"
            if ci.chains is not None:
                ensure_directory(out / "chains")
                carr = {"parameter_names": np.array(ci.objective.parameter_names), "samples": ci.chains,
                        "F": ci.chain_F, "stage": ci.chain_stage, "burn_in": np.asarray(ci.burn_in)}
                write_bytes_atomic(out / "chains" / f"{safe}.npz", lambda fh, a=carr: np.savez(fh, **a))
                paths[f"chains:{label}"] = out / "chains" / f"{safe}.npz"
        paths.update(self.write_figures(out / "figures"))
        return paths

    def write_figures(self, out_dir: str | Path) -> dict[str, Path]:
        """Fig. 13 and the corner plot per sampled closure, Fig. 14, best-fit trajectories, waterfall."""
        from . import figures

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        reference = {lbl: ci.multistart.best.F for lbl, ci in self.closures.items() if ci.objective.kind == "combinations"}
        hists = {}
        for label, ci in self.closures.items():
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in label)
            if ci.chains is not None and ci.objective.kind == "rates":
                post = ci.post_burn_in().reshape(-1, ci.objective.n_parameters)
                F = ci.chain_F[:, ci.burn_in:].reshape(-1)
                paths[f"fig13:{label}"] = figures.figure13(post, F, ci.objective.parameter_names, out / f"fig13_{safe}.png",
                                                           title=label)
                hists[label] = F
            if ci.chains is not None:
                post = ci.post_burn_in().reshape(-1, ci.objective.n_parameters)
                paths[f"corner:{label}"] = figures.corner_plot(post, ci.objective.parameter_names, out / f"corner_{safe}.png",
                                                               title=label)
        if hists:
            paths["fig14"] = figures.figure14(hists, out / "fig14.png", reference_F=reference)
        first = next(iter(self.closures.values()))
        datasets = first.objective.datasets
        preds = {label: ci.objective.predict(ci.multistart.best.x) for label, ci in self.closures.items()}
        for d, ds in enumerate(datasets):
            data = {n: np.asarray(ds[n]) for n in first.objective.window_names}
            paths[f"trajectories:{ds.name}"] = figures.trajectories_plot(
                np.asarray(ds.time), data, {k: v[d] for k, v in preds.items()}, first.objective.window_names,
                out / f"trajectories_{''.join(ch if ch.isalnum() or ch in '-_.' else '_' for ch in ds.name)}.png",
                title=ds.name)
        paths["waterfall"] = figures.waterfall_plot({k: ci.multistart.sorted_F() for k, ci in self.closures.items()},
                                                    out / "waterfall.png")
        return paths
