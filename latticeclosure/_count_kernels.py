"""numba kernels behind :mod:`latticeclosure.counting` (imported lazily: numba start-up is slow).

Layout. Every kernel works on a *padded row layout* of the configuration: per channel (basis site,
and for indicators also species) a 3D block ``(l0 + p0, l1 + p1, l2 + p2)`` — lattice directions
padded in front to three, the last one contiguous — whose padding repeats the first ``p`` planes,
rows and columns (periodic wrap). With all offsets of a cluster translated to be ``≥ 0`` and
``≤ p`` (a common translation does not change a sum over all anchor cells), a cluster site is then a
constant *flat offset* ``D`` from its anchor: the site at cell offset ``(d0, d1, d2)`` on channel
``c`` of the anchor with flat index ``n`` sits at ``n + D``, ``D = ((c·P0 + d0)·P1 + d1)·P2 + d2``.
No modulo and no indirection remain in any inner loop.

Blocks. Anchors are processed in blocks of consecutive flat indices: whole padded rows when they
are short (several rows per block; the anchors in the padding columns are computed and then
masked out), column chunks of one row when they are long. Inner loops index flat arrays with
unsigned integers, so numba emits no negative-index test and LLVM vectorises them.

Two counting paths, which give identical integer results:

* :func:`pattern_histograms` — general (any number of species and basis sites): per orientation and
  block, the pattern codes ``Σ_k p_k q^(size-1-k)`` of all anchors are built with one vectorised
  pass per cluster site, then histogrammed with four sub-histograms (which breaks store-to-load
  dependencies between neighbouring anchors).
* :func:`moment_sums` — the one-hot moment path: sums over all anchors of products of shifted 0/1
  indicator arrays ``x_τ`` (uint8), one sum per distinct *term* (set of (species, site) factors up to
  translation). All terms are evaluated in one fused pass over the blocks: per term the inner loop
  is a byte-wise AND of k shifted rows added into a uint8 per-position accumulator, flushed into
  int64 totals every 255 blocks. The pattern counts follow by inclusion–exclusion
  (:mod:`latticeclosure.counting`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = [
    "value_range",
    "padded_species",
    "padded_one_hot",
    "padded_binary",
    "pattern_histograms",
    "moment_sums",
    "block_rows",
]


# -------------------------------------------------------------------------------------- layouts
@nb.njit(cache=True, nogil=True)
def _wrap_pad(a, l0, l1, l2):
    """Fill the padding of a 3D block ``a`` (P0, P1, P2) from its interior ``[:l0, :l1, :l2]``."""
    p0, p1, p2 = a.shape
    for i0 in range(l0):
        for i1 in range(l1):
            for i2 in range(l2, p2):
                a[i0, i1, i2] = a[i0, i1, i2 - l2]
        for i1 in range(l1, p1):
            a[i0, i1, :] = a[i0, i1 - l1, :]
    for i0 in range(l0, p0):
        a[i0, :, :] = a[i0 - l0, :, :]


@nb.njit(cache=True, nogil=True)
def value_range(flat):
    """(min, max) of an integer array in one vectorised pass (0, 0 when empty)."""
    n = flat.shape[0]
    if n == 0:
        return np.int64(0), np.int64(0)
    lo = flat[0]
    hi = flat[0]
    for j in range(np.uint64(n)):
        v = flat[j]
        lo = min(lo, v)
        hi = max(hi, v)
    return np.int64(lo), np.int64(hi)


@nb.njit(cache=True, nogil=True)
def padded_species(flat, out, l0, l1, l2):
    """Fill ``out`` (nbasis, P0, P1, P2) with the species indices of ``flat`` in padded row layout.

    ``flat`` is the configuration in supercell index order (basis fastest), already validated.
    """
    nbasis, p0, p1, p2 = out.shape
    o = out.reshape(-1)
    unb = np.uint64(nbasis)
    for b in range(nbasis):
        for i0 in range(l0):
            for i1 in range(l1):
                src = np.uint64(((i0 * l1 + i1) * l2) * nbasis + b)
                dst = np.uint64(((b * p0 + i0) * p1 + i1) * p2)
                for j in range(np.uint64(l2)):
                    o[dst + j] = flat[src + j * unb]
        _wrap_pad(out[b], l0, l1, l2)


@nb.njit(cache=True, nogil=True)
def padded_one_hot(flat, out, l0, l1, l2):
    """Fill ``out`` (q-1, nbasis, P0, P1, P2) with the indicators ``x_τ = [state == τ]``, τ = 1 … q-1.

    ``flat`` is the configuration in supercell index order (basis fastest), already validated.
    """
    nq, nbasis, p0, p1, p2 = out.shape
    o = out.reshape(-1)
    unb = np.uint64(nbasis)
    for t in range(nq):
        tau = t + 1
        for b in range(nbasis):
            for i0 in range(l0):
                for i1 in range(l1):
                    src = np.uint64(((i0 * l1 + i1) * l2) * nbasis + b)
                    dst = np.uint64((((t * nbasis + b) * p0 + i0) * p1 + i1) * p2)
                    for j in range(np.uint64(l2)):
                        o[dst + j] = 1 if flat[src + j * unb] == tau else 0
            _wrap_pad(out[t, b], l0, l1, l2)


@nb.njit(cache=True, nogil=True)
def padded_binary(flat, out, l0, l1, l2):
    """Copy a one-site-basis 0/1 configuration given as bytes into ``out`` (P0, P1, P2), padded.

    One vectorised pass that also validates: returns False when some byte is neither 0 nor 1.
    """
    p0, p1, p2 = out.shape
    o = out.reshape(-1)
    bits = np.uint8(0)
    ul2 = np.uint64(l2)
    for i0 in range(l0):
        for i1 in range(l1):
            src = np.uint64((i0 * l1 + i1) * l2)
            dst = np.uint64((i0 * p1 + i1) * p2)
            for j in range(ul2):
                v = flat[src + j]
                bits |= v
                o[dst + j] = v
    _wrap_pad(out, l0, l1, l2)
    return (bits & np.uint8(0xFE)) == 0


@nb.njit(cache=True, nogil=True)
def block_rows(l2, p2, target):
    """Rows per block: several padded rows when they are short, else 1 (then columns are chunked)."""
    if p2 >= target:
        return 1
    return max(1, target // p2)


# ---------------------------------------------------------------------------------------- histograms
@nb.njit(cache=True, nogil=True)
def pattern_histograms(rows, l0, l1, l2, sizes, offs, q, width, target):
    """Histogram of pattern codes of every orientation anchored in every unit cell.

    Parameters
    ----------
    rows : uint8 (or wider) array (nbasis, P0, P1, P2), C-contiguous
        Species indices in padded row layout (:func:`padded_species`).
    l0, l1, l2 : int
        Supercell sides (the interior of ``rows``).
    sizes : int64 (n_orient,)
        Number of sites of each orientation.
    offs : int64 (n_orient, kmax)
        Flat offset ``D`` of each site from the anchor (see the module docstring).
    q : int
        Number of species.
    width : int
        Histogram width (``q ** kmax``).
    target : int
        Anchors per block (cache footprint).

    Returns
    -------
    int64 (n_orient, width)
    """
    nbasis, p0, p1, p2 = rows.shape
    y = rows.reshape(-1)
    n_or = sizes.shape[0]
    hist = np.zeros((n_or, width), dtype=np.int64)
    sub = np.zeros((4, width + 1), dtype=np.int64)   # bin `width` collects masked-out anchors
    r_blk = block_rows(l2, p2, target)
    span = r_blk * p2 if r_blk > 1 else min(target, l2)
    codes = np.zeros(span, dtype=np.int64)
    valid = np.zeros(span, dtype=np.bool_)
    for j in range(span):
        valid[j] = (j % p2) < l2 if r_blk > 1 else True
    trash = np.int64(width)
    h0 = sub[0]
    h1 = sub[1]
    h2 = sub[2]
    h3 = sub[3]
    for o in range(n_or):
        k = sizes[o]
        sub[:, :] = 0
        for i0 in range(l0):
            for i1 in range(0, l1, r_blk):
                r = min(r_blk, l1 - i1)
                row_start = (i0 * p1 + i1) * p2
                if r_blk > 1:
                    n_chunks = 1
                else:
                    n_chunks = (l2 + span - 1) // span
                for ic in range(n_chunks):
                    if r_blk > 1:
                        start = row_start
                        w = r * p2
                    else:
                        start = row_start + ic * span
                        w = min(span, l2 - ic * span)
                    uw = np.uint64(w)
                    b0 = np.uint64(start + offs[o, 0])
                    for j in range(uw):
                        codes[j] = y[b0 + j]
                    for s in range(1, k):
                        bs = np.uint64(start + offs[o, s])
                        for j in range(uw):
                            codes[j] = codes[j] * q + y[bs + j]
                    if r_blk > 1:
                        for j in range(uw):
                            codes[j] = codes[j] if valid[j] else trash
                    j = 0
                    while j + 4 <= w:
                        h0[codes[j]] += 1
                        h1[codes[j + 1]] += 1
                        h2[codes[j + 2]] += 1
                        h3[codes[j + 3]] += 1
                        j += 4
                    while j < w:
                        h0[codes[j]] += 1
                        j += 1
        for c in range(width):
            hist[o, c] = sub[0, c] + sub[1, c] + sub[2, c] + sub[3, c]
    return hist


# ------------------------------------------------------------------------------------------ moments
@nb.njit(cache=True, nogil=True)
def _flush(acc, mask, totals, nt, span, w):
    uw = np.uint64(w)
    for t in range(nt):
        base = np.uint64(t * span)
        s = 0
        for j in range(uw):
            s += acc[base + j] & mask[j]
            acc[base + j] = 0
        totals[t] += s


@nb.njit(cache=True, nogil=True)
def moment_sums(ind, l0, l1, l2, sizes, offs, target):
    """Sums over all anchor cells of products of shifted indicator arrays, one per term.

    Parameters
    ----------
    ind : uint8 array (n_indicators, nbasis, P0, P1, P2), C-contiguous
        0/1 indicators in padded row layout (:func:`padded_one_hot`, :func:`padded_binary`).
    l0, l1, l2 : int
        Supercell sides (the interior of each block).
    sizes : int64 (n_terms,)
        Number of factors of each term (≥ 1).
    offs : int64 (n_terms, kmax)
        Flat offset ``D`` of each factor from the anchor (channel included).
    target : int
        Anchors per block (the uint8 accumulator holds ``n_terms × target`` bytes).

    Returns
    -------
    int64 (n_terms,)
        ``Σ_n Π_f x[n + D_f]`` over the anchors n of the interior.
    """
    n_ind, nbasis, p0, p1, p2 = ind.shape
    x = ind.reshape(-1)
    nt = sizes.shape[0]
    totals = np.zeros(nt, dtype=np.int64)
    r_blk = block_rows(l2, p2, target)
    span = r_blk * p2 if r_blk > 1 else min(target, l2)
    acc = np.zeros(nt * span, dtype=np.uint8)
    tmp = np.zeros(span, dtype=np.uint8)
    mask = np.zeros(span, dtype=np.uint8)
    for j in range(span):
        mask[j] = 0xFF if (r_blk == 1 or (j % p2) < l2) else 0
    n_chunks = 1 if r_blk > 1 else (l2 + span - 1) // span
    for ic in range(n_chunks):
        pending = 0
        w_max = 0
        for i0 in range(l0):
            for i1 in range(0, l1, r_blk):
                r = min(r_blk, l1 - i1)
                if r_blk > 1:
                    start = (i0 * p1 + i1) * p2
                    w = r * p2
                else:
                    start = (i0 * p1 + i1) * p2 + ic * span
                    w = min(span, l2 - ic * span)
                if w > w_max:
                    w_max = w
                uw = np.uint64(w)
                for t in range(nt):
                    k = sizes[t]
                    a = np.uint64(t * span)
                    b0 = np.uint64(start + offs[t, 0])
                    if k == 1:
                        for j in range(uw):
                            acc[a + j] += x[b0 + j]
                        continue
                    b1 = np.uint64(start + offs[t, 1])
                    if k == 2:
                        for j in range(uw):
                            acc[a + j] += x[b0 + j] & x[b1 + j]
                        continue
                    b2 = np.uint64(start + offs[t, 2])
                    if k == 3:
                        for j in range(uw):
                            acc[a + j] += x[b0 + j] & x[b1 + j] & x[b2 + j]
                        continue
                    b3 = np.uint64(start + offs[t, 3])
                    if k == 4:
                        for j in range(uw):
                            acc[a + j] += x[b0 + j] & x[b1 + j] & x[b2 + j] & x[b3 + j]
                        continue
                    for j in range(uw):
                        tmp[j] = x[b0 + j] & x[b1 + j] & x[b2 + j] & x[b3 + j]
                    for s in range(4, k):
                        bs = np.uint64(start + offs[t, s])
                        for j in range(uw):
                            tmp[j] &= x[bs + j]
                    for j in range(uw):
                        acc[a + j] += tmp[j]
                pending += 1
                if pending == 255:
                    _flush(acc, mask, totals, nt, span, w_max)
                    pending = 0
                    w_max = 0
        _flush(acc, mask, totals, nt, span, w_max)
    return totals
