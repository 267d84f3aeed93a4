"""Exact linear-algebra analysis of generated equations: composition drift relations.

The drift dC_s/dt of a species' concentration is linear in the rate constants and in the cluster
concentrations. Cluster concentrations are not independent: summing a size-(k+1) class over the state
of a removable site gives a size-k class (marginal consistency) for every k. The drift vanishes
*identically* — on every marginally consistent set of concentrations — exactly when its coefficient
vector lies in the span of those relations, i.e. is orthogonal to their null space. That gives linear
equations in the rate constants, solved exactly over the rationals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix

if TYPE_CHECKING:  # pragma: no cover
    from .generator import RateEquations

__all__ = ["marginal_relations", "drift_relations"]


def marginal_relations(index, max_size: int) -> tuple[list[str], list[dict[str, int]]]:
    """Marginal-consistency relations among all classes of size 1 … ``max_size``.

    Returns the variable names and a list of relations, each a mapping name → integer coefficient
    with Σ coefficient · C_name = 0.
    """
    variables = [c.name for size in range(1, max_size + 1) for c in index.classes_of_size(size)]
    relations: list[dict[str, int]] = []
    q = index.q
    for size in range(2, max_size + 1):
        for shape in index.shapes_of_size(size):
            keys = np.array(shape.sites, dtype=np.int64)
            for v in range(size):
                rest = [i for i in range(size) if i != v]
                try:
                    index.shape_of(keys[rest])
                except Exception:  # removing v disconnects the cluster
                    continue
                for sub in np.ndindex(*([q] * (size - 1))):
                    rel: dict[str, int] = {}
                    small = index.classify(keys[rest], sub).name
                    rel[small] = rel.get(small, 0) - 1
                    for s in range(q):
                        full = [0] * size
                        for i, val in zip(rest, sub):
                            full[i] = int(val)
                        full[v] = s
                        big = index.classify(keys, full).name
                        rel[big] = rel.get(big, 0) + 1
                    rel = {k: c for k, c in rel.items() if c != 0}
                    if rel:
                        relations.append(rel)
    return variables, relations


def drift_relations(eqs: "RateEquations") -> list[sp.Eq]:
    """Relations among the rate constants that make every species' drift vanish identically."""
    variables, relations = marginal_relations(eqs.index, eqs.window_size + 1)
    col = {name: i for i, name in enumerate(variables)}
    rows = [[0] * len(variables) for _ in relations]
    for r, rel in enumerate(relations):
        for name, c in rel.items():
            rows[r][col[name]] = c
    if not rows:
        null_basis = [[1 if i == j else 0 for i in range(len(variables))] for j in range(len(variables))]
    else:
        mat = DomainMatrix([[QQ(v) for v in row] for row in rows], (len(rows), len(variables)), QQ)
        null = mat.nullspace().to_Matrix()
        null_basis = [list(null.row(i)) for i in range(null.rows)]
    rate_syms = eqs.rate_symbols
    conditions = []
    for species in eqs.species[:-1] if len(eqs.species) > 1 else eqs.species:
        drift = eqs.singlet_drift(species)
        coeffs = [sp.expand(drift).coeff(eqs.symbols[name]) if name in eqs.symbols else 0 for name in variables]
        for vec in null_basis:
            cond = sp.expand(sum(c * v for c, v in zip(coeffs, vec) if v != 0 and c != 0))
            if cond != 0:
                conditions.append(cond)
    if not conditions:
        return []
    solution = sp.linsolve(conditions, rate_syms)
    (sol,) = tuple(solution)
    out = []
    for sym, value in zip(rate_syms, sol):
        if sp.simplify(value - sym) != 0:
            out.append(sp.Eq(sym, value))
    return out
