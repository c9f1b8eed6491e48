"""Callback tickets past their deadline: overdue notices, the daily digest, the report. Pure.

T4(2)1 gives the case officer 4 working hours to call a citizen back; K7(3) has the
supervisors e-mailed every working day at 08:00 about what is overdue. This module
only composes: it turns ticket records and the directory into `Mail` values and the
store's monthly figures into report rows. Sending, scheduling and the clock are the
adapters' (`ivr.adapters.mail`, `ivr.adapters.scheduler`).

Tickets and figures are taken through read-only protocols that the store's
`TicketRecord` and `UnitStats` satisfy, so this module needs no database import and
its tests need no store.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, TypeAlias
from zoneinfo import ZoneInfo

from ivr.domain.calendar import SEARCH_DAYS, Calendar, NoWorkingTime, hours_on
from ivr.domain.vocabulary import TicketReason, TicketStatus
from ivr.errors import Unavailable

__all__ = [
    "DIGEST_TIME",
    "HOTLINE_AGENCY",
    "LOCAL_TZ",
    "TOTAL",
    "AgencyContacts",
    "Mail",
    "MailDirectory",
    "MailNotSent",
    "OverdueTicket",
    "ReportRow",
    "UnitFigures",
    "UnitNames",
    "digest_for",
    "mask_number",
    "month_bounds",
    "next_digest_at",
    "overdue_notice",
    "recipients",
    "report_rows",
]

# Both hotlines are in Taiwan; mails and reports speak the citizens' local time.
LOCAL_TZ = ZoneInfo("Asia/Taipei")
# Tickets the IVR opens by itself belong to the call centre, not to an agency.
HOTLINE_AGENCY = "hotline"
# K7(3): Kinmen e-mails the supervisors about overdue matters every day at 08:00.
DIGEST_TIME = time(8)
# The agency id of the report's totals row.
TOTAL = "TOTAL"
# DOMAIN 4: de-identified data is masked with "○" (U+25CB), as on the city's own pages.
MASK = "○"

# Keyed by the vocabulary; a unit test holds every member to a label.
REASON_LABELS: Mapping[str, str] = {
    TicketReason.BUSY: "忙線",
    TicketReason.NO_ANSWER: "無人接聽",
    TicketReason.LIAISON_REGISTERED: "聯繫窗口登記",
    TicketReason.OFF_HOURS: "非上班時間",
    TicketReason.DISPUTED_JURISDICTION: "權責爭議",
    TicketReason.VOICEMAIL: "語音留言",
    TicketReason.QUEUE_CALLBACK: "等候中選擇回電",
    TicketReason.CASE_CALLBACK: "案件回電",
}
STATUS_LABELS: Mapping[str, str] = {
    TicketStatus.OPEN: "待處理",
    TicketStatus.IN_PROGRESS: "處理中",
    TicketStatus.CALLED_BACK: "已回電",
    TicketStatus.CLOSED: "已結案",
}

_HOTLINE_NAME = ("1999 話務中心", "1999 call centre")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


class MailNotSent(Unavailable):
    """The mail server did not accept a message; it may be sent again later."""

    code = "mail.not_sent"


@dataclass(frozen=True)
class Mail:
    """One e-mail as plain data: recipients, subject and a plain-text body."""

    to: tuple[str, ...]
    subject: str
    body: str

    def __post_init__(self) -> None:
        if not self.to:
            raise ValueError(f"a mail needs at least one recipient: {self.subject!r}")

    def __repr__(self) -> str:
        # Bodies carry (masked) caller numbers and case details: keep them out of any
        # log line or traceback that prints a Mail.
        return f"Mail(to={self.to!r}, subject={self.subject!r}, body=<{len(self.body)} chars>)"


@dataclass(frozen=True)
class UnitNames:
    name: str
    name_en: str


@dataclass(frozen=True)
class AgencyContacts:
    """Who hears about an agency's overdue callbacks (T4(2)1, K7(3)), and its names."""

    id: str
    name: str
    name_en: str
    supervisor_email: str
    liaison_email: str
    units: Mapping[str, UnitNames] = field(default_factory=dict)


# Agency id -> contacts; built from the routing directory by the adapter.
MailDirectory: TypeAlias = Mapping[str, AgencyContacts]


