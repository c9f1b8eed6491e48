"""The table: each destination type of the routing tables and the handler that serves it.

`handler_for` is checked exhaustive twice: by mypy (`assert_never` below fails to type
check when the union in `ivr.routing.menus` gains a type with no arm here) and by a
test that asks it for every member of the union. A destination type with no handler
can therefore not reach a caller, where it would fall silently to the dialplan's
fallback.

Adding a destination type: its model in `ivr/routing/menus.py` (and in the union),
its arm here with its handler, and its prompts in `recordings/catalogue.yaml`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import assert_never

from ivr.domain.vocabulary import CallOutcome
from ivr.flow.announcement import announcement
from ivr.flow.call import Call
from ivr.flow.case_check import Ended, case_check, heard
from ivr.flow.emergency import emergency
from ivr.flow.menu import menus
from ivr.flow.queue import queue
from ivr.flow.record import record
from ivr.flow.transfer import transfer
from ivr.routing.menus import (
    Destination,
    ToAnnouncement,
    ToCaseCheck,
    ToEmergency,
    ToExtension,
    ToLanguage,
    ToMenu,
    ToQueue,
    ToRecord,
    ToUnit,
)

# A handler serves one call at its destination; the second argument is where the
# caller goes if the destination cannot keep them (the menu's `on_exhausted`).
Handler = Callable[[Call, Destination | None], Awaitable[None]]


def handler_for(dest: Destination) -> Handler:  # noqa: PLR0911 - one return per type
    """The handler of `dest`'s type."""
    match dest:
        case ToQueue():
            return lambda call, _fallback: queue(call, dest.queue)
        case ToExtension():
            return lambda call, _fallback: transfer(call, call.view.extensions[dest.extension])
        case ToUnit():
            return lambda call, _fallback: transfer(call, call.view.units[dest.unit])
        case ToEmergency():
            return lambda call, fallback: _emergency(call, dest, fallback)
        case ToAnnouncement():
            return lambda call, _fallback: announcement(call, dest)
        case ToRecord():
            return lambda call, _fallback: record(call, dest)
        case ToCaseCheck():
            return lambda call, fallback: _case_check(call, dest, fallback)
        case ToMenu() | ToLanguage():
            return _menus_come_first
        case _:
            assert_never(dest)


async def destination(call: Call, dest: Destination, fallback: Destination | None) -> None:
    """Serve the call at `dest`."""
    await handler_for(dest)(call, fallback)


async def _emergency(call: Call, dest: ToEmergency, fallback: Destination | None) -> None:
    if await emergency(call, dest):
        return
    if fallback is not None:
        await destination(call, fallback, fallback=None)
    else:
        await call.finish(CallOutcome.ANNOUNCED)


async def _case_check(call: Call, dest: ToCaseCheck, fallback: Destination | None) -> None:
    ended = await case_check(call)
    if ended is Ended.HEARD:
        await heard(call)
    elif ended is Ended.UNAVAILABLE:
        # Told the store cannot be read: back to the menu, never dropped.
        chosen, menu = await menus(call, (), dest.then)
        await destination(call, chosen, menu.on_exhausted)
    elif fallback is not None:
        await destination(call, fallback, fallback=None)
    else:
        await call.finish(CallOutcome.ANNOUNCED)


async def _menus_come_first(_call: Call, _fallback: Destination | None) -> None:
    raise AssertionError("menus are resolved before destinations")
