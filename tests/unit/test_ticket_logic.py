"""Overdue notices, the daily digest, its schedule and the monthly report: pure, no mocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.calendar import Calendar, NoWorkingTime, TimeRange
from ivr.domain.tickets import (
    HOTLINE_AGENCY,
    TOTAL,
    AgencyContacts,
    Mail,
    ReportRow,
    UnitNames,
    digest_for,
    mask_number,
    month_bounds,
    next_digest_at,
    overdue_notice,
    recipients,
    report_rows,
)
from ivr.store import TicketNoteRecord, TicketRecord, UnitStats

TPE = ZoneInfo("Asia/Taipei")
HOTLINE_SUPERVISOR = "duty@hotline.example"

DIRECTORY = {
    "pwd": AgencyContacts(
        id="pwd",
        name="臺北市政府工務局",
        name_en="Public Works Department",
        supervisor_email="supervisor@pwd.example",
        liaison_email="liaison@pwd.example",
        units={"new-construction": UnitNames("新建工程處", "New Construction Office")},
    ),
    "epd": AgencyContacts(
        id="epd",
        name="臺北市政府環境保護局",
        name_en="Department of Environmental Protection",
        supervisor_email="supervisor@epd.example",
        liaison_email="liaison@epd.example",
        units={"epd-cleaning": UnitNames("環境清潔管理科", "Environmental Sanitation Section")},
    ),
    # An agency whose supervisor also staffs the liaison window.
    "small": AgencyContacts(
        id="small",
        name="小機關",
        name_en="Small Office",
        supervisor_email="all@small.example",
        liaison_email="all@small.example",
    ),
}

OFFICE_DAY = (TimeRange(time(8, 30), time(12, 30)), TimeRange(time(13, 30), time(17, 30)))
# 2026: Children's Day and Tomb Sweeping bridge days (Fri 3 and Mon 6 April) are off; a
# made-up make-up Saturday, 21 March, is worked.
OFFICE = Calendar(
    tz=TPE,
    weekly=dict.fromkeys(range(5), OFFICE_DAY),
    holidays=frozenset({date(2026, 4, 3), date(2026, 4, 6)}),
    makeup_workdays=frozenset({date(2026, 3, 21)}),
)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TPE)


def ticket(**overrides: Any) -> TicketRecord:
    """A ticket as the store returns it; due 14:30 on Friday 6 March 2026, Taipei time."""
    values: dict[str, Any] = {
        "id": 1,
        "number": "26030042",
        "call_id": None,
        "transfer_id": None,
        "caller_number": "0912345678",
        "agency_id": "pwd",
        "unit_id": "new-construction",
        "reason": "busy",
        "status": "open",
        "overdue": True,
        "overdue_at": local(2026, 3, 6, 14, 30),
        "created_at": local(2026, 3, 6, 9, 30),
        "due_at": local(2026, 3, 6, 14, 30),
        "message_path": None,
        "assignee": None,
        "outcome": None,
        "closed_at": None,
        "notified_overdue_at": None,
        "notes": (),
        "attempts": (),
    }
    values.update(overrides)
    return TicketRecord(**values)


NOTE = TicketNoteRecord(id=1, at=local(2026, 3, 6, 10), author="王小明", text="tried once")


# --- privacy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("0912345678", "09○○○○○678"),
        ("0227208889", "02○○○○○889"),
        ("+886912345678", "○○○○○○○○○○678"),
        ("12345678", "○○○○○678"),
        ("0912345", "○○○○345"),
        ("123456", "○○○456"),
        ("7001", "○○○○"),
        ("", ""),
    ],
)
def test_mask_number_keeps_only_the_last_three_and_a_leading_prefix(
    number: str, masked: str
) -> None:
    """Only the last 3 digits (and a 0X prefix when enough stays hidden) remain readable."""
    assert mask_number(number) == masked


# --- recipients and the overdue notice -------------------------------------------------


@pytest.mark.parametrize(
    ("agency_id", "expected"),
    [
        ("pwd", ("supervisor@pwd.example", "liaison@pwd.example")),
        ("epd", ("supervisor@epd.example", "liaison@epd.example")),
        ("small", ("all@small.example",)),
        (HOTLINE_AGENCY, (HOTLINE_SUPERVISOR,)),
        ("gone-agency", (HOTLINE_SUPERVISOR,)),
    ],
)
def test_recipients_by_agency(agency_id: str, expected: tuple[str, ...]) -> None:
    """Supervisor plus liaison for an agency; the hotline supervisor for the rest."""
    assert recipients(agency_id, DIRECTORY, hotline_supervisor=HOTLINE_SUPERVISOR) == expected


@pytest.mark.parametrize(
    ("overrides", "subject", "to"),
    [
        (
            {},
            "[1999] 逾期未回電 Overdue callback: 案件 26030042 (臺北市政府工務局 新建工程處)",
            ("supervisor@pwd.example", "liaison@pwd.example"),
        ),
        (
            {"agency_id": "pwd", "unit_id": None},
            "[1999] 逾期未回電 Overdue callback: 案件 26030042 (臺北市政府工務局)",
            ("supervisor@pwd.example", "liaison@pwd.example"),
        ),
        (
            {"agency_id": HOTLINE_AGENCY, "unit_id": None, "reason": "off_hours"},
            "[1999] 逾期未回電 Overdue callback: 案件 26030042 (1999 話務中心)",
            (HOTLINE_SUPERVISOR,),
        ),
        (
            {"agency_id": "gone", "unit_id": "old-unit"},
            "[1999] 逾期未回電 Overdue callback: 案件 26030042 (gone old-unit)",
            (HOTLINE_SUPERVISOR,),
        ),
    ],
)
def test_overdue_notice_subject_and_recipients(
    overrides: dict[str, Any], subject: str, to: tuple[str, ...]
) -> None:
    """The subject names the ticket and its unit; the mail goes to who must act."""
    mail = overdue_notice(ticket(**overrides), DIRECTORY, hotline_supervisor=HOTLINE_SUPERVISOR)
    assert mail.subject == subject
    assert mail.to == to


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({}, "案件編號 (Ticket): 26030042"),
        ({}, "來電號碼 (Caller): 09○○○○○678"),
        ({}, "原因 (Reason): 忙線 (busy)"),
        ({}, "建立時間 (Created, Asia/Taipei): 2026-03-06 09:30"),
        # Stored in UTC, shown in Taipei time.
        (
            {"due_at": datetime(2026, 3, 6, 6, 30, tzinfo=UTC)},
            "(Due, Asia/Taipei): 2026-03-06 14:30",
        ),
        ({}, "狀態 (Status): 待處理 (open)"),
        ({"status": "in_progress"}, "狀態 (Status): 處理中 (in_progress)"),
        ({}, "承辦人 (Assignee): 未指派 (unassigned)"),
        ({"assignee": "王小明"}, "承辦人 (Assignee): 王小明"),
        ({}, "備註數 (Notes): 0"),
        ({"notes": (NOTE, NOTE)}, "備註數 (Notes): 2"),
        ({}, "承辦單位 (Unit): 臺北市政府工務局 新建工程處 (Public Works Department, New"),
    ],
)
def test_overdue_notice_body_lines(overrides: dict[str, Any], line: str) -> None:
    """The body lists the ticket's facts, Chinese first with English in brackets."""
    mail = overdue_notice(ticket(**overrides), DIRECTORY, hotline_supervisor=HOTLINE_SUPERVISOR)
    assert line in mail.body


