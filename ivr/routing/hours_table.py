"""hours.yaml: service hours, the working calendar, half days, the SLA and disaster mode."""

from __future__ import annotations

import re
from datetime import date, time
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from ivr.routing.menus import Destination, PromptName, Strict
from ivr.routing.table_fields import Text


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @classmethod
    def of(cls, day: date) -> Weekday:
        return list(cls)[day.weekday()]


_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _hhmm(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if isinstance(value, int):
        # YAML 1.1 reads unquoted 20:00 as the sexagesimal number 1200.
        raise PydanticCustomError(
            "time_unquoted",
            'write times in quotes, e.g. "20:00" (YAML read this one as {value})',
            {"value": value},
        )
    if not isinstance(value, str) or not (m := _HHMM.fullmatch(value)):
        raise PydanticCustomError(
            "time_format",
            '{value} is not a time of day written "HH:MM" (00:00 to 23:59)',
            {"value": repr(value)},
        )
    return time(int(m[1]), int(m[2]))


class TimeRange(Strict):
    """From `start` (included) to `end` (excluded), same day; written ["08:00", "20:00"]."""

    start: Annotated[time, BeforeValidator(_hhmm)]
    end: Annotated[time, BeforeValidator(_hhmm)]

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) != 2:
                raise ValueError(f'a time range is ["start", "end"], got {len(value)} items')
            return {"start": value[0], "end": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.start >= self.end:
            raise ValueError(
                f"{self} ends before it starts (a range cannot cross midnight; split it)"
            )
        return self

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _no_overlap(ranges: list[TimeRange]) -> list[TimeRange]:
    ordered = sorted(ranges, key=lambda r: r.start)
    clashes = [f"{a} and {b}" for a, b in pairwise(ordered) if b.start < a.end]
    if clashes:
        raise ValueError(f"time ranges overlap: {'; '.join(clashes)}")
    # Sorted, so the calendar can walk a day's ranges in order.
    return ordered


DayRanges = Annotated[list[TimeRange], AfterValidator(_no_overlap)]
# A weekday missing from the mapping (or with no ranges) is closed all day.
WeeklyHours = dict[Weekday, DayRanges]


class DatedDay(Strict):
    date: date
    name: Text


class Sla(Strict):
    """The callback deadline for registered matters (T4(2)1: half a day, 4 hours)."""

    callback_hours: Annotated[int, Field(ge=1, le=168)]
    # working_hours: the clock runs only inside office_hours on working days.
    basis: Literal["working_hours", "wall_clock"]


class Disaster(Strict):
    """Disaster mode (K10(1)): 24-hour service that opens with its own announcement."""

    announcement: PromptName


class HalfDay(Strict):
    """A working day that ends early: no working time from `closes_at` on."""

    date: date
    name: Text
    closes_at: Annotated[time, BeforeValidator(_hhmm)]


class CalendarSource(Strict):
    """Where the working calendar's national holidays come from, and how far it is checked."""

    # Public holidays and their observed days from the `holidays` package; None: none.
    national_holidays: Literal["TW"] | None = "TW"
    # The last day whose official office calendar (make-up workdays, bridge days) has
    # been compared with the package and entered in this file; `ivr routing check`
    # warns as it comes near.
    checked_through: date | None = None


class Hours(Strict):
    # When the hotline has agents: `always_open`, or `weekly` ranges.
    always_open: bool = False
    weekly: WeeklyHours | None = None
    # every_day: `weekly` holds on holidays too (Kinmen, K10(1)); working_days: the line
    # is closed on the working calendar's days off and open on its make-up days.
    service_days: Literal["every_day", "working_days"] = "every_day"
    # The agencies' working calendar; it drives callback deadlines, not the hotline.
    calendar: CalendarSource = Field(default_factory=CalendarSource)
    # Days off beyond the national holidays (local days off).
    holidays: list[DatedDay] = Field(default_factory=list)
    # Days worked though off: a Saturday swapped for a bridge day (補班), or a national
    # holiday the offices do not take.
    makeup_workdays: list[DatedDay] = Field(default_factory=list)
    half_days: list[HalfDay] = Field(default_factory=list)
    office_hours: WeeklyHours
    sla: Sla
    # Where callers go outside service hours; required unless always_open.
    closed: Destination | None = None
    disaster: Disaster | None = None
    # A transfer outside office hours: "dial" the unit anyway, or "record" the matter
    # for the next working day and ring nobody (Kinmen K4(4)).
    off_hours_transfers: Literal["dial", "record"] = "dial"
