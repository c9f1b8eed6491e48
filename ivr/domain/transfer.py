"""The transfer sequence: who to ring next, given what every earlier ring gave. Pure.

T4(2)1 and K4(2), in order:
1. the unit's primary extension; a BUSY line is dialled again after a short pause,
   `busy_attempts` dialling attempts in all ("經撥號兩次");
2. the unit's adjacent extensions, one attempt each;
3. the agency's liaison window: its deputies in their order, one attempt each.
NOANSWER, CONGESTION and CHANUNAVAIL move on at once, without a retry. The first
ANSWER ends the transfer; when nobody answers, the caller gets a callback ticket whose
reason is "busy" if any of the unit's own lines was busy (the figure T4(2)1 asks the
liaison window to report), else "no_answer". CANCEL means the caller hung up while a
line rang: the sequence stops there, with nobody left to connect or call back.

Before any of that, `plan_transfer` decides whether to ring at all: under K4(4) a
transfer outside office hours rings nobody (the offices are empty) and the matter is
recorded for the next working day instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ivr.domain.calendar import Calendar, hours_on, next_working_day_end
from ivr.domain.vocabulary import AttemptRole, DialStatus, TicketReason

Role = Literal[AttemptRole.PRIMARY, AttemptRole.ADJACENT, AttemptRole.LIAISON]
# What a profile does with a transfer outside office hours: ring the lines anyway
# (units forward them to whoever is on duty, T4(2)2), or record the matter for the
# next working day without ringing (K4(4)).
OffHoursTransfers = Literal["dial", "record"]
ANSWER = DialStatus.ANSWER
BUSY = DialStatus.BUSY
CANCEL = DialStatus.CANCEL


@dataclass(frozen=True)
class Line:
    number: str
    via: str
    label: str = ""


@dataclass(frozen=True)
class TransferSpec:
    """One unit's transfer rules, from the routing tables."""

    unit_id: str
    agency_id: str
    primary: Line
    adjacent: tuple[Line, ...]
    deputies: tuple[Line, ...]
    busy_attempts: int = 2
    ring_timeout_s: int = 20
    retry_pause_s: float = 2.0


@dataclass(frozen=True)
class Dial:
    line: Line
    role: Role
    attempt: int
    # Seconds to wait first: only before redialling a busy line.
    pause_s: float
    ring_timeout_s: int


@dataclass(frozen=True)
class Answered:
    line: Line
    role: Role


@dataclass(frozen=True)
class GiveUp:
    """Nobody answered: open a callback ticket for this reason."""

    reason: Literal[TicketReason.BUSY, TicketReason.NO_ANSWER]


@dataclass(frozen=True)
class CallerLeft:
    """The caller hung up while a line rang: stop dialling."""


Step = Dial | Answered | GiveUp | CallerLeft


def _lines(spec: TransferSpec) -> list[tuple[Line, Role, int]]:
    lines: list[tuple[Line, Role, int]] = [
        (spec.primary, AttemptRole.PRIMARY, n) for n in range(1, spec.busy_attempts + 1)
    ]
    lines += [(line, AttemptRole.ADJACENT, 1) for line in spec.adjacent]
    lines += [(line, AttemptRole.LIAISON, 1) for line in spec.deputies]
    return lines


def next_step(spec: TransferSpec, results: Sequence[str]) -> Step:
    """The step after `results` (DIALSTATUS of each attempt so far, in order)."""
    seen = iter(results)
    unit_busy = False
    primary_busy = True
    for line, role, attempt in _lines(spec):
        if role == AttemptRole.PRIMARY and attempt > 1 and not primary_busy:
            # Only a busy primary is redialled; silence or failure moves on.
            continue
        status = next(seen, None)
        if status is None:
            pause = spec.retry_pause_s if attempt > 1 else 0.0
            return Dial(line, role, attempt, pause, spec.ring_timeout_s)
        if status == ANSWER:
            return Answered(line, role)
        if status == CANCEL:
            return CallerLeft()
        if role == AttemptRole.PRIMARY:
            primary_busy = status == BUSY
        if role != AttemptRole.LIAISON and status == BUSY:
            unit_busy = True
    return GiveUp(TicketReason.BUSY if unit_busy else TicketReason.NO_ANSWER)


@dataclass(frozen=True)
class RingLines:
    """Ring the unit's lines now; `next_step` walks the sequence."""


@dataclass(frozen=True)
class RecordForWorkingDay:
    """The offices are empty: ring nobody, record the matter, due at `due` (K4(4))."""

    due: datetime


TransferPlan = RingLines | RecordForWorkingDay


def in_office_day(office: Calendar, now: datetime) -> bool:
    """True from a working day's first opening to its last close, lunch included.

    K4(4)'s "非上班時段" is the time offices are closed for the day: at lunch the
    officers are back within the hour and a unit forwards its lines (K4(3)), so a
    transfer still rings; at night, on weekends and on holidays nobody is there.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got naive {now!r}")
    local = now.astimezone(office.tz)
    ranges = hours_on(office, local.date())
    wall = local.time().replace(tzinfo=None)
    return bool(ranges) and ranges[0].start <= wall < ranges[-1].end


def plan_transfer(
    office: Calendar, now: datetime, off_hours: OffHoursTransfers = "dial"
) -> TransferPlan:
    """Whether a transfer asked for at `now` rings the unit, or is recorded for later."""
    if off_hours == "record" and not in_office_day(office, now):
        return RecordForWorkingDay(next_working_day_end(office, now))
    return RingLines()