def test_overdue_notice_never_carries_the_full_caller_number() -> None:
    """Neither the body nor the subject shows the caller's number unmasked."""
    mail = overdue_notice(ticket(), DIRECTORY, hotline_supervisor=HOTLINE_SUPERVISOR)
    assert "0912345678" not in mail.body + mail.subject
    assert "12345" not in mail.body


def test_mail_needs_a_recipient_and_hides_its_body_in_repr() -> None:
    """A mail without recipients is refused; its repr shows no body text."""
    with pytest.raises(ValueError, match="recipient"):
        Mail(to=(), subject="s", body="b")
    assert "09○○○○○678" not in repr(Mail(to=("a@b.c",), subject="s", body="09○○○○○678"))


# --- the daily digest ------------------------------------------------------------------

MONDAY_8 = local(2026, 3, 9, 8)


def test_digest_one_mail_per_agency_sorted_by_due() -> None:
    """Each agency gets one mail listing its overdue tickets, soonest due first."""
    tickets = [
        ticket(id=1, number="26030001", due_at=local(2026, 3, 6, 16)),
        ticket(id=2, number="26030002", agency_id="epd", unit_id="epd-cleaning"),
        ticket(id=3, number="26030003", due_at=local(2026, 3, 5, 11)),
        ticket(id=4, number="26030004", agency_id=HOTLINE_AGENCY, unit_id=None),
    ]
    mails = digest_for(MONDAY_8, tickets, DIRECTORY, hotline_supervisor=HOTLINE_SUPERVISOR)
    assert [m.to for m in mails] == [
        ("supervisor@epd.example", "liaison@epd.example"),
        (HOTLINE_SUPERVISOR,),
        ("supervisor@pwd.example", "liaison@pwd.example"),
    ]
    pwd = mails[2]
    assert pwd.subject == (
        "[1999] 逾期回電彙整 Overdue callbacks digest: 2026-03-09 臺北市政府工務局 (2 件 tickets)"
    )
    assert pwd.body.index("26030003") < pwd.body.index("26030001")
    assert "26030002" not in pwd.body
    assert "0912345678" not in pwd.body
    assert "09○○○○○678" in pwd.body


