"""One long-running background task of the engine, started once and stopped cleanly.

The replay of the outage spool, the overdue scheduler and the outbox sender each run
one loop beside the calls; they start and stop it the same way.

A loop is stopped by cancelling it, and one that lets a cancellation pass is told
again until it ends. On Python 3.11 `asyncio.wait_for` loses the caller's
cancellation when the awaited future completes at that moment (CPython gh-86296); the
wait-estimate loop then went on, and the engine's stop waited for it for ever. The
code uses `asyncio.timeout` instead, and no loop's stop relies on that alone. Only
loops are told twice: a call's session or a callback being dialled is cancelled once
and its cleanup (the call's last writes) is left to finish, however long it takes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import structlog

log = structlog.get_logger()

# How long a cancelled task has to end before it is cancelled again.
RECANCEL_S = 1.0


async def cancel_all(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel every task and wait until each has unwound (its `finally` blocks ran),
    cancelling again any that is still running a moment later. What they raised is
    dropped: they were told to stop."""
    every = list(tasks)
    for task in every:
        task.cancel()
    pending = set(every)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_S)
        for task in pending:
            log.warning("task_cancelled_again", task=task.get_name())
            task.cancel()
    await asyncio.gather(*every, return_exceptions=True)


async def cancel(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` and wait until it has unwound; what it raised other than its
    cancellation is raised here."""
    if task is None:
        return
    await cancel_all([task])
    with contextlib.suppress(asyncio.CancelledError):
        await task


class Background:
    """A named loop: `start()` runs it unless it already runs, `stop()` cancels it."""

    def __init__(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._name = name
        self._loop = loop
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel(task)
