"""Compile a closed model to numba: right-hand side, Jacobian, sensitivities and the integrator.

Code generation
    sympy's :class:`~sympy.printing.pycode.PythonCodePrinter` (``math`` functions) prints the
    right-hand side ``f(C; k, θ)``, its Jacobian ``∂f/∂C`` and the parameter sensitivities
    ``∂f/∂(k, θ)`` (rate constants, then free closure parameters such as exponents), each after
    common-subexpression elimination (:func:`sympy.cse`), into one Python module with a ``solve``
    wrapper around the shared Dormand–Prince integrator (:mod:`latticeclosure.closedmodel.dopri`).
    Every function is ``numba.njit(<signature>, cache=True, error_model="numpy")``.

Generated source holds no user text
    State variables and parameters are the generated identifiers ``y_i`` and ``p_j``; the model's
    class, parameter and closure names appear only as checked literals (``STATE_NAMES = [...]``,
    :func:`latticeclosure.codegen.literal`), and the finished module is verified against the
    generator's vocabulary (:func:`latticeclosure.codegen.verify_module`) before it is written. A
    class whose name contains quotes and code is just a string in a list.

Disk cache
    The module is written (atomically: temporary file + :func:`os.replace`) to
    ``<cache>/models/lcmodel_<hash>.py`` where ``<hash>`` is the SHA-256 of the model — sympy
    ``srepr`` of the reduced right-hand sides and of the eliminated classes, state and parameter
    order — and of the versions of latticeclosure, sympy, numba, Python, and of the source of the
    code generator and of the integrator module. The SHA-256 of the module's content is recorded
    beside it (``lcmodel_<hash>.sha256``) and checked before every import: a module whose content
    does not match (edited, truncated, written by another version) is generated and written again.
    The module is executed from the verified bytes (never re-read from disk after the check). The
    cache directory must not be writable by other users (refused otherwise). numba keeps its compiled machine code in ``__pycache__`` next to it, so
    a second process that closes the same model loads everything without generating code or
    compiling (:attr:`CompiledModel.cache_info` tells which happened). ``<cache>`` is
    ``$LATTICECLOSURE_CACHE`` if set, else the platform's user cache directory
    (``$XDG_CACHE_HOME/latticeclosure`` or ``~/.cache/latticeclosure`` on Linux,
    ``~/Library/Caches/latticeclosure`` on macOS, ``%LOCALAPPDATA%\\latticeclosure\\Cache`` on
    Windows).

Calling convention of the generated functions (all arrays float64, C-contiguous; every function has
an explicit signature, so importing the module compiles or loads all of them)::

    rhs(t, y, p, out)          out[i]    = dy_i/dt
    jac(t, y, p, out)          out[i, j] = ∂f_i/∂y_j
    dfdp(t, y, p, out)         out[i, j] = ∂f_i/∂p_j
    solve(t_eval, y0, p, F, g, rtol, atol, h_init, max_steps, neg_tol, max_value, dense,
          detect_stiff, out, info) -> status

``solve`` calls the shared integrator :func:`latticeclosure.closedmodel.dopri.dopri5` with ``rhs``
as a compile-time constant first-class function (:func:`~latticeclosure.closedmodel.dopri.as_rhs`), so the integrator itself is compiled once per
installation and a new model compiles only its own small functions. Every window class is the
affine function ``F @ y + g`` of the state (:func:`latticeclosure.closedmodel.vectors.affine_full`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

from .vectors import affine_full

__all__ = ["CompiledModel", "compile_model", "cache_directory", "generate_source", "model_key", "hash_path", "CODEGEN_VERSION"]

#: Bumped whenever the generated code changes meaning (part of the cache key, with this module's source).
CODEGEN_VERSION = "4"

_LOADED: dict[str, "CompiledModel"] = {}
#: Per closed model object and cache root: its compiled functions (the model key is costly to compute).
_BY_MODEL: "weakref.WeakKeyDictionary[Any, dict[str, CompiledModel]]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


# ------------------------------------------------------------------------------------ locations
def cache_directory(cache_dir: Any = None) -> Path:
    """The root of the disk cache (see the module documentation)."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("LATTICECLOSURE_CACHE")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "latticeclosure" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "latticeclosure"
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "latticeclosure"


