"""Exceptions raised for bad input.

Every error a user can cause derives from :class:`LatticeClosureError`; the CLI turns it into a
one-line message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .closedmodel.integrate import Solution

__all__ = [
    "LatticeClosureError",
    "UnknownNameError",
    "DuplicateNameError",
    "GeometryError",
    "ConfigurationError",
    "SizeLimitError",
    "SpeciesError",
    "DataError",
    "ClosureError",
    "IntegrationError",
    "BondError",
    "LatticeFileError",
    "StructureError",
    "OutputDirectoryError",
    "CheckpointError",
    "CheckpointMismatchError",
    "ResourceLimitError",
    "SteadyStateError",
    "ExecutorError",
]


class LatticeClosureError(ValueError):
    """Base class of all user-facing errors of latticeclosure."""


class UnknownNameError(LatticeClosureError, KeyError):
    """A plugin object (lattice, closure, ...) was asked for by a name nobody registered."""

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0]) if self.args else ""


class DuplicateNameError(LatticeClosureError):
    """Two plugins registered objects of the same kind under the same name."""


class GeometryError(LatticeClosureError):
    """Degenerate Bravais vectors, overlapping basis sites, too small a supercell, ..."""


class ConfigurationError(LatticeClosureError):
    """A configuration array of the wrong shape, dtype or state values."""


class SizeLimitError(LatticeClosureError):
    """A request (cluster size, window size) beyond a configurable limit."""


class SpeciesError(LatticeClosureError):
    """Duplicate species, fewer than two species, unknown species names."""


class DataError(LatticeClosureError):
    """Corrupt, truncated, unnormalised or otherwise invalid data."""


class ClosureError(LatticeClosureError):
    """A closure that cannot express a class, an empty constraint set, a bad closure file."""


class IntegrationError(LatticeClosureError):
    """The integration of a closed model failed: loss of positivity, blow-up, or no method could finish.

    Raised by :func:`latticeclosure.closedmodel.solve` (re-exported there and from
    :mod:`latticeclosure.closedmodel.integrate`).

    Attributes
    ----------
    status : str
        ``"positivity"``, ``"blow-up"``, ``"stiff"``, ``"max_steps"``, ``"step_size"`` or ``"failed"``.
    t : float
        The time at which it happened.
    solution : Solution or None
        The partial solution (rows after ``t`` are NaN).
    """

    def __init__(self, message: str, status: str, t: float, solution: "Solution | None" = None) -> None:
        super().__init__(message)
        self.status = status
        self.t = t
        self.solution = solution


class OutputDirectoryError(LatticeClosureError):
    """An output directory exists and is not empty (and neither resume nor overwrite was asked for),
    or it belongs to a run with other parameters."""


class CheckpointError(DataError):
    """A checkpoint that cannot be resumed: unreadable, corrupt, or written for another run.

    Sweeps set such a checkpoint aside and run its task from the start.
    """


class CheckpointMismatchError(CheckpointError):
    """A readable checkpoint written for another run (other x, size, seed, schedule, recording or model)."""


class ResourceLimitError(SizeLimitError):
    """A run that would need more memory than the machine has (with the estimate in the message)."""


class BondError(GeometryError):
    """A bond rule that references a missing basis site, lists a zero or contradictory bond, yields
    no bonds or a disconnected bond graph, or names a bond kind the lattice does not have."""


class LatticeFileError(LatticeClosureError):
    """A lattice file that cannot be read, has unknown keys, or values of the wrong type."""


class StructureError(LatticeClosureError):
    """A crystal-structure file that cannot be read or lacks the requested species or layer."""


class SteadyStateError(LatticeClosureError):
    """Fixed points, continuation and thresholds: a rate that is not a parameter of the model, an
    empty or reversed range, a model without an absorbing state, a Newton iteration that cannot
    converge, a closure whose limit at an absorbing state does not exist."""


class ExecutorError(LatticeClosureError):
    """Parallel work that cannot run: an executor whose optional dependencies are not installed, a
    scheduler that cannot be reached, or tasks whose worker processes kept dying (beyond the retries)."""