@pytest.mark.parametrize(
    ("overrides", "listed"),
    [
        ({}, True),
        ({"status": "in_progress"}, True),
        ({"status": "called_back"}, True),
        ({"status": "closed"}, False),
        ({"due_at": MONDAY_8}, True),
        ({"due_at": MONDAY_8 + timedelta(minutes=1), "overdue": False}, False),
    ],
)
def test_digest_lists_only_open_tickets_past_due(overrides: dict[str, Any], listed: bool) -> None:
    """Closed tickets and tickets not yet due stay out of the digest."""
    mails = digest_for(
        MONDAY_8, [ticket(**overrides)], DIRECTORY, hotline_supervisor=HOTLINE_SUPERVISOR
    )
    assert len(mails) == (1 if listed else 0)


def test_digest_states_how_long_each_ticket_is_overdue() -> None:
    """The digest says how long past due each ticket is, on the wall clock."""
    [mail] = digest_for(MONDAY_8, [ticket()], DIRECTORY, hotline_supervisor=HOTLINE_SUPERVISOR)
    # Friday 14:30 to Monday 08:00.
    assert "已逾期 (overdue by) 2 天 17 小時 (2d 17h)" in mail.body


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(2026, 3, 6, 7, 0), local(2026, 3, 6, 8)),  # Friday before 08:00: today
        (local(2026, 3, 6, 8, 0), local(2026, 3, 9, 8)),  # at 08:00: the next one
        (local(2026, 3, 6, 15, 0), local(2026, 3, 9, 8)),  # Friday: skips the weekend
        (local(2026, 3, 8, 8, 0), local(2026, 3, 9, 8)),  # Sunday: Monday
        (local(2026, 3, 20, 9, 0), local(2026, 3, 21, 8)),  # make-up Saturday counts
        (local(2026, 4, 2, 9, 0), local(2026, 4, 7, 8)),  # Thu: Fri and Mon are holidays
        (datetime(2026, 3, 5, 23, 59, tzinfo=UTC), local(2026, 3, 6, 8)),  # Fri 07:59 local
        (datetime(2026, 3, 6, 0, 0, tzinfo=UTC), local(2026, 3, 9, 8)),  # Fri 08:00 local
    ],
)
def test_next_digest_at_working_days_only(now: datetime, expected: datetime) -> None:
    """The next digest is the first working day's 08:00 strictly after now."""
    got = next_digest_at(OFFICE, now)
    assert got == expected
    assert got.tzinfo == TPE


def test_next_digest_at_refuses_naive_times_and_dead_calendars() -> None:
    """A naive now, or a calendar without working days, raises instead of guessing."""
    with pytest.raises(ValueError, match="timezone-aware"):
        next_digest_at(OFFICE, datetime(2026, 3, 6, 7))  # noqa: DTZ001 - refusing it is the point
    with pytest.raises(NoWorkingTime):
        next_digest_at(Calendar(tz=TPE, weekly={}), local(2026, 3, 6, 7))


# --- the monthly report ----------------------------------------------------------------

MARCH = (local(2025, 3, 1), local(2025, 4, 1))


def stats(agency: str, unit: str | None, **figures: Any) -> UnitStats:
    return UnitStats(agency_id=agency, unit_id=unit, **figures)


