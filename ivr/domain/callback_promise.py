"""What a caller is told about when their callback comes. Pure.

A ticket's due time comes from the office calendar (`callback_due`,
`next_working_day_end`); this module only turns it into prompts. The caller hears
"within 4 hours" only when the due time really is at most 4 hours away; otherwise the
day and time it is due ("by Monday, 12:30 p.m."), composed from small prompts so the
sentence is true for any time: a prompt per weekday, month, day of the month, hour,
minute and part of the day. The words of each prompt are in the catalogue; the order
of the pieces is each language's grammar, which is why the language is an argument.

Days are named relative to the caller's local date: "today", "tomorrow", a weekday
within the coming week, and a weekday with its date a week or more ahead (over the
Lunar New Year a ticket can be due ten days later, when "Monday" alone would name the
wrong Monday).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Literal

__all__ = [
    "CALLBACK_BY",
    "CALLBACK_BY_END",
    "PROMISE_PROMPTS",
    "WITHIN_4H",
    "WITHIN_4H_PROMPT",
    "callback_promise",
    "said_when",
]

WITHIN_4H_PROMPT = "ticket-callback-4h"
WITHIN_4H = timedelta(hours=4)
# "An officer will call you back by" … "Thank you, goodbye." (Mandarin: 將於 … 前回電).
CALLBACK_BY = "ticket-callback-by"
CALLBACK_BY_END = "ticket-callback-by-end"

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_TODAY = "day-today"
DAY_TOMORROW = "day-tomorrow"
TIME_AM = "time-am"
TIME_NOON = "time-noon"
TIME_PM = "time-pm"
TIME_EVENING = "time-evening"
TIME_MIDNIGHT = "time-midnight"
# A weekday alone names a day of the coming week; from this many days on, the date too.
_DATE_FROM_DAYS = 7

Grammar = Literal["en", "zh"]
# Chinese order (period before the hour, month before the weekday) for the Sinitic
# languages; a language not listed here is read in English order.
_GRAMMAR: dict[str, Grammar] = {"zh-TW": "zh", "nan": "zh", "hak": "zh", "en": "en"}


def weekday_prompt(weekday: int) -> str:
    return f"day-{_WEEKDAYS[weekday]}"


def _day_pieces() -> tuple[str, ...]:
    return (
        DAY_TODAY,
        DAY_TOMORROW,
        *(weekday_prompt(d) for d in range(7)),
        *(f"month-{m}" for m in range(1, 13)),
        *(f"date-{d}" for d in range(1, 32)),
    )


def _time_pieces() -> tuple[str, ...]:
    return (
        *(f"hour-{h}" for h in range(1, 13)),
        *(f"minute-{m:02d}" for m in range(1, 60)),
        TIME_AM,
        TIME_NOON,
        TIME_PM,
        TIME_EVENING,
        TIME_MIDNIGHT,
    )


# Every prompt callback_promise can return: the catalogue must speak them all.
PROMISE_PROMPTS: tuple[str, ...] = (
    WITHIN_4H_PROMPT,
    CALLBACK_BY,
    CALLBACK_BY_END,
    *_day_pieces(),
    *_time_pieces(),
)


def callback_promise(due: datetime, now: datetime, language: str, zone: tzinfo) -> list[str]:
    """The prompts that tell a caller, at `now`, when a callback due at `due` comes.

    `zone` is the profile's time zone: days and hours are the caller's local ones.
    Both instants must be timezone-aware (ValueError otherwise): a naive one would be
    read in the wrong zone and promise a wrong hour.
    """
    for name, moment in (("due", due), ("now", now)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be a timezone-aware datetime, got naive {moment!r}")
    if due - now <= WITHIN_4H:
        return [WITHIN_4H_PROMPT]
    return [CALLBACK_BY, *said_when(due, now, language, zone), CALLBACK_BY_END]


def said_when(due: datetime, now: datetime, language: str, zone: tzinfo) -> list[str]:
    """The day and time of `due` as prompts, said at `now` in `language`'s order.

    Only pieces of `PROMISE_PROMPTS` (days, dates, hours, minutes, parts of the day);
    a case's due date is said with them too (`ivr.domain.cases.check`).
    """
    grammar = _GRAMMAR.get(language, "en")
    local_due = due.astimezone(zone)
    return [
        *_day(local_due, now.astimezone(zone), grammar),
        *_time(local_due.hour, local_due.minute, grammar),
    ]


def _day(due: datetime, now: datetime, grammar: Grammar) -> list[str]:
    days = (due.date() - now.date()).days
    if days <= 0:
        return [DAY_TODAY]
    if days == 1:
        return [DAY_TOMORROW]
    weekday = weekday_prompt(due.weekday())
    if days < _DATE_FROM_DAYS:
        return [weekday]
    month, date = f"month-{due.month}", f"date-{due.day}"
    # "Monday, February 23" / "2月23日 星期一".
    return [weekday, month, date] if grammar == "en" else [month, date, weekday]


def _time(hour: int, minute: int, grammar: Grammar) -> list[str]:
    clock_hour = f"hour-{hour % 12 or 12}"
    minutes = [f"minute-{minute:02d}"] if minute else []
    if grammar == "en":
        # "twelve noon", "twelve midnight", "five thirty p.m.", "nine a.m.".
        if minute == 0 and hour in (0, 12):
            return [clock_hour, TIME_NOON if hour == 12 else TIME_MIDNIGHT]
        return [clock_hour, *minutes, TIME_AM if hour < 12 else TIME_PM]
    # 上午九點, 中午十二點三十分, 下午五點三十分, 晚上八點, 午夜十二點.
    if hour == 0:
        period = TIME_MIDNIGHT
    elif hour < 12:
        period = TIME_AM
    elif hour == 12:
        period = TIME_NOON
    elif hour < 18:
        period = TIME_PM
    else:
        period = TIME_EVENING
    return [period, clock_hour, *minutes]
