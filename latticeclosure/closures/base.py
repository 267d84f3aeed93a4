"""The closure interface shared by every closure family, and the cluster geometry closures use.

A *closure* expresses the concentration of a size-(n+1) cluster class through concentrations of
classes of size ≤ n (pairs, singlets, and for larger windows bigger sub-clusters). Every family is an
object with a unique ``name`` and this stable interface:

``configure(**options) -> ClosureFamily``
    A configured copy (the registry calls it with the user's options).
``parameters(cls, index) -> list[sympy.Symbol]``
    The free parameters (e.g. exponents) of the closure of that class, in a fixed order; empty for
    fixed closures (mean-field, pair, Kirkwood, sparse, a fitted power law whose exponents were
    pinned with ``configure(exponents=...)``).
``expression(cls, index, params=None) -> sympy.Expr``
    The closed expression of the class. Variables are plain ``sympy.Symbol(class name)`` of classes
    of size ≤ n, singlets included (``Symbol('C+')``); the closed model replaces singlets by
    marginals of window classes (:func:`singlet_marginals`). ``params`` maps parameter symbols (or
    their names, or a family-specific short key) to numbers; parameters not given stay symbolic.
``can_close(cls, index) -> bool`` / ``check(cls, index)``
    Whether the family can express the class; ``check`` raises :class:`ClosureError` naming the
    class and the reason.
``close(index, classes=None, params=None) -> dict[str, sympy.Expr]``
    Convenience: the expressions of many classes (default: every class of the largest size in the
    index), keyed by class name.
``initial_values(cls, index) -> dict[Symbol, float]``
    A feasible default point for the parameters (for parametric families: the pair approximation's
    exponents projected onto the constraints); empty for fixed closures.

``cls`` is a :class:`~latticeclosure.clusters.ClusterClass` or its name; ``index`` is a
:class:`~latticeclosure.classindex.ClassIndex` holding all shapes up to the size of ``cls``.

Concentrations are per-shape normalised (docs/conventions.md): ``Σ_c m_c C_c = 1`` over the classes of one shape,
so the pair approximation of a chain x–y–z is exactly ``C_xy C_yz / C_y`` without shape fractions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import sympy

from ..errors import ClosureError

__all__ = [
    "ClosureFamily",
    "ParametricClosure",
    "ClusterGeometry",
    "geometry",
    "resolve_class",
    "class_symbol",
    "param_symbol",
    "singlet_marginals",
    "class_marginals",
    "window_relations",
    "connected_subsets",
]


# ----------------------------------------------------------------------------------------- symbols
def class_symbol(name: str) -> sympy.Symbol:
    """The variable of a class: a plain ``sympy.Symbol`` named like the class (no assumptions)."""
    return sympy.Symbol(str(name))


def param_symbol(kind: str, class_name: str, key: str) -> sympy.Symbol:
    """A parameter symbol unique to one class, e.g. ``gamma[L++-;C+-]`` or ``xi[T+++;C+]``."""
    return sympy.Symbol(f"{kind}[{class_name};{key}]")


def resolve_class(cls: Any, index: Any):
    """Return the :class:`ClusterClass` for a class object or name, checking it is in ``index``."""
    if isinstance(cls, str):
        try:
            return index.by_name[cls]
        except KeyError:
            known = ", ".join(sorted(index.by_name)[:40])
            raise ClosureError(f"unknown class {cls!r}; the index knows: {known}") from None
    name = getattr(cls, "name", None)
    if name is None or name not in index.by_name:
        raise ClosureError(f"class {cls!r} is not a class of this index (lattice {index.lattice.name!r})")
    return index.by_name[name]


# ---------------------------------------------------------------------------------------- geometry
def connected_subsets(n_sites: int, bonds: Sequence[tuple[int, int]], max_size: int) -> list[tuple[int, ...]]:
    """All non-empty subsets of positions ``0..n_sites-1`` of size ≤ ``max_size`` connected by ``bonds``."""
    adj = {i: set() for i in range(n_sites)}
    for a, b in bonds:
        adj[a].add(b)
        adj[b].add(a)
    out = []
    for k in range(1, min(max_size, n_sites) + 1):
        for sub in itertools.combinations(range(n_sites), k):
            s = set(sub)
            seen, stack = {sub[0]}, [sub[0]]
            while stack:
                v = stack.pop()
                for w in adj[v] & s:
                    if w not in seen:
                        seen.add(w)
                        stack.append(w)
            if len(seen) == k:
                out.append(sub)
    return out


@dataclass(frozen=True)
class ClusterGeometry:
    """What a closure needs to know about one class's representative cluster.

    Attributes
    ----------
    cls : ClusterClass
    size : int
    bonds : tuple of (int, int)
        Nearest-neighbour bonds (position pairs) of the shape.
    degrees : tuple of int
        Number of bonds at each position.
    site_classes : tuple of str
        Singlet class name of each position (e.g. ``"C+"``; on lattices with inequivalent basis
        sites the site shape is part of the name).
    bond_classes : tuple of str
        Pair class name on each bond, aligned with ``bonds``.
    pair_classes : tuple of str
        The distinct pair classes on the bonds, in order of first appearance.
    singlet_classes : tuple of str
        The distinct singlet classes present, in order of first appearance.
    closed : bool
        True when the bond graph has a cycle.
    """

    cls: Any
    size: int
    bonds: tuple[tuple[int, int], ...]
    degrees: tuple[int, ...]
    site_classes: tuple[str, ...]
    bond_classes: tuple[str, ...]
    pair_classes: tuple[str, ...]
    singlet_classes: tuple[str, ...]
    closed: bool

    @property
    def pair_degree(self) -> int:
        """Degree (Σ numerator − Σ denominator exponents) of the pair/Kirkwood approximation: size − bonds."""
        return self.size - len(self.bonds)

    def pair_exponents(self) -> tuple[dict[str, float], dict[str, float]]:
        """Exponents of the pair approximation (Bethe for trees, Kirkwood for loops).

        ``Π_bonds C_pair / Π_sites C_site^(deg−1)`` aggregated over distinct classes: γ_p = number of
        bonds showing pair class p, ξ_s = Σ (deg − 1) over the sites of singlet class s.
        """
        gam = {p: 0.0 for p in self.pair_classes}
        for p in self.bond_classes:
            gam[p] += 1.0
        xi = {s: 0.0 for s in self.singlet_classes}
        for s, d in zip(self.site_classes, self.degrees):
            xi[s] += d - 1.0
        return gam, xi


def _site_keys(shape, positions: Iterable[int]) -> list:
    return [shape.sites[k] for k in positions]


def sub_class(index: Any, cls: Any, positions: Sequence[int], pattern: Sequence[int] | None = None):
    """The class shown by the sub-cluster at ``positions`` of ``cls`` (optionally with another pattern)."""
    shape = cls.shape
    pat = cls.pattern if pattern is None else pattern
    keys = _site_keys(shape, positions)
    return index.classify(keys, [pat[k] for k in positions])


_GEOMETRY_CACHE: dict[tuple[int, str], ClusterGeometry] = {}


def geometry(cls: Any, index: Any) -> ClusterGeometry:
    """The :class:`ClusterGeometry` of a class (cached per index and class)."""
    cls = resolve_class(cls, index)
    key = (id(index), cls.name)
    hit = _GEOMETRY_CACHE.get(key)
    if hit is not None and hit.cls is cls:
        return hit
    shape = cls.shape
    if shape.size > index.max_size:
        raise ClosureError(f"class {cls.name!r} is larger than the index (max size {index.max_size})")
    bonds = tuple(shape.bonds)
    degrees = tuple(shape.degree_of(k) for k in range(shape.size))
    try:
        site_classes = tuple(sub_class(index, cls, (k,)).name for k in range(shape.size))
        bond_classes = tuple(sub_class(index, cls, b).name for b in bonds)
    except Exception as exc:  # GeometryError from classify
        raise ClosureError(f"cannot find the sub-clusters of class {cls.name!r}: {exc}") from exc
    geo = ClusterGeometry(
        cls=cls,
        size=shape.size,
        bonds=bonds,
        degrees=degrees,
        site_classes=site_classes,
        bond_classes=bond_classes,
        pair_classes=tuple(dict.fromkeys(bond_classes)),
        singlet_classes=tuple(dict.fromkeys(site_classes)),
        closed=len(bonds) >= shape.size,
    )
    _GEOMETRY_CACHE[key] = geo
    return geo


def singlet_marginals(index: Any) -> dict[sympy.Symbol, sympy.Expr]:
    """Each singlet symbol as the marginal of a pair class: ``C+ → C++ + C+-`` (per-shape normalised).

    For every singlet class, the first pair shape (in enumeration order) having a site of that
    singlet's site shape is used; the other site's state is summed over.
    """
    if index.max_size < 2:
        raise ClosureError("singlet marginals need pair classes (index max_size ≥ 2)")
    out: dict[sympy.Symbol, sympy.Expr] = {}
    pairs = index.shapes_of_size(2)
    for single in index.singlet_classes:
        for shape in pairs:
            done = False
            for pos in (0, 1):
                if index.shape_of([shape.sites[pos]])[0] is not single.shape:
                    continue
                total = sympy.Integer(0)
                for other in range(index.q):
                    pat = [0, 0]
                    pat[pos] = single.pattern[0]
                    pat[1 - pos] = other
                    total += class_symbol(index.classify(list(shape.sites), pat).name)
                out[class_symbol(single.name)] = total
                done = True
                break
            if done:
                break
    return out


def class_marginals(index: Any, size: int) -> dict[sympy.Symbol, sympy.Expr]:
    """Every class smaller than ``size`` as an exact marginal of classes of size ``size``.

    A class of k sites is the sum over the state of one added neighbouring site (the first site of
    the representative with a neighbour outside, that neighbour in lattice order) of the
    (k+1)-site classes, applied recursively. For ``size=2`` this is ``C+ → C++ + C+-``.
    """
    size = int(size)
    if size > index.max_size:
        raise ClosureError(f"the index reaches size {index.max_size}, not {size}")
    lat = index.lattice
    direct: dict[sympy.Symbol, sympy.Expr] = {}
    for shape in index.shapes:
        if shape.size >= size:
            continue
        keys = list(shape.sites)
        extra = None
        for k in keys:
            for nb in lat.neighbour_keys(k):
                if tuple(nb) not in {tuple(x) for x in keys}:
                    extra = tuple(nb)
                    break
            if extra is not None:
                break
        if extra is None:  # pragma: no cover - every finite cluster has an outside neighbour
            raise ClosureError(f"cannot extend shape {shape.name!r}")
        for c in index.classes_of[shape.name]:
            total = sympy.Integer(0)
            for st in range(index.q):
                total += class_symbol(index.classify(keys + [extra], list(c.pattern) + [st]).name)
            direct[class_symbol(c.name)] = total
    # resolve recursively down to classes of ``size``
    out: dict[sympy.Symbol, sympy.Expr] = {}
    for sym in sorted(direct, key=lambda s: index.by_name[str(s)].size, reverse=True):
        expr = direct[sym]
        expr = expr.xreplace({k: v for k, v in out.items()})
        out[sym] = sympy.expand(expr)
    return out


def window_relations(index: Any, size: int) -> dict[sympy.Symbol, sympy.Expr]:
    """Linear relations among the classes of ``size`` implied by marginal consistency, solved.

    Every class of size ``size − 1`` is the marginal of ``size``-classes over *any* added neighbour;
    the different representations must agree (exact data satisfy this). Returns a substitution
    ``{dependent symbol: expression in the other size-classes}`` (empty for ``size ≤ 2``).
    """
    size = int(size)
    if size <= 2:
        return {}
    lat = index.lattice
    rows: list[sympy.Expr] = []
    for shape in index.shapes_of_size(size - 1):
        keys = list(shape.sites)
        keyset = {tuple(k) for k in keys}
        outs = []
        for k in keys:
            for nb in lat.neighbour_keys(k):
                nb = tuple(nb)
                if nb not in keyset and nb not in outs:
                    outs.append(nb)
        for c in index.classes_of[shape.name]:
            reps = []
            for o in outs:
                total = sympy.Integer(0)
                for st in range(index.q):
                    total += class_symbol(index.classify(keys + [o], list(c.pattern) + [st]).name)
                reps.append(total)
            rows += [r - reps[0] for r in reps[1:] if sympy.expand(r - reps[0]) != 0]
    if not rows:
        return {}
    syms = [class_symbol(c.name) for c in index.classes_of_size(size)][::-1]
    M = sympy.Matrix([[sympy.expand(r).coeff(sv) for sv in syms] for r in rows])
    R, pivots = M.rref()
    out: dict[sympy.Symbol, sympy.Expr] = {}
    for i, pc in enumerate(pivots):
        expr = -sum((R[i, j] * syms[j] for j in range(len(syms)) if j != pc), sympy.Integer(0))
        out[syms[pc]] = expr
    return out


# ---------------------------------------------------------------------------------- the interface
class ClosureFamily:
    """Base class of closure families. Subclasses set ``name``/``description``/``OPTIONS``.

    ``OPTIONS`` maps every accepted option to its default; :meth:`configure` rejects unknown options
    with a :class:`ClosureError` listing the accepted ones, and subclasses validate values in
    :meth:`_validate`.
    """

    name: str = "base"
    description: str = ""
    OPTIONS: dict[str, Any] = {}

    def __init__(self, **options: Any) -> None:
        unknown = set(options) - set(self.OPTIONS) - {"name", "description"}
        if unknown:
            raise ClosureError(
                f"closure {self.name!r}: unknown option(s) {sorted(unknown)}; "
                f"accepted: {sorted(self.OPTIONS) or 'none'}"
            )
        opts = dict(self.OPTIONS)
        if "name" in options:
            self.name = str(options.pop("name"))
        if "description" in options:
            self.description = str(options.pop("description"))
        opts.update(options)
        self.options: dict[str, Any] = opts
        try:
            self._validate()
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ClosureError):
                raise
            # an option value of a type the family's checks did not foresee (e.g. a list for a name)
            raise ClosureError(f"closure {self.name!r}: an option has a value of the wrong type ({exc})") from None

    # -- configuration
    def _validate(self) -> None:
        """Check and normalise ``self.options`` (raise :class:`ClosureError`)."""

    def configure(self, **options: Any) -> "ClosureFamily":
        """A copy with the given options changed (others keep their current values)."""
        merged = {k: v for k, v in self.options.items()}
        merged.update(options)
        new = type(self).__new__(type(self))
        new.name = self.name
        new.description = self.description
        ClosureFamily.__init__(new, **merged)
        return new

    def renamed(self, name: str, description: str | None = None) -> "ClosureFamily":
        """The same closure under another name (how closure presets are made)."""
        new = self.configure()
        new.name = str(name)
        if description is not None:
            new.description = str(description)
        return new

    def __repr__(self) -> str:
        shown = {
            k: v for k, v in self.options.items()
            if v != self.OPTIONS.get(k) and not isinstance(v, (dict, list, tuple)) and not (isinstance(v, str) and len(v) > 40)
        }
        args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"<closure {self.name!r} ({type(self).__name__}{': ' + args if args else ''})>"

    # -- the interface
    def check(self, cls: Any, index: Any) -> None:
        """Raise :class:`ClosureError` naming the class when this family cannot close it."""
        cls = resolve_class(cls, index)
        if cls.size < 2:
            raise ClosureError(f"closure {self.name!r} cannot close the singlet class {cls.name!r}")
        if index.max_size < cls.size:
            raise ClosureError(f"class {cls.name!r} is larger than the index's max size {index.max_size}")

    def can_close(self, cls: Any, index: Any) -> bool:
        try:
            self.check(cls, index)
        except ClosureError:
            return False
        return True

    def parameters(self, cls: Any, index: Any) -> list[sympy.Symbol]:
        return []

    def initial_values(self, cls: Any, index: Any) -> dict[sympy.Symbol, float]:
        return {}

    def expression(self, cls: Any, index: Any, params: Mapping[Any, float] | None = None) -> sympy.Expr:
        raise NotImplementedError

    def inputs(self, cls: Any, index: Any) -> list[str]:
        """Names of the classes the closed expression uses."""
        expr = self.expression(cls, index)
        pnames = {str(p) for p in self.parameters(cls, index)}
        return sorted(str(s) for s in expr.free_symbols if str(s) not in pnames)

    def close(
        self, index: Any, classes: Iterable[Any] | None = None, params: Mapping[Any, float] | None = None
    ) -> dict[str, sympy.Expr]:
        """Closed expressions of ``classes`` (default: all classes of the index's largest size)."""
        if classes is None:
            classes = index.classes_of_size(index.max_size)
        out = {}
        for c in classes:
            c = resolve_class(c, index)
            out[c.name] = self.expression(c, index, params)
        return out

    # -- helpers for subclasses
    def _substitute(self, cls: Any, index: Any, expr: sympy.Expr, params: Mapping[Any, float] | None) -> sympy.Expr:
        if not params:
            return expr
        syms = self.parameters(cls, index)
        from .numeric import exact_number

        values = self._match_params(cls, index, syms, params)
        return expr.subs({k: exact_number(v) for k, v in values.items()}) if values else expr

    def _param_aliases(self, cls: Any, index: Any) -> dict[str, sympy.Symbol]:
        """Short keys accepted in ``params`` besides the symbols and their names."""
        return {}

    def _match_params(
        self, cls: Any, index: Any, syms: Sequence[sympy.Symbol], params: Mapping[Any, float]
    ) -> dict[sympy.Symbol, float]:
        return match_parameters(syms, self._param_aliases(cls, index), params,
                                closure_name=self.name, class_name=resolve_class(cls, index).name)


def match_parameters(
    symbols: Sequence[sympy.Symbol],
    aliases: Mapping[str, sympy.Symbol],
    params: Mapping[Any, float],
    *,
    closure_name: str,
    class_name: str,
) -> dict[sympy.Symbol, float]:
    """Values of ``params`` (keyed by symbol, symbol name or alias) for the parameters ``symbols``.

    Parameters of other classes (names ``kind[class;key]``) may be passed in one flat mapping and are
    ignored; any other unknown key is a :class:`ClosureError`.
    """
    by_name = {str(s): s for s in symbols}
    out: dict[sympy.Symbol, float] = {}
    for key, value in params.items():
        k = str(key)
        sym = by_name.get(k) or aliases.get(k)
        if sym is None:
            owner = _param_owner(k)
            if owner is not None and owner != class_name:
                continue
            raise ClosureError(
                f"closure {closure_name!r}, class {class_name!r}: unknown parameter {k!r}; its "
                f"parameters are {sorted(by_name) or 'none'}"
            )
        out[sym] = _as_float(value, k)
    return out


def _param_owner(name: str) -> str | None:
    """The class a parameter symbol name ``kind[class;key]`` belongs to, or None."""
    if name.endswith("]") and "[" in name and ";" in name:
        inner = name[name.index("[") + 1 : -1]
        return inner.rsplit(";", 1)[0]
    return None


def _as_float(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ClosureError(f"parameter {what!r} must be a number, got {value!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise ClosureError(f"parameter {what!r} must be finite, got {value!r}")
    return v


class ParametricClosure(ClosureFamily):
    """A closure family with free parameters that calibration can fit.

    Subclasses implement :meth:`ansatz` (returning a :class:`~latticeclosure.closures.numeric.Ansatz`
    — parameter symbols, box bounds, linear constraints and a vectorised numeric evaluator); the
    generic fitter in :mod:`latticeclosure.closures.calibration` uses only that. Fitted values are
    pinned with ``configure(exponents={class name: {parameter name: value}})``, after which the
    class has no free parameters.
    """

    OPTIONS: dict[str, Any] = {"exponents": None}

    def ansatz(self, cls: Any, index: Any):  # pragma: no cover - abstract
        raise NotImplementedError

    def pinned(self, cls: Any, index: Any) -> dict[sympy.Symbol, float] | None:
        """Configured (fitted) values for the class, or None."""
        table = self.options.get("exponents") or {}
        cls = resolve_class(cls, index)
        if cls.name not in table:
            return None
        a = self.ansatz(cls, index)
        return self._match_params(cls, index, a.symbols, table[cls.name])

    def parameters(self, cls: Any, index: Any) -> list[sympy.Symbol]:
        self.check(cls, index)
        pinned = self.pinned(cls, index)
        if pinned is not None:
            return [s for s in self.ansatz(cls, index).symbols if s not in pinned]
        return list(self.ansatz(cls, index).symbols)

    def all_parameters(self, cls: Any, index: Any) -> list[sympy.Symbol]:
        """Every parameter of the ansatz, pinned or not (for sensitivities at fitted values)."""
        self.check(cls, index)
        return list(self.ansatz(cls, index).symbols)

    def initial_values(self, cls: Any, index: Any) -> dict[sympy.Symbol, float]:
        self.check(cls, index)
        pinned = self.pinned(cls, index)
        a = self.ansatz(cls, index)
        vals = {s: float(v) for s, v in zip(a.symbols, a.default_point())}
        if pinned:
            vals.update(pinned)
        return vals

    def _param_aliases(self, cls: Any, index: Any) -> dict[str, sympy.Symbol]:
        return dict(self.ansatz(cls, index).aliases)

    def expression(self, cls: Any, index: Any, params: Mapping[Any, float] | None = None) -> sympy.Expr:
        from .numeric import exact_number

        self.check(cls, index)
        a = self.ansatz(cls, index)
        expr = a.expression
        pinned = self.pinned(cls, index)
        if pinned:
            expr = expr.subs({k: exact_number(v) for k, v in pinned.items()})
        if params:
            values = self._match_params(cls, index, a.symbols, params)
            expr = expr.subs({k: exact_number(v) for k, v in values.items()})
        return expr

    def with_values(self, values: Mapping[str, Mapping[str, float]]) -> "ParametricClosure":
        """A copy with ``{class name: {parameter name: value}}`` pinned (``{}``: nothing pinned)."""
        return self.configure(exponents=dict(values) or None)

    def values_table(self) -> dict[str, dict[str, float]]:
        return {k: dict(v) for k, v in (self.options.get("exponents") or {}).items()}

