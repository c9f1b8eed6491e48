"""A queued callback on the real Asterisk: the caller keeps their place and hangs up;
the agent is connected first, then the citizen is dialled once over the outbound trunk.

FreePBX's queue callback add-on is reported to dial citizens twice; here the
citizen's phone (a SIPp UAS on the outbound trunk) must see exactly one INVITE, and
only after the agent's phone (a SIPp agent) answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.adapters.ari import AriClient, AriNotFound
from ivr.asterisk import install, process
from ivr.asterisk.generate import queue_name
from ivr.config import StackConfig
from ivr.domain import queued_callback as qcb
from ivr.domain.vocabulary import CallbackAttemptOutcome, QueuedCallbackState
from ivr.store import CaseStore
from ivr.store.queued_callbacks import QueuedCallbackRecord, QueuedCallbacks
from tests.harness import EngineProcess, free_port
from tests.integration.calls import StartEngine, events, feature_code, register_agent
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, On, key
from tests.ports import sipp_media_port
from tests.sipp.scenarios import answer_then_hang_up_scenario, start_uas, uas_scenario

pytestmark = pytest.mark.asterisk

CITIZEN = "0912345678"
# a02 speaks Mandarin: a member of the Mandarin `general` queue.
AGENT = "7002"
TO_GENERAL = [key("taipei-language-menu", "9"), key("taipei-main-menu", "1")]
# SIPp's message log: each message opens with a line of dashes and its time.
_STAMP = re.compile(r"^-+ (\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\.\d+)", re.MULTILINE)


@dataclass
class Phone:
    uas: subprocess.Popen[str]
    log: Path

    def messages(self) -> list[tuple[datetime, str]]:
        """(time, message) of every SIP message the phone sent or received."""
        if not self.log.exists():
            return []
        text = self.log.read_text(encoding="utf-8", errors="replace")
        marks = list(_STAMP.finditer(text))
        found = []
        for i, m in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
            found.append((datetime.fromisoformat(m.group(1)), text[m.end() : end]))
        return found

    def invites(self) -> list[tuple[datetime, str]]:
        return [(t, m) for t, m in self.messages() if re.search(r"^INVITE sip:", m, re.M)]

    def answers(self) -> list[tuple[datetime, str]]:
        """The 200 OKs it sent to an INVITE, each once: over UDP a phone sends its 200
        OK again until the ACK comes, and a loaded Asterisk's ACK once came after the
        first resend. A resend has the same Call-ID and CSeq; another answer does not."""
        first: dict[tuple[str, str], tuple[datetime, str]] = {}
        for t, m in self.messages():
            cseq = re.search(r"^CSeq: (\d+ INVITE)", m, re.M)
            if "message sent" in m and "SIP/2.0 200 OK" in m and cseq:
                call_id = re.search(r"^(?:Call-ID|i): *(\S+)", m, re.M | re.I)
                first.setdefault((call_id[1] if call_id else "", cseq[1]), (t, m))
        return list(first.values())

    def stop(self) -> None:
        if self.uas.poll() is None:
            self.uas.kill()
            self.uas.wait()


# The agent's phone rings this long before answering. Two SIPp processes stamp their
# logs a few milliseconds apart, so "the citizen was dialled after the agent answered"
# is checked as "not before the ring was over", which a dial on ring would miss by
# the whole ring.
RING_MS = 1500


def _assert_citizen_dialled_after_the_answer(agent: Phone, citizen_invited: datetime) -> None:
    [(agent_invited, _)] = agent.invites()
    assert len(agent.answers()) == 1
    assert (citizen_invited - agent_invited).total_seconds() > RING_MS / 1000 * 0.8


def _start_phone(scenario: str, port: int, workdir: Path) -> Phone:
    workdir.mkdir(parents=True, exist_ok=True)
    uas = start_uas(scenario, port=port, media_port=sipp_media_port(), calls=1, workdir=workdir)
    return Phone(uas, workdir / f"uas-{port}-messages.log")


async def _wait_for(
    what: str, probe: Callable[[], Awaitable[QueuedCallbackRecord | None]], timeout_s: float
) -> QueuedCallbackRecord:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        found = await probe()
        if found is not None:
            return found
        assert loop.time() < deadline, f"never: {what}"
        await asyncio.sleep(0.2)


async def _close_leftovers(callbacks: QueuedCallbacks) -> None:
    """A failed test leaves no open callback for a later test's engine to dial."""
    for cb in await callbacks.open_callbacks():
        await callbacks.settle(cb.id, QueuedCallbackState.TICKETED, datetime.now(UTC))


