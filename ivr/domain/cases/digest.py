"""The daily digest of overdue dispatch orders (K7(3)), as mails. Pure.

Every day at 08:00 (every day, not only working days: field crews work weekends), each
unit with overdue orders gets one mail, to the unit's supervisor and the agency head.
Where the directory names no supervisor for a unit, the agency's supervisor stands in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from ivr.domain.tickets import Mail

DIGEST_AT = time(8, 0)
STAGE_LABELS = {"stage1": "第一階段 (stage 1)", "stage2": "第二階段 (stage 2)"}


@dataclass(frozen=True)
class OverdueOrder:
    number: str
    item: int | None
    agency_id: str
    unit_id: str | None
    stage: str
    due_at: datetime
    district: str | None
    address: str | None


@dataclass(frozen=True)
class DigestContacts:
    """An agency's head mailbox and its units' supervisors (unit id → address)."""

    agency_name: str
    head_email: str
    unit_supervisors: Mapping[str, str]


def next_daily_at(after: datetime, tz: ZoneInfo, at: time = DIGEST_AT) -> datetime:
    """The first local `at` (08:00) strictly after `after`, any day of the week."""
    local = after.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tzinfo=tz)
    return candidate if candidate > local else candidate + timedelta(days=1)


def _late(span: timedelta) -> str:
    hours = int(span.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if days else f"{hours}h"


@dataclass(frozen=True)
class UnitDigest:
    """The digest of one unit: whose orders (agency, unit) and the mail listing them."""

    agency_id: str
    unit_id: str
    mail: Mail


def dispatch_digest(
    now: datetime,
    orders: Iterable[OverdueOrder],
    contacts: Mapping[str, DigestContacts],
    tz: ZoneInfo,
) -> list[Mail]:
    """One mail per (agency, unit) with orders past due at `now`, most overdue first."""
    return [d.mail for d in unit_digests(now, orders, contacts, tz)]


def unit_digests(
    now: datetime,
    orders: Iterable[OverdueOrder],
    contacts: Mapping[str, DigestContacts],
    tz: ZoneInfo,
) -> list[UnitDigest]:
    """`dispatch_digest`, each mail with the (agency, unit) it is about."""
    groups: dict[tuple[str, str], list[OverdueOrder]] = defaultdict(list)
    for order in orders:
        if order.due_at <= now:
            groups[order.agency_id, order.unit_id or ""].append(order)
    mails: list[UnitDigest] = []
    day = f"{now.astimezone(tz):%Y-%m-%d}"
    for (agency_id, unit_id), listed in sorted(groups.items()):
        who = contacts.get(agency_id)
        if who is None:
            continue  # an agency no longer in the directory: nobody to mail
        to = [who.unit_supervisors.get(unit_id) or who.head_email, who.head_email]
        listed.sort(key=lambda o: (o.due_at, o.number))
        lines = [
            f"{who.agency_name} {unit_id}".strip(),
            f"截至 {now.astimezone(tz):%Y-%m-%d %H:%M} 逾期派工案件 {len(listed)} 件 "
            f"({len(listed)} overdue dispatch order(s), {tz.key}):",
            "",
        ]
        for o in listed:
            place = " ".join(x for x in (o.district, o.address) if x)
            lines.append(
                f"- {o.number} 項目 (item) {o.item or '-'}  {STAGE_LABELS.get(o.stage, o.stage)} "
                f"due {o.due_at.astimezone(tz):%m-%d %H:%M}, late {_late(now - o.due_at)}  {place}"
            )
        lines += ["", "-- 1999 話務系統 (hotline1999), 每日 08:00 逾期派工稽催 (K7(3))"]
        mail = Mail(
            to=tuple(dict.fromkeys(to)),
            subject=f"[1999] 逾期派工 Overdue dispatch orders {day} {agency_id}/{unit_id} "
            f"({len(listed)})",
            body="\n".join(lines) + "\n",
        )
        mails.append(UnitDigest(agency_id, unit_id, mail))
    return mails
