"""The cases' daily round: at 08:00 every day, mail the overdue dispatch digest (K7(3))
and de-identify the cases replied before today (P7(3)).

`CaseRounds.run_once(now)` is called by the overdue scheduler on each of its rounds; it
does its work on the first round at or after 08:00 and remembers the day in
`<state_dir>/dispatch_digest_sent`, so a restart does not send the morning's digest
twice. A digest mail the server refused is retried on the next rounds of that day.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import structlog

from ivr import cases_service as svc
from ivr.domain.calendar import Calendar
from ivr.domain.cases.digest import DigestContacts, OverdueOrder, dispatch_digest, next_daily_at
from ivr.domain.tickets import Mail, MailNotSent
from ivr.routing.tables import Directory, RoutingTables
from ivr.store import CaseStore
from ivr.store.cases import CaseBook

log = structlog.get_logger(__name__)
MARKER = "dispatch_digest_sent"


def digest_contacts(directory: Directory) -> dict[str, DigestContacts]:
    return {
        a.id: DigestContacts(
            agency_name=a.name,
            head_email=a.supervisor_email,
            unit_supervisors={u.id: u.supervisor_email for u in a.units if u.supervisor_email},
        )
        for a in directory.agencies
    }


class CaseRounds:
    def __init__(self, context: Callable[[], svc.CaseContext], state_dir: Path | None) -> None:
        self._context = context
        self._marker = state_dir / MARKER if state_dir is not None else None
        self._last: datetime | None = None
        self._retry: list[Mail] = []

    async def run_once(self, now: datetime) -> int:
        """Send the day's digest when due; the number of mails the server accepted."""
        ctx = self._context()
        tz = ctx.office.tz
        if self._last is None:
            self._last = self._read_marker() or now
        if now < next_daily_at(self._last, tz):
            return await self._send(ctx, self._retry)
        late = await ctx.book.overdue_dispatch(now)
        orders = [
            OverdueOrder(
                c.number, c.item, c.agency_id, c.unit_id, k.clock, k.due_at, c.district, c.address
            )
            for c, k in late
        ]
        mails = dispatch_digest(now, orders, digest_contacts(ctx.tables.directory), tz)
        self._last = now
        self._write_marker(now)
        masked = await svc.deidentify_replied(ctx, now=now, who="daily-round")
        if masked:
            log.info("cases_deidentified", count=len(masked))
        return await self._send(ctx, mails)

    async def _send(self, ctx: svc.CaseContext, mails: list[Mail]) -> int:
        waiting = []
        for mail in mails:
            if ctx.mailer is None:
                waiting.append(mail)
                continue
            try:
                await ctx.mailer.send(mail)
            except MailNotSent as exc:
                waiting.append(mail)
                log.warning("dispatch_digest_not_sent", to=list(mail.to), error=str(exc))
        self._retry = waiting
        return len(mails) - len(waiting)

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
    mailer: svc.Mailer,
    state_dir: Path | None,
) -> CaseRounds:
    """The engine's daily case round, on the store's engine and the live tables."""

    def context() -> svc.CaseContext:
        current = tables()
        book = CaseBook.of(store, current.profile.name)
        return svc.CaseContext(book, current, office(), mailer=mailer)

    return CaseRounds(context, state_dir)
