"""Kernel plans: the tables each swap kernel needs, built once per supercell and energy.

Three plans, tried in this order by :func:`make_plan` (``kernel="auto"``):

``mask``
    two species, coordination Z ≤ 7, every energy cluster touched by a swap lies in the two swapped
    sites' neighbourhoods (pair and triangle energies on the 2D lattices and the cubic lattice). The
    working array holds, per site, a byte with the species of its Z neighbours (bits 0…Z−1) and its
    own (bit Z); ΔE is one lookup indexed by the two sites' bytes. Fastest: two loads per attempt;
    an accepted swap rewrites 2Z + 2 bits (the two sites' own bits and the bits pointing at them).
``stencil``
    at most 2²¹ species patterns of the sites around a bond (over all bond directions): ΔE is one
    lookup indexed by the code of the pattern (three or more species, larger energy clusters).
``clusters``
    everything else: ΔE summed over the affected clusters from the energy table, with integer or
    float energies.

Energies are integers (``ClusterEnergy.quantised``) whenever possible; thresholds are then exact
functions of the integer ΔE, all plans make identical decisions and give bit-identical runs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import LatticeClosureError
from .energy import ClusterEnergy
from .geometry import SwapGeometry

__all__ = ["KernelPlan", "MaskPlan", "StencilPlan", "ClusterPlan", "make_plan", "KERNELS", "thresholds"]

KERNELS = ("auto", "mask", "stencil", "clusters")
_MAX_U64 = (1 << 64) - 1
#: Largest stencil table (entries over all bond directions) before falling back to the cluster kernel.
_STENCIL_LIMIT = 1 << 21


class KernelUnavailable(LatticeClosureError):
    """The requested kernel cannot handle this lattice and energy."""


def thresholds(levels: np.ndarray, temperature: float, quantum: float) -> np.ndarray:
    """``⌊exp(−ΔE·quantum/T)·2⁶⁴⌋`` per ΔE level (``2⁶⁴−1`` for ΔE ≤ 0; 0 for ΔE > 0 at T = 0).

    Computed with :func:`math.exp` level by level so that the values do not depend on numpy's
    vectorised ``exp``.
    """
    out = np.empty(len(levels), dtype=np.uint64)
    for n, level in enumerate(np.asarray(levels).tolist()):
        if level <= 0:
            out[n] = _MAX_U64
        elif temperature == 0:
            out[n] = 0
        else:
            p = math.exp(-level * quantum / temperature)
            out[n] = min(int(p * 2.0**64), _MAX_U64)
    return out


def _level_index(values: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Levels and the level index of every table entry.

    Returns the distinct values of ``values[~same]`` (sorted) followed by a sentinel level (value 0)
    for the entries with ``same`` (both sites hold the same species: never accepted), the index of
    every entry, and the first index with a value > 0.
    """
    levels = np.unique(values[~same])
    index = np.searchsorted(levels, values)
    index[same] = len(levels)
    n = len(levels) + 1
    dtype = np.uint8 if n <= 256 else np.uint16 if n <= 65536 else np.int32
    first_positive = int(np.searchsorted(levels, 0, side="right"))
    return np.append(levels, levels.dtype.type(0)), index.astype(dtype), first_positive


