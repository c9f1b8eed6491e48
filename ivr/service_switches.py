"""Disaster mode and typhoon-day closures: the switches `ivr mode` and `ivr calendar`
throw, and the console's supervisors throw from the service page, in one place.

Each switch is a row in the case store with who threw it, when and why; earlier rows
stay as history. The running engine asks the store for the mode at the start of every
call and for the closures each time it computes a due time, so a switch takes effect
on the next call without a reload, wherever it was thrown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from ivr.errors import HotlineError
from ivr.store import ClosureRecord, ModeChange
from ivr.store.ports import CaseStorePort

DISASTER = "disaster"
MAX_REASON = 64
MAX_NOTE = 256


class SwitchRefused(HotlineError):
    """A switch that cannot be thrown as asked: the message says why."""

    code = "service.switch_refused"


async def set_disaster(
    store: CaseStorePort, *, active: bool, at: datetime, by: str, note: str | None
) -> str:
    """Switch disaster mode on or off; the mode now in force."""
    await store.set_mode(DISASTER, active=active, at=at, by=by, note=_note(note))
    return await store.current_mode(at)


async def close_day(
    store: CaseStorePort,
    day: date,
    *,
    reason: str,
    closes_at: time | None,
    at: datetime,
    by: str,
    note: str | None,
) -> None:
    """Declare `day` closed (all day, or from `closes_at`): no working time counts then."""
    reason = reason.strip()
    if not reason:
        raise SwitchRefused("a closure needs a reason, e.g. typhoon")
    if len(reason) > MAX_REASON:
        raise SwitchRefused(f"the reason is longer than {MAX_REASON} characters")
    try:
        await store.set_closure(
            day, closed=True, at=at, by=by, reason=reason, closes_at=closes_at, note=_note(note)
        )
    except ValueError as exc:
        raise SwitchRefused(str(exc)) from None


async def open_day(
    store: CaseStorePort, day: date, *, at: datetime, by: str, note: str | None
) -> bool:
    """Lift `day`'s closure; False (and nothing written) when it was not closed."""
    if day not in await store.closures(day):
        return False
    try:
        await store.set_closure(day, closed=False, at=at, by=by, note=_note(note))
    except ValueError as exc:
        raise SwitchRefused(str(exc)) from None
    return True


def in_force(history: Sequence[ClosureRecord]) -> list[ClosureRecord]:
    """Each day's newest change, where that change closed it."""
    latest: dict[date, ClosureRecord] = {}
    for record in history:
        latest[record.day] = record
    return [r for r in latest.values() if r.closed]


def disaster_on(history: Sequence[ModeChange]) -> bool:
    """Whether the newest disaster switch (history newest first) turned it on."""
    return next((c.active for c in history if c.mode == DISASTER), False)


def _note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise SwitchRefused(f"the note is longer than {MAX_NOTE} characters")
    return note or None
