"""A case's notices (e-mail, SMS, phone) go to the outbox with the move, once, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ivr import cases_service as svc
from ivr.domain.cases.workflow import CaseFacts, decide
from ivr.domain.outbox_policy import RetryPolicy
from ivr.domain.tickets import Mail
from ivr.domain.vocabulary import (
    CaseAction,
    CaseGrade,
    CaseKind,
    CaseState,
    NotifyChannel,
    OutboxState,
)
from ivr.notify.sender import Sender
from ivr.notify.transport import TemporaryFailure
from ivr.routing.view import build_view
from ivr.store import CaseStore
from ivr.store.cases import CaseBook
from ivr.store.outbox import MessageRecord, get, list_messages
from tests.store.test_cases_store import T0, TAIPEI_DIR, petition, pothole


@pytest.fixture
def ctx(store: CaseStore, tables) -> svc.CaseContext:  # type: ignore[no-untyped-def]
    office = build_view(tables).office
    return svc.context_for(CaseBook.of(store, "taipei"), tables, office, TAIPEI_DIR)


@pytest.fixture(scope="module")
def tables():  # type: ignore[no-untyped-def]
    from ivr.routing.loader import load_profile

    return load_profile(TAIPEI_DIR)


async def test_completion_of_an_order_queues_one_sms_to_the_mobile(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    """T6(2): the result entered, the citizen's mobile gets an SMS through the outbox."""
    order = await svc.open_case(ctx, pothole(caller="0922000111"), at=T0, who="a")
    number = order.case.number
    done = await svc.act(
        ctx, number, CaseAction.CLOSED, at=T0 + timedelta(hours=3), who="crew",
        text="已填補坑洞", key="close-1",
    )  # fmt: skip
    assert done.sent == 1
    messages = await list_messages(store, ref=f"case:{number}")
    assert [(m.channel, m.recipient, m.purpose) for m in messages] == [
        (NotifyChannel.SMS, "0922000111", "case")
    ]
    assert "已填補坑洞" in messages[0].body
    assert messages[0].key == done.notices[0].key
    # The same action again with its key: nothing new, neither move nor message.
    with pytest.raises(svc.CaseError):
        await svc.act(ctx, number, CaseAction.CLOSED, at=T0 + timedelta(hours=3), who="crew",
                      text="已填補坑洞", key="close-1")  # fmt: skip
    assert len(await list_messages(store, ref=f"case:{number}")) == 1


class NoSmtp:
    """The stack's mailer, which a case's notice must no longer use: it keeps any mail."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []

    async def send(self, mail: Mail) -> None:
        self.sent.append(mail)


class MailServer:
    """The outbox's e-mail channel: down for the first try, then accepting."""

    def __init__(self) -> None:
        self.tries: list[MessageRecord] = []

    async def send(self, message: MessageRecord) -> str:
        self.tries.append(message)
        if len(self.tries) == 1:
            raise TemporaryFailure("mail server unreachable")
        return "accepted"