class KernelPlan:
    """Base class: the padded working array and one kernel call per chunk of attempts.

    Attributes
    ----------
    name : str
        ``"mask"``, ``"stencil"`` or ``"clusters"``.
    quantum : float
        Energy per integer unit (1.0 for float energies).
    integer : bool
        True when energies are integers in units of ``quantum``.
    """

    name = "base"

    def __init__(self, geometry: SwapGeometry, energy: ClusterEnergy) -> None:
        self.geometry = geometry
        self.energy = energy
        quant = energy.quantised()
        self.integer = quant is not None
        if quant is not None:
            self.table, self.quantum = quant
        else:
            self.table, self.quantum = energy.table.astype(np.float64), 1.0
        self.nbr = geometry.neighbour_tables()

    # -- working array
    def new_work(self, real: np.ndarray) -> np.ndarray:
        """The padded working array of a flat species configuration (int8)."""
        from ._kernels import fill_padded

        work = np.zeros(self.geometry.padded_size, dtype=np.int8)
        fill_padded(work, np.ascontiguousarray(real, dtype=np.int8), self.geometry.geo)
        return work

    def real(self, work: np.ndarray) -> np.ndarray:
        """The flat species configuration (int8) of a working array."""
        from ._kernels import extract_real

        return extract_real(work, self.geometry.geo)

    # -- temperature and sweeps
    def temperature_tables(self, temperature: float) -> Any:
        raise NotImplementedError

    def run(self, work: np.ndarray, state: np.ndarray, n_steps: int, tables: Any) -> tuple[int, Any]:
        """Attempt ``n_steps`` swaps; return ``(accepted, ΔE)`` with ΔE in units of ``quantum``."""
        raise NotImplementedError


class _LevelPlan(KernelPlan):
    """Plans whose table entries are ΔE level indices."""

    levels: np.ndarray
    first_positive: int

    def temperature_tables(self, temperature: float) -> np.ndarray:
        out = thresholds(self.levels, temperature, self.quantum)
        out[-1] = 0  # the sentinel level: both sites hold the same species
        return out


