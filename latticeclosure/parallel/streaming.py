"""Run keyed tasks on an executor and hand every result to the coordinator as soon as it arrives.

:func:`run_keyed` is the loop every parallel stage shares. Each task is ``fn(*args)`` under a stable
key; the results reach ``on_result(key, value)`` in the calling process, in the order they finish,
so the caller writes them (atomically) as they come: an interrupted run, a lost worker or a killed
client loses at most the tasks in flight. Nothing about a result depends on the order: tasks are
pure functions of their arguments (their seeds come from the task key, see
:mod:`latticeclosure.parallel.seeds`).

* An inline executor (one worker) runs the tasks one by one, each result handled before the next
  task starts.
* A local pool that loses a worker (killed, out of memory) is replaced and every unfinished task is
  submitted again, up to the session's ``retries`` times; Dask reschedules the tasks of a lost
  worker itself and gives up on a task after its ``allowed-failures`` (``KilledWorker``).
* Ctrl-C, a failing task or a failing ``on_result`` cancels the pending tasks and stops the
  workers at once before the exception propagates.
"""

from __future__ import annotations

import sys
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from typing import Any, Callable, Hashable, Sequence

from ..errors import ExecutorError

__all__ = ["run_keyed"]


def run_keyed(
    session: Any,
    fn: Callable[..., Any],
    jobs: Sequence[tuple[Hashable, tuple]],
    on_result: Callable[[Hashable, Any], None],
    *,
    describe: Callable[[Hashable], str] = str,
) -> None:
    """Run ``fn(*args)`` for every ``(key, args)`` of ``jobs``; call ``on_result(key, value)`` for each.

    Parameters
    ----------
    session : ExecutorSession
        Where the tasks run (:func:`~latticeclosure.parallel.open_executor`).
    fn : callable
        A module-level function (it is pickled by reference for worker processes).
    jobs : sequence of (key, args)
        Keys must be distinct; they are submitted in this order.
    on_result : callable
        Receives each result in the calling process, as tasks finish.
    describe : callable
        Names a task in messages (default ``str(key)``).

    Raises
    ------
    ExecutorError
        When workers kept dying: a local pool broke more than ``session.retries`` times, or Dask gave
        a task up (``KilledWorker``).
    Exception
        Whatever a task or ``on_result`` raised (after the other tasks were stopped).
    """
    keys = [k for k, _ in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("run_keyed: task keys must be distinct")
    if session.runs_inline:
        for key, args in jobs:
            on_result(key, fn(*args))
        return
    args_of = dict(jobs)
    order = {k: i for i, k in enumerate(keys)}
    pending: dict[Future, Hashable] = {}
    restarts = 0

    def submit(batch: Sequence[Hashable]) -> list[Hashable]:
        """Submit ``batch``; return the keys the executor refused because it broke meanwhile (a worker
        can die of an early task while later ones are still being submitted)."""
        for i, key in enumerate(batch):
            try:
                fut = session.executor.submit(fn, *args_of[key])
            except BrokenExecutor:
                return list(batch[i:])
            pending[fut] = key
        return []

    try:
        refused = submit(keys)
        while pending or refused:
            broken, refused = refused, []
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED) if pending else (set(), set())
            for fut in sorted(done, key=lambda f: order[pending[f]]):
                key = pending.pop(fut)
                try:
                    value = fut.result()
                except BrokenExecutor:
                    broken.append(key)
                    continue
                except Exception as exc:
                    from .dask_cluster import is_worker_loss

                    if "distributed" in sys.modules and is_worker_loss(exc):
                        raise ExecutorError(
                            f"task {describe(key)} was given up: the worker running it died every time it was "
                            "tried (out of memory? killed?); finished results are saved"
                        ) from None
                    raise
                on_result(key, value)
            if broken:
                for fut in [f for f in pending if f.done() and not f.cancelled() and f.exception() is None]:
                    on_result(pending.pop(fut), fut.result())  # finished just before the pool broke
                lost = sorted(broken + list(pending.values()), key=order.__getitem__)
                pending.clear()  # every other future of the broken pool fails too
                if restarts >= session.retries or not session.recover():
                    names = ", ".join(describe(k) for k in lost[:3]) + (", …" if len(lost) > 3 else "")
                    raise ExecutorError(
                        f"a worker process died (out of memory? killed?) with {len(lost)} task(s) unfinished "
                        f"({names})" + (f", after {restarts} restart(s) of the workers" if restarts else "")
                        + "; finished results are saved"
                    )
                restarts += 1
                print(f"warning: a worker process died; restarted the workers and running {len(lost)} unfinished "
                      f"task(s) again (retry {restarts} of {session.retries})", file=sys.stderr)
                refused = submit(lost)
    except BaseException:
        session.interrupt(list(pending))
        raise
