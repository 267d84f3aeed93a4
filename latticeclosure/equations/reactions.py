"""Reactions of the window method and their orbits under the space group.

A *reaction instance* is one way the pattern on a labelled window embedding ``e`` can change: a swap
of a window site ``w`` with a neighbour ``o`` (outside ``e``: context ``e ∪ {o}``; inside: context
``e``) or a flip of a window site ``w`` (spontaneous, or catalysed by a neighbour ``j`` in a given
state). Instances related by a space-group operation form one *reaction orbit* and share one rate
constant (swap dynamics). The canonical key of an orbit is the smallest translation-normalised image
of ``(site, role, state)`` rows over all operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..clusters import ClusterClass, Shape
    from ..symmetry import SpaceGroup

__all__ = ["Reaction", "orbit_key"]

#: Roles of the sites of a reaction context in its canonical key.
ROLE_WINDOW, ROLE_ACTIVE, ROLE_PARTNER, ROLE_CATALYST = 0, 1, 2, 3


def orbit_key(group: "SpaceGroup", keys: np.ndarray, roles: np.ndarray, states: np.ndarray) -> tuple:
    """Canonical key of the orbit of a labelled, role-annotated cluster under ``group``.

    Parameters
    ----------
    keys : (m, d+1) int array of site keys
    roles : (m,) int array (window / active / partner / catalyst)
    states : (m,) int array of species indices
    """
    best = None
    extra = np.stack([roles, states], axis=1)
    for op in group.operations:
        img = op.apply(keys)
        order = np.lexsort(img.T[::-1])
        rows = np.concatenate([img[order], extra[order]], axis=1)
        rows[:, : img.shape[1] - 1] -= rows[0, : img.shape[1] - 1]
        cand = tuple(map(tuple, rows.tolist()))
        if best is None or cand < best:
            best = cand
    return best


@dataclass(eq=False)
class Reaction:
    """One reaction orbit of the window method (the unit that carries a rate constant for swaps).

    Attributes
    ----------
    kind : str
        ``"outside"`` or ``"internal"`` (swap), ``"spontaneous"`` or ``"catalysed"`` (flip).
    window_shape : Shape
    sites : tuple of site keys
        A representative instance: the window sites in the window shape's order, then the outside
        partner/catalyst site if there is one.
    states : tuple of int
        Species indices on ``sites`` before the reaction.
    active : int
        Position (in ``sites``) of the window site that swaps or flips (``w``).
    partner : int or None
        Position of the swap partner ``o`` (outside or inside the window), or of the catalyst.
    context : ClusterClass
        Class of the pattern on the context (``sites``) before the reaction.
    product_context : ClusterClass
        Class of the context after the reaction.
    reactant : ClusterClass
        Window class before, ``product`` the window class after.
    key, reverse_key : tuple
        Canonical orbit keys of the reaction and of its reverse.
    rate : str
        Name of the rate constant (assigned by the naming).
    """

    kind: str
    window_shape: "Shape"
    sites: tuple
    states: tuple[int, ...]
    active: int
    partner: int | None
    context: "ClusterClass"
    product_context: "ClusterClass"
    reactant: "ClusterClass"
    product: "ClusterClass"
    key: tuple
    reverse_key: tuple | None
    species: tuple[str, ...] = ()
    rate: str = ""
    sort_key: tuple = field(default=(), repr=False)

    @property
    def state_names(self) -> tuple[str, ...]:
        """``states`` as species names."""
        return tuple(self.species[s] for s in self.states)

    def chain_states(self) -> tuple[str, str, str] | None:
        """For a two-site window with an outside partner: states along the chain u–w–o.

        ``u`` is the window site that does not move, ``w`` the one that swaps with ``o``. This is the
        labelling of the paper's L_xyz / A_xyz context classes. ``None`` for other reactions.
        """
        if self.kind != "outside" or self.window_shape.size != 2:
            return None
        u = 1 - self.active
        names = self.state_names
        return (names[u], names[self.active], names[self.partner])

    def describe(self) -> str:
        """One-line human-readable description."""
        names = self.state_names
        if self.kind in ("outside", "internal"):
            return (
                f"{self.rate}: {self.kind} swap in window {self.window_shape.name}, context "
                f"{self.context.shape.name} {''.join(names) if all(len(n) == 1 for n in names) else names}, "
                f"{self.reactant.name} -> {self.product.name}"
            )
        return f"{self.rate}: {self.kind} flip, {self.reactant.name} -> {self.product.name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kind": self.kind,
            "window_shape": self.window_shape.name,
            "context": self.context.name,
            "reactant": self.reactant.name,
            "product": self.product.name,
            "states": list(self.state_names),
            "active": self.active,
            "partner": self.partner,
        }
