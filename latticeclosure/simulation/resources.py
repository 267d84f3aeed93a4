"""Memory estimates before a simulation allocates anything, checked against what the machine has.

Simulators (the annealer, the kinetic Monte Carlo) call :func:`check_memory` with
:func:`estimated_memory` of the run they are about to set up; a run that would need more than 80 % of
the available memory is refused with the estimate in the message (a
:class:`~latticeclosure.errors.ResourceLimitError`), instead of failing deep inside numpy or being
killed by the operating system.
"""

from __future__ import annotations

from ..io.npzfile import available_memory

__all__ = ["estimated_memory", "check_memory", "available_memory", "MEMORY_FRACTION"]

#: Largest share of the available memory a run may plan to use.
MEMORY_FRACTION = 0.8


def estimated_memory(n_sites: int, n_records: int, n_classes: int, save_configurations: bool,
                     bytes_per_site: int = 1024, copies: int = 1) -> int:
    """Bytes a run needs: per-site tables, the records (lists of rows, then the stacked arrays) and,
    optionally, one saved configuration per record; ``copies`` runs at once (replicas)."""
    records = n_records * (n_classes + 4) * 8 * 2
    configs = n_records * n_sites if save_configurations else 0
    return int(copies * (n_sites * bytes_per_site + records + configs))


def check_memory(needed: int, what: str) -> None:
    """Refuse a run whose estimated memory exceeds :data:`MEMORY_FRACTION` of the available memory.

    Raises
    ------
    ResourceLimitError
    """
    from ..errors import ResourceLimitError
    from ..io import npzfile
    from ..io.reading import format_bytes

    free = npzfile.available_memory()  # looked up at call time (tests substitute it)
    if free is not None and needed > MEMORY_FRACTION * free:
        raise ResourceLimitError(
            f"{what} would need about {format_bytes(needed)} of memory; this machine has "
            f"{format_bytes(free)} available; use a smaller lattice, fewer records or no saved configurations"
        )