async def test_an_email_notice_is_queued_with_the_move_once_per_key(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    """The reply's e-mail goes to the outbox in the move's transaction, not to SMTP;
    the action retried with its key after a crash queues nothing twice."""
    smtp = NoSmtp()
    ctx.mailer = smtp
    made = await svc.open_case(ctx, petition(caller_email="wang@example.tw"), at=T0, who="a")
    before = made.case
    at = T0 + timedelta(days=1)
    done = await svc.act(
        ctx, before.number, CaseAction.REPLIED, at=at, who="officer",
        text="已修復", grade=CaseGrade.A, key="reply-1",
    )  # fmt: skip
    assert (done.applied, done.sent) == (True, 1)
    assert smtp.sent == []  # nothing went out directly
    (message,) = await list_messages(store, ref=f"case:{before.number}")
    assert (message.channel, message.recipient, message.state) == (
        NotifyChannel.EMAIL, "wang@example.tw", OutboxState.PENDING,
    )  # fmt: skip
    assert message.subject == f"1999 case {before.number}: {done.case.state}"
    assert "已修復" in message.body
    assert "1 (very dissatisfied) to 5" in message.body
    assert message.key == done.notices[0].key
    assert message.key.endswith(":email")
    assert message.created_at == at
    # A retry after a crash: the case as read before the move, the same key and notice.
    move = decide(svc.case_facts(ctx, before), CaseAction.REPLIED, at, ctx.office,
                  grade=CaseGrade.A)  # fmt: skip
    notice = svc.citizen_notice(before, message.subject, "again", action=CaseAction.REPLIED,
                                at=at, key="reply-1")  # fmt: skip
    assert notice is not None
    assert notice.key == message.key
    from ivr.cases_notify import outbox_rows

    _, applied = await ctx.book.apply(
        before, CaseAction.REPLIED, move, at=at, who="officer", text="已修復",
        key="reply-1", messages=outbox_rows(notice, at),
    )  # fmt: skip
    assert not applied
    assert [m.id for m in await list_messages(store, ref=f"case:{before.number}")] == [message.id]
    assert smtp.sent == []


async def test_a_queued_email_notice_survives_a_failed_send(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    """The outbox's sender delivers the notice; a mail server that is down delays it."""
    made = await svc.open_case(ctx, petition(caller_email="wang@example.tw"), at=T0, who="a")
    await svc.act(ctx, made.case.number, CaseAction.REPLIED, at=T0, who="officer",
                  text="已修復", grade=CaseGrade.A)  # fmt: skip
    (message,) = await list_messages(store, ref=f"case:{made.case.number}")
    server = MailServer()
    now = [T0]
    policy = RetryPolicy(
        first_delay=timedelta(seconds=30), factor=2, max_delay=timedelta(hours=1), max_attempts=3
    )
    sender = Sender(store, {NotifyChannel.EMAIL: server}, lambda: now[0], policy, name="s1")
    assert await sender.run_once() == 1
    waiting = await get(store, str(message.id))
    assert waiting is not None
    assert waiting.state is OutboxState.PENDING
    now[0] = T0 + timedelta(seconds=30)
    assert await sender.run_once() == 1
    delivered = await get(store, str(message.id))
    assert delivered is not None
    assert delivered.state is OutboxState.DELIVERED
    assert [m.key for m in server.tries] == [message.key] * 2
    assert server.tries[1].subject.startswith(f"1999 case {made.case.number}")


async def test_a_deidentified_email_address_queues_nothing(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    """An address masked to "○" is nobody to write to: the move stands, no message."""
    made = await svc.open_case(ctx, petition(caller_email="○"), at=T0, who="a")
    done = await svc.act(ctx, made.case.number, CaseAction.REPLIED, at=T0, who="officer",
                         text="已修復", grade=CaseGrade.A)  # fmt: skip
    assert done.applied
    assert done.sent == 0
    assert await list_messages(store, ref=f"case:{made.case.number}") == []


async def test_a_landline_citizen_is_called_and_a_survey_asks_for_a_score(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    """A petition replied with grade A closes and sends the survey; a landline is phoned."""
    opened = await svc.open_case(ctx, petition(caller_number="0227208889"), at=T0, who="a")
    number = opened.case.number
    await svc.act(
        ctx, number, CaseAction.REPLIED, at=T0 + timedelta(days=1), who="officer",
        text="已修復", grade=CaseGrade.A,
    )  # fmt: skip
    (message,) = await list_messages(store, ref=f"case:{number}")
    assert message.channel is NotifyChannel.PHONE
    assert message.recipient == "0227208889"
    assert "1 (very dissatisfied) to 5" in message.body


async def test_a_move_and_its_notice_are_written_together(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    """A keyed action that fails on a stale read writes no message; the retry writes one."""
    order = await svc.open_case(ctx, pothole(caller="0922000111"), at=T0, who="a")
    stale = order.case
    await svc.act(ctx, stale.number, CaseAction.ASSIGNED, at=T0, who="lead", officer="陳")
    facts = CaseFacts(CaseKind.DISPATCH, CaseState.OPEN, T0, ctx.items[1],
                      frozenset(stale.running))  # type: ignore[arg-type]  # fmt: skip
    move = decide(facts, CaseAction.CLOSED, T0, ctx.office)
    notice = svc.citizen_notice(stale, "s", "b", action=CaseAction.CLOSED, at=T0, key="k")
    from ivr.cases_notify import outbox_rows
    from ivr.store.cases import CaseChanged

    with pytest.raises(CaseChanged):
        await ctx.book.apply(
            stale, CaseAction.CLOSED, move, at=T0, who="crew", text="done",
            changes={"reply": "done"}, key="k", messages=outbox_rows(notice, T0),
        )  # fmt: skip
    assert await list_messages(store, ref=f"case:{stale.number}") == []
    done = await svc.act(ctx, stale.number, CaseAction.CLOSED, at=T0, who="crew",
                         text="done", key="k")  # fmt: skip
    assert done.applied
    assert len(await list_messages(store, ref=f"case:{stale.number}")) == 1


async def test_a_notice_without_a_number_or_address_queues_nothing(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    order = await svc.open_case(ctx, pothole(caller=None), at=T0, who="a")  # type: ignore[arg-type]
    done = await svc.act(ctx, order.case.number, CaseAction.CLOSED, at=T0, who="crew",
                         text="done")  # fmt: skip
    assert (done.notices, done.sent) == ((), 0)
    assert await list_messages(store, ref=f"case:{order.case.number}") == []


async def test_the_reports_medians_from_sql_are_the_rules_medians(ctx: svc.CaseContext) -> None:
    """The database's medians (window functions) agree with `statistics.median`."""
    from ivr.cases_report import report_rows
    from ivr.domain.cases.report import reply_medians

    hours = [1, 5, 2, 9, 4, 7, 30]
    times = []
    for i, h in enumerate(hours):
        kind_input = pothole(address=f"臺北市某路{i}號") if i % 2 else petition(f"p{i}")
        opened = await svc.open_case(ctx, kind_input, at=T0, who="a")
        action, grade = (CaseAction.CLOSED, None) if i % 2 else (CaseAction.REPLIED, CaseGrade.A)
        await svc.act(ctx, opened.case.number, action, at=T0 + timedelta(hours=h), who="o",
                      text="ok", grade=grade)  # fmt: skip
        times.append((opened.case.kind, opened.case.agency_id, h * 3600.0))
    per, every = reply_medians(times)
    rows = await report_rows(ctx, "2026-06")
    got = {(r.service, r.agency_id): (r.replied, r.median_reply_s) for r in rows[:-1]}
    for key, (n, median) in per.items():
        assert got[key][0] == n
        assert got[key][1] == pytest.approx(median, abs=0.01)
    assert (rows[-1].replied, rows[-1].median_reply_s) == (every[0], pytest.approx(every[1]))
    empty = await report_rows(ctx, "2026-01")
    assert (empty[-1].replied, empty[-1].median_reply_s) == (0, None)