def _general_queue_with(taipei_profile: ProfileCopy, tmp_path: Path, settings: str) -> Path:
    """A copy of the Taipei profile whose Mandarin `general` queue also has `settings`."""
    profile = tmp_path / "taipei"
    shutil.copytree(taipei_profile.directory, profile)
    agents = profile / "agents.yaml"
    agents.write_text(
        agents.read_text(encoding="utf-8").replace(
            "skills: [zh-TW], strategy: rrmemory, announce_position: true, max_wait_s: 600}",
            "skills: [zh-TW], strategy: rrmemory, announce_position: true, max_wait_s: 600, "
            f"{settings}}}",
        ),
        encoding="utf-8",
    )
    return profile


@dataclass
class Phones:
    agent: Phone
    citizen: Phone
    callbacks: QueuedCallbacks


@contextlib.asynccontextmanager
async def _phones(
    stack: StackConfig,
    store: CaseStore,
    taipei_profile: ProfileCopy,
    workdir: Path,
    citizen_scenario: str,
    *,
    paused: bool,
) -> AsyncIterator[Phones]:
    """a02's phone (ringing RING_MS before it answers) registered and signed in, paused
    if `paused`; the citizen's phone on the outbound trunk playing `citizen_scenario`.
    On the way out: no callback left open, a02 signed out, both phones stopped."""
    agent_port = free_port()
    await register_agent(stack, AGENT, agent_port)
    agent = _start_phone(uas_scenario(200, ring_ms=RING_MS), agent_port, workdir / "agent")
    citizen = _start_phone(
        citizen_scenario, taipei_profile.trunk_ports["t-pstn"], workdir / "citizen"
    )
    callbacks = QueuedCallbacks.of(store)
    await feature_code(stack, AGENT, "*45")
    if paused:
        await feature_code(stack, AGENT, "*47")
    try:
        yield Phones(agent, citizen, callbacks)
    finally:
        await _close_leftovers(callbacks)
        await feature_code(stack, AGENT, "*46")
        agent.stop()
        citizen.stop()


# The citizen answers, talks a moment and hangs up: the agent's phone gets the BYE.
CITIZEN_ANSWERS = answer_then_hang_up_scenario(CITIZEN, talk_ms=1500)


