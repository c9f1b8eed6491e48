"""The working calendar from the `holidays` package plus the tables' overrides: pure."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.domain.calendar import (
    Calendar,
    DayOff,
    TimeRange,
    add_working_hours,
    compute_service_state,
    hours_on,
    next_working_day_end,
    with_days_off,
)
from ivr.domain.tickets import next_digest_at
from ivr.domain.workdays import explain_day, national_holidays
from ivr.routing.coverage import calendar_coverage
from ivr.routing.loader import RoutingError, load_profile
from ivr.routing.view import build_view

REPO = Path(__file__).resolve().parents[2]
TPE = ZoneInfo("Asia/Taipei")
OFFICE_DAY = (TimeRange(time(8, 30), time(12, 30)), TimeRange(time(13, 30), time(17, 30)))
WEEKDAYS = dict.fromkeys(range(5), OFFICE_DAY)

# The weekday days off of 2026 as the routing tables listed them by hand, from the
# DGPA office calendar (行政院人事行政總處 115年政府行政機關辦公日曆表). The package
# must give exactly these, so no date changes without this test saying so.
DGPA_2026 = {
    date(2026, 1, 1): "開國紀念日",
    date(2026, 2, 16): "農曆除夕",
    date(2026, 2, 17): "春節",
    date(2026, 2, 18): "春節",
    date(2026, 2, 19): "春節",
    date(2026, 2, 20): "除夕前一日補假",
    date(2026, 2, 27): "和平紀念日補假",
    date(2026, 4, 3): "兒童節補假",
    date(2026, 4, 6): "民族掃墓節補假",
    date(2026, 5, 1): "勞動節",
    date(2026, 6, 19): "端午節",
    date(2026, 9, 25): "中秋節",
    date(2026, 9, 28): "孔子誕辰紀念日",
    date(2026, 10, 9): "國慶日補假",
    date(2026, 10, 26): "臺灣光復暨金門古寧頭大捷紀念日補假",
    date(2026, 12, 25): "行憲紀念日",
}


def tpe(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TPE)


def office_of(profile: str) -> Calendar:
    return build_view(load_profile(REPO / "routing" / profile)).office


@pytest.mark.parametrize("profile", ["taipei", "kinmen"])
def test_package_gives_the_2026_days_off_the_tables_held(profile: str) -> None:
    """Every 2026 weekday is off exactly when the hand-typed DGPA list said so."""
    office = office_of(profile)
    day, off = date(2026, 1, 1), set()
    while day.year == 2026:
        if day.weekday() < 5 and not hours_on(office, day):
            off.add(day)
        day += timedelta(days=1)
    assert sorted(off) == sorted(DGPA_2026)


def test_2027_new_year_and_lunar_new_year_are_holidays_with_the_package_names() -> None:
    """The calendar goes on past the typed lists: 2027's days off come named."""
    office = office_of("taipei")
    new_year = explain_day(office, date(2027, 1, 1))
    assert (new_year.reason, new_year.hours) == ("holiday", ())
    assert new_year.name == national_holidays("TW").holiday(date(2027, 1, 1))
    assert "開國紀念日" in new_year.name
    lunar = [explain_day(office, date(2027, 2, d)) for d in range(4, 11)]
    assert [r.reason for r in lunar] == ["holiday"] * 7
    assert {r.name for r in lunar} >= {"農曆除夕", "春節"}
    assert explain_day(office, date(2027, 2, 11)).reason == "working_day"
    assert explain_day(office, date(2027, 2, 13)).reason == "weekend"


def test_a_ticket_opened_on_new_years_eve_is_not_due_on_new_years_day() -> None:
    """2026-12-31 16:30 plus 4 working hours skips 2027-01-01 and the weekend."""
    due = add_working_hours(office_of("taipei"), tpe(2026, 12, 31, 16, 30), 4)
    assert due == tpe(2027, 1, 4, 11, 30)


