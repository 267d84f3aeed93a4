"""numba kernels behind :mod:`latticeclosure.counting` (imported lazily: numba start-up is slow)."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def _wrap_table(length: int, lo: int, hi: int) -> np.ndarray:
    """tab[i - lo, x] = (x + i) mod length for offsets lo..hi; avoids modulo in the inner loop."""
    tab = np.empty((hi - lo + 1, length), dtype=np.int64)
    for i in range(lo, hi + 1):
        for x in range(length):
            v = (x + i) % length
            tab[i - lo, x] = v
    return tab


@nb.njit(cache=True, nogil=True)
def pattern_histograms(config, l0, l1, l2, nbasis, offsets, sizes, q, width):
    """Histogram of pattern codes for every orientation anchored in every unit cell.

    Parameters
    ----------
    config : int8/int64 array (n_sites,)
    l0, l1, l2 : supercell sides (1 for missing dimensions)
    nbasis : sites per cell
    offsets : (n_orient, kmax, 4) cell offsets and basis index per shape site
    sizes : (n_orient,) shape sizes
    q : number of species
    width : histogram width (q**kmax)
    """
    n_or = offsets.shape[0]
    hist = np.zeros((n_or, width), dtype=np.int64)
    lo = offsets[:, :, :3].min()
    hi = offsets[:, :, :3].max()
    w0 = _wrap_table(l0, lo, hi)
    w1 = _wrap_table(l1, lo, hi)
    w2 = _wrap_table(l2, lo, hi)
    for o in range(n_or):
        k = sizes[o]
        for i0 in range(l0):
            for i1 in range(l1):
                for i2 in range(l2):
                    code = 0
                    for s in range(k):
                        j0 = w0[offsets[o, s, 0] - lo, i0]
                        j1 = w1[offsets[o, s, 1] - lo, i1]
                        j2 = w2[offsets[o, s, 2] - lo, i2]
                        idx = ((j0 * l1 + j1) * l2 + j2) * nbasis + offsets[o, s, 3]
                        code = code * q + config[idx]
                    hist[o, code] += 1
    return hist
