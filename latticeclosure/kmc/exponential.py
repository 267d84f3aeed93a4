"""Exponential waiting times by the ziggurat method (Marsaglia & Tsang 2000), on xoshiro256** draws.

One 64-bit draw gives, 98.9 % of the time, an exact Exp(1) variate with a table look-up and one
multiply — no logarithm. Layout as in numpy's generator: of the draw, 3 bits are dropped, 8 pick one of
256 layers and the top 53 bits are the abscissa. The rest of the time a wedge test (one more draw and
one ``exp``) or the tail (``r − log U``) decides; the method is exact, not an approximation.
"""

from __future__ import annotations


import numba as nb
import numpy as np

from ..anneal.rng import next_u64, u64_to_unit

__all__ = ["ZIGGURAT", "ziggurat_tables", "standard_exponential"]

_R_TEXT = "7.69711747013104971669"  # right end of the base layer (Marsaglia & Tsang, 256 layers)
_R = float(_R_TEXT)
_V = 3.949659822581572e-3  # area of every layer (approximately)
_V_TEXT = "0.003949659822581557220017139056332358203761"  # exactly, to 40 digits (ziggurat_tables(solve=True) finds it)


def _layer_area(layers):
    """The common layer area: the top layer, under f(0) = 1, must have the same area (bisection)."""
    import mpmath

    def gap(a):
        x1 = layers(a)[1]
        return x1 * (1 - mpmath.exp(-x1)) - a

    lo, hi = mpmath.mpf(_V) * (1 - mpmath.mpf(10) ** -9), mpmath.mpf(_V) * (1 + mpmath.mpf(10) ** -9)
    g_lo = gap(lo)
    for _ in range(100):  # the gap changes sign once across the bracket
        mid = (lo + hi) / 2
        g_mid = gap(mid)
        if (g_mid > 0) == (g_lo > 0):
            lo, g_lo = mid, g_mid
        else:
            hi = mid
    return (lo + hi) / 2


def ziggurat_tables(solve: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ke, we, fe)``: acceptance thresholds, abscissa scales and densities of the 256 layers.

    Computed in 50-digit arithmetic (mpmath) so that the layer boundaries are correct to double
    precision (a double-precision recurrence loses about 12 digits over the 255 layers). ``solve``
    recomputes the layer area instead of using the stored 40-digit value (2 s).
    """
    import mpmath

    with mpmath.workdps(50):
        m = mpmath.mpf(2) ** 53
        r = mpmath.mpf(_R_TEXT)

        def layers(v):
            xs = [mpmath.mpf(0)] * 256
            xs[255] = r
            for i in range(254, 0, -1):
                xs[i] = -mpmath.log(v / xs[i + 1] + mpmath.exp(-xs[i + 1]))
            return xs

        # the common layer area v: the top layer, under f(0) = 1, must have that area too
        v = mpmath.mpf(_V_TEXT) if not solve else _layer_area(layers)
        xs = layers(v)
        q = v / mpmath.exp(-r)
        ke = np.zeros(256, dtype=np.uint64)
        we = np.zeros(256)
        fe = np.zeros(256)
        ke[0] = int(mpmath.floor(r / q * m))
        we[0] = float(q / m)
        fe[0] = 1.0
        for i in range(1, 256):
            we[i] = float(xs[i] / m)
            fe[i] = float(mpmath.exp(-xs[i]))
            if i >= 2:
                ke[i] = int(mpmath.floor(xs[i - 1] / xs[i] * m))
    return ke, we, fe


#: The tables, computed once.
ZIGGURAT = ziggurat_tables()


@nb.njit(cache=True, inline="always")
def standard_exponential(s0, s1, s2, s3, ke, we, fe):
    """An Exp(1) variate: ``(x, s0, s1, s2, s3)``."""
    while True:
        r, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        ri = r >> np.uint64(3)
        idx = np.int64(ri & np.uint64(0xFF))
        ri = ri >> np.uint64(8)
        x = np.float64(ri) * we[idx]
        if ri < ke[idx]:
            return x, s0, s1, s2, s3
        r, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        u = u64_to_unit(r)
        if idx == 0:
            return _R - np.log1p(-u), s0, s1, s2, s3
        if (fe[idx - 1] - fe[idx]) * u + fe[idx] < np.exp(-x):
            return x, s0, s1, s2, s3
