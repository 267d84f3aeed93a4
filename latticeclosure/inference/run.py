"""One entry point: multi-start fit, identifiability and DR-MH posterior for one or several closed models.

:func:`run_inference` is what ``latticeclosure infer`` and the main job's inference section call.
For each closed model (label → model): build F (rates, or the rate combinations of a linear model),
multi-start least squares, Fisher/structural identifiability at the best minimum (profiles
optional), then ``chains`` DR-MH chains started at the best minimum (``method="mcmc"``), with
ArviZ diagnostics. Everything parallel goes through one executor; every chain is checkpointed
after each segment when ``out_dir`` is given, and ``resume=True`` continues bit-identically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import ConfigurationError, OutputDirectoryError

__all__ = ["InferenceSettings", "run_inference", "chain_start", "FIT_SETTINGS"]

SETTINGS_FILE = "inference-run.json"


@dataclass(frozen=True)
class InferenceSettings:
    """Settings of :func:`run_inference` (defaults sized for a quick run; ``samples=100000`` is the paper's).

    Parameters
    ----------
    method : {"mcmc", "lsq"}
        ``lsq`` stops after the multi-start fit and identifiability.
    alpha, q_data, variables, weights, quadrature, rtol, atol
        Options of F (:class:`~latticeclosure.inference.objective.ObjectiveOptions`).
    combinations : bool
        Fit linear models in their rate combinations (closed form).
    temperature : float or "auto"
        ``s`` in the likelihood ``exp(−F/s)`` (default 1); ``"auto"``: ``2·F_min/n`` per closed model
        from its best fit (:mod:`latticeclosure.inference.temperature`).
    n_starts, design, log_parameters : multi-start options.
    samples, chains : int
        Samples per chain and number of chains.
    burn_in : int, optional
        Samples discarded before diagnostics (default 0; ``samples // 4`` with ``adaptive``).
    adaptive : bool
        DRAM instead of the fixed kernels of Algorithm 1.
    sigma1, sigma2 : float
        Proposal half-widths as fractions of the start point (0.1 and 0.01).
    k_max_factor : float
        Prior upper bound ``K_max = k_max_factor·max(Y1)``.
    seed : int
    workers : int
        Local processes when no executor is given (1: in this process).
    profiles : bool
        Profile likelihoods of every rate.
    null_rtol : float
        Relative eigenvalue threshold of the Fisher near-null space.
    segment : int
        Samples per chain task (checkpoint and progress granularity; results do not depend on it).
    """

    method: str = "mcmc"
    alpha: float = 0.0
    q_data: str = "triplets"
    variables: tuple[str, ...] | None = None
    weights: tuple[tuple[str, float], ...] | None = None
    quadrature: str = "trapezoid"
    rtol: float = 1e-6
    atol: float = 1e-9
    combinations: bool = True
    temperature: float | str = 1.0
    n_starts: int = 8
    design: str = "lhs"
    log_parameters: bool = False
    samples: int = 4000
    chains: int = 2
    burn_in: int | None = None
    adaptive: bool = False
    sigma1: float = 0.1
    sigma2: float = 0.01
    k_max_factor: float = 100.0
    seed: int = 0
    workers: int = 1
    profiles: bool = False
    null_rtol: float = 1e-6
    segment: int = 10000

    @classmethod
    def make(cls, **kw: Any) -> "InferenceSettings":
        unknown = set(kw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigurationError(f"unknown inference settings {sorted(unknown)}")
        if kw.get("variables") is not None:
            kw["variables"] = tuple(kw["variables"])
        if "temperature" in kw:
            from .temperature import check_temperature

            kw["temperature"] = check_temperature(kw["temperature"])
        if kw.get("weights") is not None:
            w = kw["weights"]
            kw["weights"] = tuple((str(k), float(v)) for k, v in (w.items() if isinstance(w, Mapping) else w))
        s = cls(**kw)
        s.validate()
        return s

    def validate(self) -> None:
        def posint(name: str, minimum: int = 1) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) < minimum:
                raise ConfigurationError(f"{name} must be an integer >= {minimum}, got {v!r}")

        if self.method not in ("mcmc", "lsq"):
            raise ConfigurationError(f"method must be 'mcmc' or 'lsq', got {self.method!r}")
        for name in ("samples", "chains", "n_starts", "workers", "segment"):
            posint(name)
        posint("seed", 0)
        if self.burn_in is not None:
            posint("burn_in", 0)
            if self.burn_in >= self.samples:
                raise ConfigurationError(f"burn_in ({self.burn_in}) must be smaller than samples ({self.samples})")
        from .temperature import check_temperature

        if check_temperature(self.temperature) != self.temperature:
            raise ConfigurationError(f"temperature must be a positive number or 'auto', got {self.temperature!r}")
        for name in ("sigma1", "sigma2", "k_max_factor", "null_rtol"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ConfigurationError(f"{name} must be a positive finite number, got {v!r}")
        self.objective_options().validate()

    def objective_options(self) -> Any:
        from .objective import ObjectiveOptions

        return ObjectiveOptions(variables=self.variables, weights=self.weights, alpha=self.alpha, q_data=self.q_data,
                                quadrature=self.quadrature, rtol=self.rtol, atol=self.atol)

    @property
    def effective_burn_in(self) -> int:
        if self.burn_in is not None:
            return int(self.burn_in)
        return self.samples // 4 if self.adaptive else 0

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["variables"] = list(self.variables) if self.variables is not None else None
        d["weights"] = dict(self.weights) if self.weights is not None else None
        return d

    def key(self) -> dict[str, Any]:
        """What a resumed run must share (not the number of workers or the segment size)."""
        d = self.to_json()
        d.pop("workers")
        d.pop("segment")
        return d


def chain_start(objective: Any, best: np.ndarray, settings: InferenceSettings) -> dict[str, Any]:
    """Start point, scales and prior box of the chains from the best minimum ``Y1`` (Algorithm 1)."""
    from .sampler import default_scales

    y1 = np.asarray(best, dtype=float)
    s1, zero = default_scales(y1, settings.sigma1)
    s2, _ = default_scales(y1, settings.sigma2)
    x0 = y1.copy()
    if np.all(objective.lower_bounds >= 0):
        kmax = settings.k_max_factor * float(np.max(y1))
        lower, upper = np.zeros_like(y1), np.full_like(y1, kmax)
        # the prior is (0, K_max]: components fitted to exactly 0 start just inside it
        x0[x0 <= 0] = 0.5 * s2[x0 <= 0]
    else:
        kmax = settings.k_max_factor * float(np.max(np.abs(y1)))
        lower, upper = np.full_like(y1, -kmax), np.full_like(y1, kmax)
    return {"x0": x0, "scales": s1, "scales2": s2, "lower": lower, "upper": upper, "k_max": kmax,
            "zero_components": [objective.parameter_names[i] for i in zero]}


def _chain_task(objective: Any, state: Any, n: int, inv_temp: float) -> tuple:
    from .sampler import advance_chain

    before = objective.failures_array.copy()
    if objective.kind == "rates":
        evaluator = ("model", objective, inv_temp)
    else:
        evaluator = ("python", lambda y: -objective.value(y) * inv_temp)
    new, s, v, g = advance_chain(state, n, evaluator)
    if objective.kind != "rates":
        v = -v / inv_temp  # record F, as the compiled path does
        new.value = -new.log_density / inv_temp
    return new, s, v, g, objective.failures_array - before


def _settings_digest(settings: InferenceSettings, fingerprints: Mapping[str, str]) -> dict[str, Any]:
    return {"settings": settings.key(), "models": dict(fingerprints)}


def _check_resume(out: Path, digest: dict[str, Any], resume: bool) -> None:
    path = out / SETTINGS_FILE
    if path.exists():
        if not resume:
            raise OutputDirectoryError(f"{out} already holds an inference run; pass resume=True (--resume) to continue it or choose another directory")
        from ..io.reading import load_json

        old = load_json(path, what="inference settings", error=OutputDirectoryError)
        if not isinstance(old, dict):
            raise OutputDirectoryError(f"{path} is not an inference settings record; use a new output directory")
        diff = sorted(k for k in set(old.get("settings", {})) | set(digest["settings"])
                      if old.get("settings", {}).get(k) != digest["settings"].get(k))
        if old.get("models") != digest["models"]:
            diff.append("models/data")
        if diff:
            raise ConfigurationError(f"cannot resume {out}: the run was made with different settings ({', '.join(diff)}); "
                                     "use the same options or a new output directory")
    elif resume and out.exists() and any(out.iterdir()):
        raise OutputDirectoryError(f"cannot resume {out}: it holds no inference run ({SETTINGS_FILE} missing)")


def run_inference(
    models: Any,
    datasets: Any,
    settings: InferenceSettings | Mapping[str, Any] | None = None,
    *,
    executor: Executor | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool | Callable[[str], None] | None = None,
    closure_params: Mapping[str, Any] | None = None,
    previous: Any = None,
) -> Any:
    """Fit, analyse and sample the rate constants of one or several closed models.

    Parameters
    ----------
    models : ClosedModel or mapping label → ClosedModel
    datasets : dataset(s)
        Anything :func:`latticeclosure.closures.dataset.as_datasets` accepts (all models see the same data).
    settings : InferenceSettings or mapping, optional
    executor : concurrent.futures.Executor, optional
        Runs the multi-start fits and chain segments (default: ``settings.workers`` local processes).
    out_dir : path, optional
        Checkpoints (``chains/<label>_chain<c>.npz``, pickle-free) and the run's settings go here.
    resume : bool
        Continue the checkpointed chains of ``out_dir`` (the settings must match).
    progress : bool or callable, optional
        A progress bar on stderr (None: only when stderr is a terminal); a callable receives log lines.
    closure_params : mapping label → values, optional
        Values of free closure parameters per model.
    previous : InferenceResult, optional
        A result for the same models and data whose multi-start fits (and profiles) are reused: only
        the temperature-dependent parts (Fisher information, chains) are redone — e.g. the same
        fits sampled at ``temperature="auto"`` after ``temperature=1``. Settings that shape the fits
        (:data:`FIT_SETTINGS`) must agree.

    Returns
    -------
    InferenceResult
    """
    from ..io.outdir import check_output_name, ensure_directory
    from ..io.runlock import RunLock
    from .objective import build_objective

    if settings is None:
        settings = InferenceSettings()
    elif isinstance(settings, Mapping):
        settings = InferenceSettings.make(**settings)
    settings.validate()
    if not isinstance(models, Mapping):
        models = {getattr(models, "closure_label", "model"): models}
    if not models:
        raise ConfigurationError("no closed models given")
    log: Callable[[str], None] = progress if callable(progress) else (lambda s: None)
    show_bar = bool(progress) if not callable(progress) and progress is not None else (
        progress is None and sys.stderr.isatty())
    objectives = {}
    for label, model in models.items():
        cp = (closure_params or {}).get(label)
        objectives[label] = build_objective(model, datasets, settings.objective_options(),
                                            combinations=settings.combinations, closure_params=cp)
    if previous is not None:
        _check_previous(previous, settings, objectives)
    out = check_output_name(out_dir, "output directory") if out_dir is not None else None
    with contextlib.ExitStack() as held:
        if out is not None:
            ensure_directory(out)
            held.enter_context(RunLock(out, "inference"))
            digest = _settings_digest(settings, {k: o.fingerprint() for k, o in objectives.items()})
            _check_resume(out, digest, resume)
            ensure_directory(out / "chains")
            from ..io.atomic import write_text_atomic

            write_text_atomic(out / SETTINGS_FILE, json.dumps(digest, indent=1, sort_keys=True) + "\n")
        return _run_all(models, objectives, settings, executor, out, resume, show_bar, log, previous)


def _run_all(models: Mapping[str, Any], objectives: Mapping[str, Any], settings: InferenceSettings,
             executor: Executor | None, out: Path | None, resume: bool, show_bar: bool,
             log: Callable[[str], None], previous: Any) -> Any:
    """:func:`run_inference` once the output directory (if any) is locked."""
    from .parallel import local_executor
    from .results import ClosureInference, InferenceResult, load_checkpoint, save_checkpoint

    results = {}
    t_start = time.perf_counter()
    with local_executor(executor, settings.workers) as ex:
        for label, obj in objectives.items():
            t0 = time.perf_counter()
            if previous is not None:
                log(f"inference [{label}]: the multi-start fits of the previous result, temperature {settings.temperature}")
                ci = previous[label].with_temperature(settings)
            else:
                log(f"inference [{label}]: multi-start least squares from {settings.n_starts} starts")
                ci = ClosureInference.fit(label, models[label], obj, settings, ex)
            if settings.method == "mcmc":
                log(f"inference [{label}]: {settings.chains} DR-MH chain(s) of {settings.samples} samples")
                _run_chains(ci, settings, ex, out, resume, show_bar, save_checkpoint, load_checkpoint)
                ci.diagnose(settings, ex)
            ci.seconds = time.perf_counter() - t0
            results[label] = ci
    return InferenceResult(results, settings, time.perf_counter() - t_start)


#: Settings that shape the multi-start fits: a result reused through ``previous`` must share them.
FIT_SETTINGS = ("alpha", "q_data", "variables", "weights", "quadrature", "rtol", "atol", "combinations", "n_starts",
                "design", "log_parameters", "seed", "profiles")


def _check_previous(previous: Any, settings: InferenceSettings, objectives: Mapping[str, Any]) -> None:
    missing = [k for k in objectives if k not in previous.closures]
    if missing:
        raise ConfigurationError(f"the previous inference result has no fits for {missing}; it has {list(previous.closures)}")
    diff = [k for k in FIT_SETTINGS if getattr(previous.settings, k) != getattr(settings, k)]
    if diff:
        raise ConfigurationError(f"the previous inference result was fitted with other settings ({', '.join(diff)})")
    other = [k for k, o in objectives.items() if previous[k].objective.fingerprint() != o.fingerprint()]
    if other:
        raise ConfigurationError(f"the previous inference result was fitted to other models or data ({', '.join(other)})")


def _run_chains(ci: Any, settings: InferenceSettings, ex: Executor, out: Path | None, resume: bool, show_bar: bool,
                save_checkpoint: Callable, load_checkpoint: Callable) -> None:
    from ..errors import CheckpointError, CheckpointMismatchError
    from ..simulation.sweep import set_aside
    from .parallel import STREAM_CHAINS, task_seed
    from .results import check_chain_checkpoint
    from .sampler import acceptance_of, init_chain

    obj = ci.objective
    start = chain_start(obj, ci.multistart.best.x, settings)
    ci.start = start
    inv_temp = 1.0 / ci.temperature.value
    f0 = obj.value(start["x0"])
    lp0 = -f0 * inv_temp
    if not math.isfinite(lp0):
        raise ConfigurationError(f"[{ci.label}] F is not finite at the chains' start point {start['x0'].tolist()}")
    n, d, C = settings.samples, obj.n_parameters, settings.chains
    burn = settings.effective_burn_in
    key = hashlib.sha256(json.dumps({"s": settings.key(), "m": obj.fingerprint()}, sort_keys=True).encode()).hexdigest()
    states, samples, values, stages = [], np.empty((C, n, d)), np.empty((C, n)), np.zeros((C, n), dtype=np.int8)
    fails = np.zeros(8, dtype=np.int64)
    paths = []
    for c in range(C):
        path = out / "chains" / f"{_safe(ci.label)}_chain{c}.npz" if out is not None else None
        paths.append(path)
        st = None
        fresh = init_chain(start["x0"], lp0, f0, scales=start["scales"], scales2=start["scales2"],
                           seed=task_seed(settings.seed, STREAM_CHAINS, c), lower=start["lower"], upper=start["upper"],
                           adaptive=settings.adaptive, burn_in=burn)
        if path is not None and resume and path.exists():
            try:
                st, s, v, g = load_checkpoint(path, key)
                check_chain_checkpoint(path, st, fresh, s, v, g, n)
            except CheckpointMismatchError:
                raise
            except CheckpointError as exc:
                # a corrupt checkpoint costs its chain, not the whole resume
                moved = set_aside(path)
                print(f"warning: {exc}; set aside as {moved.name}; chain {c} starts afresh", file=sys.stderr)
                st = None
            else:
                k = s.shape[0]
                samples[c, :k], values[c, :k], stages[c, :k] = s, v, g
        if st is None:
            st = fresh
        states.append(st)
    bar = None
    if show_bar:
        from tqdm import tqdm

        bar = tqdm(total=C * n, initial=sum(s.n_done for s in states), unit="sample", desc=f"DR-MH {ci.label}",
                   file=sys.stderr)
    pending = {}

    def submit(c: int) -> None:
        m = min(settings.segment, n - states[c].n_done)
        if m > 0:
            pending[ex.submit(_chain_task, obj, states[c], m, inv_temp)] = c

    for c in range(C):
        submit(c)
    while pending:
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for fut in done:
            c = pending.pop(fut)
            new, s, v, g, f = fut.result()
            a, b = states[c].n_done, new.n_done
            samples[c, a:b], values[c, a:b], stages[c, a:b] = s, v, g
            fails += f
            states[c] = new
            if paths[c] is not None:
                save_checkpoint(paths[c], key, new, samples[c, :b], values[c, :b], stages[c, :b])
            if bar is not None:
                acc = acceptance_of(np.sum([st.counts for st in states], axis=0))
                bar.set_postfix(stage1=f"{acc.stage1:.2f}", stage2=f"{acc.stage2:.2f}")
                bar.update(b - a)
            submit(c)
    if bar is not None:
        bar.close()
    ci.chains = samples
    ci.chain_F = values
    ci.chain_stage = stages
    ci.chain_states = states
    ci.chain_failures = fails
    ci.burn_in = burn


def _safe(label: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in label)
