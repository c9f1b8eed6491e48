"""Overdue escalation end to end: a real SMTP server, a real SQLite store, an injected clock.

No Asterisk: the scheduler talks only to the case store and the mail server.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from ivr.adapters.mail import SmtpMailer
from ivr.adapters.scheduler import DIGEST_MARKER, OverdueScheduler
from ivr.domain.calendar import Calendar
from ivr.domain.tickets import HOTLINE_AGENCY, Mail, MailNotSent
from ivr.routing.loader import load_profile
from ivr.routing.tables import RoutingTables
from ivr.routing.view import build_view
from ivr.store import CaseStore, TicketRecord, default_sqlite_url
from tests.harness import free_port
from tests.migrated import copy_migrated_sqlite

REPO = Path(__file__).resolve().parents[2]
TPE = ZoneInfo("Asia/Taipei")
HOTLINE_SUPERVISOR = "duty@hotline.example"
PWD = ("supervisor@pwd.taipei.example", "liaison@pwd.taipei.example")
EPD = ("supervisor@epd.taipei.example", "liaison@epd.taipei.example")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TPE)


# Friday 6 March 2026, a working day in the Taipei calendar; the digest is due Monday.
CREATED = local(2026, 3, 6, 9, 30)
DUE = local(2026, 3, 6, 14, 30)


@dataclass
class Received:
    to: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """Keeps every message the server accepts; with `refuse`, answers 451 to DATA."""

    received: list[Received] = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        if self.refuse:
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(list(envelope.rcpt_tos), message))
        return "250 OK"


class Mailbox:
    """A real SMTP server on a fixed loopback port that a test can stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = Handler()
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def take(self) -> list[Received]:
        """The messages received since the last take."""
        taken = list(self.handler.received)
        self.handler.received.clear()
        return taken


def body(received: Received) -> str:
    text = received.message.get_content()
    assert isinstance(text, str)
    return text


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A running SMTP server on a free port."""
    box = Mailbox(free_port())
    box.start()
    yield box
    box.stop()


@pytest.fixture
async def case_store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    """A migrated SQLite case store of the test's own."""
    copy_migrated_sqlite(tmp_path / "cases.db")
    store = await CaseStore.open(default_sqlite_url(tmp_path / "cases.db"))
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture(scope="module")
def taipei() -> RoutingTables:
    """The shipped Taipei profile: its directory and its 2026 office calendar."""
    return load_profile(REPO / "routing" / "taipei")


def scheduler(
    store: CaseStore,
    mailbox: Mailbox,
    tables: RoutingTables,
    state_dir: Path | None = None,
) -> OverdueScheduler:
    office: Calendar = build_view(tables).office
    return OverdueScheduler(
        store,
        SmtpMailer("127.0.0.1", mailbox.port, "hotline1999@hotline.example", timeout_s=5),
        lambda: DUE,
        lambda: tables.directory,
        HOTLINE_SUPERVISOR,
        lambda: office,
        state_dir=state_dir,
    )


async def new_ticket(store: CaseStore, **overrides: Any) -> TicketRecord:
    values: dict[str, Any] = {
        "call_id": None,
        "transfer_id": None,
        "caller_number": "0912345678",
        "agency_id": "pwd",
        "unit_id": "new-construction",
        "reason": "busy",
        "created_at": CREATED,
        "due_at": DUE,
    }
    values.update(overrides)
    return await store.create_ticket(**values)


async def notified_at(store: CaseStore, ticket: TicketRecord) -> datetime | None:
    found = await store.get_ticket(ticket.id)
    assert found is not None
    return found.notified_overdue_at


async def test_overdue_mail_goes_once_at_due_to_supervisor_and_liaison(
    case_store: CaseStore, mailbox: Mailbox, taipei: RoutingTables
) -> None:
    """Nothing before the deadline; at it, one masked mail to supervisor and liaison; no repeat."""
    ticket = await new_ticket(case_store)
    sched = scheduler(case_store, mailbox, taipei)

    early = await sched.run_once(DUE - timedelta(minutes=1))
    assert early.flagged == ()
    assert mailbox.take() == []

    at_due = await sched.run_once(DUE)
    assert at_due.flagged == at_due.notified == (ticket.number,)
    [mail] = mailbox.take()
    assert mail.to == list(PWD)
    assert mail.message["To"] == ", ".join(PWD)
    assert mail.message["Subject"] == (
        f"[1999] 逾期未回電 Overdue callback: 案件 {ticket.number} (臺北市政府工務局 新建工程處)"
    )
    text = body(mail)
    assert "來電號碼 (Caller): 09○○○○○678" in text
    assert "0912345678" not in text
    assert "回電期限 (Due, Asia/Taipei): 2026-03-06 14:30" in text
    assert await notified_at(case_store, ticket) == DUE

    again = await sched.run_once(DUE + timedelta(seconds=30))
    assert again.notified == ()
    assert mailbox.take() == []


