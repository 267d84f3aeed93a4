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
"""

from __future__ import annotations

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


class TriangularPairNaming:
    """Names k1…k8 of the triangular lattice, two species, swap dynamics, pair window, exclude_closed."""

    name = "triangular-pair-paper"
    description = "the paper's k1…k8 (eq. 5) for the triangular pair window with exclude_closed"

    def applies(self, *, lattice: Any, species: Any, dynamics: Any, window_size: int) -> bool:
        return (
            getattr(lattice, "name", None) == "triangular"
            and len(species) == 2
            and getattr(dynamics, "name", None) == "swap"
            and bool(getattr(dynamics, "exclude_closed", False))
            and window_size == 2
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