def _integrator_text() -> str:
    return Path(__file__).with_name("dopri.py").read_text(encoding="utf-8")


def _generator_text() -> str:
    return Path(__file__).read_text(encoding="utf-8")


def _versions() -> str:
    import numba

    try:
        from importlib.metadata import version

        lc = version("latticeclosure")
    except Exception:  # pragma: no cover - running from a source tree without metadata
        lc = "unknown"
    return f"lc={lc};sympy={sp.__version__};numba={numba.__version__};numpy={np.__version__};py={sys.version_info[:3]}"


def model_key(model: Any) -> str:
    """SHA-256 of the model's reduced equations, variable and parameter order, and tool versions."""
    h = hashlib.sha256()
    parts = [
        "codegen=" + CODEGEN_VERSION,
        _versions(),
        "integrator=" + hashlib.sha256(_integrator_text().encode()).hexdigest(),
        "generator=" + hashlib.sha256(_generator_text().encode()).hexdigest(),
        "state=" + repr(model.state_names),
        "window=" + repr(model.window_names),
        "params=" + repr(model.parameter_names),
    ]
    parts += ["rhs:" + n + "=" + sp.srepr(e) for n, e in model.rhs.items()]
    parts += ["elim:" + n + "=" + sp.srepr(e) for n, e in model.eliminated.items()]
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


# ------------------------------------------------------------------------------------ codegen
class _Printer:
    def __init__(self) -> None:
        from sympy.printing.pycode import PythonCodePrinter

        class Printer(PythonCodePrinter):
            def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
                # numba raises ZeroDivisionError for x**(-n) at x = 0 even under error_model="numpy";
                # 1.0/x**n gives inf there instead (a state where a closure's denominator vanishes)
                exp = expr.exp
                if exp.is_number and exp.is_negative:
                    return f"(1.0/({self._print(sp.Pow(expr.base, -exp, evaluate=False))}))"
                return super()._print_Pow(expr, rational=rational)

        self.printer = Printer({"fully_qualified_modules": True, "full_prec": True, "standard": "python3"})

    def __call__(self, expr: sp.Expr) -> str:
        return self.printer.doprint(expr)


def _function_source(
    name: str,
    signature: str,
    exprs: list[sp.Expr],
    targets: list[str],
    loads: dict[sp.Symbol, str],
    printer: _Printer,
    zero_fill: str | None = None,
    signature_name: str | None = None,
) -> str:
    """``def name(signature):`` computing ``targets[i] = exprs[i]`` with cse, skipping zeros."""
    keep = [(tg, e) for tg, e in zip(targets, exprs) if e != 0]
    sig = f"{signature_name}, " if signature_name else ""
    lines = [f"@njit({sig}cache=True, error_model=\"numpy\")", f"def {name}({signature}):"]
    if zero_fill:
        lines.append(f"    {zero_fill}")
    if keep:
        replacements, reduced = sp.cse([e for _, e in keep], symbols=sp.numbered_symbols("cse_"), optimizations="basic")
        used: set[sp.Symbol] = set()
        for _, e in replacements:
            used |= e.free_symbols
        for e in reduced:
            used |= e.free_symbols
        for sym, src in loads.items():
            if sym in used:
                lines.append(f"    {sym.name} = {src}")
        for s, e in replacements:
            lines.append(f"    {s.name} = {printer(e)}")
        for (tg, _), e in zip(keep, reduced):
            lines.append(f"    {tg} = {printer(e)}")
    lines.append("    return")
    return "\n".join(lines) + "\n"


#: Names the generated module may use besides the generated ``y_i``, ``p_j``, ``cse_k`` and ``out``.
_VOCABULARY = {
    "math", "njit", "types", "DOPRI5_SIGNATURE", "RHS_SIGNATURE", "as_rhs", "dopri5", "N_STATE", "N_FULL",
    "N_PARAM", "STATE_NAMES", "WINDOW_NAMES", "PARAMETER_NAMES", "CLOSURE_LABEL", "MODEL_KEY",
    "MATRIX_SIGNATURE", "SOLVE_SIGNATURE", "rhs", "jac", "dfdp", "solve", "t", "y", "p", "out", "t_eval",
    "y0", "F", "g", "rtol", "atol", "h_init", "max_steps", "neg_tol", "max_value", "dense", "detect_stiff",
    "info",
}
_PATTERNS = (r"y_\d+", r"p_\d+", r"cse_\d+")