class MaskPlan(_LevelPlan):
    """Two species; per-site bytes with the species of the site and its neighbours."""

    name = "mask"

    def __init__(self, geometry: SwapGeometry, energy: ClusterEnergy) -> None:
        if geometry.q != 2:
            raise KernelUnavailable(f"the mask kernel needs two species, got {geometry.q}")
        if geometry.Z > 7:
            raise KernelUnavailable(f"the mask kernel needs coordination ≤ 7, got {geometry.Z}")
        # the mask kernel works on the plain, unpadded array (see _kernels.sweep_mask)
        geometry = geometry.with_margin(np.zeros(3, dtype=np.int64))
        super().__init__(geometry, energy)
        g = geometry
        lat = g.lattice
        Z = g.Z
        n_idx = 1 << (2 * Z)
        idx = np.arange(n_idx, dtype=np.int64)
        mi, mj = idx >> Z, idx & ((1 << Z) - 1)
        values_all, same_all = [], []
        upd = []
        for row in g.rows:
            b, d, jk = row.b, row.d, row.j_key
            bj = jk[-1]
            ni = [tuple(n.cell_offset) + (n.basis,) for n in lat.neighbours[b]]
            nj = [tuple(c + o for c, o in zip(jk[:-1], n.cell_offset)) + (n.basis,) for n in lat.neighbours[bj]]
            source: dict[tuple, np.ndarray] = {}
            for k, key in enumerate(nj):
                source[key] = (mj >> k) & 1
            for k, key in enumerate(ni):
                source[key] = (mi >> k) & 1
            sj = (mi >> d) & 1
            source[jk] = sj
            source[row.i_key] = (mj >> int(g.rev[b, d])) & 1
            keys = row.stencil()
            missing = [k for k in keys if k not in source]
            if missing:
                raise KernelUnavailable(
                    "the mask kernel needs every energy cluster of a swap inside the two sites' "
                    f"neighbourhoods; {missing[0]} is not"
                )
            values = np.stack([source[k] for k in keys], axis=1)
            values_all.append(g.row_delta_energy(row, keys, values, self.table))
            same_all.append(values[:, 0] == values[:, 1])
            rd = int(g.rev[b, d])
            entries = [(row.i_key, Z, 0), (jk, Z, 1), (row.i_key, d, 1), (jk, rd, 0)]
            entries += [(key, int(g.rev[b, k]), 0) for k, key in enumerate(ni) if k != d]
            entries += [(key, int(g.rev[bj, k]), 1) for k, key in enumerate(nj) if k != rd]
            upd.append(entries)
        self.levels, index, self.first_positive = _level_index(np.stack(values_all), np.stack(same_all))
        self.lookup = np.ascontiguousarray(index)
        n_upd = max(len(e) for e in upd)
        R = len(g.rows)
        self.upd_delta = np.zeros((R, n_upd), dtype=np.int64)
        self.upd_off = np.zeros((R, n_upd, 3), dtype=np.int64)
        self.upd_basis = np.zeros((R, n_upd), dtype=np.int64)
        self.upd_bit = np.zeros((R, n_upd), dtype=np.int64)
        self.upd_src = np.zeros((R, n_upd), dtype=np.int64)
        reach = np.zeros(3, dtype=np.int64)
        for r, (row, entries) in enumerate(zip(g.rows, upd)):
            # pad with a harmless repeat of the first entry (rewrites the same bit with the same value)
            entries = entries + [entries[0]] * (n_upd - len(entries))
            for u, (key, bit, src) in enumerate(entries):
                self.upd_delta[r, u] = g.flat(key, row.b)
                self.upd_off[r, u] = g.cell_offset3(key)
                self.upd_basis[r, u] = key[-1]
                self.upd_bit[r, u] = bit
                self.upd_src[r, u] = src
                reach = np.maximum(reach, np.abs(g.cell_offset3(key)))
        near = g.neighbour_margin()
        # chosen sites whose neighbour (inner1) / whole update set (inner2) needs no wrapping
        self.inner1 = np.concatenate([near, g.L - near])
        self.inner2 = np.concatenate([reach, g.L - reach])
        self.nbr_masks = g.supercell.neighbours

    def new_work(self, real: np.ndarray) -> np.ndarray:
        real = np.asarray(real, dtype=np.int64)
        Z = self.geometry.Z
        masks = real << Z
        for k in range(Z):
            masks |= real[self.nbr_masks[:, k]] << k
        return masks.astype(np.uint8)

    def real(self, work: np.ndarray) -> np.ndarray:
        return (work >> self.geometry.Z).astype(np.int8)

    def run(self, work, state, n_steps, tables):
        from ._kernels import sweep_mask

        nbr_delta, nbr_off, nbr_basis = self.nbr
        acc, de = sweep_mask(
            work, state, int(n_steps), self.geometry.geo, nbr_delta, nbr_off, nbr_basis,
            self.upd_delta, self.upd_off, self.upd_basis, self.upd_bit, self.upd_src,
            self.inner1, self.inner2, self.lookup, self.levels, tables, self.first_positive,
        )
        return int(acc), de