def test_kinmen_line_answers_on_holidays_while_the_offices_are_closed() -> None:
    """K10(1): 08:00-20:00 every day; the holiday only stops the callback clock."""
    view = build_view(load_profile(REPO / "routing" / "kinmen"))
    national_day = tpe(2026, 10, 9, 10)  # Friday, 國慶日補假
    state = compute_service_state(view.service_hours, national_day, disaster=False)
    assert (state.open, state.reason) == (True, "in_hours")
    assert hours_on(view.office, national_day.date()) == ()


def test_a_profile_may_tie_its_line_to_the_working_calendar(tmp_path: Path) -> None:
    """service_days: working_days closes the line on holidays and opens it on make-up days."""
    shutil.copytree(REPO / "routing" / "kinmen", tmp_path / "k")
    hours = tmp_path / "k" / "hours.yaml"
    text = hours.read_text(encoding="utf-8").replace(
        "service_days: every_day", "service_days: working_days"
    )
    hours.write_text(text, encoding="utf-8")
    view = build_view(load_profile(tmp_path / "k"))
    state = compute_service_state(view.service_hours, tpe(2026, 10, 9, 10), disaster=False)
    assert (state.open, state.reason) == (False, "closed_holiday")
    # Saturday the 10th is National Day itself; Sunday has the line's own hours.
    assert state.next_open == tpe(2026, 10, 11, 8)
    assert view.service_follows_office


def test_makeup_day_takes_back_a_national_holiday_and_opens_a_saturday() -> None:
    cal = Calendar(
        TPE,
        WEEKDAYS,
        makeup_workdays=frozenset({date(2026, 5, 1), date(2026, 5, 2)}),
        national=national_holidays("TW"),
    )
    assert hours_on(cal, date(2026, 5, 1)) == OFFICE_DAY
    assert hours_on(cal, date(2026, 5, 2)) == OFFICE_DAY
    report = explain_day(cal, date(2026, 5, 1))
    assert (report.reason, report.name) == ("makeup_day", "勞動節")


def test_half_day_and_closures_cut_the_working_time() -> None:
    base = Calendar(TPE, WEEKDAYS, national=national_holidays("TW"))
    cal = with_days_off(
        base,
        {
            date(2026, 12, 1): DayOff("typhoon", "closure"),
            date(2026, 12, 2): DayOff("typhoon", "closure", time(12)),
            date(2026, 12, 3): DayOff("歲末半日", "half_day", time(10)),
        },
    )
    assert hours_on(cal, date(2026, 12, 1)) == ()
    assert hours_on(cal, date(2026, 12, 2)) == (TimeRange(time(8, 30), time(12)),)
    assert hours_on(cal, date(2026, 12, 3)) == (TimeRange(time(8, 30), time(10)),)
    assert explain_day(cal, date(2026, 12, 1)).reason == "closure"
    assert explain_day(cal, date(2026, 12, 3)).reason == "half_day"
    # Monday 30 Nov 16:30: one hour that day, none on the 1st, three on the 2nd by 11:30.
    assert add_working_hours(cal, tpe(2026, 11, 30, 16, 30), 4) == tpe(2026, 12, 2, 11, 30)
    assert next_working_day_end(cal, tpe(2026, 11, 30, 18)) == tpe(2026, 12, 2, 12)
    # The base calendar is untouched: closures are laid over it per call.
    assert hours_on(base, date(2026, 12, 1)) == OFFICE_DAY


def test_of_two_days_off_on_one_date_the_one_closing_more_wins() -> None:
    base = with_days_off(
        Calendar(TPE, WEEKDAYS), {date(2026, 12, 2): DayOff("半日", "half_day", time(12))}
    )
    later = with_days_off(base, {date(2026, 12, 2): DayOff("typhoon", "closure", time(15))})
    assert hours_on(later, date(2026, 12, 2)) == (TimeRange(time(8, 30), time(12)),)
    whole = with_days_off(base, {date(2026, 12, 2): DayOff("typhoon", "closure")})
    assert hours_on(whole, date(2026, 12, 2)) == ()


