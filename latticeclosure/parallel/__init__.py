"""One executor abstraction for every parallel stage: sweeps, replicas, multi-starts, chains, folds.

Every parallel stage — simulation sweeps (``sweep``, ``run``), kinetic Monte Carlo replicas
(``kmc``), multi-start fits and MCMC chains (``infer``), cross-validation folds (``fit --cv``, the
study's cross-validation) — runs independent tasks on a :class:`concurrent.futures.Executor`:

* :class:`ExecutorSpec` names it (``--executor {local,dask,dask-local}``, ``--workers N``,
  ``--scheduler ADDRESS``; :func:`latticeclosure.cli.executor_options.add_executor_arguments` adds
  these options to a command) and :func:`open_executor` opens it as an :class:`ExecutorSession`;
* :func:`run_keyed` runs keyed tasks on it and hands each result to the coordinating process as it
  finishes, which writes it atomically; Ctrl-C stops the workers, lost workers are retried;
* :func:`task_seed` gives a task its random stream from the root seed and a stable task key, so
  results never depend on scheduling, worker count or executor.

The local executor is a process pool (:class:`LocalProcessPool`); Dask (``pip install
'latticeclosure[dask]'``) is used through ``distributed.Client.get_executor(pure=False)``
(:mod:`latticeclosure.parallel.dask_cluster`). See ``docs/distributed.md``.
"""

from .executors import DEFAULT_RETRIES, EXECUTOR_KINDS, ExecutorSession, ExecutorSpec, open_executor
from .local import START_METHODS, InlineExecutor, LocalProcessPool, default_start_method, inside_worker
from .seeds import key_part, task_seed
from .streaming import run_keyed

__all__ = [
    "ExecutorSpec",
    "ExecutorSession",
    "open_executor",
    "run_keyed",
    "task_seed",
    "key_part",
    "LocalProcessPool",
    "InlineExecutor",
    "default_start_method",
    "inside_worker",
    "EXECUTOR_KINDS",
    "START_METHODS",
    "DEFAULT_RETRIES",
]