class OverdueTicket(Protocol):
    """What a notice needs of a ticket; `ivr.store.TicketRecord` has it all."""

    @property
    def number(self) -> str: ...
    @property
    def caller_number(self) -> str: ...
    @property
    def agency_id(self) -> str: ...
    @property
    def unit_id(self) -> str | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def notes(self) -> Sequence[object]: ...


class UnitFigures(Protocol):
    """One unit's monthly figures; `ivr.store.UnitStats` has them."""

    @property
    def agency_id(self) -> str: ...
    @property
    def unit_id(self) -> str | None: ...
    @property
    def transfers(self) -> int: ...
    @property
    def busy_attempts(self) -> int: ...
    @property
    def noanswer_attempts(self) -> int: ...
    @property
    def liaison_fallbacks(self) -> int: ...
    @property
    def tickets_opened(self) -> int: ...
    @property
    def tickets_closed_in_time(self) -> int: ...
    @property
    def tickets_overdue(self) -> int: ...
    @property
    def callback_seconds(self) -> Sequence[float]: ...


# --- privacy --------------------------------------------------------------------------


def mask_number(number: str) -> str:
    """The caller's number with all but its last 3 digits masked: 0912345678 → 09○○○○○678.

    A leading "0" and the digit after it (Taiwan's trunk prefix with the mobile "9" or
    an area code such as Taipei's "2") stay too: they say what kind of line called, not
    who, and only when at least 3 other digits remain masked. A short number (an
    internal extension) is masked whole rather than left readable.
    """
    if len(number) < 6:
        return MASK * len(number)
    head = 2 if number.startswith("0") and len(number) - 5 >= 3 else 0
    return number[:head] + MASK * (len(number) - head - 3) + number[-3:]


# --- who gets told --------------------------------------------------------------------


def recipients(
    agency_id: str, directory: MailDirectory, *, hotline_supervisor: str
) -> tuple[str, ...]:
    """The agency's supervisor and liaison window; the hotline supervisor otherwise.

    An agency missing from the directory (renamed, removed) also goes to the hotline
    supervisor: an overdue callback must reach someone rather than no one.
    """
    contacts = directory.get(agency_id)
    if agency_id == HOTLINE_AGENCY or contacts is None:
        return (hotline_supervisor,)
    # dict.fromkeys: one mail per address when an agency gives the same one twice.
    return tuple(dict.fromkeys((contacts.supervisor_email, contacts.liaison_email)))


def _where(ticket: OverdueTicket, directory: MailDirectory) -> tuple[str, str]:
    """The ticket's agency and unit in Chinese and in English."""
    if ticket.agency_id == HOTLINE_AGENCY:
        return _HOTLINE_NAME
    contacts = directory.get(ticket.agency_id)
    if contacts is None:
        label = " ".join(p for p in (ticket.agency_id, ticket.unit_id) if p)
        return label, f"{label}, not in the directory"
    if ticket.unit_id is None:
        return contacts.name, contacts.name_en
    unit = contacts.units.get(ticket.unit_id, UnitNames(ticket.unit_id, ticket.unit_id))
    return f"{contacts.name} {unit.name}", f"{contacts.name_en}, {unit.name_en}"


def _agency_names(agency_id: str, directory: MailDirectory) -> tuple[str, str]:
    if agency_id == HOTLINE_AGENCY:
        return _HOTLINE_NAME
    contacts = directory.get(agency_id)
    if contacts is None:
        return agency_id, f"{agency_id}, not in the directory"
    return contacts.name, contacts.name_en


# --- formatting -----------------------------------------------------------------------


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return f"{_aware(moment, 'datetime').astimezone(tz):%Y-%m-%d %H:%M}"


def _labelled(value: str, labels: Mapping[str, str]) -> str:
    label = labels.get(value)
    return f"{label} ({value})" if label else value


