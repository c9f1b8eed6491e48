"""The cases' daily round: at 08:00 every day, queue the overdue dispatch digest (K7(3))
and de-identify the cases replied before today (P7(3)).

`CaseRounds.run_once(now)` is called by the overdue scheduler on each of its rounds; it
does its work on the first round at or after 08:00 and remembers the day in
`<state_dir>/dispatch_digest_sent`, so the digest is made once a morning.

The digest is not mailed from here: each unit's mail becomes one outbox message per
recipient (docs/notifications.md), all of the morning's written in one transaction,
and the outbox's sender delivers them with its retries. Each message's key names the
profile, the local day, the unit and the recipient, so a round run twice that day (a
restart that lost the marker, a second engine) queues nothing twice.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from ivr import cases_service as svc
from ivr.domain.calendar import Calendar
from ivr.domain.cases.digest import (
    DigestContacts,
    OverdueOrder,
    UnitDigest,
    next_daily_at,
    unit_digests,
)
from ivr.domain.vocabulary import NotifyChannel
from ivr.routing.tables import Directory, RoutingTables
from ivr.store import CaseStore
from ivr.store.cases import CaseBook
from ivr.store.outbox import OutboxError, message_values

log = structlog.get_logger(__name__)
MARKER = "dispatch_digest_sent"
PURPOSE = "dispatch_digest"


def digest_contacts(directory: Directory) -> dict[str, DigestContacts]:
    return {
        a.id: DigestContacts(
            agency_name=a.name,
            head_email=a.supervisor_email,
            unit_supervisors={u.id: u.supervisor_email for u in a.units if u.supervisor_email},
        )
        for a in directory.agencies
    }


def digest_key(profile: str, day: str, agency_id: str, unit_id: str, recipient: str) -> str:
    """One message per recipient, unit and local day: the same on every run of that day.

    Hashed so that long profile, agency and unit ids still fit the outbox's key.
    """
    what = f"{agency_id}|{unit_id}|{recipient.strip().lower()}"
    digest = hashlib.sha256(what.encode("utf-8")).hexdigest()[:24]
    return f"digest:{profile}:{day}:{digest}"


def digest_rows(
    profile: str, now: datetime, tz: ZoneInfo, digests: Sequence[UnitDigest]
) -> list[dict[str, Any]]:
    """The outbox rows of the morning's digests: one per unit and recipient."""
    day = f"{now.astimezone(tz):%Y-%m-%d}"
    rows = []
    for d in digests:
        for to in d.mail.to:
            try:
                rows.append(
                    message_values(
                        key=digest_key(profile, day, d.agency_id, d.unit_id, to),
                        channel=NotifyChannel.EMAIL,
                        recipient=to,
                        body=d.mail.body,
                        purpose=PURPOSE,
                        at=now,
                        subject=d.mail.subject,
                        ref=f"dispatch-digest:{day}:{d.agency_id}/{d.unit_id}",
                    )
                )
            except OutboxError as exc:
                # A directory address the outbox refuses must not hold back the others.
                log.warning("dispatch_digest_not_queued", agency=d.agency_id, error=str(exc))
    return rows


class CaseRounds:
    def __init__(self, context: Callable[[], svc.CaseContext], state_dir: Path | None) -> None:
        self._context = context
        self._marker = state_dir / MARKER if state_dir is not None else None
        self._last: datetime | None = None

    async def run_once(self, now: datetime) -> int:
        """Queue the day's digest when due; the number of messages queued now."""
        ctx = self._context()
        tz = ctx.office.tz
        if self._last is None:
            self._last = self._read_marker() or now
        if now < next_daily_at(self._last, tz):
            return 0
        late = await ctx.book.overdue_dispatch(now)
        orders = [
            OverdueOrder(
                c.number, c.item, c.agency_id, c.unit_id, k.clock, k.due_at, c.district, c.address
            )
            for c, k in late
        ]
        digests = unit_digests(now, orders, digest_contacts(ctx.tables.directory), tz)
        rows = digest_rows(ctx.book.profile, now, tz, digests)
        # Queued before the day is marked done: a store that fails here leaves the
        # digest due, and the next round makes it again (its keys keep it one).
        queued = await ctx.book.queue_messages(rows)
        if rows:
            log.info("dispatch_digest_queued", units=len(digests), queued=queued, known=len(rows))
        self._last = now
        self._write_marker(now)
        masked = await svc.deidentify_replied(ctx, now=now, who="daily-round")
        if masked:
            log.info("cases_deidentified", count=len(masked))
        return queued

    def _read_marker(self) -> datetime | None:
        if self._marker is None:
            return None
        try:
            sent = datetime.fromisoformat(self._marker.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None
        return sent if sent.utcoffset() is not None else None

    def _write_marker(self, sent: datetime) -> None:
        if self._marker is None:
            return
        tmp = self._marker.with_name(self._marker.name + ".tmp")
        try:
            tmp.write_text(sent.isoformat() + "\n", encoding="utf-8")
            os.replace(tmp, self._marker)
        except OSError as exc:
            log.warning("dispatch_digest_marker_not_written", error=str(exc))


def rounds_for(
    store: CaseStore,
    tables: Callable[[], RoutingTables],
    office: Callable[[], Calendar],
    state_dir: Path | None,
) -> CaseRounds:
    """The engine's daily case round, on the store's engine and the live tables."""

    def context() -> svc.CaseContext:
        current = tables()
        book = CaseBook.of(store, current.profile.name)
        return svc.CaseContext(book, current, office())

    return CaseRounds(context, state_dir)
