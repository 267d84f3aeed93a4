"""The ``chain`` loop rule of the pair approximation: a closed context closed as an open chain.

A size-(n+1) context of the window method is a window embedding ``e`` plus one outside site ``j``
that acts on a window site ``w`` (the swap partner of ``w``, or the neighbour catalysing its flip).
When ``j`` is also adjacent to other window sites the context is a closed cluster (a triangle for
the pair window on the triangular lattice), and the pair family offers rules that know only the
class: Kirkwood superposition, the spanning-tree mean. The *chain* rule uses the reaction instead:
it keeps only the bond through which ``j`` acts and closes the context as the open cluster
``e`` + ``(w, j)``::

    C_{e ∪ j}  ≈  C_e · C_{wj} / C_w          (pair window: C_{uwj} ≈ C_uw C_wj / C_w).

This is the homogeneous pair approximation that ignores clustering (Keeling's pairwise closure
with φ = 0), the one behind the contact-process threshold z/(z − 1) on any lattice of
coordination z; Kirkwood's loop rule is Keeling's clustered closure.

Because a rate equation holds one concentration per context *class*, the rule applies only when
every reaction of a class acts through the same bond up to symmetry (true of contact processes and
SIS, where only susceptible sites are catalysed); otherwise :class:`ClosureError` names the class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from ..errors import ClosureError

__all__ = ["chain_loop_closures", "close_with_chain_loops", "CHAIN_LOOP_LABEL"]

#: Closure label of models closed by :func:`close_with_chain_loops` with the pair family.
CHAIN_LOOP_LABEL = "pair:loop=chain"


def _bonds_to_window(lattice: Any, sites: tuple, n: int, j: int) -> int:
    return sum(bool(lattice.are_neighbours(sites[j], sites[k])) for k in range(n))


def chain_loop_closures(equations: Any) -> dict[str, sp.Expr]:
    """Chain-rule expressions of the closed context classes of a generated hierarchy.

    Parameters
    ----------
    equations : RateEquations
        From :func:`latticeclosure.equations.generate_equations`.

    Returns
    -------
    dict
        Context class name → ``C_e C_wj / C_w`` (class symbols; smaller classes are replaced by
        their marginals when the model is closed) for every context whose outside site is bonded
        to more than one window site. Pass it as ``per_class=`` to
        :func:`latticeclosure.closedmodel.close_equations`.

    Raises
    ------
    ClosureError
        A closed context class that occurs in reactions acting through different bonds (the rule
        would need one concentration per reaction, not per class).
    """
    index = equations.index
    lattice = equations.lattice
    n = equations.window_size
    found: dict[str, tuple[sp.Expr, str]] = {}
    for reaction in equations.reactions:
        sites = tuple(reaction.sites)
        if len(sites) != n + 1 or reaction.partner != n:
            continue  # contexts of window size: nothing to close
        if _bonds_to_window(lattice, sites, n, n) < 2:
            continue  # an open attachment: the base closure already treats it as a chain
        w, j = reaction.active, n
        states = reaction.states
        keys = np.asarray(sites, dtype=np.int64)
        window = index.classify(keys[:n], states[:n])
        pair = index.classify(keys[[w, j]], [states[w], states[j]])
        site = index.classify(keys[[w]], [states[w]])
        expr = sp.Symbol(window.name) * sp.Symbol(pair.name) / sp.Symbol(site.name)
        name = reaction.context.name
        if name in found and found[name][0] != expr:
            raise ClosureError(
                f"loop rule 'chain' is ambiguous for the class {name!r}: its reactions act through "
                f"different bonds ({found[name][1]}; {reaction.describe()}); use loop='kirkwood' or 'tree-mean'"
            )
        found.setdefault(name, (expr, reaction.describe()))
    return {name: expr for name, (expr, _) in found.items()}


def close_with_chain_loops(equations: Any, base: Any = "pair", **options: Any) -> Any:
    """Close ``equations`` with ``base`` on open contexts and the chain rule on closed ones.

    Parameters
    ----------
    equations : RateEquations
    base : closure or str
        The closure of every other context class (default: the pair approximation).
    **options
        Passed to :func:`latticeclosure.closedmodel.close_equations` (``eliminate=`` …).

    Returns
    -------
    ClosedModel
        Its ``closure_label`` is ``"<base>:loop=chain"``.
    """
    from ..closedmodel import close_equations

    chains = chain_loop_closures(equations)
    # one explicit mapping serves every chain-closed class (close_equations reads mappings as closures)
    model = close_equations(equations, base, per_class={name: chains for name in chains}, **options)
    label = base if isinstance(base, str) else getattr(base, "name", "closure")
    model.closure_label = f"{label}:loop=chain"
    return model
