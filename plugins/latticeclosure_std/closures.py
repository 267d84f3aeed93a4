"""Closure families of the standard plugin set (wired into ``latticeclosure_closures`` by the std plugin)."""

from __future__ import annotations

__all__ = ["standard_closures"]


def standard_closures() -> list:
    """mean-field, pair, kirkwood, power-law, pair-corrected, sparse and custom (unconfigured)."""
    from latticeclosure.closures import standard_closures as _families

    return _families()