class StencilPlan(_LevelPlan):
    """ΔE looked up by the species code of all sites of a bond's affected clusters."""

    name = "stencil"

    def __init__(self, geometry: SwapGeometry, energy: ClusterEnergy) -> None:
        super().__init__(geometry, energy)
        g = geometry
        q = g.q
        stencils = [row.stencil() for row in g.rows]
        S = max(len(s) for s in stencils)
        if len(g.rows) * q**S > _STENCIL_LIMIT:
            raise KernelUnavailable(
                f"the stencil kernel would need {len(g.rows)}·{q}**{S} table entries (limit {_STENCIL_LIMIT})"
            )
        n_other = S - 2
        self.q = q
        self.base = q**n_other
        codes = np.arange(q * q * self.base, dtype=np.int64)
        digits = np.empty((len(codes), S), dtype=np.int64)
        digits[:, 0] = codes // (q * self.base)
        digits[:, 1] = (codes // self.base) % q
        for k in range(n_other):
            digits[:, 2 + k] = (codes // q**k) % q
        R = len(g.rows)
        self.st_delta = np.zeros((R, max(n_other, 1)), dtype=np.int64)
        self.st_weight = (q ** np.arange(max(n_other, 1), dtype=np.int64)) * (n_other > 0)
        values_all = []
        same = digits[:, 0] == digits[:, 1]
        for r, (row, keys) in enumerate(zip(g.rows, stencils)):
            padded = keys + [("pad", k) for k in range(S - len(keys))]
            for k, key in enumerate(padded[2:]):
                self.st_delta[r, k] = g.flat(key, row.b) if key[0] != "pad" else 0
            values_all.append(g.row_delta_energy(row, padded, digits, self.table))
        self.levels, index, self.first_positive = _level_index(
            np.stack(values_all), np.broadcast_to(same, (R, len(same)))
        )
        self.lookup = np.ascontiguousarray(index)

    def run(self, work, state, n_steps, tables):
        from ._kernels import sweep_stencil

        nbr_delta, nbr_off, nbr_basis = self.nbr
        acc, de = sweep_stencil(
            work, state, int(n_steps), self.geometry.geo, nbr_delta, nbr_off, nbr_basis,
            self.st_delta, self.st_weight, self.q, self.base, self.lookup, self.levels, tables,
            self.first_positive,
        )
        return int(acc), de


class ClusterPlan(KernelPlan):
    """ΔE summed over the affected clusters; integer thresholds table or ``exp`` for float energies."""

    name = "clusters"

    def __init__(self, geometry: SwapGeometry, energy: ClusterEnergy) -> None:
        super().__init__(geometry, energy)
        g = geometry
        R, K = len(g.rows), g.K
        C = max(1, max(len(row.clusters) for row in g.rows))
        self.ncl = np.zeros(R, dtype=np.int64)
        self.cl_delta = np.zeros((R, C, K), dtype=np.int64)
        self.cl_weight = np.zeros((R, C, K), dtype=np.int64)
        self.cl_coef = np.zeros((R, C), dtype=np.int64)
        for r, row in enumerate(g.rows):
            self.ncl[r] = len(row.clusters)
            for c, (keys, coef) in enumerate(row.clusters):
                for k in range(K):
                    self.cl_delta[r, c, k] = g.flat(tuple(keys[k]), row.b)
                    self.cl_weight[r, c, k] = g.weights[k]
                self.cl_coef[r, c] = coef
        if self.integer:
            span = int(self.table.max() - self.table.min())
            self.max_delta = span * int(self.ncl.max())

    def temperature_tables(self, temperature: float) -> Any:
        if self.integer:
            return thresholds(np.arange(self.max_delta + 1), temperature, self.quantum)
        return math.inf if temperature == 0 else 1.0 / temperature

    def run(self, work, state, n_steps, tables):
        from ._kernels import sweep_clusters_float, sweep_clusters_int

        nbr_delta, nbr_off, nbr_basis = self.nbr
        kernel = sweep_clusters_int if self.integer else sweep_clusters_float
        acc, de = kernel(
            work, state, int(n_steps), self.geometry.geo, nbr_delta, nbr_off, nbr_basis,
            self.ncl, self.cl_delta, self.cl_weight, self.cl_coef, self.table, tables,
        )
        return int(acc), de


def make_plan(geometry: SwapGeometry, energy: ClusterEnergy, kernel: str = "auto") -> KernelPlan:
    """The fastest applicable plan (``kernel="auto"``) or the named one.

    Raises
    ------
    KernelUnavailable
        If a named kernel cannot handle the lattice and energy, or the name is unknown.
    """
    if kernel not in KERNELS:
        raise KernelUnavailable(f"unknown annealing kernel {kernel!r}; known: {', '.join(KERNELS)}")
    order = {"auto": (MaskPlan, StencilPlan, ClusterPlan), "mask": (MaskPlan,),
             "stencil": (StencilPlan,), "clusters": (ClusterPlan,)}[kernel]
    error: Exception | None = None
    for cls in order:
        try:
            return cls(geometry, energy)
        except KernelUnavailable as exc:
            error = exc
    assert error is not None
    raise error
