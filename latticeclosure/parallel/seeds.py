"""Seeds of parallel tasks: from the root seed and a stable task key, never from submission order.

A task's random stream is ``numpy.random.SeedSequence(root_seed, spawn_key=key)``. The key names the
task — a stream number and an index (a chain, a replica, a multi-start point), or text such as a
model name — so the stream does not depend on which worker runs the task, on how many workers there
are, on the executor, on the order in which tasks are submitted or finish, nor on which other tasks
are in the run. Text parts are mapped to integers by SHA-256 (stable across processes and Python
versions, unlike :func:`hash`).

The streams of the existing stages are all of this form: MCMC chain ``c`` uses the key ``(2, c)``,
multi-start point ``i`` the key ``(1, i)`` (:mod:`latticeclosure.inference.parallel`), kinetic Monte
Carlo replica ``r`` the key ``(r,)``; an annealing task uses its own seed, which is part of its key
(grid point, seed).
"""

from __future__ import annotations

import hashlib
from typing import Union

import numpy as np

from ..errors import ConfigurationError

__all__ = ["task_seed", "key_part"]

KeyPart = Union[int, str]


def key_part(part: KeyPart) -> int:
    """One part of a task key as a non-negative integer (text: the first 8 bytes of its SHA-256).

    Raises
    ------
    ConfigurationError
        For a negative integer, or a part that is neither an integer nor text.
    """
    if isinstance(part, (bool, np.bool_)):
        raise ConfigurationError(f"a task key part must be an integer or text, got {part!r}")
    if isinstance(part, (int, np.integer)):
        if int(part) < 0:
            raise ConfigurationError(f"a task key part must be non-negative, got {part!r}")
        return int(part)
    if isinstance(part, str):
        return int.from_bytes(hashlib.sha256(part.encode("utf-8")).digest()[:8], "big")
    raise ConfigurationError(f"a task key part must be an integer or text, got {type(part).__name__}")


def task_seed(root_seed: int, *key: KeyPart) -> np.random.SeedSequence:
    """The seed sequence of the task ``key`` of a run seeded with ``root_seed``.

    Parameters
    ----------
    root_seed : int
        The run's seed (``--seed``), a non-negative integer.
    *key : int or str
        The task's stable key, e.g. ``(2, chain)``; text parts are hashed (:func:`key_part`).

    Returns
    -------
    numpy.random.SeedSequence
        ``SeedSequence(root_seed, spawn_key=key)``; the same for the same seed and key, in any
        process.

    Examples
    --------
    >>> task_seed(0, 2, 1).generate_state(1)[0] == task_seed(0, 2, 1).generate_state(1)[0]
    True
    """
    if isinstance(root_seed, (bool, np.bool_)) or not isinstance(root_seed, (int, np.integer)) or int(root_seed) < 0:
        raise ConfigurationError(f"the seed must be a non-negative integer, got {root_seed!r}")
    return np.random.SeedSequence(int(root_seed), spawn_key=tuple(key_part(p) for p in key))
