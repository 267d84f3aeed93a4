"""The paper's rate-constant names k1…k8 for the triangular pair window (Ahmadi et al., eq. 5).

Reactions are labelled by the chain u–w–o of the swap (u the window site that stays, w the window site
that swaps with the outside neighbour o) and by whether the chain is straight (linear, L) or bent by
120° (angled, A). With "+" the first species and "−" the second:

======  ===========  =========  ======  ===========  =========
name    chain u,w,o  context    name    chain u,w,o  context
======  ===========  =========  ======  ===========  =========
k1      + − +        angled     k5      − + −        angled
k2      + − +        linear     k6      − + −        linear
k3      + + −        angled     k7      − − +        angled
k4      + + −        linear     k8      − − +        linear
======  ===========  =========  ======  ===========  =========

Reverse pairs k1↔k3, k2↔k4, k5↔k7, k6↔k8.

The naming applies to every lattice with the geometry of the triangular lattice (its bond graph up to
symmetry and similarity, :func:`latticeclosure.similarity.same_geometry`), whatever its name: the
registered ``triangular``, a lattice file, or the transition-metal layer read from a structure file.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

__all__ = ["TriangularPairNaming"]

_TABLE = {
    ((0, 1, 0), "angled"): "k1",
    ((0, 1, 0), "linear"): "k2",
    ((0, 0, 1), "angled"): "k3",
    ((0, 0, 1), "linear"): "k4",
    ((1, 0, 1), "angled"): "k5",
    ((1, 0, 1), "linear"): "k6",
    ((1, 1, 0), "angled"): "k7",
    ((1, 1, 0), "linear"): "k8",
}


@lru_cache(maxsize=1)
def _reference_triangular() -> Any:
    from latticeclosure.lattice import Lattice

    return Lattice("triangular-reference", [[1.0, 0.0], [0.5, math.sqrt(3.0) / 2]])


def is_triangular(lattice: Any) -> bool:
    """Whether ``lattice`` is the nearest-neighbour triangular lattice up to similarity."""
    from latticeclosure.similarity import same_geometry

    ref = _reference_triangular()
    if getattr(lattice, "dimension", None) != 2 or getattr(lattice, "coordination", None) != (6,):
        return False
    return same_geometry(lattice, ref)


class TriangularPairNaming:
    """Names k1…k8 of the triangular lattice, two species, swap dynamics, pair window, exclude_closed."""

    name = "triangular-pair-paper"
    description = "the paper's k1…k8 (eq. 5) for the triangular pair window with exclude_closed"

    def applies(self, *, lattice: Any, species: Any, dynamics: Any, window_size: int) -> bool:
        return (
            len(species) == 2
            and getattr(dynamics, "name", None) == "swap"
            and bool(getattr(dynamics, "exclude_closed", False))
            and window_size == 2
            and not getattr(dynamics, "bond_kinds", None)
            and is_triangular(lattice)
        )

    def rate_name(self, reaction: Any) -> str | None:
        if reaction.kind != "outside" or reaction.window_shape.size != 2:
            return None
        u = 1 - reaction.active
        chain = (reaction.states[u], reaction.states[reaction.active], reaction.states[reaction.partner])
        return _TABLE.get((chain, reaction.context.shape.name))

    def configure(self, **options: Any) -> "TriangularPairNaming":
        if options:
            raise ValueError(f"naming {self.name!r} takes no options, got {sorted(options)}")
        return self