def test_routing_check_refuses_a_calendar_that_cannot_see_400_days_ahead() -> None:
    """The package knows holidays through 2100: a check in 2100 cannot see 400 days."""
    tables = load_profile(REPO / "routing" / "taipei")
    refusals, _ = calendar_coverage(tables, datetime(2100, 1, 1, tzinfo=UTC))
    assert [p.path for p in refusals] == ["calendar.national_holidays"]
    assert "known only through 2100-12-31" in refusals[0].reason
    refusals, _ = calendar_coverage(tables, datetime(2026, 11, 30, tzinfo=UTC))
    assert refusals == []


def test_routing_check_refuses_hand_typed_holidays_that_end_too_soon(tmp_path: Path) -> None:
    """Without the package, a table whose only holidays are in 2020 knows nothing of 2027."""
    shutil.copytree(REPO / "routing" / "taipei", tmp_path / "t")
    hours = tmp_path / "t" / "hours.yaml"
    text = hours.read_text(encoding="utf-8")
    text = text.replace("national_holidays: TW", "national_holidays: null")
    text = text.replace("holidays: []", "holidays:\n  - {date: 2020-01-01, name: 開國紀念日}")
    hours.write_text(text, encoding="utf-8")
    refusals, _ = calendar_coverage(load_profile(tmp_path / "t"), tpe(2026, 11, 30))
    assert [p.path for p in refusals] == ["holidays"]
    assert "known only through 2020-12-31" in refusals[0].reason


@pytest.mark.parametrize(
    ("now", "warned"),
    [(tpe(2026, 10, 31), False), (tpe(2026, 11, 2), True), (tpe(2027, 1, 5), True)],
    ids=["61-days-before", "59-days-before", "past"],
)
def test_routing_check_warns_when_the_checked_calendar_ends_within_60_days(
    now: datetime, warned: bool
) -> None:
    tables = load_profile(REPO / "routing" / "kinmen")
    refusals, warnings = calendar_coverage(tables, now)
    assert refusals == []
    assert [w.path for w in warnings] == (["calendar.checked_through"] if warned else [])


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(["Asia/Taipei", "America/New_York", "Pacific/Kiritimati"]),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    offset=st.timedeltas(min_value=-timedelta(hours=9), max_value=timedelta(hours=9)),
)
def test_the_0800_digest_and_the_next_working_day_follow_the_local_day(
    zone: str, day: date, offset: timedelta
) -> None:
    """Near local midnight (where the UTC date differs), the rules count local days."""
    tz = ZoneInfo(zone)
    cal = Calendar(tz, WEEKDAYS, national=national_holidays("TW"))
    now = (datetime.combine(day, time(0), tzinfo=tz) + offset).astimezone(UTC)
    today = now.astimezone(tz).date()
    digest = next_digest_at(cal, now).astimezone(tz)
    assert digest > now
    assert digest.time() == time(8)
    assert hours_on(cal, digest.date())
    # No working day's 08:00 between now and the digest is skipped.
    d = today
    while d < digest.date():
        assert not hours_on(cal, d) or datetime.combine(d, time(8), tzinfo=tz) <= now
        d += timedelta(days=1)
    due = next_working_day_end(cal, now).astimezone(tz)
    assert hours_on(cal, due.date())
    assert due.time() == hours_on(cal, due.date())[-1].end
    assert due.date() >= today


def test_a_makeup_day_may_take_back_a_national_holiday_but_not_a_working_day(
    tmp_path: Path,
) -> None:
    """The loader knows the package: Labour Day 2026 (a Friday) may be worked."""
    shutil.copytree(REPO / "routing" / "taipei", tmp_path / "t")
    hours = tmp_path / "t" / "hours.yaml"
    text = hours.read_text(encoding="utf-8")
    taken = "makeup_workdays:\n  - {date: 2026-05-01, name: 勞動節照常上班}\n"
    hours.write_text(text.replace("makeup_workdays: []\n", taken), encoding="utf-8")
    office = build_view(load_profile(tmp_path / "t")).office
    assert hours_on(office, date(2026, 5, 1)) == OFFICE_DAY
    plain = "makeup_workdays:\n  - {date: 2026-05-04, name: 補行上班}\n"
    hours.write_text(text.replace("makeup_workdays: []\n", plain), encoding="utf-8")
    with pytest.raises(RoutingError, match="2026-05-04 is a mon, already a working day"):
        load_profile(tmp_path / "t")