@pytest.mark.parametrize("failure", ["server_down", "451_on_data"])
async def test_refused_mail_is_not_marked_and_is_retried(
    case_store: CaseStore, mailbox: Mailbox, taipei: RoutingTables, failure: str
) -> None:
    """A send the server does not accept leaves the ticket unmarked until a retry succeeds."""
    ticket = await new_ticket(case_store)
    sched = scheduler(case_store, mailbox, taipei)
    if failure == "server_down":
        mailbox.stop()
    else:
        mailbox.handler.refuse = True

    for seconds in (0, 30):
        refused = await sched.run_once(DUE + timedelta(seconds=seconds))
        assert refused.failed == (ticket.number,)
        assert refused.notified == ()
        assert await notified_at(case_store, ticket) is None

    if failure == "server_down":
        mailbox.start()
    else:
        mailbox.handler.refuse = False
    retried = await sched.run_once(DUE + timedelta(seconds=60))
    assert retried.notified == (ticket.number,)
    [mail] = mailbox.take()
    assert mail.to == list(PWD)
    assert await notified_at(case_store, ticket) == DUE + timedelta(seconds=60)

    await sched.run_once(DUE + timedelta(seconds=90))
    assert mailbox.take() == []


async def test_mailer_turns_a_refusal_into_mail_not_sent(mailbox: Mailbox) -> None:
    """A closed port and a 451 both come out of the mailer as MailNotSent."""
    mailer = SmtpMailer("127.0.0.1", mailbox.port, "hotline1999@hotline.example", timeout_s=5)
    mail = Mail(to=("a@example.org",), subject="s", body="b")
    mailbox.handler.refuse = True
    with pytest.raises(MailNotSent, match="451"):
        await mailer.send(mail)
    mailbox.stop()
    with pytest.raises(MailNotSent, match=str(mailbox.port)):
        await mailer.send(mail)


async def test_two_schedulers_mail_a_ticket_once(
    case_store: CaseStore, mailbox: Mailbox, taipei: RoutingTables, tmp_path: Path
) -> None:
    """Two engines on one store: the one that flags the ticket mails it, the other never."""
    ticket = await new_ticket(case_store)
    other_store = await CaseStore.open(default_sqlite_url(tmp_path / "cases.db"))
    try:
        first = scheduler(case_store, mailbox, taipei)
        second = scheduler(other_store, mailbox, taipei)
        assert (await first.run_once(DUE)).notified == (ticket.number,)
        assert (await second.run_once(DUE)).notified == ()
        assert (await second.run_once(DUE + timedelta(minutes=10))).notified == ()
    finally:
        await other_store.close()
    assert len(mailbox.take()) == 1


async def test_a_ticket_flagged_but_never_mailed_is_mailed_after_the_grace(
    case_store: CaseStore, mailbox: Mailbox, taipei: RoutingTables
) -> None:
    """A ticket flagged by a scheduler that died before mailing is taken over after 5 min."""
    ticket = await new_ticket(case_store)
    # The other scheduler flags it, then crashes before its mail.
    assert [t.id for t in await case_store.flag_overdue(DUE)] == [ticket.id]
    sched = scheduler(case_store, mailbox, taipei)

    assert (await sched.run_once(DUE + timedelta(minutes=1))).notified == ()
    assert mailbox.take() == []
    assert (await sched.run_once(DUE + timedelta(minutes=5))).notified == (ticket.number,)
    assert len(mailbox.take()) == 1
    assert (await sched.run_once(DUE + timedelta(minutes=6))).notified == ()
    assert mailbox.take() == []


