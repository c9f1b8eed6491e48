"""Every clock a case runs on (P6-P11 for petitions, T6 and K7 for dispatch orders).

Choices where the rules are silent, written down once here:
- Periods in days do not count the day they start on (Administrative Procedure Act
  art. 48(2): 始日不計算在內). "Within 6 working days" of a petition received on a
  Monday therefore ends when the office closes on the following Tuesday.
- Working days and hours are those of the *responsible agency's* calendar, passed in.
- Dispatch deadlines run from the order's creation in calendar time (K7(2)), every day
  of the week, because field crews work on weekends: stage 1 in hours, stage 2 in days
  of 24 hours (item 21's stage 2 is 96 hours).
- Item 16 (ownerless rubbish): reported before 16:00 local time, cleared within 4 hours;
  at or after 16:00, by 12:00 the next day.
- A re-assigned petition keeps its receipt time: the citizen has waited since then, so
  the new agency's due time is computed from the original receipt on its own calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from ivr.domain.calendar import Calendar, add_working_hours, hours_on
from ivr.errors import HotlineError

PETITION_REPLY_WORKING_DAYS = 6  # P7(4)
GRADE_B_CALENDAR_DAYS = 30  # P7(4)
JURISDICTION_QUERY_WORKING_HOURS = 4  # P9(2)
REVIEW_WORKING_HOURS = 8  # P11(3): one working day (8 hours)
RETURNED_WORK_WORKING_DAYS = 6  # P11(3)
DEIDENTIFY_WORKING_DAYS = 1  # P7(3): by the next working day after the reply
ITEM16_CUTOFF = time(16, 0)
ITEM16_NEXT_DAY_BY = time(12, 0)
ITEM16_SAME_DAY_HOURS = 4
# How far ahead a count of working days may look before the calendar is called broken.
_SEARCH_DAYS = 400


class NoWorkingDay(HotlineError, ValueError):
    """The calendar has no working day within the search window."""

    code = "cases.no_working_day"


@dataclass(frozen=True, slots=True)
class DispatchItem:
    """One of the dispatch catalogue's items (T6, `dispatch_items.csv`), as tables give it."""

    number: int
    name: str
    name_en: str
    agency_id: str
    unit: str
    stage1_hours: float | None
    stage2_days: float | None = None
    stage2_hours: float | None = None
    # Item 6: stage 2 depends on what the crew finds (wiring 3 days, total failure 7).
    stage2_variants: Mapping[str, float] = field(default_factory=dict)
    same_day_rule: bool = False  # item 16
    contact_attempts: int = 0  # items 4 and 17: tries to reach the citizen in stage 1

    def __post_init__(self) -> None:
        if self.stage2_days is not None and self.stage2_hours is not None:
            raise ValueError(f"item {self.number}: stage 2 is in days or in hours, not both")


@dataclass(frozen=True, slots=True)
class DispatchDeadlines:
    stage1: datetime | None
    stage2: datetime | None


def dispatch_deadlines(
    item: DispatchItem, created_at: datetime, tz: ZoneInfo, variant: str | None = None
) -> DispatchDeadlines:
    """Stage-1 and stage-2 deadlines of an order created at `created_at`, in `tz`."""
    local = _aware(created_at, "created_at").astimezone(tz)
    if item.same_day_rule:
        stage1: datetime | None
        if local.time() < ITEM16_CUTOFF:
            stage1 = local + timedelta(hours=ITEM16_SAME_DAY_HOURS)
        else:
            next_day = local.date() + timedelta(days=1)
            stage1 = datetime.combine(next_day, ITEM16_NEXT_DAY_BY, tzinfo=tz)
    elif item.stage1_hours is not None:
        stage1 = local + timedelta(hours=item.stage1_hours)
    else:
        stage1 = None
    stage2: datetime | None = None
    if variant is not None:
        if variant not in item.stage2_variants:
            known = ", ".join(sorted(item.stage2_variants)) or "none"
            raise ValueError(f"item {item.number} has no stage-2 variant {variant!r} ({known})")
        stage2 = local + timedelta(days=item.stage2_variants[variant])
    elif item.stage2_hours is not None:
        stage2 = local + timedelta(hours=item.stage2_hours)
    elif item.stage2_days is not None:
        stage2 = local + timedelta(days=item.stage2_days)
    return DispatchDeadlines(stage1, stage2)


def end_of_working_days(cal: Calendar, start: datetime, days: int) -> datetime:
    """When the `days`-th working day after `start`'s local day closes (start day excluded)."""
    if days < 1:
        raise ValueError(f"a period of working days is at least 1, got {days}")
    day = _aware(start, "start").astimezone(cal.tz).date()
    counted = 0
    for _ in range(_SEARCH_DAYS):
        day += timedelta(days=1)
        ranges = hours_on(cal, day)
        if ranges:
            counted += 1
            if counted == days:
                return datetime.combine(day, ranges[-1].end, tzinfo=cal.tz)
    raise NoWorkingDay(f"no {days} working days within {_SEARCH_DAYS} days of {day}")


def petition_reply_due(cal: Calendar, received_at: datetime) -> datetime:
    """The reply (or a grade-B plan) is due by the close of the 6th working day (P7(4))."""
    return end_of_working_days(cal, received_at, PETITION_REPLY_WORKING_DAYS)


def grade_b_due(received_at: datetime, tz: ZoneInfo) -> datetime:
    """Grade B must finish within 30 calendar days of receipt, start day excluded (P7(4))."""
    day = _aware(received_at, "received_at").astimezone(tz).date()
    return datetime.combine(day + timedelta(days=GRADE_B_CALENDAR_DAYS + 1), time(0), tzinfo=tz)


def jurisdiction_reply_due(cal: Calendar, asked_at: datetime) -> datetime:
    """The asked agency answers a jurisdiction query within 4 working hours (P9(2))."""
    return add_working_hours(cal, asked_at, JURISDICTION_QUERY_WORKING_HOURS)


def review_due(cal: Calendar, dissatisfied_at: datetime) -> datetime:
    """A dissatisfied reply is reviewed within 8 working hours from the next day (P11(3))."""
    day = _aware(dissatisfied_at, "dissatisfied_at").astimezone(cal.tz).date()
    next_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=cal.tz)
    return add_working_hours(cal, next_day, REVIEW_WORKING_HOURS)


def returned_work_due(cal: Calendar, returned_at: datetime) -> datetime:
    """Work returned by a review is replied again within 6 working days (P11(3))."""
    return end_of_working_days(cal, returned_at, RETURNED_WORK_WORKING_DAYS)


def deidentify_due(cal: Calendar, replied_at: datetime) -> datetime:
    """A replied case is de-identified by the close of the next working day (P7(3))."""
    return end_of_working_days(cal, replied_at, DEIDENTIFY_WORKING_DAYS)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")
    return moment
