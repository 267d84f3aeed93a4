"""Concentrations of cluster classes in a configuration (numba).

``C_c = N_c / (|E_S| · m_c)``: ``N_c`` embeddings of shape S whose pattern lies in class c, ``|E_S|``
all embeddings of S in the supercell, ``m_c`` the class multiplicity — so ``Σ_c m_c C_c = 1`` for every
shape. Embeddings are enumerated as (orientation, unit cell) pairs: every orientation of a shape is
anchored once in every unit cell.

Two exact counting paths (identical integer results), chosen automatically by a cost estimate:

``"histogram"`` (general: any number of species and basis sites)
    per orientation, a histogram of the pattern codes ``Σ_k p_k q^(size-1-k)`` of all its embeddings;
    classes follow from a lookup table.
``"moments"`` (one-hot moments)
    with indicators ``x_τ(i) = [state_i = τ]`` for τ = 1 … q-1 and ``x_0 = 1 − Σ_τ x_τ``, the number of
    embeddings of an orientation showing the pattern p is ``Σ_n Π_k x_{p_k}(n + s_k)``; expanding
    ``x_0`` gives a signed sum (inclusion–exclusion) of *moments* ``M_T = Σ_n Π_{(τ,s)∈T} x_τ(n + s)``
    over terms T: sets of (species, site) factors taken up to translation, so that sub-clusters
    shared between orientations and shapes (every pair inside every triplet, …) are summed once. All
    moments come from one fused vectorised pass over the rows of the configuration (see
    :mod:`latticeclosure._count_kernels`); class counts are a fixed integer matrix times the moments.

For two species the moment path needs ``2^k`` terms per k-site orientation before sharing, for q
species ``q^k``; the histogram path's cost grows only with the number of orientations, so it wins
for many species and large clusters.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Sequence

import numpy as np

from .clusters import ClusterClass, Shape, class_lookup, enumerate_classes, validate_species
from .errors import ConfigurationError, GeometryError
from .supercell import Supercell

__all__ = [
    "ClassCounter",
    "count_concentrations",
    "shape_embeddings",
    "check_supercell_holds",
    "COUNTING_METHODS",
]

#: Accepted values of ``ClassCounter(method=...)``.
COUNTING_METHODS = ("auto", "moments", "histogram")

# Rough per-cell costs in ns (measured on an AVX2 machine) used to pick a counting path: a moment
# term with k factors costs about (1 + 2k) byte-vector µops per 32 cells plus block overheads; a
# histogram orientation one scattered increment per cell plus one code-building pass per site.
_COST_TERM = 0.03
_COST_FACTOR = 0.015
_COST_ORIENT = 1.4
_COST_SITE = 0.06
#: Anchors per block of the kernels (the moment kernel's uint8 accumulator holds n_terms × this).
_BLOCK = 2048
#: Bound of the moment kernel's accumulator (bytes): fewer anchors per block for many terms.
_ACC_BYTES = 1 << 20
#: Never use the moment path with more terms than this (plan size, compile-free but memory-bound).
_MAX_TERMS = 20000


def check_supercell_holds(supercell: Supercell, shapes: Sequence[Shape]) -> None:
    """Raise :class:`GeometryError` if some shape would wrap onto itself in the supercell.

    A shape spanning ``s`` cells along a direction needs ``L ≥ s + r + 1`` cells there, with ``r`` the
    largest neighbour cell offset, so that no two of its sites become neighbours by wrapping.
    """
    lat = supercell.lattice
    reach = np.zeros(lat.dimension, dtype=np.int64)
    for nbs in lat.neighbours:
        for nb in nbs:
            reach = np.maximum(reach, np.abs(np.asarray(nb.cell_offset, dtype=np.int64)))
    for shape in shapes:
        o = shape.orientations
        span = (o[:, :, :-1].max(axis=1) - o[:, :, :-1].min(axis=1)).max(axis=0)
        need = span + reach + 1
        if np.any(np.asarray(supercell.shape) < need):
            raise GeometryError(
                f"supercell {supercell.shape} of {lat.name!r} is too small for the shape "
                f"{shape.name!r} (size {shape.size}); it needs at least {tuple(int(v) for v in need)} cells"
            )


def shape_embeddings(supercell: Supercell, shape: Shape) -> np.ndarray:
    """All embeddings of a shape as an (n_embeddings, size) array of site indices.

    Rows are ordered orientation-major, then by unit cell; columns follow ``shape.sites`` (aligned
    through the symmetry operation that produced each orientation).
    """
    check_supercell_holds(supercell, [shape])
    d = supercell.lattice.dimension
    cells = supercell.site_keys[supercell.site_keys[:, -1] == 0][:, :-1]
    out = np.empty((shape.n_orientations, len(cells), shape.size), dtype=np.int64)
    for o, orient in enumerate(shape.orientations):
        for k in range(shape.size):
            keys = np.empty((len(cells), d + 1), dtype=np.int64)
            keys[:, :-1] = cells + orient[k, :-1]
            keys[:, -1] = orient[k, -1]
            out[o, :, k] = supercell.site_index(keys)
    return out.reshape(-1, shape.size)


@dataclass
class _ShapePlan:
    shape: Shape
    classes: list[ClusterClass]
    lookup: np.ndarray          # pattern code -> class index within `classes`
    first_orientation: int      # row of this shape's first orientation in the offset table
    first_class: int            # index of this shape's first class in ClassCounter.classes
    multiplicities: np.ndarray


def _normalised(offsets: np.ndarray) -> np.ndarray:
    """Cell offsets (m, 3) translated so that every axis starts at 0."""
    return offsets - offsets.min(axis=0)


@dataclass
class _MomentPlan:
    """Terms of the one-hot moment path and, per shape, where each orientation finds its moments."""

    sizes: np.ndarray      # (n_terms,) factors per term
    species: np.ndarray    # (n_terms, kmax) indicator index τ-1
    bases: np.ndarray      # (n_terms, kmax)
    offsets: np.ndarray    # (n_terms, kmax, 3)
    #: per shape: (n_orientations, q**size) indices into the moment vector (0 = empty product);
    #: entry ``c`` (a base-q number c_1…c_k) is the term Π_{c_i > 0} x_{c_i}(site i)
    gathers: list[np.ndarray]

    @property
    def n_terms(self) -> int:
        return int(len(self.sizes))

    def flat_offsets(self, nbasis: int, padded: tuple[int, int, int]) -> np.ndarray:
        """(n_terms, kmax) flat offsets of the factors in the padded indicator layout."""
        p0, p1, p2 = padded
        channel = self.species * nbasis + self.bases
        o = self.offsets
        return ((channel * p0 + o[:, :, 0]) * p1 + o[:, :, 1]) * p2 + o[:, :, 2]


class ClassCounter:
    """Counts class concentrations of many configurations of one supercell quickly.

    Parameters
    ----------
    supercell : Supercell
    shapes : sequence of Shape
        The shapes whose classes are counted (any sizes, any enumerator).
    species : sequence of str
        Species names; configurations hold indices into this list.
    method : {"auto", "moments", "histogram"}, optional
        Counting path (see the module docstring); ``"auto"`` (default) picks the cheaper one. All
        paths give identical integer counts.

    Examples
    --------
    >>> counter = ClassCounter(lattice.supercell(48), shapes, ["+", "-"])   # doctest: +SKIP
    >>> conc = counter.concentrations(config)                               # doctest: +SKIP
    """

    def __init__(
        self,
        supercell: Supercell,
        shapes: Sequence[Shape],
        species: Sequence[str],
        method: str = "auto",
    ) -> None:
        if not isinstance(supercell, Supercell):
            raise ConfigurationError(f"expected a Supercell, got {type(supercell).__name__}")
        if method not in COUNTING_METHODS:
            raise ConfigurationError(
                f"unknown counting method {method!r}; known: {', '.join(COUNTING_METHODS)}"
            )
        self.supercell = supercell
        self.species = validate_species(species)
        self.shapes = list(shapes)
        if not self.shapes:
            raise ConfigurationError("ClassCounter needs at least one shape")
        check_supercell_holds(supercell, self.shapes)
        q = len(self.species)
        plans = []
        row = 0
        first_class = 0
        for shape in self.shapes:
            classes = enumerate_classes(shape, self.species)
            plans.append(
                _ShapePlan(
                    shape=shape,
                    classes=classes,
                    lookup=class_lookup(shape, classes, q),
                    first_orientation=row,
                    first_class=first_class,
                    multiplicities=np.array([c.multiplicity for c in classes], dtype=np.float64),
                )
            )
            row += shape.n_orientations
            first_class += len(classes)
        self._plans = plans
        self.classes: list[ClusterClass] = [c for p in plans for c in p.classes]
        self.class_names = [c.name for c in self.classes]
        if len(set(self.class_names)) != len(self.class_names):
            dup = sorted({n for n in self.class_names if self.class_names.count(n) > 1})
            raise ConfigurationError(
                f"class names {dup[:4]} occur more than once: the same shape (or shapes of two "
                "enumerators with equal names) was given twice; count them with separate counters"
            )
        self._q = q
        self._requested_method = method

    # ------------------------------------------------------------------ geometry in row layout
    @cached_property
    def _dims(self) -> tuple[int, int, int]:
        """Supercell sides padded in front to three axes (the last axis is the contiguous one)."""
        d = self.supercell.lattice.dimension
        return tuple([1] * (3 - d) + list(self.supercell.shape))  # type: ignore[return-value]

    def _orientation_sites(self, orient: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(offsets (k, 3) normalised to ≥ 0, basis (k,)) of one orientation."""
        d = self.supercell.lattice.dimension
        off = np.zeros((len(orient), 3), dtype=np.int64)
        off[:, 3 - d :] = orient[:, :-1]
        return _normalised(off), orient[:, -1].astype(np.int64)

    @cached_property
    def _orientation_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sizes (n_or,), bases (n_or, kmax), offsets (n_or, kmax, 3)) of all orientations."""
        rows = sum(p.shape.n_orientations for p in self._plans)
        kmax = max(p.shape.size for p in self._plans)
        sizes = np.zeros(rows, dtype=np.int64)
        bases = np.zeros((rows, kmax), dtype=np.int64)
        offs = np.zeros((rows, kmax, 3), dtype=np.int64)
        for p in self._plans:
            for o, orient in enumerate(p.shape.orientations):
                r = p.first_orientation + o
                off, bas = self._orientation_sites(orient)
                sizes[r] = p.shape.size
                bases[r, : p.shape.size] = bas
                offs[r, : p.shape.size] = off
        return sizes, bases, offs

    @cached_property
    def _padded(self) -> tuple[int, int, int]:
        """Sides of the padded row layout: supercell sides plus the largest offset per axis."""
        offs = self._orientation_table[2]
        pads = offs.reshape(-1, 3).max(axis=0)
        return tuple(int(l + p) for l, p in zip(self._dims, pads))  # type: ignore[return-value]

    @cached_property
    def _orientation_flat(self) -> np.ndarray:
        """(n_or, kmax) flat offsets of the orientation sites in the padded species layout."""
        sizes, bases, offs = self._orientation_table
        p0, p1, p2 = self._padded
        return ((bases * p0 + offs[:, :, 0]) * p1 + offs[:, :, 1]) * p2 + offs[:, :, 2]

    @property
    def _width(self) -> int:
        return self._q ** max(p.shape.size for p in self._plans)

    # ------------------------------------------------------------------ the moment plan
    @cached_property
    def _moment_plan(self) -> _MomentPlan | None:
        """Terms of the moment path and the gather tables (None beyond ``_MAX_TERMS`` terms)."""
        q = self._q
        if sum(p.shape.n_orientations * q ** p.shape.size for p in self._plans) > 20 * _MAX_TERMS:
            return None
        term_ids: dict[tuple, int] = {(): 0}
        gathers = []
        for p in self._plans:
            k = p.shape.size
            selections = list(itertools.product(range(q), repeat=k))
            gather = np.empty((p.shape.n_orientations, len(selections)), dtype=np.int64)
            for o, orient in enumerate(p.shape.orientations):
                off, bas = self._orientation_sites(orient)
                sites = [(int(bas[s]), int(off[s, 0]), int(off[s, 1]), int(off[s, 2])) for s in range(k)]
                for c, sel in enumerate(selections):
                    key = _term_key([(tau - 1,) + sites[s] for s, tau in enumerate(sel) if tau])
                    t = term_ids.get(key)
                    if t is None:
                        t = term_ids[key] = len(term_ids)
                        if t > _MAX_TERMS:
                            return None
                    gather[o, c] = t
            gathers.append(gather)
        terms = sorted(term_ids, key=term_ids.get)[1:]
        kmax = max((len(key) for key in terms), default=1)
        n = len(terms)
        sizes = np.zeros(n, dtype=np.int64)
        species = np.zeros((n, kmax), dtype=np.int64)
        bases = np.zeros((n, kmax), dtype=np.int64)
        offsets = np.zeros((n, kmax, 3), dtype=np.int64)
        for i, key in enumerate(terms):
            sizes[i] = len(key)
            for s, (tau, b, o0, o1, o2) in enumerate(key):
                species[i, s] = tau
                bases[i, s] = b
                offsets[i, s] = (o0, o1, o2)
        return _MomentPlan(sizes, species, bases, offsets, gathers)

    @cached_property
    def method(self) -> str:
        """The counting path in use: ``"moments"`` or ``"histogram"``."""
        if self._requested_method != "auto":
            if self._requested_method == "moments" and self._moment_plan is None:
                raise ConfigurationError(
                    f"the moment counting path would need more than {_MAX_TERMS} terms here; "
                    "use method='histogram' or 'auto'"
                )
            return self._requested_method
        # cheap a-priori test first: every orientation contributes (q-1)^k distinct top-order terms
        sizes = self._orientation_table[0]
        hist_cost = float(np.sum(_COST_ORIENT + _COST_SITE * sizes))
        top = float(np.sum((self._q - 1.0) ** sizes * (_COST_TERM + _COST_FACTOR * sizes)))
        if top > hist_cost:
            return "histogram"
        plan = self._moment_plan
        if plan is None:
            return "histogram"
        mom_cost = float(np.sum(_COST_TERM + _COST_FACTOR * plan.sizes))
        return "moments" if mom_cost <= hist_cost else "histogram"

    # ------------------------------------------------------------------ configuration input
    def _flat(self, config: Any) -> np.ndarray:
        """Shape/dtype-checked flat view of ``config`` (values are checked by the kernels)."""
        sc = self.supercell
        arr = np.asarray(config)
        allowed = {(sc.n_sites,), sc.index_shape}
        if sc.lattice.n_basis == 1:
            allowed.add(sc.shape)
        if arr.shape not in allowed or arr.dtype.kind not in "iub":
            sc.validate_configuration(arr, self._q)  # raises the specific error
            raise ConfigurationError(f"invalid configuration of shape {arr.shape}, dtype {arr.dtype}")
        flat = np.ascontiguousarray(arr).reshape(-1)
        # two kernel specialisations only: bytes (bool, int8 and uint8 are viewed as uint8 — a
        # negative int8 becomes ≥ 128 and still fails validation, whose message then comes from
        # Supercell.validate_configuration on the original array) and int64 for everything else
        if flat.dtype.itemsize == 1:
            return flat.view(np.uint8)
        return flat.astype(np.int64, copy=False)

    def _validated(self, config: Any) -> np.ndarray:
        """Flat configuration with shape, dtype and state values checked."""
        from ._count_kernels import value_range

        flat = self._flat(config)
        lo, hi = value_range(flat)
        if lo < 0 or hi >= self._q:
            self.supercell.validate_configuration(config, self._q)  # raises the specific error
            raise ConfigurationError(
                f"configuration holds state values in {lo}..{hi}; allowed are 0..{self._q - 1}"
            )
        return flat

    def _rows(self, config: Any) -> np.ndarray:
        """Species indices in padded row layout (nbasis, P0, P1, P2), validated."""
        from ._count_kernels import padded_species

        flat = self._validated(config)
        dtype = np.uint8 if self._q <= 255 else np.int64
        rows = np.empty((self.supercell.lattice.n_basis,) + self._padded, dtype=dtype)
        padded_species(flat, rows, *self._dims)
        return rows

    def _indicators(self, config: Any) -> np.ndarray:
        """Indicators x_1 … x_{q-1} in padded row layout (q-1, nbasis, P0, P1, P2), validated."""
        flat = self._flat(config)
        nbasis = self.supercell.lattice.n_basis
        out = np.empty((self._q - 1, nbasis) + self._padded, dtype=np.uint8)
        if self._q == 2 and nbasis == 1 and flat.dtype == np.uint8:
            # a 0/1 byte array already is the indicator of species 1: copy, pad, validate in one pass
            from ._count_kernels import padded_binary

            if not padded_binary(flat, out[0, 0], *self._dims):
                self._validated(config)
            return out
        from ._count_kernels import padded_one_hot

        padded_one_hot(self._validated(config), out, *self._dims)
        return out

    @cached_property
    def _moment_offsets(self) -> np.ndarray:
        return self._moment_plan.flat_offsets(self.supercell.lattice.n_basis, self._padded)

    def moments(self, config: Any) -> np.ndarray:
        """Moments ``M_T`` of the moment path (index 0: the empty product, i.e. the number of cells)."""
        from ._count_kernels import moment_sums

        plan = self._moment_plan
        if plan is None:
            raise ConfigurationError(f"the moment counting path would need more than {_MAX_TERMS} terms")
        ind = self._indicators(config)
        out = np.empty(plan.n_terms + 1, dtype=np.int64)
        out[0] = self.supercell.n_cells
        block = int(min(_BLOCK, max(256, _ACC_BYTES // max(1, plan.n_terms))))
        out[1:] = moment_sums(ind, *self._dims, plan.sizes, self._moment_offsets, block)
        return out

    # ------------------------------------------------------------------ public counting API
    def histograms(self, config: Any) -> list[np.ndarray]:
        """Per shape: (n_orientations, q**size) int64 counts of pattern codes.

        Row ``o`` belongs to ``shape.orientations[o]``; the code of a pattern ``p`` aligned with
        ``shape.sites`` is ``Σ_k p_k q^(size-1-k)``.
        """
        if self.method == "moments":
            m = self.moments(config)
            return [_moments_to_histogram(m[g], self._q, p.shape.size) for p, g in zip(self._plans, self._moment_plan.gathers)]
        from ._count_kernels import pattern_histograms

        hist = pattern_histograms(
            self._rows(config), *self._dims, self._orientation_table[0], self._orientation_flat,
            self._q, self._width, _BLOCK,
        )
        out = []
        for p in self._plans:
            n = p.shape.n_orientations
            out.append(hist[p.first_orientation : p.first_orientation + n, : self._q ** p.shape.size])
        return out

    @cached_property
    def _class_matrix(self) -> np.ndarray | None:
        """Integer matrix W with N = W @ moments (moment path), or None when it would be large.

        Per shape, hist[o, code] = Σ_sel A[code, sel] M[gather[o, sel]] with A = ⊗_k A1 the
        inclusion–exclusion map of :func:`_moments_to_histogram`; summing the codes of each class
        gives W[c, t] = Σ_o Σ_sel [gather[o, sel] = t] Σ_{code ∈ c} A[code, sel].
        """
        plan = self._moment_plan
        if plan is None or len(self.classes) * (plan.n_terms + 1) > 4_000_000:
            return None
        q = self._q
        a1 = np.eye(q, dtype=np.int64)
        a1[0, 1:] = -1
        w = np.zeros((len(self.classes), plan.n_terms + 1), dtype=np.int64)
        for p, gather in zip(self._plans, plan.gathers):
            k = p.shape.size
            a = np.ones((1, 1), dtype=np.int64)
            for _ in range(k):
                a = np.kron(a, a1)
            b = np.zeros((len(p.classes), q**k), dtype=np.int64)
            np.add.at(b, p.lookup, a)  # rows: classes, columns: selections
            rows = p.first_class + np.repeat(np.arange(len(p.classes)), gather.size)
            cols = np.tile(gather.reshape(-1), len(p.classes))
            # b[c, sel] repeated over the orientations, aligned with gather.reshape(-1) = (o, sel)
            vals = np.tile(b, (1, gather.shape[0])).reshape(-1)
            np.add.at(w, (rows, cols), vals)
        return w

    def counts(self, config: Any) -> np.ndarray:
        """Number of embeddings N_c (int64) showing a pattern of each class (aligned with ``classes``)."""
        if self.method == "moments" and self._class_matrix is not None:
            return self._class_matrix @ self.moments(config)
        parts = []
        for p, h in zip(self._plans, self.histograms(config)):
            n = np.zeros(len(p.classes), dtype=np.int64)
            np.add.at(n, p.lookup, h.sum(axis=0))
            parts.append(n)
        return np.concatenate(parts)

    def concentrations(self, config: Any) -> np.ndarray:
        """Concentrations C_c of every class (aligned with ``classes`` / ``class_names``)."""
        n = self.counts(config)
        parts = []
        n_cells = self.supercell.n_cells
        for p in self._plans:
            k = len(p.classes)
            n_emb = p.shape.n_orientations * n_cells
            parts.append(n[p.first_class : p.first_class + k] / (n_emb * p.multiplicities))
        return np.concatenate(parts)

    def as_dict(self, config: Any) -> dict[str, float]:
        """Concentrations keyed by class name."""
        return dict(zip(self.class_names, self.concentrations(config).tolist()))


def _term_key(factors: list[tuple[int, int, int, int, int]]) -> tuple:
    """Translation-normal form of a product of factors ``(indicator, basis, d0, d1, d2)``."""
    if not factors:
        return ()
    m0 = min(f[2] for f in factors)
    m1 = min(f[3] for f in factors)
    m2 = min(f[4] for f in factors)
    return tuple(sorted((f[0], f[1], f[2] - m0, f[3] - m1, f[4] - m2) for f in factors))


def _moments_to_histogram(moments: np.ndarray, q: int, k: int) -> np.ndarray:
    """Pattern counts from the moments of each orientation (inclusion–exclusion, exact integers).

    ``moments[o, c]`` with ``c = (c_1 … c_k)`` in base q holds ``Σ_n Π_{c_i>0} x_{c_i}(n + s_i)``, i.e.
    site i contributes the factor 1 (c_i = 0) or x_{c_i}. Since ``x_0 = 1 − Σ_{τ≥1} x_τ``, replacing
    the factor 1 by x_0 on every axis in turn — ``new[0] = old[0] − Σ_{τ≥1} old[τ]`` — turns the
    moments into the number of embeddings showing each pattern: O(k q^k) per orientation.
    """
    arr = moments.reshape((len(moments),) + (q,) * k).copy()
    for axis in range(1, k + 1):
        head = [slice(None)] * (k + 1)
        head[axis] = 0
        rest = [slice(None)] * (k + 1)
        rest[axis] = slice(1, None)
        arr[tuple(head)] -= arr[tuple(rest)].sum(axis=axis)
    return arr.reshape(len(moments), q**k)


def count_concentrations(
    config: Any, supercell: Supercell, shapes: Sequence[Shape], species: Sequence[str]
) -> dict[str, float]:
    """Concentrations of all classes of ``shapes`` in one configuration, keyed by class name.

    Parameters
    ----------
    config : array_like of int
        Species indices, flat ``(n_sites,)`` or shaped ``(L1, …, Ld[, n_basis])``.
    supercell : Supercell
    shapes : sequence of Shape
    species : sequence of str

    Returns
    -------
    dict
        ``{class name: C_c}`` with ``Σ_c m_c C_c = 1`` per shape.

    Raises
    ------
    ConfigurationError
        Wrong shape, dtype or state values of ``config``.
    GeometryError
        Supercell too small for the shapes.
    """
    if not isinstance(supercell, Supercell):
        raise ConfigurationError(f"expected a Supercell, got {type(supercell).__name__}")
    return ClassCounter(supercell, shapes, species).as_dict(config)
