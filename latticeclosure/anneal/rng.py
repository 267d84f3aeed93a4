"""The annealer's random number generator: xoshiro256** inlined in numba.

One 64-bit draw per attempted swap. The whole generator state is a ``uint64[4]`` array, so a run can
be checkpointed and resumed bit for bit. Seeding expands a non-negative integer seed with SplitMix64
(the seeding procedure recommended by the xoshiro authors), so every seed gives a valid, well-mixed
state.

Bounded integers are drawn by *multiply-shift* (Lemire): ``floor(r · n / 2⁶⁴)`` is the high word of
the 128-bit product of the 64-bit draw ``r`` and ``n`` (:func:`mul128`, a single machine multiply);
the low word ``r · n mod 2⁶⁴`` is the fractional part, a fresh 64-bit fraction from which the next
bounded integer — or the Metropolis acceptance test — is drawn. Chaining ``k`` of these from one draw
is exactly the mixed-radix expansion of ``⌊r · M / 2⁶⁴⌋`` with ``M = Π n_i``; every outcome has
probability ``1/M`` up to ``M/2⁶⁴`` (below 10⁻¹² for any supercell here), and the final fraction is
uniform on a grid of spacing ``M/2⁶⁴`` given the outcome, so an acceptance probability drawn from it
is exact to within ``M/2⁶⁴``. :func:`bounded_exact` adds Lemire's rejection step where exactness
matters (the initial shuffle).

All functions take and return the four state words as plain ``uint64`` scalars so that numba keeps
them in registers inside the sweep loop.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

__all__ = [
    "seed_state",
    "splitmix64",
    "next_u64",
    "mul128",
    "bounded_exact",
    "u64_to_unit",
]

_U = np.uint64
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_M64 = (1 << 64) - 1


def splitmix64(x: int) -> tuple[int, int]:
    """One SplitMix64 step in Python integers: ``(new_state, output)``."""
    x = (x + _GOLDEN) & _M64
    z = x
    z = ((z ^ (z >> 30)) * _MIX1) & _M64
    z = ((z ^ (z >> 27)) * _MIX2) & _M64
    return x, z ^ (z >> 31)


def seed_state(seed: int, stream: int = 0) -> np.ndarray:
    """The xoshiro256** state for a seed (and an optional independent stream number).

    Parameters
    ----------
    seed : int
        Non-negative integer below 2⁶⁴.
    stream : int, default 0
        Mixed into the seed so that e.g. several replicas of one seed get unrelated streams.

    Returns
    -------
    ndarray of uint64, shape (4,)
    """
    seed = int(seed)
    stream = int(stream)
    if seed < 0 or seed > _M64 or stream < 0 or stream > _M64:
        raise ValueError(f"seed and stream must be integers in [0, 2**64), got {seed}, {stream}")
    x = seed
    _, h = splitmix64(stream ^ 0x5DEECE66D)
    x ^= h
    words = []
    for _ in range(4):
        x, z = splitmix64(x)
        words.append(z)
    if not any(words):  # the all-zero state is the one invalid xoshiro state
        words[0] = 1
    return np.array(words, dtype=np.uint64)


@nb.njit(inline="always", cache=True)
def _rotl(x, k):
    return (x << _U(k)) | (x >> _U(64 - k))


@nb.njit(inline="always", cache=True)
def next_u64(s0, s1, s2, s3):
    """One xoshiro256** step: ``(output, s0, s1, s2, s3)``."""
    result = _rotl(s1 * _U(5), 7) * _U(9)
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@intrinsic
def mul128(typingctx, a, b):
    """``(high, low)`` 64-bit words of the 128-bit product of two uint64 (one ``mul`` instruction)."""
    if a != types.uint64 or b != types.uint64:
        return None
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        x, y = args
        i128 = ir.IntType(128)
        prod = builder.mul(builder.zext(x, i128), builder.zext(y, i128))
        hi = builder.trunc(builder.lshr(prod, ir.Constant(i128, 64)), ir.IntType(64))
        lo = builder.trunc(prod, ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, [hi, lo])

    return sig, codegen


@nb.njit(cache=True)
def bounded_exact(state, n):
    """Uniform integer in ``[0, n)`` (``0 < n < 2³²``), exact (Lemire's rejection), advancing ``state``."""
    nn = _U(n)
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    r, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
    hi, low = mul128(r, nn)
    if low < nn:
        threshold = (_U(0) - nn) % nn
        while low < threshold:
            r, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
            hi, low = mul128(r, nn)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return np.int64(hi)


@nb.njit(inline="always", cache=True)
def u64_to_unit(r):
    """The top 53 bits of a draw as a double in ``[0, 1)``."""
    return np.float64(r >> _U(11)) * (1.0 / 9007199254740992.0)