@pytest.mark.parametrize(
    ("figures", "rate", "median"),
    [
        ({}, None, None),
        ({"transfers": 4, "liaison_fallbacks": 1}, 0.25, None),
        ({"transfers": 3, "liaison_fallbacks": 0}, 0.0, None),
        ({"callback_seconds": [600.0]}, None, 600.0),
        ({"callback_seconds": [60.0, 600.0, 7200.0]}, None, 600.0),
        ({"callback_seconds": [60.0, 120.0, 600.0, 7200.0]}, None, 360.0),
    ],
)
def test_report_row_rate_and_median(
    figures: dict[str, Any], rate: float | None, median: float | None
) -> None:
    """Fallback rate is fallbacks over transfers; the median callback time is None if empty."""
    row, _total = report_rows([stats("pwd", "new-construction", **figures)], *MARCH)
    assert row.fallback_rate == rate
    assert row.median_callback_s == median


def test_report_totals_pool_every_unit() -> None:
    """The totals row sums the counts and takes rate and median over all units together."""
    rows = report_rows(
        [
            stats(
                "epd",
                "epd-cleaning",
                transfers=2,
                busy_attempts=3,
                noanswer_attempts=1,
                liaison_fallbacks=1,
                tickets_opened=2,
                tickets_closed_in_time=1,
                tickets_overdue=1,
                callback_seconds=[100.0, 300.0],
            ),
            stats("hotline", None, tickets_opened=1, callback_seconds=[200.0]),
            stats("pwd", "hydraulic", transfers=6, busy_attempts=4, callback_seconds=[5000.0]),
        ],
        *MARCH,
    )
    assert [(r.agency_id, r.unit_id, r.total) for r in rows] == [
        ("epd", "epd-cleaning", False),
        ("hotline", None, False),
        ("pwd", "hydraulic", False),
        (TOTAL, None, True),
    ]
    assert rows[-1] == ReportRow(
        period="2025-03",
        agency_id=TOTAL,
        unit_id=None,
        transfers=8,
        busy_attempts=7,
        noanswer_attempts=1,
        liaison_fallbacks=1,
        fallback_rate=0.125,
        tickets_opened=3,
        tickets_closed_in_time=1,
        tickets_overdue=1,
        median_callback_s=250.0,
        total=True,
    )


@pytest.mark.parametrize(
    ("start", "end", "period"),
    [
        (local(2025, 3, 1), local(2025, 4, 1), "2025-03"),
        (local(2025, 12, 1), local(2026, 1, 1), "2025-12"),
        (datetime(2025, 2, 28, 16, tzinfo=UTC), datetime(2025, 3, 31, 16, tzinfo=UTC), "2025-03"),
        (local(2025, 3, 1), local(2025, 3, 16), "2025-03-01..2025-03-15"),
    ],
)
def test_report_period_label(start: datetime, end: datetime, period: str) -> None:
    """A whole Taipei month is labelled YYYY-MM; any other span by its first and last day."""
    [total] = report_rows([], start, end)
    assert total.period == period
    assert total.fallback_rate is None
    assert total.median_callback_s is None


def test_report_rejects_an_empty_or_naive_period() -> None:
    """An end not after the start, or a naive bound, is a caller's mistake."""
    with pytest.raises(ValueError, match="after"):
        report_rows([], MARCH[1], MARCH[0])
    with pytest.raises(ValueError, match="timezone-aware"):
        report_rows([], datetime(2025, 3, 1), MARCH[1])  # noqa: DTZ001 - refusing it is the point


@pytest.mark.parametrize(
    ("month", "start", "end"),
    [
        ("2025-03", local(2025, 3, 1), local(2025, 4, 1)),
        ("2025-12", local(2025, 12, 1), local(2026, 1, 1)),
        ("2024-02", local(2024, 2, 1), local(2024, 3, 1)),
        (" 2025-01 ", local(2025, 1, 1), local(2025, 2, 1)),
    ],
)
def test_month_bounds_are_taipei_months(month: str, start: datetime, end: datetime) -> None:
    """A YYYY-MM month runs from its first Taipei midnight to the next month's."""
    assert month_bounds(month) == (start, end)
    assert month_bounds(month)[0].utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize("month", ["2025-13", "2025-00", "2025-3", "March", "2025/03", ""])
def test_month_bounds_refuses_malformed_months(month: str) -> None:
    """Anything but YYYY-MM with a month 01 to 12 is refused with an example."""
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bounds(month)
