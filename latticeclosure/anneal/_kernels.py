"""numba kernels of the annealer (imported lazily: numba start-up is slow).

Layout. The species array of the stencil and cluster kernels is *padded*: the supercell grid
``(L₀, L₁, L₂, n_basis)`` (C order, basis fastest) surrounded by ``m_a`` ghost cells on both sides of
axis ``a`` that mirror the periodic images. Every site a swap can touch is then at a constant flat
offset from the chosen site, with no wrap-around arithmetic in the hot loop; an accepted swap near a
border also rewrites ghost copies. The mask kernel reads only two bytes per attempt and rewrites
fourteen on acceptance, so it uses the plain (unpadded) array and wraps coordinates near borders
instead (measured faster at high acceptance, equal at T = 0.3).

Per attempt, in every kernel: one xoshiro256** draw ``r``; cell ``(x, y, z)``, basis site ``b`` and
neighbour direction ``d`` from ``r`` by chained multiply-shift; early out when both sites hold the same
species; ΔE of the swap; Metropolis acceptance ``f < ⌊exp(−ΔE/T)·2⁶⁴⌋`` with ``f`` the fraction left
over in ``r`` (see :mod:`latticeclosure.anneal.rng`), always accepting ΔE ≤ 0. All kernels therefore
consume the random stream identically and, for integer energies, give bit-identical runs.

In the two table kernels the early out costs no branch of its own: table entries whose two sites
hold the same species point at a sentinel level with threshold 0, so the single (well predicted at
low T) accept/reject branch also rejects them. A data-dependent 50/50 branch per attempt costs more
than the one extra load it saves (measured: 64 → 86 million attempts/s at L = 96).

The kernels differ in how ΔE is found (see :mod:`latticeclosure.anneal.plans`):

``sweep_mask``
    two species, coordination ≤ 7, energy clusters within the neighbourhood of the swapped bond:
    every site stores its own species and those of its neighbours as a bit mask; ΔE is one lookup
    in a table indexed by the two masks (two loads per attempt).
``sweep_stencil``
    up to a few hundred thousand neighbourhood patterns per bond: the species of the sites around
    the bond form a code; ΔE is one lookup in a table indexed by it.
``sweep_clusters_int`` / ``sweep_clusters_float``
    anything else: ΔE summed cluster by cluster from the energy table.

Tables store, per entry, the index of its ΔE *level*; ``levels`` (the distinct ΔE values) and
``thresholds`` (one per level, recomputed for each temperature) complete the lookup. Levels are
sorted, so ``level >= first_positive`` means ΔE > 0.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .rng import bounded_exact, mul128, next_u64

__all__ = [
    "GEO_FIELDS",
    "fill_padded",
    "extract_real",
    "shuffle_inplace",
    "sweep_mask",
    "sweep_stencil",
    "sweep_clusters_int",
    "sweep_clusters_float",
]

_U = np.uint64
_TWO64 = 18446744073709551616.0
_MAXU64 = np.uint64(0xFFFFFFFFFFFFFFFF)

#: Layout of the ``geo`` int64 vector passed to the kernels.
GEO_FIELDS = ("L0", "L1", "L2", "NB", "m0", "m1", "m2", "P1", "P2", "Z", "K")


# ---------------------------------------------------------------------------------- layout helpers
@nb.njit(inline="always", cache=True)
def _wrap(v, length):
    if v < 0:
        return v + length
    if v >= length:
        return v - length
    return v


@nb.njit(inline="always", cache=True)
def _copies(v, m, length):
    """Padded coordinates of real coordinate ``v`` along one axis: the home one and a ghost (or -1)."""
    ghost = -1
    if v < m:
        ghost = v + m + length
    elif v >= length - m:
        ghost = v + m - length
    return v + m, ghost


@nb.njit(inline="always", cache=True)
def _put(work, x, y, z, b, value, geo):
    """Write ``value`` to the real site (x, y, z, b) and all of its ghost copies."""
    NB, P1, P2 = geo[3], geo[7], geo[8]
    xa, xb = _copies(x, geo[4], geo[0])
    ya, yb = _copies(y, geo[5], geo[1])
    za, zb = _copies(z, geo[6], geo[2])
    for ix in range(2):
        px = xa if ix == 0 else xb
        if px < 0:
            continue
        for iy in range(2):
            py = ya if iy == 0 else yb
            if py < 0:
                continue
            for iz in range(2):
                pz = za if iz == 0 else zb
                if pz < 0:
                    continue
                work[((px * P1 + py) * P2 + pz) * NB + b] = value


@nb.njit(cache=True, nogil=True)
def fill_padded(work, real, geo):
    """Write a flat real array (C order, basis fastest) into the padded array, ghosts included."""
    L0, L1, L2, NB = geo[0], geo[1], geo[2], geo[3]
    i = 0
    for x in range(L0):
        for y in range(L1):
            for z in range(L2):
                for b in range(NB):
                    _put(work, x, y, z, b, real[i], geo)
                    i += 1


@nb.njit(cache=True, nogil=True)
def extract_real(work, geo):
    """The flat real array (C order, basis fastest) of a padded array."""
    L0, L1, L2, NB, m0, m1, m2, P1, P2 = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5], geo[6], geo[7], geo[8]
    out = np.empty(L0 * L1 * L2 * NB, dtype=work.dtype)
    i = 0
    for x in range(L0):
        for y in range(L1):
            for z in range(L2):
                base = (((x + m0) * P1 + y + m1) * P2 + z + m2) * NB
                for b in range(NB):
                    out[i] = work[base + b]
                    i += 1
    return out


@nb.njit(cache=True, nogil=True)
def shuffle_inplace(arr, state):
    """Fisher–Yates shuffle of ``arr`` with exact bounded draws from the xoshiro state."""
    for i in range(arr.shape[0] - 1, 0, -1):
        j = bounded_exact(state, i + 1)
        tmp = arr[i]
        arr[i] = arr[j]
        arr[j] = tmp


# ---------------------------------------------------------------------------------- the draw
@nb.njit(inline="always", cache=True)
def _draw(r, L0, L1, L2, NB, Z):
    """Cell (x, y, z), basis site b, direction d and the left-over fraction f from one draw."""
    x, f = mul128(r, _U(L0))
    y = _U(0)
    if L1 > 1:
        y, f = mul128(f, _U(L1))
    z = _U(0)
    if L2 > 1:
        z, f = mul128(f, _U(L2))
    b = _U(0)
    if NB > 1:
        b, f = mul128(f, _U(NB))
    d, f = mul128(f, _U(Z))
    return np.int64(x), np.int64(y), np.int64(z), np.int64(b), np.int64(d), f


@nb.njit(inline="always", cache=True)
def _swap_species(work, p, row, x, y, z, b, si, sj, geo, nbr_delta, nbr_off, nbr_basis):
    """Apply an accepted swap to a padded species array, including ghost copies near borders."""
    L0, L1, L2, m0, m1, m2 = geo[0], geo[1], geo[2], geo[4], geo[5], geo[6]
    xj = _wrap(x + nbr_off[row, 0], L0)
    yj = _wrap(y + nbr_off[row, 1], L1)
    zj = _wrap(z + nbr_off[row, 2], L2)
    inner_i = m0 <= x < L0 - m0 and m1 <= y < L1 - m1 and m2 <= z < L2 - m2
    inner_j = m0 <= xj < L0 - m0 and m1 <= yj < L1 - m1 and m2 <= zj < L2 - m2
    if inner_i and inner_j:
        work[p] = sj
        work[p + nbr_delta[row]] = si
    else:
        _put(work, x, y, z, b, sj, geo)
        _put(work, xj, yj, zj, nbr_basis[row], si, geo)


# ---------------------------------------------------------------------------------- kernels
@nb.njit(cache=True, nogil=True)
def sweep_mask(work, state, n_steps, geo, nbr_delta, nbr_off, nbr_basis,
               upd_delta, upd_off, upd_basis, upd_bit, upd_src, inner1, inner2,
               table, levels, thresholds, first_positive):
    """``n_steps`` attempted swaps on an (unpadded) array of neighbour bit masks (two species).

    ``work[i]`` holds bit ``k`` = species of neighbour ``k`` (k < Z) and bit ``Z`` = own species.
    ``table[row, (mask_i & low) << Z | (mask_j & low)]`` is the ΔE level of swapping along ``row``
    (the sentinel level, threshold 0, when both sites hold the same species). The array is not
    padded: sites with ``inner1[:3] ≤ (x, y, z) < inner1[3:]`` reach their neighbour at the flat offset
    ``nbr_delta``, others wrap coordinates; an accepted swap rewrites the ``upd_*`` bits (own bits of
    both sites and the bits that point at them from their neighbours), at flat offsets when the chosen
    site is inside ``inner2`` and through wrapped coordinates otherwise. No ghost copies to maintain.

    Returns ``(accepted, ΔE_total)`` with ΔE in the units of ``levels``.
    """
    L0, L1, L2, NB, Z = geo[0], geo[1], geo[2], geo[3], geo[9]
    low = (np.int64(1) << Z) - 1
    n_upd = upd_delta.shape[1]
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    accepted = np.int64(0)
    total = levels[0] * 0
    for _ in range(n_steps):
        r, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        x, y, z, b, d, f = _draw(r, L0, L1, L2, NB, Z)
        row = b * Z + d
        p = ((x * L1 + y) * L2 + z) * NB + b
        if inner1[0] <= x < inner1[3] and inner1[1] <= y < inner1[4] and inner1[2] <= z < inner1[5]:
            q = p + nbr_delta[row]
        else:
            q = ((_wrap(x + nbr_off[row, 0], L0) * L1 + _wrap(y + nbr_off[row, 1], L1)) * L2
                 + _wrap(z + nbr_off[row, 2], L2)) * NB + nbr_basis[row]
        mi = np.int64(work[p])
        mj = np.int64(work[q])
        level = np.int64(table[row, ((mi & low) << Z) | (mj & low)])
        if f >= thresholds[level] and level >= first_positive:
            continue
        si = mi >> Z
        sj = (mi >> d) & 1
        accepted += 1
        total += levels[level]
        inside = inner2[0] <= x < inner2[3] and inner2[1] <= y < inner2[4] and inner2[2] <= z < inner2[5]
        for u in range(n_upd):
            if inside:
                t = p + upd_delta[row, u]
            else:
                t = ((_wrap(x + upd_off[row, u, 0], L0) * L1 + _wrap(y + upd_off[row, u, 1], L1)) * L2
                     + _wrap(z + upd_off[row, u, 2], L2)) * NB + upd_basis[row, u]
            v = sj + (si - sj) * upd_src[row, u]
            bit = upd_bit[row, u]
            work[t] = (np.int64(work[t]) & ~(np.int64(1) << bit)) | (v << bit)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return accepted, total


@nb.njit(cache=True, nogil=True)
def sweep_stencil(work, state, n_steps, geo, nbr_delta, nbr_off, nbr_basis,
                  st_delta, st_weight, q, base, table, levels, thresholds, first_positive):
    """``n_steps`` attempted swaps; ΔE looked up by the species code of the bond's neighbourhood.

    The code of a row is ``(s_i·q + s_j)·base + Σ_k st_weight[k]·s(p + st_delta[row, k])``.
    Returns ``(accepted, ΔE_total)`` in the units of ``levels``.
    """
    L0, L1, L2, NB, m0, m1, m2, P1, P2, Z = (
        geo[0], geo[1], geo[2], geo[3], geo[4], geo[5], geo[6], geo[7], geo[8], geo[9]
    )
    n_st = st_delta.shape[1]
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    accepted = np.int64(0)
    total = levels[0] * 0
    for _ in range(n_steps):
        r, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        x, y, z, b, d, f = _draw(r, L0, L1, L2, NB, Z)
        row = b * Z + d
        p = (((x + m0) * P1 + y + m1) * P2 + z + m2) * NB + b
        si = np.int64(work[p])
        sj = np.int64(work[p + nbr_delta[row]])
        code = (si * q + sj) * base
        for k in range(n_st):
            code += st_weight[k] * np.int64(work[p + st_delta[row, k]])
        level = np.int64(table[row, code])
        if f >= thresholds[level] and level >= first_positive:
            continue
        accepted += 1
        total += levels[level]
        _swap_species(work, p, row, x, y, z, b, si, sj, geo, nbr_delta, nbr_off, nbr_basis)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return accepted, total


@nb.njit(cache=True, nogil=True)
def sweep_clusters_int(work, state, n_steps, geo, nbr_delta, nbr_off, nbr_basis,
                       ncl, cl_delta, cl_weight, cl_coef, etab, thresholds):
    """``n_steps`` attempted swaps; ΔE summed over the row's clusters from an integer energy table.

    ``thresholds[ΔE]`` for ``0 < ΔE ≤ ΔE_max``. Returns ``(accepted, ΔE_total)`` in table units.
    """
    L0, L1, L2, NB, m0, m1, m2, P1, P2, Z, K = (
        geo[0], geo[1], geo[2], geo[3], geo[4], geo[5], geo[6], geo[7], geo[8], geo[9], geo[10]
    )
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    accepted = np.int64(0)
    total = np.int64(0)
    for _ in range(n_steps):
        r, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        x, y, z, b, d, f = _draw(r, L0, L1, L2, NB, Z)
        row = b * Z + d
        p = (((x + m0) * P1 + y + m1) * P2 + z + m2) * NB + b
        si = np.int64(work[p])
        sj = np.int64(work[p + nbr_delta[row]])
        if si == sj:
            continue
        ds = sj - si
        de = np.int64(0)
        for c in range(ncl[row]):
            code = np.int64(0)
            for k in range(K):
                code += cl_weight[row, c, k] * np.int64(work[p + cl_delta[row, c, k]])
            de += etab[code + ds * cl_coef[row, c]] - etab[code]
        if de > 0 and f >= thresholds[de]:
            continue
        accepted += 1
        total += de
        _swap_species(work, p, row, x, y, z, b, si, sj, geo, nbr_delta, nbr_off, nbr_basis)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return accepted, total


@nb.njit(cache=True, nogil=True)
def sweep_clusters_float(work, state, n_steps, geo, nbr_delta, nbr_off, nbr_basis,
                         ncl, cl_delta, cl_weight, cl_coef, etab, beta):
    """As :func:`sweep_clusters_int` for float energies; the threshold is ``exp(−β ΔE)·2⁶⁴``.

    ``beta`` may be ``inf`` (T = 0: only ΔE ≤ 0 is accepted). Returns ``(accepted, ΔE_total)``.
    """
    L0, L1, L2, NB, m0, m1, m2, P1, P2, Z, K = (
        geo[0], geo[1], geo[2], geo[3], geo[4], geo[5], geo[6], geo[7], geo[8], geo[9], geo[10]
    )
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    accepted = np.int64(0)
    total = 0.0
    for _ in range(n_steps):
        r, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        x, y, z, b, d, f = _draw(r, L0, L1, L2, NB, Z)
        row = b * Z + d
        p = (((x + m0) * P1 + y + m1) * P2 + z + m2) * NB + b
        si = np.int64(work[p])
        sj = np.int64(work[p + nbr_delta[row]])
        if si == sj:
            continue
        ds = sj - si
        de = 0.0
        for c in range(ncl[row]):
            code = np.int64(0)
            for k in range(K):
                code += cl_weight[row, c, k] * np.int64(work[p + cl_delta[row, c, k]])
            de += etab[code + ds * cl_coef[row, c]] - etab[code]
        if de > 0.0:
            limit = math.exp(-beta * de) * _TWO64
            if limit < _TWO64 and f >= _U(limit):
                continue
        accepted += 1
        total += de
        _swap_species(work, p, row, x, y, z, b, si, sj, geo, nbr_delta, nbr_off, nbr_basis)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return accepted, total
