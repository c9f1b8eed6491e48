"""Overdue callbacks (T4(2)1) and the daily digest (K7(3)), mailed from a background task.

Every `interval_s` the scheduler runs one round, `run_once(now)`:

1. `store.flag_overdue(now)` flags the open tickets whose deadline has passed;
2. each newly flagged ticket, and each flagged ticket whose mail has not gone out yet,
   is mailed to its agency's supervisor and liaison window, then marked notified;
3. on the first round at or after a working day's 08:00 every agency with overdue
   tickets gets one digest mail.

The composing is `ivr.domain.tickets`; this module only decides when, and keeps the
bookkeeping that makes a failed send come back and a sent one not repeat.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog

from ivr.background import Background
from ivr.domain.calendar import Calendar, NoWorkingTime, with_days_off
from ivr.domain.clock import Clock
from ivr.domain.tickets import (
    AgencyContacts,
    Mail,
    MailDirectory,
    MailNotSent,
    UnitNames,
    digest_for,
    next_digest_at,
    overdue_notice,
)
from ivr.domain.workdays import closure_days
from ivr.routing.tables import Directory
from ivr.store import StoreUnavailable, TicketRecord
from ivr.store.ports import EngineStore

log = structlog.get_logger(__name__)

# Written into the state directory after each digest; see OverdueScheduler.
DIGEST_MARKER = "digest_sent"


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None:
        """Return once the server accepted the mail; raise MailNotSent otherwise."""


class DailyRound(Protocol):
    async def run_once(self, now: datetime) -> int:
        """Do what is due at `now` (the cases' 08:00 digest); messages queued."""


def mail_directory(directory: Directory) -> dict[str, AgencyContacts]:
    """The routing directory's agencies as the contacts the mails need."""
    return {
        agency.id: AgencyContacts(
            id=agency.id,
            name=agency.name,
            name_en=agency.name_en,
            supervisor_email=agency.supervisor_email,
            liaison_email=agency.liaison.email,
            units={u.id: UnitNames(u.name, u.name_en) for u in agency.units},
        )
        for agency in directory.agencies
    }


@dataclass(frozen=True)
class Round:
    """What one round did, by ticket number: for logs and tests."""

    flagged: tuple[str, ...] = ()
    notified: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    digests_sent: int = 0
    digests_failed: int = 0


class OverdueScheduler:
    """Flags overdue tickets and mails the people who must act on them.

    Delivery of the overdue mail is "at least once, normally exactly once":

    - The mail is sent first and the ticket marked notified only after the server
      accepted it. Marking first would lose the mail for good when the send then
      fails (the store has no way to unmark); sending first can at worst repeat it.
    - A ticket newly flagged by `flag_overdue` belongs to this scheduler alone: the
      flag is one conditional UPDATE, so of two schedulers only one gets it.
    - A ticket flagged but not yet notified is mailed by this scheduler at once when it
      was its own failed send, and otherwise only after `claim_grace` has passed since
      the flag: until then, another scheduler that flagged it is presumed to be sending
      it right now. After that it presumably crashed between flag and send, so the
      mail is sent again rather than never.
    - `mark_overdue_notified` returns False when another scheduler marked first; that
      only happens in the rare race above, and is logged as a duplicate.
    - When the mail went out but the mark failed (the store went away), only the mark
      is retried next round, not the mail. A restart in between forgets that, and the
      mail goes out once more: the "at least once".

    The digest has no table in the store. The time of the last digest is kept in memory
    and in `<state_dir>/digest_sent` (an ISO timestamp), so a restarted engine does not
    send the same morning's digest again. The next digest is due at the first working
    day's 08:00 after that time; with no marker (a new stack), after the first round.
    A digest mail the server refused is retried each round until the next digest
    replaces it; a restart forgets it, and the next morning's digest covers it. The
    marker is per state directory: two engines on separate hosts would each send one.
    """

    def __init__(
        self,
        store: EngineStore,
        mailer: Mailer,
        clock: Clock,
        directory_source: Callable[[], Directory],
        hotline_supervisor: str,
        calendar_source: Callable[[], Calendar],
        interval_s: float = 30,
        *,
        state_dir: Path | None = None,
        claim_grace: timedelta = timedelta(minutes=5),
        tz: ZoneInfo | None = None,
        case_rounds: DailyRound | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self._store = store
        self._mailer = mailer
        self._clock = clock
        self._directory_source = directory_source
        self._hotline_supervisor = hotline_supervisor
        self._calendar_source = calendar_source
        self._interval_s = interval_s
        self._marker = state_dir / DIGEST_MARKER if state_dir is not None else None
        self._claim_grace = claim_grace
        # None: the profile's zone, from its calendar, so the 08:00 digest and the dates
        # in mails are local to the hotline, also after a reload.
        self._fixed_tz = tz
        # Tickets this scheduler flagged (or failed to mail) and has not mailed yet: it
        # mails them without waiting for the grace, also after a round that broke off.
        self._owned: set[int] = set()
        # Tickets whose mail went out but whose mark did not reach the store.
        self._unmarked: set[int] = set()
        self._digest_base: datetime | None = None
        self._digest_retry: list[Mail] = []
        self._rounds = Background("overdue-scheduler", self._loop)
        # The cases' own daily round (ivr.adapters.case_rounds), run after the tickets'.
        self._case_rounds = case_rounds

    @property
    def _tz(self) -> ZoneInfo:
        return self._fixed_tz or self._calendar_source().tz

    # -- one round -----------------------------------------------------------------

    async def run_once(self, now: datetime) -> Round:
        """Flag, mail what is overdue, and send the digest when due. Store errors raise."""
        directory = mail_directory(self._directory_source())
        await self._mark_sent(now)
        flagged = await self._store.flag_overdue(now)
        self._owned |= {t.id for t in flagged}
        overdue = await self._store.overdue_tickets()
        notified, failed = await self._notify(now, overdue, directory)
        sent, refused = await self._digest(now, overdue, directory)
        if self._case_rounds is not None:
            try:
                await self._case_rounds.run_once(now)
            except Exception:
                # The cases' digest must not stop the tickets' escalation, nor the reverse.
                log.exception("case_round_failed")
        done = Round(
            flagged=tuple(t.number for t in flagged),
            notified=tuple(notified),
            failed=tuple(failed),
            digests_sent=sent,
            digests_failed=refused,
        )
        if flagged or notified or failed or sent or refused:
            log.info(
                "overdue_round",
                flagged=list(done.flagged),
                notified=list(done.notified),
                failed=list(done.failed),
                digests_sent=sent,
                digests_failed=refused,
            )
        return done

    async def _mark_sent(self, now: datetime) -> None:
        for ticket_id in sorted(self._unmarked):
            await self._mark(ticket_id, now, number=None)

    async def _mark(self, ticket_id: int, now: datetime, number: str | None) -> None:
        # Until the store confirms, the mail counts as sent but unmarked: if the store
        # raises, the next round retries only the mark.
        self._unmarked.add(ticket_id)
        try:
            first = await self._store.mark_overdue_notified(ticket_id, now)
        except LookupError:
            first = True  # deleted since: nothing left to mark
        self._unmarked.discard(ticket_id)
        if not first:
            log.info("overdue_mail_duplicate", ticket_id=ticket_id, ticket=number)

    def _due_for_mail(self, now: datetime, overdue: list[TicketRecord]) -> list[TicketRecord]:
        unnotified = [
            t for t in overdue if t.notified_overdue_at is None and t.id not in self._unmarked
        ]
        # A ticket closed, or notified by another scheduler, meanwhile needs no mail.
        self._owned &= {t.id for t in unnotified}
        stale = now - self._claim_grace
        return [
            t
            for t in unnotified
            if t.id in self._owned or t.overdue_at is None or t.overdue_at <= stale
        ]

    async def _notify(
        self,
        now: datetime,
        overdue: list[TicketRecord],
        directory: MailDirectory,
    ) -> tuple[list[str], list[str]]:
        notified: list[str] = []
        failed: list[str] = []
        # overdue_tickets() lists soonest due first: the oldest promise is mailed first.
        for ticket in self._due_for_mail(now, overdue):
            mail = overdue_notice(
                ticket, directory, hotline_supervisor=self._hotline_supervisor, tz=self._tz
            )
            try:
                await self._mailer.send(mail)
            except MailNotSent as exc:
                self._owned.add(ticket.id)
                failed.append(ticket.number)
                log.warning("overdue_mail_failed", ticket=ticket.number, error=str(exc))
                continue
            self._owned.discard(ticket.id)
            await self._mark(ticket.id, now, number=ticket.number)
            notified.append(ticket.number)
            log.info(
                "overdue_mail_sent",
                ticket=ticket.number,
                agency=ticket.agency_id,
                unit=ticket.unit_id,
                to=list(mail.to),
            )
        return notified, failed

    async def _digest(
        self, now: datetime, overdue: list[TicketRecord], directory: MailDirectory
    ) -> tuple[int, int]:
        if self._digest_base is None:
            self._digest_base = self._read_marker() or now
        # Declared closures (typhoon days) are no working days: no digest that morning.
        cal = self._calendar_source()
        closed = await self._store.closures(self._digest_base.astimezone(cal.tz).date())
        cal = with_days_off(cal, closure_days(closed.values()))
        try:
            due = next_digest_at(cal, self._digest_base)
        except NoWorkingTime as exc:
            log.error("digest_not_scheduled", error=str(exc))  # noqa: TRY400 - a data fault, not a crash
            return 0, 0
        if now < due:
            return await self._send_digest_mails(self._digest_retry)
        mails = digest_for(
            now, overdue, directory, hotline_supervisor=self._hotline_supervisor, tz=self._tz
        )
        # Today's digest replaces any of yesterday's still waiting for the server.
        self._digest_retry = []
        self._digest_base = now
        self._write_marker(now)
        return await self._send_digest_mails(mails)

    async def _send_digest_mails(self, mails: list[Mail]) -> tuple[int, int]:
        waiting: list[Mail] = []
        for mail in mails:
            try:
                await self._mailer.send(mail)
            except MailNotSent as exc:
                waiting.append(mail)
                log.warning("digest_mail_failed", to=list(mail.to), error=str(exc))
        self._digest_retry = waiting
        return len(mails) - len(waiting), len(waiting)

    def _read_marker(self) -> datetime | None:
        if self._marker is None:
            return None
        try:
            text = self._marker.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("digest_marker_unreadable", path=str(self._marker), error=str(exc))
            return None
        try:
            sent = datetime.fromisoformat(text)
        except ValueError:
            sent = None
        if sent is None or sent.utcoffset() is None:
            log.warning("digest_marker_malformed", path=str(self._marker))
            return None
        return sent

    def _write_marker(self, sent: datetime) -> None:
        if self._marker is None:
            return
        tmp = self._marker.with_name(self._marker.name + ".tmp")
        try:
            self._marker.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(sent.isoformat() + "\n", encoding="utf-8")
            os.replace(tmp, self._marker)
        except OSError as exc:
            # The in-memory time still stops a second digest while this engine runs.
            log.warning("digest_marker_not_written", path=str(self._marker), error=str(exc))

    # -- background task -----------------------------------------------------------

    def start(self) -> None:
        """Run a round every `interval_s` seconds on the scheduler's clock until stop()."""
        self._rounds.start()

    async def stop(self) -> None:
        await self._rounds.stop()

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once(self._clock())
            except StoreUnavailable as exc:
                log.warning("overdue_round_skipped", error=str(exc))
            except Exception:
                # A fault in one round must not end escalation for good; the next try.
                log.exception("overdue_round_failed")
            await asyncio.sleep(self._interval_s)
