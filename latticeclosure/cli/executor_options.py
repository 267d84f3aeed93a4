"""The one set of options every command with parallel work shares: where its tasks run.

``--workers N``, ``--executor {local,dask,dask-local}``, ``--scheduler ADDRESS`` and ``--retries R``
(see ``docs/distributed.md``). :func:`add_executor_arguments` adds them to a command's parser and
:func:`executor_from_arguments` turns the parsed options into a
:class:`~latticeclosure.parallel.ExecutorSpec`. Nothing heavy is imported here (the CLI imports
every command module at start-up).
"""

from __future__ import annotations

import argparse

__all__ = ["add_executor_arguments", "executor_from_arguments", "EXECUTOR_CHOICES"]

#: The ``--executor`` choices (the same as :data:`latticeclosure.parallel.EXECUTOR_KINDS`).
EXECUTOR_CHOICES = ("local", "dask", "dask-local")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    return value


def add_executor_arguments(parser: argparse.ArgumentParser, *, workers_default: str, what: str = "tasks",
                           short_workers: bool = False) -> None:
    """Add ``--workers``, ``--executor``, ``--scheduler`` and ``--retries`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    workers_default : str
        How the command's default number of workers reads in the help, e.g. ``"1"`` or
        ``"the CPU cores"``.
    what : str
        What runs in parallel, for the help (``"simulations"``, ``"chains and multi-start fits"``).
    short_workers : bool
        Also accept ``-j`` for ``--workers``.
    """
    group = parser.add_argument_group("parallel execution (see docs/distributed.md)")
    flags = ("-j", "--workers") if short_workers else ("--workers",)
    group.add_argument(*flags, dest="workers", type=_count, default=None, metavar="N",
                       help=f"worker processes running the {what} (local and dask-local; default {workers_default})")
    group.add_argument("--executor", choices=EXECUTOR_CHOICES, default="local",
                       help="local: processes on this machine (default); dask-local: a Dask LocalCluster on this "
                       "machine; dask: the workers of a Dask scheduler (--scheduler); dask needs the 'dask' extra")
    group.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="address of the Dask scheduler for --executor dask, e.g. tcp://head-node:8786")
    group.add_argument("--retries", type=_count, default=None, metavar="R",
                       help="times a task is run again after its worker was lost (default 2)")


def executor_from_arguments(args: argparse.Namespace, *, default_workers: int | None = None):
    """The :class:`~latticeclosure.parallel.ExecutorSpec` of the parsed options.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by a parser that :func:`add_executor_arguments` prepared.
    default_workers : int, optional
        Workers when ``--workers`` is not given (``None``: the CPU cores); not used by ``dask``.

    Raises
    ------
    ConfigurationError
        ``--workers`` or ``--retries`` out of range, ``--scheduler`` without ``--executor dask`` (or
        the reverse), ``--workers`` with ``--executor dask``.
    """
    from ..errors import ConfigurationError
    from ..parallel import DEFAULT_RETRIES, ExecutorSpec

    if args.workers is not None and args.workers < 1:
        raise ConfigurationError(f"--workers must be at least 1, got {args.workers}")
    if args.retries is not None and args.retries < 0:
        raise ConfigurationError(f"--retries must be 0 or more, got {args.retries}")
    workers = args.workers
    if workers is None and args.executor != "dask":
        workers = default_workers
    retries = DEFAULT_RETRIES if args.retries is None else args.retries
    return ExecutorSpec(args.executor, workers, args.scheduler, retries)
