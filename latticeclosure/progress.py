"""Progress bars and log messages of long-running stages.

Every message of the package goes to the ``latticeclosure`` logger hierarchy (``logging``); the command
line sets its level (``-v/--verbose``: debug, default: info, ``-q/--quiet``: warnings only) and prints
the records on stderr. A library user configures ``logging`` as usual; without configuration only
warnings and errors are shown.

Progress bars (tqdm, on stderr) follow one rule, :func:`progress_enabled`: shown when asked for, or by
default when stderr is a terminal, and never when the level of the ``latticeclosure`` logger itself is
set above ``INFO`` (what ``-q/--quiet`` does).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["LOGGER_NAME", "get_logger", "progress_enabled", "progress_bar", "track"]

#: Root of the package's loggers.
LOGGER_NAME = "latticeclosure"

T = TypeVar("T")


def get_logger(name: str | None = None) -> logging.Logger:
    """The package's logger, or its child ``latticeclosure.<name>``."""
    return logging.getLogger(LOGGER_NAME if not name else f"{LOGGER_NAME}.{name}")


def progress_enabled(requested: bool | None = None) -> bool:
    """Whether to show a progress bar.

    Parameters
    ----------
    requested : bool, optional
        ``True``/``False`` force it on or off; ``None`` (default): on when stderr is a terminal. Either
        way it is off while the level of the ``latticeclosure`` logger is set above ``INFO``
        (``-q/--quiet``; a level inherited from the root logger does not count).

    Returns
    -------
    bool
    """
    level = get_logger().level
    if requested is False or level > logging.INFO:
        return False
    if requested:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stderr
        return False


def progress_bar(*, total: int | None = None, desc: str = "", unit: str = "it", enabled: bool | None = None,
                 initial: int = 0) -> Any:
    """A tqdm bar on stderr, disabled unless :func:`progress_enabled` (``enabled``) says so.

    Parameters
    ----------
    total : int, optional
        Number of steps.
    desc, unit : str
        Label before the bar and name of one step.
    enabled : bool, optional
        Passed to :func:`progress_enabled`.
    initial : int
        Steps already done (a resumed run).

    Returns
    -------
    tqdm.tqdm
        Use ``update(n)``, ``set_postfix_str(text)`` and ``close()`` (or use it as a context manager).
    """
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, initial=initial, disable=not progress_enabled(enabled),
                file=sys.stderr, dynamic_ncols=True)


def track(items: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "it",
          enabled: bool | None = None) -> Iterator[T]:
    """Iterate over ``items`` with a progress bar (see :func:`progress_bar`); the bar closes at the end.

    Parameters
    ----------
    items : iterable
    total : int, optional
        Default ``len(items)`` when it has one.
    desc, unit : str
    enabled : bool, optional

    Yields
    ------
    object
        The items, in order.
    """
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with progress_bar(total=total, desc=desc, unit=unit, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.update(1)
