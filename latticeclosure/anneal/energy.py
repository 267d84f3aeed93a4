"""Cluster energies: a table over the species patterns of one *energy cluster shape*.

The energy of a configuration is ``E = Σ_e table[code(e)]`` over all embeddings ``e`` of the energy
shape in the supercell (each distinct site-set once, as :func:`latticeclosure.counting.shape_embeddings`
lists them), with the pattern code ``code = Σ_k s_k q^(size−1−k)`` over the shape's site positions —
the same code convention as :func:`latticeclosure.clusters.class_lookup`. Triangles give e.g. a
charge-neutrality energy per triangle, bonds an Ising-type model; any number of species.

The annealer prefers integer energies: :meth:`ClusterEnergy.quantised` finds a quantum ``ε`` with every
table value an integer multiple of ``ε`` (e.g. 1/4 for a table of quarters), so energy changes are exact integers,
the tracked energy never drifts and Boltzmann factors come from a small table.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import ConfigurationError, LatticeClosureError, SpeciesError

__all__ = ["ClusterEnergy", "EnergyError", "pattern_codes"]


class EnergyError(LatticeClosureError):
    """An energy table of the wrong size, with NaN/inf, or for an unknown shape."""


def pattern_codes(size: int, q: int) -> np.ndarray:
    """(q**size, size) array: the pattern (species indices per position) of every code."""
    return np.array(list(itertools.product(range(q), repeat=size)), dtype=np.int64).reshape(-1, size)


@dataclass(frozen=True)
class ClusterEnergy:
    """Energy as a table over the species patterns of one cluster shape.

    Parameters
    ----------
    shape : str
        Name of the energy cluster shape in the ``connected`` enumerator (``"triangle"``, ``"pair"`` …).
    size : int
        Number of sites of the shape.
    species : tuple of str
        Species names; patterns hold indices into this tuple.
    table : ndarray of float, shape (q**size,)
        Energy of one embedding showing the pattern with that code.
    description : str
        Human-readable formula, recorded in dataset metadata.
    unit : str
        Energy unit (e.g. ``"oxygen energy"``); temperatures are in the same unit (k_B = 1).
    """

    shape: str
    size: int
    species: tuple[str, ...]
    table: np.ndarray = field(repr=False)
    description: str = ""
    unit: str = "energy unit"

    def __post_init__(self) -> None:
        table = np.asarray(self.table, dtype=np.float64).reshape(-1)
        q = len(self.species)
        if q < 2:
            raise SpeciesError(f"an energy needs at least two species, got {list(self.species)}")
        if self.size < 1:
            raise EnergyError(f"energy cluster size must be positive, got {self.size}")
        if table.shape != (q**self.size,):
            raise EnergyError(
                f"energy table for {q} species on the {self.size}-site shape {self.shape!r} needs "
                f"{q**self.size} entries, got {table.size}"
            )
        if not np.all(np.isfinite(table)):
            raise EnergyError(f"energy table of shape {self.shape!r} contains NaN or infinity")
        table.setflags(write=False)
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "species", tuple(self.species))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_function(
        cls,
        shape: str,
        size: int,
        species: Sequence[str],
        energy: Callable[[tuple[str, ...]], float],
        description: str = "",
        unit: str = "energy unit",
    ) -> "ClusterEnergy":
        """Tabulate ``energy(states)`` (species names per shape position) over all patterns."""
        sp = tuple(species)
        codes = pattern_codes(size, len(sp))
        table = np.array([float(energy(tuple(sp[i] for i in row))) for row in codes])
        return cls(shape, size, sp, table, description, unit)

    # ------------------------------------------------------------------ queries
    @property
    def q(self) -> int:
        """Number of species."""
        return len(self.species)

    def is_symmetric(self) -> bool:
        """True when the energy depends only on the multiset of species in the cluster."""
        codes = pattern_codes(self.size, self.q)
        weights = self.q ** np.arange(self.size - 1, -1, -1)
        for perm in itertools.permutations(range(self.size)):
            permuted = codes[:, list(perm)] @ weights
            if not np.array_equal(self.table, self.table[permuted]):
                return False
        return True

    def quantised(self, max_denominator: int = 720, max_units: int = 1 << 20) -> tuple[np.ndarray, float] | None:
        """Integer table and quantum ``ε`` with ``table == int_table · ε``, or ``None``.

        The quantum is ``1/D`` for the smallest denominator ``D ≤ max_denominator`` making every value
        an integer (to 1e-12 relative), and ``None`` is returned when there is none or the integers
        exceed ``max_units`` in magnitude (the annealer then falls back to float energies and ``exp``).
        """
        t = self.table
        scale = max(1.0, float(np.max(np.abs(t))))
        for den in range(1, max_denominator + 1):
            scaled = t * den
            ints = np.round(scaled)
            if np.max(np.abs(scaled - ints)) <= 1e-12 * scale * den:
                if np.max(np.abs(ints)) > max_units:
                    return None
                return ints.astype(np.int64), 1.0 / den
        return None

    def codes_of(self, config: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """Pattern code of every embedding (rows of site indices) in a flat configuration."""
        weights = self.q ** np.arange(self.size - 1, -1, -1, dtype=np.int64)
        return np.asarray(config, dtype=np.int64)[embeddings] @ weights

    def total(self, config: np.ndarray, embeddings: np.ndarray) -> float:
        """Energy of a configuration recomputed from scratch (sum over all embeddings)."""
        return float(self.table[self.codes_of(config, embeddings)].sum())

    def lower_bound_per_site(self, fractions: Sequence[float], embeddings_per_site: float,
                             positions_balanced: bool = True) -> float:
        """A lower bound on the energy per site at a given composition (linear programme).

        Let ``f_p`` be the fraction of energy clusters showing pattern ``p``. Any configuration
        satisfies ``Σ_p f_p = 1`` and, because every site of a Bravais lattice appears exactly once at
        each position ``k`` of each orientation, the position marginals ``Σ_p f_p [p_k = s] = c_s`` equal
        the composition ``c``. Minimising ``Σ_p f_p table[p]`` over all such ``f ≥ 0`` therefore bounds
        the energy per cluster from below; times the clusters per site it bounds the energy per site.
        For a symmetric energy it is the lower convex envelope of the table over the mean cluster
        composition; for the triangle energy ``(n₊ − 2)²/4`` at ``n̄₊ = 3(1 − x)`` that gives
        ``|1 − 3x|/2`` per site for ``x ≤ 2/3`` — the exact ground-state energies, which a slow anneal
        reaches.

        Parameters
        ----------
        fractions : sequence of float
            Fraction of sites holding each species (sums to 1).
        embeddings_per_site : float
            Energy clusters per site (2 triangles, 3 bonds on the triangular lattice).
        positions_balanced : bool, default True
            Use one marginal constraint per position (valid on one-site-basis lattices); ``False``
            constrains only the position-averaged marginal (valid whenever every site lies in the
            same number of energy clusters).
        """
        from scipy.optimize import linprog

        c = np.asarray(fractions, dtype=float)
        if c.shape != (self.q,) or np.any(c < 0) or abs(c.sum() - 1) > 1e-9:
            raise ConfigurationError(f"composition {list(c)} must be {self.q} non-negative fractions summing to 1")
        codes = pattern_codes(self.size, self.q)
        rows, rhs = [np.ones(len(codes))], [1.0]
        if positions_balanced:
            for k in range(self.size):
                for s in range(self.q - 1):
                    rows.append((codes[:, k] == s).astype(float))
                    rhs.append(c[s])
        else:
            for s in range(self.q - 1):
                rows.append((codes == s).mean(axis=1))
                rhs.append(c[s])
        res = linprog(self.table, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=(0, None), method="highs")
        if not res.success:  # pragma: no cover - the LP is always feasible (product measure)
            raise EnergyError(f"lower-bound linear programme failed: {res.message}")
        value = float(res.fun) * embeddings_per_site
        return 0.0 if abs(value) < 1e-12 else value

    def to_json(self) -> dict[str, Any]:
        """Plain-data record for dataset metadata (exact fractions where the table is rational)."""
        return {
            "shape": self.shape,
            "size": self.size,
            "species": list(self.species),
            "table": [float(v) for v in self.table],
            "description": self.description,
            "unit": self.unit,
        }

    def fingerprint(self) -> str:
        """A short stable string identifying the table (for checkpoint compatibility checks)."""
        parts = [self.shape, str(self.size), ",".join(self.species)]
        parts += [str(Fraction(v).limit_denominator(10**9)) if math.isfinite(v) else "nan" for v in self.table]
        return "|".join(parts)
