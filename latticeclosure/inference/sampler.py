"""Two-stage delayed-rejection Metropolis–Hastings (the paper's Algorithm 1) and its adaptive form.

One transition from ``K^{n-1} = x``:

1. propose ``y1 = x + ξ``, ``ξ ~ U[−σ1, σ1]`` (componentwise); accept with
   ``α1(x, y1) = min{1, π(y1)/π(x)}`` (eq. 23);
2. if rejected, propose ``y2 = x + ε``, ``ε ~ U[−σ2, σ2]``; accept with the delayed-rejection
   probability of eq. (24) (Tierney & Mira),

   .. math:: α_2 = \\min\\Big\\{1, \\frac{π(y_2)\\, q_1(y_1 | y_2)\\, [1 − α_1(y_2, y_1)]}
                                    {π(x)\\, q_1(y_1 | x)\\, [1 − α_1(x, y_1)]}\\Big\\},

   where the uniform kernel's ``q1(y1|y2)/q1(y1|x)`` is 1 if ``y1`` lies within ``σ1`` of ``y2``
   (componentwise) and 0 otherwise;
3. **if both stages reject, ``K^n = K^{n-1}`` is recorded as sample n.** The printed algorithm
   only advances ``n`` on an acceptance, which would sample the jump chain (the sequence of
   distinct points), not the posterior; recording the repeated point is what makes the chain's
   stationary distribution π.

The prior is uniform on the box ``(lower, upper]`` (``π = 0`` outside: such a proposal is rejected
without evaluating the density). ``adaptive=True`` is DRAM (Haario, Laine, Mira & Saksman 2006):
the stage-1 kernel becomes ``x + L (2u − 1)`` with ``L Lᵀ/3 = (2.4²/d) (Cov + ε)`` of the chain so
far, re-estimated every ``adapt_every`` samples from ``adapt_start`` on, the stage-2 kernel the same
scaled by ``σ2/σ1``; adaptation stops at ``burn_in`` so the chain is a Markov chain (with fixed
kernels) afterwards, and only samples after ``burn_in`` should be used.

The loop is compiled (:mod:`._kernels`) for numba log densities and for the inference objective;
any Python callable works too (interpreted loop). Random numbers come in per-sample groups of
``2d + 2`` uniforms from one ``numpy.random.Generator`` (PCG64), so the chain does not depend on
how it is cut into blocks: a chain continued from a saved :class:`ChainState` is bit-identical to
an uninterrupted one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numpy as np

from ..errors import ConfigurationError

__all__ = ["dr_metropolis", "DRResult", "Acceptance", "ChainState", "init_chain", "advance_chain", "default_scales"]

_BLOCK = 4096


class Acceptance(NamedTuple):
    """Acceptance rates: stage 1 over all proposals, stage 2 over second-stage proposals."""

    stage1: float
    stage2: float


def default_scales(start: np.ndarray, factor: float) -> tuple[np.ndarray, list[int]]:
    """``factor·|Y1|``, with components where Y1 is 0 given ``factor·median(|Y1|)``; also those indices."""
    y = np.abs(np.asarray(start, dtype=float))
    zero = [i for i in range(len(y)) if y[i] == 0.0]
    s = factor * y
    if zero:
        med = float(np.median(y))
        if not med > 0:
            raise ConfigurationError("the start point is 0 in most components: give the proposal scales explicitly")
        s[zero] = factor * med
    return s, zero


@dataclass
class ChainState:
    """Everything needed to continue a chain exactly (saved in checkpoints, pickle-free)."""

    x: np.ndarray
    log_density: float
    value: float
    L1: np.ndarray
    L2: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    rng_state: str
    n_done: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(8, dtype=np.int64))
    upper_hits: np.ndarray | None = None
    adaptive: bool = False
    burn_in: int = 0
    adapt_start: int = 0
    adapt_every: int = 100
    ratio: np.ndarray | None = None
    eps: np.ndarray | None = None
    shift: np.ndarray | None = None
    s1: np.ndarray | None = None
    s2: np.ndarray | None = None

    @property
    def d(self) -> int:
        return int(self.x.shape[0])

    def copy(self) -> "ChainState":
        kw = {}
        for k in self.__dataclass_fields__:
            v = getattr(self, k)
            kw[k] = v.copy() if isinstance(v, np.ndarray) else v
        return ChainState(**kw)

    def to_arrays(self, prefix: str = "state_") -> dict[str, np.ndarray]:
        out = {}
        for k in self.__dataclass_fields__:
            v = getattr(self, k)
            out[prefix + k] = np.asarray(v) if v is not None else np.asarray([], dtype=float)
        return out

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str = "state_") -> "ChainState":
        kw: dict[str, Any] = {}
        for k, f in cls.__dataclass_fields__.items():
            v = np.asarray(arrays[prefix + k])
            if k in ("log_density", "value"):
                kw[k] = float(v)
            elif k in ("n_done", "burn_in", "adapt_start", "adapt_every"):
                kw[k] = int(v)
            elif k == "adaptive":
                kw[k] = bool(v)
            elif k == "rng_state":
                kw[k] = str(v)
            elif v.size == 0 and k in ("upper_hits", "ratio", "eps", "shift", "s1", "s2"):
                kw[k] = None
            else:
                kw[k] = v.copy()
        return cls(**kw)


@dataclass
class DRResult:
    """A chain of :func:`dr_metropolis`.

    Attributes
    ----------
    samples : ndarray (n_samples, d)
        ``K^1 … K^n`` (a repeated point where both stages rejected).
    log_density : ndarray (n_samples,)
        log π at each sample (for the inference objective: the value F instead, see ``values``).
    stage : ndarray of int8
        0 rejected, 1 accepted at stage 1, 2 accepted at stage 2.
    acceptance : Acceptance
        ``(stage1, stage2)``: stage-1 acceptances over all proposals, stage-2 acceptances over
        second-stage proposals.
    counts : dict
        Proposals and acceptances per stage, prior-box rejections, evaluations.
    burn_in : int
        Samples before this index belong to the adaptation (DRAM) and should be discarded.
    state : ChainState
        Where the chain stopped (continue with :func:`advance_chain`).
    """

    samples: np.ndarray
    log_density: np.ndarray
    stage: np.ndarray
    acceptance: Acceptance
    counts: dict[str, int]
    burn_in: int
    state: ChainState
    scales: np.ndarray
    scales2: np.ndarray


def counts_dict(counts: np.ndarray, upper_hits: np.ndarray | None = None) -> dict[str, Any]:
    c = [int(v) for v in counts]
    out = {
        "stage1_proposals": c[0], "stage1_accepted": c[1], "stage2_proposals": c[2], "stage2_accepted": c[3],
        "below_prior": c[4], "above_prior": c[5], "stage2_outside_reverse_kernel": c[6], "evaluations": c[7],
    }
    if upper_hits is not None:
        out["above_prior_per_parameter"] = [int(v) for v in upper_hits]
    return out


def acceptance_of(counts: np.ndarray) -> Acceptance:
    c = counts
    a1 = float(c[1]) / c[0] if c[0] else float("nan")
    a2 = float(c[3]) / c[2] if c[2] else float("nan")
    return Acceptance(a1, a2)


def _rng_from_state(state: str) -> np.random.Generator:
    bg = np.random.PCG64()
    bg.state = json.loads(state)
    return np.random.Generator(bg)


def _rng_state(rng: np.random.Generator) -> str:
    return json.dumps(rng.bit_generator.state, sort_keys=True)


def _check_vector(name: str, v: Any, d: int, positive: bool) -> np.ndarray:
    arr = np.asarray(v, dtype=float).reshape(-1)
    if arr.shape[0] != d:
        raise ConfigurationError(f"{name} has {arr.shape[0]} components; the start point has {d}")
    if not np.all(np.isfinite(arr)):
        raise ConfigurationError(f"{name} must be finite, got {arr.tolist()}")
    if positive and not np.all(arr > 0):
        raise ConfigurationError(f"{name} must be positive, got {arr.tolist()}")
    return arr


def init_chain(
    start: Any,
    log_density_at_start: float,
    value_at_start: float,
    *,
    scales: Any,
    scales2: Any,
    seed: Any,
    lower: Any = None,
    upper: Any = None,
    adaptive: bool = False,
    burn_in: int = 0,
    adapt_start: int | None = None,
    adapt_every: int = 100,
) -> ChainState:
    """A chain at ``start`` with the given kernels (validated; see :func:`dr_metropolis`)."""
    x = np.asarray(start, dtype=float).reshape(-1)
    d = x.shape[0]
    if d == 0 or not np.all(np.isfinite(x)):
        raise ConfigurationError(f"the start point must be a non-empty finite vector, got {x.tolist()}")
    s1 = _check_vector("scales", scales, d, True)
    s2 = _check_vector("scales2", scales2, d, True)
    lo = np.full(d, -np.inf) if lower is None else np.asarray(lower, dtype=float).reshape(-1)
    hi = np.full(d, np.inf) if upper is None else np.asarray(upper, dtype=float).reshape(-1)
    if lo.shape[0] != d or hi.shape[0] != d:
        raise ConfigurationError(f"prior bounds must have {d} components")
    if not (np.all(x > lo) and np.all(x <= hi)):
        raise ConfigurationError(f"the start point {x.tolist()} lies outside the prior box (lower, upper]")
    if not math.isfinite(log_density_at_start):
        raise ConfigurationError(f"the log density at the start point is not finite ({log_density_at_start})")
    burn_in = int(burn_in)
    if burn_in < 0:
        raise ConfigurationError(f"burn_in must be >= 0, got {burn_in}")
    if adaptive:
        adapt_every = int(adapt_every)
        if adapt_every < 1:
            raise ConfigurationError(f"adapt_every must be a positive integer, got {adapt_every}")
        adapt_start = int(adapt_start if adapt_start is not None else max(10 * d, 100))
        if adapt_start < 2:
            raise ConfigurationError("adapt_start must be >= 2")
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    rng = np.random.Generator(np.random.PCG64(ss))
    return ChainState(
        x=x.copy(), log_density=float(log_density_at_start), value=float(value_at_start),
        L1=np.ascontiguousarray(np.diag(s1)), L2=np.ascontiguousarray(np.diag(s2)),
        lower=np.ascontiguousarray(lo), upper=np.ascontiguousarray(hi), rng_state=_rng_state(rng),
        upper_hits=np.zeros(d, dtype=np.int64), adaptive=bool(adaptive), burn_in=burn_in,
        adapt_start=int(adapt_start or 0), adapt_every=int(adapt_every), ratio=s2 / s1, eps=1e-8 * s1 ** 2,
        shift=x.copy(), s1=np.zeros(d), s2=np.zeros((d, d)),
    )


def _accumulate(state: ChainState, samples: np.ndarray) -> None:
    """Sequential sums of (x − shift) and their outer products (order-exact, block-independent)."""
    from ._kernels import accumulate

    accumulate(np.ascontiguousarray(samples), state.shift, state.s1, state.s2)


def _adapt(state: ChainState) -> None:
    n = state.n_done
    d = state.d
    mean = state.s1 / n
    cov = (state.s2 - n * np.outer(mean, mean)) / (n - 1)
    cov = 0.5 * (cov + cov.T) + np.diag(state.eps)
    try:
        C = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return  # keep the previous kernel (degenerate chain so far)
    L1 = math.sqrt(3.0 * 2.38 ** 2 / d) * C
    state.L1 = np.ascontiguousarray(L1)
    state.L2 = np.ascontiguousarray(state.ratio[:, None] * L1)


def _next_stop(state: ChainState, n_end: int) -> int:
    """The next sample count at which the chain must pause (adaptation point or ``n_end``)."""
    n = state.n_done
    stop = min(n_end, n + _BLOCK)
    if state.adaptive and n < state.burn_in:
        if n < state.adapt_start:
            a = state.adapt_start
        else:
            a = state.adapt_start + ((n - state.adapt_start) // state.adapt_every + 1) * state.adapt_every
        if a <= state.burn_in:
            stop = min(stop, a)
    return stop


def advance_chain(state: ChainState, n: int, evaluator: Any) -> tuple[ChainState, np.ndarray, np.ndarray, np.ndarray]:
    """Run ``n`` more transitions; return ``(new state, samples, values, stage)`` of those transitions.

    ``evaluator`` is ``("python", callable)``, ``("numba", dispatcher)`` or ``("model", objective,
    inverse temperature)``; values are log π for the first two and F for the model.
    """
    from . import _kernels

    st = state.copy()
    d = st.d
    rng = _rng_from_state(st.rng_state)
    samples = np.empty((n, d))
    values = np.empty(n)
    stage = np.empty(n, dtype=np.int8)
    cur = np.array([st.log_density, st.value])
    y1 = np.empty(d)
    y2 = np.empty(d)
    n_end = st.n_done + n
    pos = 0
    kind = evaluator[0]
    if kind == "model":
        obj = evaluator[1]
        inv_temp = float(evaluator[2])
        funcs = obj.kernel_functions()
        kargs = obj.kernel_arguments()
    while st.n_done < n_end:
        stop = _next_stop(st, n_end)
        m = stop - st.n_done
        rand = rng.random((m, 2 * d + 2))
        L1inv = np.ascontiguousarray(np.linalg.inv(st.L1))
        out_s = samples[pos:pos + m]
        out_v = values[pos:pos + m]
        out_g = stage[pos:pos + m]
        if kind == "model":
            saved = (st.x.copy(), cur.copy(), st.counts.copy(), st.upper_hits.copy())
            try:
                _kernels.dr_block_model(*funcs, *kargs, inv_temp, st.x, cur, st.L1, L1inv, st.L2, st.lower, st.upper, rand,
                                        out_s, out_v, out_g, st.counts, st.upper_hits, y1, y2)
            except ArithmeticError:
                # generated model code divided by an exact zero somewhere in this block: redo the block
                # with the same random numbers, evaluating F one point at a time (a failure is F = +inf)
                st.x[:], cur[:], st.counts[:], st.upper_hits[:] = saved
                _kernels.dr_block_interpreted(lambda y: -obj.value(y) * inv_temp, st.x, cur, st.L1, L1inv, st.L2,
                                              st.lower, st.upper, rand, out_s, out_v, out_g, st.counts, st.upper_hits,
                                              y1, y2)
                out_v *= -1.0 / inv_temp
                cur[1] = -cur[0] / inv_temp
        elif kind == "numba":
            _kernels.dr_block_function(evaluator[1], st.x, cur, st.L1, L1inv, st.L2, st.lower, st.upper, rand, out_s,
                                       out_v, out_g, st.counts, st.upper_hits, y1, y2)
        else:
            fn = evaluator[1]
            _kernels.dr_block_interpreted(lambda y: float(fn(y.copy())), st.x, cur, st.L1, L1inv, st.L2, st.lower,
                                     st.upper, rand, out_s, out_v, out_g, st.counts, st.upper_hits, y1, y2)
        if st.adaptive:
            _accumulate(st, out_s)
        st.n_done = stop
        pos += m
        if st.adaptive and st.n_done <= st.burn_in and st.n_done >= st.adapt_start and \
                (st.n_done - st.adapt_start) % st.adapt_every == 0:
            _adapt(st)
    st.log_density = float(cur[0])
    st.value = float(cur[1])
    st.rng_state = _rng_state(rng)
    return st, samples, values, stage


def _evaluator_for(log_density: Callable[[np.ndarray], float]) -> tuple:
    """Compiled loop for numba functions of signature float64(float64[::1]); Python loop otherwise."""
    try:
        from numba.core.registry import CPUDispatcher
    except Exception:  # pragma: no cover
        CPUDispatcher = ()  # type: ignore[assignment]
    if isinstance(log_density, CPUDispatcher):
        from ._kernels import LOGP_SIGNATURE

        try:
            log_density.compile(LOGP_SIGNATURE.args)
            return ("numba", log_density)
        except Exception:  # noqa: BLE001 - a numba function of another signature: call it from Python
            pass
    return ("python", log_density)


def dr_metropolis(
    log_density: Callable[[np.ndarray], float],
    start: Any,
    n_samples: int,
    *,
    scales: Any = None,
    scales2: Any = None,
    seed: Any = 0,
    lower: Any = None,
    upper: Any = None,
    adaptive: bool = False,
    burn_in: int | None = None,
    adapt_start: int | None = None,
    adapt_every: int = 100,
    progress: bool = False,
) -> DRResult:
    """Sample a density with two-stage delayed-rejection Metropolis–Hastings (Algorithm 1).

    Parameters
    ----------
    log_density : callable
        ``log π(x)`` up to a constant for a 1-D float array ``x``; ``-inf`` (or NaN) outside the
        support. A numba function compiled for ``float64(float64[::1])`` runs in a compiled loop.
    start : array_like (d,)
        The first point (finite, inside the prior box, with finite log density).
    n_samples : int
        Number of transitions recorded (≥ 1).
    scales, scales2 : array_like (d,), optional
        Half-widths σ1, σ2 of the uniform stage-1 and stage-2 kernels; default ``0.1·|start|`` and
        ``0.01·|start|`` (components where the start is 0 get ``0.1·median|start|`` and
        ``0.01·median|start|``).
    seed : int or SeedSequence
    lower, upper : array_like (d,), optional
        Uniform prior box ``(lower, upper]`` (default unbounded).
    adaptive : bool
        DRAM: adapt the kernels from the chain until ``burn_in``.
    burn_in : int, optional
        Default 0 (``n_samples // 4`` with ``adaptive``).
    adapt_start, adapt_every : int
        First adaptation after ``adapt_start`` samples (default ``max(10 d, 100)``), then every
        ``adapt_every``.
    progress : bool
        Show a progress bar with acceptance rates.

    Returns
    -------
    DRResult
        ``.samples`` (n_samples × d), ``.acceptance`` (stage 1, stage 2), ``.log_density``, …

    Raises
    ------
    ConfigurationError
        Bad start point, scales of the wrong length or not positive, ``n_samples < 1``, a start
        outside the prior or with non-finite log density.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or int(n_samples) < 1:
        raise ConfigurationError(f"n_samples must be a positive integer, got {n_samples!r}")
    n_samples = int(n_samples)
    x0 = np.asarray(start, dtype=float).reshape(-1)
    if x0.size == 0 or not np.all(np.isfinite(x0)):
        raise ConfigurationError(f"the start point must be a non-empty finite vector, got {np.asarray(start).tolist()}")
    if scales is None:
        scales, _ = default_scales(x0, 0.1)
    if scales2 is None:
        s1 = _check_vector("scales", scales, len(x0), True)
        scales2 = 0.1 * s1
    evaluator = _evaluator_for(log_density)
    lp0 = float(log_density(x0.copy()))
    if burn_in is None:
        burn_in = n_samples // 4 if adaptive else 0
    state = init_chain(x0, lp0 if lp0 == lp0 else -np.inf, lp0, scales=scales, scales2=scales2, seed=seed,
                       lower=lower, upper=upper, adaptive=adaptive, burn_in=burn_in, adapt_start=adapt_start,
                       adapt_every=adapt_every)
    chunks = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_samples, unit="sample", desc="DR-MH")
    done = 0
    while done < n_samples:
        m = min(n_samples - done, 8 * _BLOCK if bar is None else _BLOCK)
        state, s, v, g = advance_chain(state, m, evaluator)
        chunks.append((s, v, g))
        done += m
        if bar is not None:
            acc = acceptance_of(state.counts)
            bar.set_postfix(stage1=f"{acc.stage1:.2f}", stage2=f"{acc.stage2:.2f}")
            bar.update(m)
    if bar is not None:
        bar.close()
    samples = np.concatenate([c[0] for c in chunks])
    values = np.concatenate([c[1] for c in chunks])
    stage = np.concatenate([c[2] for c in chunks])
    return DRResult(samples, values, stage, acceptance_of(state.counts), counts_dict(state.counts, state.upper_hits),
                    int(burn_in), state, np.diag(state.L1).copy() if not adaptive else np.asarray(scales, float),
                    np.asarray(scales2, float))