def _span(delta: timedelta) -> str:
    """A wall-clock duration as days, hours and minutes, in both languages."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小時 ({days}d {hours}h)"
    return f"{hours} 小時 {mins} 分 ({hours}h {mins:02d}m)"


def _ticket_lines(ticket: OverdueTicket, directory: MailDirectory, tz: ZoneInfo) -> list[str]:
    zh, en = _where(ticket, directory)
    return [
        f"案件編號 (Ticket): {ticket.number}",
        f"承辦單位 (Unit): {zh} ({en})",
        f"來電號碼 (Caller): {mask_number(ticket.caller_number)}",
        f"原因 (Reason): {_labelled(ticket.reason, REASON_LABELS)}",
        f"建立時間 (Created, {tz.key}): {_local(ticket.created_at, tz)}",
        f"回電期限 (Due, {tz.key}): {_local(ticket.due_at, tz)}",
        f"狀態 (Status): {_labelled(ticket.status, STATUS_LABELS)}",
        f"承辦人 (Assignee): {ticket.assignee or '未指派 (unassigned)'}",
        f"備註數 (Notes): {len(ticket.notes)}",
    ]


# --- mails ----------------------------------------------------------------------------


def overdue_notice(
    ticket: OverdueTicket,
    directory: MailDirectory,
    *,
    hotline_supervisor: str,
    tz: ZoneInfo = LOCAL_TZ,
) -> Mail:
    """The mail telling the unit's supervisor and liaison window a callback is overdue."""
    zh, _ = _where(ticket, directory)
    subject = f"[1999] 逾期未回電 Overdue callback: 案件 {ticket.number} ({zh})"
    body = "\n".join(
        [
            "以下回電案件已超過回電期限 (This callback is past its deadline, T4(2)1):",
            "",
            *_ticket_lines(ticket, directory, tz),
            "",
            "請儘速回電民眾並更新案件狀態。",
            "(Please call the citizen back as soon as possible and update the ticket.)",
            "",
            "-- 1999 話務系統 (hotline1999), 自動通知 (automatic notice)",
        ]
    )
    return Mail(
        to=recipients(ticket.agency_id, directory, hotline_supervisor=hotline_supervisor),
        subject=subject,
        body=body + "\n",
    )


def digest_for(
    now: datetime,
    tickets: Iterable[OverdueTicket],
    directory: MailDirectory,
    *,
    hotline_supervisor: str,
    tz: ZoneInfo = LOCAL_TZ,
) -> list[Mail]:
    """One mail per agency listing its open tickets past due at `now`, soonest due first.

    Closed tickets and tickets not yet due are left out, so any ticket list will do;
    agencies without overdue tickets get no mail. Mails come in agency-id order.
    """
    instant = _aware(now, "now")
    overdue = sorted(
        (t for t in tickets if t.status != "closed" and t.due_at <= instant),
        key=lambda t: (t.due_at, t.number),
    )
    by_agency: dict[str, list[OverdueTicket]] = {}
    for ticket in overdue:
        by_agency.setdefault(ticket.agency_id, []).append(ticket)
    day = f"{instant.astimezone(tz):%Y-%m-%d}"
    mails = []
    for agency_id in sorted(by_agency):
        listed = by_agency[agency_id]
        zh, en = _agency_names(agency_id, directory)
        lines = [
            f"{zh} ({en})",
            f"截至 {_local(instant, tz)} 逾期未回電案件共 {len(listed)} 件 "
            f"({len(listed)} overdue callback(s) as of {_local(instant, tz)} {tz.key}):",
        ]
        for i, ticket in enumerate(listed, start=1):
            lines += ["", f"{i}. 已逾期 (overdue by) {_span(instant - ticket.due_at)}"]
            lines += [f"   {line}" for line in _ticket_lines(ticket, directory, tz)]
        lines += [
            "",
            "請督促承辦人儘速回電民眾並更新案件狀態。",
            "(Please have the case officers call back and update the tickets.)",
            "",
            "-- 1999 話務系統 (hotline1999), 每日彙整 (daily digest, K7(3))",
        ]
        mails.append(
            Mail(
                to=recipients(agency_id, directory, hotline_supervisor=hotline_supervisor),
                subject=(
                    f"[1999] 逾期回電彙整 Overdue callbacks digest: {day} {zh} "
                    f"({len(listed)} 件 tickets)"
                ),
                body="\n".join(lines) + "\n",
            )
        )
    return mails


def next_digest_at(cal: Calendar, now: datetime, at: time = DIGEST_TIME) -> datetime:
    """The first working day's `at` (08:00) local time strictly after `now`.

    A working day is one with office hours in the calendar: holidays are skipped,
    make-up Saturdays count. Returned in the calendar's zone. Raises NoWorkingTime when
    no working day comes within SEARCH_DAYS days.
    """
    instant = _aware(now, "now")
    day = instant.astimezone(cal.tz).date()
    for _ in range(SEARCH_DAYS + 1):
        if hours_on(cal, day):
            slot = datetime.combine(day, at, tzinfo=cal.tz)
            if slot > instant:
                return slot
        day += timedelta(days=1)
    raise NoWorkingTime(
        f"calendar ({cal.tz.key}) has no working day within {SEARCH_DAYS} days after "
        f"{instant.astimezone(cal.tz).isoformat()}: no digest can be scheduled"
    )


