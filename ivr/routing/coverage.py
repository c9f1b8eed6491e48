"""How far ahead a profile's working calendar can answer, judged at an instant. Pure.

`ivr routing check` refuses a profile whose calendar cannot say, for some day in the
next SEARCH_DAYS days, whether it is a working day: every due time is searched that
far ahead, and a guess there is a promise to a caller that may be false. It warns when
the official calendar the tables were checked against runs out within WARN_DAYS.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from ivr.domain.calendar import SEARCH_DAYS, NoWorkingTime, next_working_day_end
from ivr.domain.workdays import coverage_end
from ivr.routing.loader import HOURS, Problem
from ivr.routing.tables import Hours, RoutingTables
from ivr.routing.view import working_calendar

WARN_DAYS = 60


def known_through(hours: Hours, package_end: date | None) -> date | None:
    """The last day the calendar can answer for; None when it has no limit.

    With national holidays, the package's last year. Without, the holidays are all
    hand-typed, so the calendar knows no further than the last year typed.
    """
    if hours.calendar.national_holidays is not None:
        return package_end
    if not hours.holidays:
        return None  # no holidays at all, by choice: every year looks the same
    return date(max(d.date for d in hours.holidays).year, 12, 31)


def calendar_coverage(tables: RoutingTables, now: datetime) -> tuple[list[Problem], list[Problem]]:
    """(refusals, warnings) for the profile's working calendar as of `now`."""
    file = str(tables.source / HOURS)
    hours = tables.hours
    office = working_calendar(hours, tables.profile.zone)
    today = now.astimezone(office.tz).date()
    horizon = today + timedelta(days=SEARCH_DAYS)
    refusals: list[Problem] = []
    warnings: list[Problem] = []
    end = known_through(hours, coverage_end(office))
    if end is not None and end < horizon:
        field = "calendar.national_holidays" if hours.calendar.national_holidays else "holidays"
        refusals.append(
            Problem(
                file,
                field,
                f"the working calendar is known only through {end}, but due times are "
                f"searched {SEARCH_DAYS} days ahead (through {horizon}): "
                + (
                    "upgrade the holidays package"
                    if hours.calendar.national_holidays
                    else "set calendar.national_holidays, or type the later years' holidays"
                ),
            )
        )
    try:
        next_working_day_end(office, now)
    except NoWorkingTime as exc:
        refusals.append(Problem(file, "office_hours", str(exc)))
    checked = hours.calendar.checked_through
    if checked is not None and checked < today + timedelta(days=WARN_DAYS):
        left = (checked - today).days
        warnings.append(
            Problem(
                file,
                "calendar.checked_through",
                f"the official office calendar was checked only through {checked} "
                + (f"({left} days from now)" if left >= 0 else "(already past)")
                + ": enter the next year's make-up workdays, half days and local days "
                "off, then move this date",
            )
        )
    return refusals, warnings