async def test_daily_digest_on_working_days_at_eight_once(
    case_store: CaseStore, mailbox: Mailbox, taipei: RoutingTables, tmp_path: Path
) -> None:
    """One digest per agency at 08:00 of a working day; none at the weekend, none twice."""
    state_dir = tmp_path / "state"
    late = await new_ticket(case_store, due_at=DUE + timedelta(hours=1))
    early = await new_ticket(case_store, due_at=DUE - timedelta(hours=1))
    epd = await new_ticket(case_store, agency_id="epd", unit_id="epd-cleaning")
    ours = await new_ticket(case_store, agency_id=HOTLINE_AGENCY, unit_id=None, reason="off_hours")
    closed = await new_ticket(case_store, caller_number="0922000111")
    await case_store.set_ticket_status(closed.id, "closed", at=DUE, by="test", outcome="done")
    # Due on Monday at 10:00: overdue only from Tuesday's digest on.
    monday = await new_ticket(case_store, due_at=local(2026, 3, 9, 10))

    sched = scheduler(case_store, mailbox, taipei, state_dir)
    friday = await sched.run_once(local(2026, 3, 6, 16))
    assert sorted(friday.notified) == sorted([late.number, early.number, epd.number, ours.number])
    assert friday.digests_sent == 0
    mailbox.take()

    for weekend in (local(2026, 3, 7, 8), local(2026, 3, 8, 8), local(2026, 3, 9, 7, 59)):
        assert (await sched.run_once(weekend)).digests_sent == 0
    assert mailbox.take() == []

    eight = await sched.run_once(local(2026, 3, 9, 8))
    assert eight.digests_sent == 3
    digests = {tuple(m.to): m for m in mailbox.take()}
    assert set(digests) == {EPD, (HOTLINE_SUPERVISOR,), PWD}
    pwd = digests[PWD]
    assert pwd.message["Subject"] == (
        "[1999] 逾期回電彙整 Overdue callbacks digest: 2026-03-09 臺北市政府工務局 (2 件 tickets)"
    )
    text = body(pwd)
    assert text.index(early.number) < text.index(late.number)
    assert closed.number not in text
    assert monday.number not in text
    assert "09○○○○○678" in text
    assert "0912345678" not in text
    assert epd.number in body(digests[EPD])
    assert ours.number in body(digests[(HOTLINE_SUPERVISOR,)])
    assert (state_dir / DIGEST_MARKER).exists()

    assert (await sched.run_once(local(2026, 3, 9, 8, 0, 30))).digests_sent == 0
    # A restarted engine reads the marker and does not send the morning's digest again.
    restarted = scheduler(case_store, mailbox, taipei, state_dir)
    assert (await restarted.run_once(local(2026, 3, 9, 9))).digests_sent == 0
    assert mailbox.take() == []

    tuesday = await restarted.run_once(local(2026, 3, 10, 8))
    assert tuesday.notified == (monday.number,)
    assert tuesday.digests_sent == 3
    mails = mailbox.take()
    digest_pwd = [m for m in mails if tuple(m.to) == PWD and "digest" in m.message["Subject"]]
    assert len(digest_pwd) == 1
    assert "(3 件 tickets)" in digest_pwd[0].message["Subject"]


async def test_no_digest_on_a_declared_typhoon_day(
    case_store: CaseStore, mailbox: Mailbox, taipei: RoutingTables, tmp_path: Path
) -> None:
    """Monday closed by `ivr calendar close`: the digest waits for Tuesday's 08:00."""
    await new_ticket(case_store)
    sched = scheduler(case_store, mailbox, taipei, tmp_path / "state")
    assert (await sched.run_once(local(2026, 3, 6, 16))).digests_sent == 0
    mailbox.take()
    await case_store.set_closure(
        date(2026, 3, 9), closed=True, at=local(2026, 3, 8, 20), by="chief", reason="typhoon"
    )
    assert (await sched.run_once(local(2026, 3, 9, 8))).digests_sent == 0
    assert (await sched.run_once(local(2026, 3, 9, 23, 59))).digests_sent == 0
    assert (await sched.run_once(local(2026, 3, 10, 8))).digests_sent == 1
    assert len(mailbox.take()) == 1


async def test_refused_digest_mail_is_retried_not_resent_to_others(
    case_store: CaseStore, mailbox: Mailbox, taipei: RoutingTables
) -> None:
    """A digest the server refused goes out on a later round; no agency gets two."""
    await new_ticket(case_store)
    await new_ticket(case_store, agency_id="epd", unit_id="epd-cleaning")
    sched = scheduler(case_store, mailbox, taipei)
    await sched.run_once(local(2026, 3, 6, 16))
    mailbox.take()

    mailbox.handler.refuse = True
    down = await sched.run_once(local(2026, 3, 9, 8))
    assert (down.digests_sent, down.digests_failed) == (0, 2)
    mailbox.handler.refuse = False
    back = await sched.run_once(local(2026, 3, 9, 8, 0, 30))
    assert (back.digests_sent, back.digests_failed) == (2, 0)
    assert sorted(tuple(m.to) for m in mailbox.take()) == sorted([EPD, PWD])
    assert (await sched.run_once(local(2026, 3, 9, 8, 1))).digests_sent == 0
    assert mailbox.take() == []


async def test_background_task_runs_rounds_until_stopped(
    case_store: CaseStore, mailbox: Mailbox, taipei: RoutingTables
) -> None:
    """start() runs rounds on the scheduler's clock; stop() ends them cleanly."""
    ticket = await new_ticket(case_store)
    sched = scheduler(case_store, mailbox, taipei)
    sched.start()
    try:
        for _ in range(500):
            if await notified_at(case_store, ticket) is not None:
                break
            await asyncio.sleep(0.01)
    finally:
        await sched.stop()
    assert await notified_at(case_store, ticket) == DUE
    assert len(mailbox.take()) == 1