# --- the monthly report (DOMAIN 8) ----------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    """One unit's line of the monthly transfer report, or the totals line (`total`)."""

    period: str
    agency_id: str
    unit_id: str | None
    transfers: int
    busy_attempts: int
    noanswer_attempts: int
    liaison_fallbacks: int
    # liaison_fallbacks / transfers; None when the unit had no transfers.
    fallback_rate: float | None
    tickets_opened: int
    tickets_closed_in_time: int
    tickets_overdue: int
    # Median seconds from a ticket's creation to its first "called_back"; None if none.
    median_callback_s: float | None
    total: bool = False


def month_bounds(month: str, tz: ZoneInfo = LOCAL_TZ) -> tuple[datetime, datetime]:
    """[start, end) of a "YYYY-MM" month in local time; ValueError if malformed."""
    m = _MONTH.fullmatch(month.strip())
    if m is None or not 1 <= int(m[2]) <= 12 or int(m[1]) < 1:
        raise ValueError(f"month must be written YYYY-MM, e.g. 2025-03; got {month!r}")
    year, number = int(m[1]), int(m[2])
    start = datetime(year, number, 1, tzinfo=tz)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=tz)
    return start, end


def _period(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    first = start.astimezone(tz)
    last = end.astimezone(tz)
    month_start, month_end = month_bounds(f"{first:%Y-%m}", tz)
    if first == month_start and last == month_end:
        return f"{first:%Y-%m}"
    # A period that is not one whole month is named by its first and last days.
    last_day: date = (last - timedelta(microseconds=1)).date()
    return f"{first:%Y-%m-%d}..{last_day:%Y-%m-%d}"


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def report_rows(
    stats: Iterable[UnitFigures],
    month_start: datetime,
    month_end: datetime,
    *,
    tz: ZoneInfo = LOCAL_TZ,
) -> list[ReportRow]:
    """The store's per-unit figures as report rows, in the given order, then a totals row.

    The totals' median is taken over every unit's callbacks together, not a median of
    the units' medians, and its fallback rate over all transfers.
    """
    start, end = _aware(month_start, "month_start"), _aware(month_end, "month_end")
    if end <= start:
        raise ValueError(f"month_end must be after month_start, got {start} to {end}")
    period = _period(start, end, tz)
    figures = list(stats)
    rows = [
        ReportRow(
            period=period,
            agency_id=f.agency_id,
            unit_id=f.unit_id,
            transfers=f.transfers,
            busy_attempts=f.busy_attempts,
            noanswer_attempts=f.noanswer_attempts,
            liaison_fallbacks=f.liaison_fallbacks,
            fallback_rate=_rate(f.liaison_fallbacks, f.transfers),
            tickets_opened=f.tickets_opened,
            tickets_closed_in_time=f.tickets_closed_in_time,
            tickets_overdue=f.tickets_overdue,
            median_callback_s=_median(f.callback_seconds),
        )
        for f in figures
    ]
    transfers = sum(f.transfers for f in figures)
    fallbacks = sum(f.liaison_fallbacks for f in figures)
    rows.append(
        ReportRow(
            period=period,
            agency_id=TOTAL,
            unit_id=None,
            transfers=transfers,
            busy_attempts=sum(f.busy_attempts for f in figures),
            noanswer_attempts=sum(f.noanswer_attempts for f in figures),
            liaison_fallbacks=fallbacks,
            fallback_rate=_rate(fallbacks, transfers),
            tickets_opened=sum(f.tickets_opened for f in figures),
            tickets_closed_in_time=sum(f.tickets_closed_in_time for f in figures),
            tickets_overdue=sum(f.tickets_overdue for f in figures),
            median_callback_s=_median([s for f in figures for s in f.callback_seconds]),
            total=True,
        )
    )
    return rows


def _aware(moment: datetime, name: str) -> datetime:
    # A naive time here would be read as the server's zone: eight hours off in a mail.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {moment!r}")
    return moment.astimezone(UTC)
