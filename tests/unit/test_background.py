"""Stopping background tasks: a cancellation is never lost, and a task that let one
pass is cancelled again until it ends (ivr/background.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.background import cancel, cancel_all

IVR = Path(__file__).resolve().parents[2] / "ivr"
# A guard against a hang, far above any run: the facts are what is asserted.
HANG_GUARD_S = 60


async def test_a_task_that_swallows_its_first_cancellation_is_cancelled_again() -> None:
    told = 0

    async def stubborn() -> None:
        nonlocal told
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                told += 1
                if told > 1:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    async with asyncio.timeout(HANG_GUARD_S):
        await cancel_all([task])
    assert task.cancelled()
    assert told == 2


async def test_cancel_raises_what_the_task_raised_while_unwinding() -> None:
    async def failing() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            raise RuntimeError("unwinding failed")

    task = asyncio.create_task(failing())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="unwinding failed"):
        await cancel(task)


async def test_a_timeout_keeps_a_cancellation_that_meets_the_awaited_result() -> None:
    """The case asyncio.wait_for loses on Python 3.11: the awaited future completes in
    the same turn of the loop as the task is cancelled. The task must still end."""
    reached = asyncio.Event()
    went_on = False

    async def loop_step(fut: asyncio.Future[str]) -> None:
        nonlocal went_on
        reached.set()
        async with asyncio.timeout(30):
            await fut
        went_on = True

    fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(loop_step(fut))
    await reached.wait()
    fut.set_result("reply")
    task.cancel()
    async with asyncio.timeout(HANG_GUARD_S):
        await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    assert not went_on


def test_the_engine_never_uses_wait_for() -> None:
    """asyncio.timeout, not asyncio.wait_for, which loses cancellations on 3.11."""
    found = [
        f"{path.relative_to(IVR)}:{n}"
        for path in sorted(IVR.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "asyncio.wait_for(" in line
    ]
    assert found == []