@pytest.fixture
async def setup(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> AsyncIterator[Phones]:
    """Taipei, the Mandarin queue asking after 20 s; a02 signed in but paused (so a
    caller waits, and is asked); the citizen's phone on the outbound trunk."""
    await start_engine(profile=_general_queue_with(taipei_profile, tmp_path, "offer_after_s: 20"))
    async with _phones(
        stack, store, taipei_profile, tmp_path, CITIZEN_ANSWERS, paused=True
    ) as phones:
        yield phones


async def _completed(callbacks: QueuedCallbacks, callback_id: int) -> QueuedCallbackRecord:
    async def done() -> QueuedCallbackRecord | None:
        found = await callbacks.get(callback_id)
        return found if found is not None and found.state == QueuedCallbackState.COMPLETED else None

    return await _wait_for("the callback completed", done, timeout_s=120)


async def test_a_queued_callback_rings_the_agent_first_then_the_citizen_once(
    stack: StackConfig, store: CaseStore, setup: Phones
) -> None:
    async with Driver(stack, store) as driver:
        uid = await driver.place(
            [
                *TO_GENERAL,
                key("queue-long-wait", "2"),
                key("callback-number-confirm", "1"),
            ]
        )
        record = await driver.ended(uid, timeout_s=120)
    kept = events(record, "queue_callback_kept")
    assert kept, [e.kind for e in record.events]
    assert kept[0]["queue"] == "general"
    assert events(record, "ticket") == []
    callback_id = int(str(kept[0]["callback"]))
    held = await setup.callbacks.get(callback_id)
    assert held is not None
    assert (held.number, held.language, held.queue) == (CITIZEN, "zh-TW", "general")
    # Nobody was rung while the only agent was paused.
    assert setup.agent.invites() == []
    assert setup.citizen.invites() == []
    await feature_code(stack, AGENT, "*48")
    await _completed(setup.callbacks, callback_id)
    [attempt] = await setup.callbacks.attempts_of(callback_id)
    assert (attempt.attempt, attempt.outcome, attempt.status) == (
        1,
        CallbackAttemptOutcome.CONNECTED,
        "ANSWER",
    )
    assert attempt.channel_id == f"qcb-{callback_id}-1"
    # One INVITE to the citizen, and only after the agent had answered.
    [(citizen_invited, invite)] = setup.citizen.invites()
    assert f"INVITE sip:{CITIZEN}@" in invite
    _assert_citizen_dialled_after_the_answer(setup.agent, citizen_invited)


async def _alive(ari: AriClient, channel_id: str) -> bool:
    try:
        await ari.get_channel(channel_id)
    except AriNotFound:
        return False
    return True


@dataclass
class Restartable(Phones):
    engine: EngineProcess
    ari: AriClient


@pytest.fixture
async def restartable(
    stack: StackConfig,
    store: CaseStore,
    engine: EngineProcess,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> AsyncIterator[Restartable]:
    """`ivr serve` as a process the test can SIGKILL; a02 signed in and paused."""
    async with _phones(
        stack, store, taipei_profile, tmp_path, CITIZEN_ANSWERS, paused=True
    ) as phones:
        ari = AriClient(stack.ari_base_url, stack.ari_user, stack.ari_password, stack.ari_app)
        try:
            yield Restartable(phones.agent, phones.citizen, phones.callbacks, engine, ari)
        finally:
            await ari.stop()


async def _request(callbacks: QueuedCallbacks, uniqueid: str) -> QueuedCallbackRecord:
    now = datetime.now(UTC)
    return await callbacks.request(
        uniqueid=uniqueid,
        call_id=None,
        queue="general",
        language="zh-TW",
        number=CITIZEN,
        at=now,
        waiting_since=now - timedelta(seconds=200),
    )


async def _connected_once_when_unpaused(
    stack: StackConfig, r: Restartable, callback_id: int, channel: str
) -> None:
    """a02 unpaused: the callback completes in one attempt, on `channel`, and the
    citizen's phone got one INVITE."""
    await feature_code(stack, AGENT, "*48")
    await _completed(r.callbacks, callback_id)
    [attempt] = await r.callbacks.attempts_of(callback_id)
    assert (attempt.channel_id, attempt.outcome) == (channel, CallbackAttemptOutcome.CONNECTED)
    assert len(r.citizen.invites()) == 1


async def test_a_killed_engine_follows_the_running_attempt_and_dials_nobody_again(
    stack: StackConfig, restartable: Restartable
) -> None:
    """SIGKILL while the virtual entry waits in the queue; the next engine finds the
    attempt alive in Asterisk, originates nothing, and the citizen is called once."""
    r = restartable
    held = await _request(r.callbacks, f"restart-alive-{datetime.now(UTC).timestamp()}")
    channel = qcb.channel_id(held.id, 1)

    async def waiting_in_queue() -> QueuedCallbackRecord | None:
        attempts = await r.callbacks.attempts_of(held.id)
        if attempts and await _alive(r.ari, channel):
            return await r.callbacks.get(held.id)
        return None

    await _wait_for("the attempt recorded and alive in Asterisk", waiting_in_queue, 60)
    r.engine.kill()
    r.engine.start()
    await _connected_once_when_unpaused(stack, r, held.id, channel)
    _assert_citizen_dialled_after_the_answer(r.agent, r.citizen.invites()[0][0])


async def test_an_attempt_recorded_but_never_originated_is_originated_once_on_start(
    stack: StackConfig, store: CaseStore, restartable: Restartable
) -> None:
    """The engine died between recording an attempt and originating it: Asterisk never
    heard of it (no channel, no AstDB mark), so the next engine originates that same
    attempt, with the same channel id, and nothing more."""
    r = restartable
    r.engine.kill()
    held = await _request(r.callbacks, f"restart-unsent-{datetime.now(UTC).timestamp()}")
    channel = qcb.channel_id(held.id, 1)
    assert await r.callbacks.begin_attempt(held.id, 1, channel, datetime.now(UTC))
    # Recorded twice: refused, so a second engine could not make it a second attempt.
    assert not await r.callbacks.begin_attempt(held.id, 1, channel, datetime.now(UTC))
    r.engine.start()
    await _connected_once_when_unpaused(stack, r, held.id, channel)


async def test_a_citizen_who_stays_busy_gets_a_ticket_in_their_language(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """`callback_attempts: 1`: the citizen's phone answers 486 once; the callback is
    not dialled again but becomes a callback ticket in the caller's language."""
    await start_engine(
        profile=_general_queue_with(taipei_profile, tmp_path, "callback_attempts: 1")
    )
    async with _phones(
        stack, store, taipei_profile, tmp_path, uas_scenario(486), paused=False
    ) as phones:
        callbacks, citizen = phones.callbacks, phones.citizen
        held = await _request(callbacks, f"busy-{datetime.now(UTC).timestamp()}")

        async def ticketed() -> QueuedCallbackRecord | None:
            found = await callbacks.get(held.id)
            return found if found is not None and found.state == "ticketed" else None

        done = await _wait_for("the callback ticketed", ticketed, timeout_s=120)
        [attempt] = await callbacks.attempts_of(held.id)
        assert (attempt.outcome, attempt.status) == (CallbackAttemptOutcome.BUSY, "BUSY")
        assert done.ticket_number is not None
        ticket = await store.get_ticket_by_number(done.ticket_number)
        assert ticket is not None
        assert (ticket.reason, ticket.caller_number) == ("queue_callback", CITIZEN)
        async with store.engine.connect() as conn:
            language = (
                await conn.execute(
                    text("SELECT language FROM tickets WHERE id = :i"), {"i": ticket.id}
                )
            ).scalar_one()
        assert language == "zh-TW"
        assert len(citizen.invites()) == 1


async def test_an_attempt_that_ended_while_the_engine_was_down_is_lost_and_never_redialled(
    stack: StackConfig, store: CaseStore, restartable: Restartable
) -> None:
    """SIGKILL while the virtual entry waits in the queue, and the entry is hung up
    before the next engine starts: its end is unknown (AstDB still says `queued`), so
    the attempt is LOST and becomes a callback ticket in the caller's language; nobody
    is dialled, now or later."""
    r = restartable
    held = await _request(r.callbacks, f"restart-lost-{datetime.now(UTC).timestamp()}")
    channel = qcb.channel_id(held.id, 1)

    async def waiting_in_queue() -> QueuedCallbackRecord | None:
        attempts = await r.callbacks.attempts_of(held.id)
        if attempts and await _alive(r.ari, channel):
            return await r.callbacks.get(held.id)
        return None

    await _wait_for("the attempt recorded and alive in Asterisk", waiting_in_queue, 60)
    r.engine.kill()
    await r.ari.hangup(channel)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while await _alive(r.ari, channel) or await _alive(r.ari, qcb.queue_channel_id(held.id, 1)):
        assert loop.time() < deadline, "the attempt's channels outlived their hangup"
        await asyncio.sleep(0.2)
    r.engine.start()

    async def ticketed() -> QueuedCallbackRecord | None:
        found = await r.callbacks.get(held.id)
        return found if found is not None and found.state == QueuedCallbackState.TICKETED else None

    try:
        done = await _wait_for("the lost attempt ticketed", ticketed, timeout_s=120)
    except AssertionError:
        raise AssertionError(
            (await r.callbacks.get(held.id), await r.callbacks.attempts_of(held.id))
        ) from None
    [attempt] = await r.callbacks.attempts_of(held.id)
    assert (attempt.channel_id, attempt.outcome) == (channel, CallbackAttemptOutcome.LOST)
    assert done.ticket_number is not None
    ticket = await store.get_ticket_by_number(done.ticket_number)
    assert ticket is not None
    assert (ticket.reason, ticket.caller_number) == ("queue_callback", CITIZEN)
    # Settled: no longer among the callbacks the dialler picks up, so no second
    # attempt can follow; and nobody was rung.
    assert held.id not in [cb.id for cb in await r.callbacks.open_callbacks()]
    assert r.citizen.invites() == []
    assert r.agent.invites() == []


def _queue_order(stack: StackConfig) -> list[str]:
    """The general queue's waiting channels, head first, as Asterisk lists them."""
    shown = process.rx(install.ensure(), stack, f"queue show {queue_name('general')}")
    return [
        line.split(". ", 1)[1].split(" ", 1)[0]
        for line in shown.splitlines()
        if "(wait:" in line and ". " in line
    ]


async def _until_order(
    stack: StackConfig, seen: Callable[[list[str]], bool], what: str
) -> list[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        order = _queue_order(stack)
        if seen(order):
            return order
        assert loop.time() < deadline, f"never: {what}; the queue: {order}"
        await asyncio.sleep(0.2)


def _wait_s(stack: StackConfig, channel_part: str) -> int:
    shown = process.rx(install.ensure(), stack, f"queue show {queue_name('general')}")
    for line in shown.splitlines():
        if channel_part in line and "(wait: " in line:
            minutes, seconds = line.split("(wait: ", 1)[1].split(",", 1)[0].split(":")
            return int(minutes) * 60 + int(seconds)
    return -1


async def test_a_kept_place_joins_behind_callers_who_waited_longer_and_ahead_of_later_ones(
    stack: StackConfig, store: CaseStore, restartable: Restartable
) -> None:
    """A live caller waits in the Mandarin queue (its only agent paused). A kept place
    whose caller had waited less joins behind them; one whose caller had waited an
    hour joins ahead of them, at the head."""
    r = restartable
    async with Driver(stack, store) as driver:
        live = await driver.place(TO_GENERAL, caller="0912000009")
        await driver.command_started(live, On("EXEC Queue"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        # The live caller has waited a few seconds in Asterisk's count before the kept
        # places are asked for, so "waited less" is unambiguous.
        while _wait_s(stack, "@hotline-inbound") < 3:
            assert loop.time() < deadline, _queue_order(stack)
            await asyncio.sleep(0.2)
        stamp = datetime.now(UTC).timestamp()
        now = datetime.now(UTC)
        later = await r.callbacks.request(
            uniqueid=f"behind-{stamp}", call_id=None, queue="general", language="zh-TW",
            number=CITIZEN, at=now, waiting_since=now,
        )  # fmt: skip
        behind = f"qcb-{later.id}-1@"
        order = await _until_order(
            stack, lambda o: any(behind in c for c in o), "the later kept place queued"
        )
        earlier = await r.callbacks.request(
            uniqueid=f"ahead-{stamp}", call_id=None, queue="general", language="zh-TW",
            number=CITIZEN, at=now, waiting_since=now - timedelta(hours=1),
        )  # fmt: skip
        ahead = f"qcb-{earlier.id}-1@"
        order = await _until_order(
            stack, lambda o: any(ahead in c for c in o), "the earlier kept place queued"
        )
        try:
            assert len(order) == 3, order
            assert ahead in order[0], order
            assert "@hotline-inbound" in order[1], order
            assert behind in order[2], order
        finally:
            await driver.hang_up(live)
            for held in (later, earlier):
                with contextlib.suppress(AriNotFound):
                    await r.ari.hangup(qcb.channel_id(held.id, 1))
            await driver.ended(live)
    # Nobody was rung while the only agent was paused.
    assert r.citizen.invites() == []
