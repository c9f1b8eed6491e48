"""The outbox on a real Asterisk: a phone message is an outbound call over the outbound
trunk that reads the text, answered (or refused) by a SIPp UAS standing for the
citizen's phone; and the engine runs the sender itself."""

from __future__ import annotations

import asyncio
import stat
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivr import app
from ivr.adapters.ami import AmiClient
from ivr.config import StackConfig
from ivr.domain.outbox_policy import RetryPolicy
from ivr.domain.vocabulary import NotifyChannel, OutboxOutcome, OutboxState
from ivr.notify import enqueue
from ivr.notify.config import PhoneSettings
from ivr.notify.phone import PhoneCaller
from ivr.notify.sender import Sender
from ivr.store import CaseStore
from ivr.store import outbox as box
from tests.harness import free_port
from tests.integration.conftest import ProfileCopy
from tests.integration.test_overdue_mail import Mailbox
from tests.ports import sipp_media_port
from tests.sipp.scenarios import start_uas, uas_scenario

pytestmark = pytest.mark.asterisk

CITIZEN = "0912345678"


def _messages(port: int, workdir: Path) -> str:
    log = workdir / f"uas-{port}-messages.log"
    return log.read_text(errors="replace") if log.exists() else ""


async def _send_one(
    stack: StackConfig, store: CaseStore, ami: AmiClient, key: str
) -> box.MessageRecord:
    made = await enqueue(
        store,
        key=key,
        channel=NotifyChannel.PHONE,
        recipient=CITIZEN,
        body="臺北市政府通知您 案件 2511000123 已經處理完成",
        purpose="completion",
        ref="case:2511000123",
        at=datetime.now(UTC),
    )
    caller = PhoneCaller(ami, PhoneSettings(ring_s=10), stack.sounds_dir, lambda: "t-pstn")
    sender = Sender(
        store,
        {NotifyChannel.PHONE: caller},
        lambda: datetime.now(UTC),
        RetryPolicy(max_attempts=3),
        name="phone-test",
    )
    await sender.run_once()
    found = await box.get(store, str(made.id))
    assert found is not None
    return found


async def test_a_phone_message_is_read_to_the_citizen_who_answers(
    stack: StackConfig,
    store: CaseStore,
    ami: AmiClient,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    port = taipei_profile.trunk_ports["t-pstn"]
    phone = start_uas(
        uas_scenario(200), port=port, media_port=sipp_media_port(), calls=1, workdir=tmp_path
    )
    try:
        message = await _send_one(stack, store, ami, "case:2511000123:completion:phone")
        # The citizen's phone sees the whole call: Asterisk hangs up after reading.
        code = await asyncio.to_thread(phone.wait, 120)
    finally:
        if phone.poll() is None:
            phone.kill()
            phone.wait(timeout=10)
    assert message.state is OutboxState.DELIVERED, message.history
    [attempt] = message.history
    assert attempt.outcome == OutboxOutcome.DELIVERED
    assert (attempt.detail or "").startswith("answered on t-pstn")
    assert code == 0, _messages(port, tmp_path)[-3000:]
    log = _messages(port, tmp_path)
    assert f"INVITE sip:{CITIZEN}@" in log
    assert "BYE sip:" in log
    # The synthesised text stays owner-only, in the state directory.
    [audio] = (stack.sounds_dir / "outbox").glob("*.wav")
    assert stat.S_IMODE(audio.stat().st_mode) == 0o600
    assert audio.stat().st_size > 8000


async def test_a_busy_line_is_tried_again_later(
    stack: StackConfig,
    store: CaseStore,
    ami: AmiClient,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    port = taipei_profile.trunk_ports["t-pstn"]
    phone = start_uas(
        uas_scenario(486), port=port, media_port=sipp_media_port(), calls=1, workdir=tmp_path
    )
    try:
        message = await _send_one(stack, store, ami, "case:2511000124:completion:phone")
    finally:
        phone.kill()
        phone.wait(timeout=10)
    assert message.state is OutboxState.PENDING
    [attempt] = message.history
    assert attempt.outcome == OutboxOutcome.FAILED
    # A PJSIP 486 comes back from Originate as reason 0, like any refusal.
    assert attempt.detail == "call not answered: refused (reason 0)", attempt.detail
    assert f"INVITE sip:{CITIZEN}@" in _messages(port, tmp_path)


async def test_the_engine_sends_what_is_enqueued(stack: StackConfig, store: CaseStore) -> None:
    mailbox = Mailbox(free_port())
    mailbox.start()
    engine = await app.start(replace(stack, smtp_port=mailbox.port))
    try:
        made = await enqueue(
            store,
            key="case:2511000125:reply:email",
            channel="email",
            recipient="officer@agency.example",
            subject="overdue dispatch orders",
            body="2 orders are overdue",
            purpose="digest",
            at=datetime.now(UTC),
        )
        for _ in range(600):
            found = await box.get(store, str(made.id))
            assert found is not None
            if found.state is OutboxState.DELIVERED:
                break
            await asyncio.sleep(0.1)
    finally:
        await engine.stop()
        mailbox.stop()
    assert found.state is OutboxState.DELIVERED, found.history
    # The engine's own daily rounds may mail supervisors too; this message went once.
    assert [r.to for r in mailbox.received].count(["officer@agency.example"]) == 1