def generate_source(model: Any, key: str | None = None) -> str:
    """The Python source of the compiled model module (see the module documentation).

    Raises
    ------
    latticeclosure.codegen.GeneratedCodeError
        If a right-hand side holds a symbol that is neither a state variable nor a parameter, or the
        finished source fails its safety check (both are bugs, never user errors).
    """
    from ..codegen import GeneratedCodeError, literal, verify_module

    key = key or model_key(model)
    printer = _Printer()
    ys = [sp.Symbol(f"y_{i}") for i in range(len(model.state_symbols))]
    ps = [sp.Symbol(f"p_{j}") for j in range(len(model.parameters))]
    to_local = dict(zip(model.state_symbols, ys))
    to_local.update(dict(zip(model.parameters, ps)))
    loads = {y: f"y[{i}]" for i, y in enumerate(ys)}
    loads.update({p: f"p[{j}]" for j, p in enumerate(ps)})
    f = sp.Matrix([model.rhs[n] for n in model.state_names]).xreplace(to_local)
    stray = f.free_symbols - set(ys) - set(ps)
    if stray:
        raise GeneratedCodeError(f"the closed right-hand sides hold unknown symbols {sorted(map(str, stray))[:5]}")
    n, m = len(ys), len(ps)
    J = f.jacobian(ys) if n else sp.zeros(0, 0)
    P = f.jacobian(ps) if (n and m) else sp.zeros(n, m)
    header = [
        '"""Generated by latticeclosure.closedmodel.compile — do not edit.',
        "",
        "The model is described by MODEL_KEY, CLOSURE_LABEL, STATE_NAMES, WINDOW_NAMES and PARAMETER_NAMES.",
        '"""',
        "import math",
        "",
        "from numba import njit, types",
        "",
        "from latticeclosure.closedmodel.dopri import DOPRI5_SIGNATURE, RHS_SIGNATURE, as_rhs, dopri5",
        "",
        f"MODEL_KEY = {literal(str(key))}",
        f"CLOSURE_LABEL = {literal(str(model.closure_label))}",
        f"N_STATE = {n}",
        f"N_FULL = {len(model.window_names)}",
        f"N_PARAM = {m}",
        f"STATE_NAMES = {literal([str(v) for v in model.state_names])}",
        f"WINDOW_NAMES = {literal([str(v) for v in model.window_names])}",
        f"PARAMETER_NAMES = {literal([str(v) for v in model.parameter_names])}",
        "MATRIX_SIGNATURE = types.void(types.float64, types.float64[::1], types.float64[::1], types.float64[:, ::1])",
        "SOLVE_SIGNATURE = types.int64(*DOPRI5_SIGNATURE.args[1:])",
        "",
    ]
    body = [
        _function_source("rhs", "t, y, p, out", list(f), [f"out[{i}]" for i in range(n)], loads, printer,
                         zero_fill="out[:] = 0.0", signature_name="RHS_SIGNATURE"),
        _function_source("jac", "t, y, p, out", list(J), [f"out[{i}, {j}]" for i in range(n) for j in range(n)],
                         loads, printer, zero_fill="out[:, :] = 0.0", signature_name="MATRIX_SIGNATURE"),
        _function_source("dfdp", "t, y, p, out", list(P), [f"out[{i}, {j}]" for i in range(n) for j in range(m)],
                         loads, printer, zero_fill="out[:, :] = 0.0", signature_name="MATRIX_SIGNATURE"),
        '@njit(SOLVE_SIGNATURE, cache=True, error_model="numpy")\n'
        "def solve(t_eval, y0, p, F, g, rtol, atol, h_init, max_steps, neg_tol, max_value, dense, detect_stiff, out, info):\n"
        "    return dopri5(as_rhs(rhs), t_eval, y0, p, F, g, rtol, atol, h_init, max_steps, neg_tol, max_value, dense,\n"
        "                  detect_stiff, out, info)\n",
    ]
    source = "\n".join(header) + "\n\n" + "\n\n".join(body)
    verify_module(source, names=_VOCABULARY, patterns=_PATTERNS,
                  modules={"math", "numba", "latticeclosure.closedmodel.dopri"})
    return source


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` atomically unless it already holds exactly that; True if written."""
    from ..io import write_text_atomic
    from ..io.outdir import ensure_directory

    if path.exists():
        try:
            if path.read_text(encoding="utf-8") == text:
                return False
        except (OSError, UnicodeDecodeError):
            pass
    ensure_directory(path.parent)
    write_text_atomic(path, text)
    return True


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_path(path: Path) -> Path:
    """Where the content hash of a cached module is recorded (``lcmodel_<key>.sha256``)."""
    return path.with_suffix(".sha256")


def _verified_source(path: Path) -> bytes | None:
    """The cached module's bytes when they match the recorded content hash, else None."""
    try:
        data = path.read_bytes()
        recorded = hash_path(path).read_text(encoding="ascii").split()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    return data if recorded == _digest(data) else None


def _check_cache_directory(directory: Path) -> None:
    """Refuse a cache directory other users may write: they could plant modules that get imported."""
    import stat

    from ..errors import ConfigurationError

    try:
        st = os.stat(directory)
    except OSError:
        return
    foreign = hasattr(os, "getuid") and st.st_uid not in (os.getuid(), 0)
    if foreign or st.st_mode & (stat.S_IWOTH | stat.S_IWGRP):
        raise ConfigurationError(
            f"the model cache {directory} is writable by other users; remove their write permission "
            "(chmod go-w) or set LATTICECLOSURE_CACHE to a private directory"
        )


def _write_module(path: Path, source: str) -> bytes:
    """Write the module and its content hash (both atomically); return the bytes written."""
    from ..io import write_text_atomic

    data = source.encode("utf-8")
    write_if_changed(path, source)
    write_text_atomic(hash_path(path), _digest(data) + "\n")
    return data


# ------------------------------------------------------------------------------------ compiled
@dataclass
class CompiledModel:
    """The compiled functions of one closed model and how they were obtained.

    Attributes
    ----------
    key : str
        The model hash.
    path : Path
        The generated module.
    module : module
        The imported generated module (``rhs``, ``jac``, ``dfdp``, ``solve``).
    F, g : ndarray
        Every window class is ``F @ state + g``.
    cache_info : dict
        ``source_written`` (bool: code was generated and written this time), ``compiled``
        (signatures compiled now), ``cache_hits`` (signatures loaded from numba's disk cache),
        ``seconds`` (wall time of generating + loading/compiling).
    """

    key: str
    path: Path
    module: Any
    state_names: list[str]
    window_names: list[str]
    parameter_names: list[str]
    F: np.ndarray
    g: np.ndarray
    cache_info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_state(self) -> int:
        return len(self.state_names)

    @property
    def n_full(self) -> int:
        return len(self.window_names)

    @property
    def n_param(self) -> int:
        return len(self.parameter_names)

    # thin, allocation-only wrappers (no validation: hot paths)
    def rhs(self, y: np.ndarray, p: np.ndarray, t: float = 0.0) -> np.ndarray:
        out = np.empty(self.n_state)
        self.module.rhs(float(t), np.ascontiguousarray(y, dtype=np.float64), np.ascontiguousarray(p, dtype=np.float64), out)
        return out

    def jacobian(self, y: np.ndarray, p: np.ndarray, t: float = 0.0) -> np.ndarray:
        out = np.empty((self.n_state, self.n_state))
        self.module.jac(float(t), np.ascontiguousarray(y, dtype=np.float64), np.ascontiguousarray(p, dtype=np.float64), out)
        return out

    def sensitivities(self, y: np.ndarray, p: np.ndarray, t: float = 0.0) -> np.ndarray:
        """∂f/∂p, shape (n_state, n_param): rate constants, then closure parameters."""
        out = np.empty((self.n_state, self.n_param))
        self.module.dfdp(float(t), np.ascontiguousarray(y, dtype=np.float64), np.ascontiguousarray(p, dtype=np.float64), out)
        return out

    def full_state(self, y: np.ndarray) -> np.ndarray:
        """Every window class from state vector(s) ``y`` (last axis: the state)."""
        return np.asarray(y, dtype=np.float64) @ self.F.T + self.g

    def solve_raw(
        self,
        t_eval: np.ndarray,
        y0: np.ndarray,
        p: np.ndarray,
        rtol: float = 1e-8,
        atol: float = 1e-10,
        *,
        first_step: float = 0.0,
        max_steps: int = 100000,
        neg_tol: float = 1e-6,
        max_value: float = 1e3,
        dense: bool = True,
        detect_stiff: bool = True,
    ) -> tuple[int, np.ndarray, np.ndarray]:
        """The compiled Dormand–Prince solve without any checks: ``(status, Y_full, info)``.

        ``t_eval`` must be float64, C-contiguous and increasing; ``y0`` the state vector. ``Y_full``
        has one row per output time and one column per window class (NaN after a failure).
        """
        out = np.empty((t_eval.shape[0], self.n_full))
        info = np.empty(6)
        status = self.module.solve(
            t_eval, y0, p, self.F, self.g, float(rtol), float(atol), float(first_step), int(max_steps), float(neg_tol),
            float(max_value), bool(dense), bool(detect_stiff), out, info,
        )
        return int(status), out, info


_FUNCTIONS = ("rhs", "jac", "dfdp", "solve")


def compile_model(model: Any, cache_dir: Any = None, *, verbose: bool = False, reload: bool = False) -> CompiledModel:
    """Generate (or find) the model's module, import it and compile or load its numba functions.

    Parameters
    ----------
    model : ClosedModel
    cache_dir : path, optional
        Cache root; default :func:`cache_directory`.
    verbose : bool
        Print what happened (generated/compiled/loaded, seconds).
    reload : bool
        Import the module afresh even if this process already loaded it (used to check the
        disk cache from one process).
    """
    per_model = _BY_MODEL.setdefault(model, {})
    if not reload and str(cache_dir) in per_model:
        return per_model[str(cache_dir)]
    t0 = time.perf_counter()
    from . import dopri  # noqa: F401 - compile/load the shared integrator before timing the model

    t_model = time.perf_counter()
    key = model_key(model)
    root = cache_directory(cache_dir)
    path = root / "models" / f"lcmodel_{key[:24]}.py"
    memo = f"{path}"
    with _LOCK:
        if not reload and memo in _LOADED:
            per_model[str(cache_dir)] = _LOADED[memo]
            return _LOADED[memo]
        _check_cache_directory(path.parent)
        written = False
        data = _verified_source(path)
        if data is None:  # missing, or its content does not match the recorded hash: generate afresh
            data = _write_module(path, generate_source(model, key))
            written = True
        mod_name = f"lcmodel_{key[:24]}" + (f"_r{time.monotonic_ns()}" if reload else "")
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None:  # pragma: no cover
            raise ImportError(f"cannot import the generated model module {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        # Execute exactly the verified bytes (compiled with the file's name, so numba caches beside it).
        exec(compile(data, str(path), "exec"), module.__dict__)  # noqa: S102 - generated, hash-checked source
        if getattr(module, "STATE_NAMES", None) != list(model.state_names) or getattr(module, "MODEL_KEY", None) != key:
            raise RuntimeError(f"generated module {path} does not match the model")  # pragma: no cover
        hits = misses = 0
        for name in _FUNCTIONS:
            st = getattr(module, name).stats
            hits += sum(st.cache_hits.values())
            misses += sum(st.cache_misses.values())
        info = {
            "path": str(path),
            "source_written": written,
            "compiled": misses,
            "cache_hits": hits,
            "seconds": time.perf_counter() - t_model,
            "seconds_with_integrator": time.perf_counter() - t0,
        }
        F, g = affine_full(model)
        compiled = CompiledModel(key, path, module, list(model.state_names), list(model.window_names),
                                 list(model.parameter_names), F, g, info)
        if verbose:
            how = "loaded from cache" if misses == 0 else f"compiled {misses} function(s)"
            print(f"latticeclosure: model {key[:12]} {how} in {info['seconds']:.2f} s ({path})", file=sys.stderr)
        _LOADED[memo] = compiled
        per_model[str(cache_dir)] = compiled
        return compiled
