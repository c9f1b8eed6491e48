"""SMS over an HTTP gateway, against a local gateway the test starts: the fields, the
credentials, and every way a gateway fails (timeouts, 5xx, refusals, 4xx)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ivr.domain.outbox_policy import RetryPolicy
from ivr.domain.vocabulary import NotifyChannel, OutboxOutcome, OutboxState
from ivr.notify import config as notify_config
from ivr.notify import enqueue
from ivr.notify.config import NotifyConfigError, SmsSecrets, SmsSettings
from ivr.notify.sender import Sender
from ivr.notify.sms import SmsGateway
from ivr.notify.transport import PermanentFailure, TemporaryFailure
from ivr.store import CaseStore
from ivr.store import outbox as box
from ivr.store.outbox import MessageRecord
from tests.harness import free_port
from tests.notify.gateway import Gateway, Reply

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gw = Gateway(client_id_field="clientid")
    gw.start()
    yield gw
    gw.stop()


# A test that waits out the sender's timeout uses TIMEOUT_S against a gateway that holds
# its answer for LATE_S: far apart, so that a worker starved of CPU on a loaded machine
# still connects in time and still gives up first. With 0.5 s against 3 s, a loaded
# run's first attempt timed out connecting, before the gateway could answer 500.
# Other tests never wait for a timeout, so theirs only needs to outlast such a stall.
TIMEOUT_S = 5
LATE_S = 60


def _settings(url: str, **extra: Any) -> SmsSettings:
    return SmsSettings.model_validate(
        {
            "url": url,
            "fields": {"to": "dstaddr", "text": "smbody", "client_id": "clientid"},
            "timeout_s": 10,
            **extra,
        }
    )


def _message(recipient: str = "0912345678", key: str = "case:1:completion:sms") -> MessageRecord:
    return MessageRecord(
        id=1,
        key=key,
        channel=NotifyChannel.SMS,
        recipient=recipient,
        subject="",
        body="您的案件 2511000123 已完成",
        purpose="completion",
        ref="case:1",
        state=OutboxState.SENDING,
        attempts=1,
        created_at=T0,
        next_attempt_at=T0,
        lease_owner="t",
        lease_until=T0,
        delivered_at=None,
        last_error=None,
    )


async def test_a_form_post_carries_the_configured_fields(gateway: Gateway) -> None:
    sms = SmsGateway(
        _settings(
            gateway.url,
            extra={"encoding": "UTF8"},
            credentials="fields",
            username_field="UID",
            password_field="PWD",
        ),
        SmsSecrets("hotline", "s3cret"),
    )
    detail = await sms.send(_message("+886912345678"))
    assert detail == "HTTP 200 statuscode=1"
    [request] = gateway.received
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.fields == {
        "encoding": "UTF8",
        "dstaddr": "0912345678",
        "smbody": "您的案件 2511000123 已完成",
        "clientid": "case:1:completion:sms",
        "UID": "hotline",
        "PWD": "s3cret",
    }


async def test_a_json_post_with_basic_auth(gateway: Gateway) -> None:
    sms = SmsGateway(
        _settings(gateway.url, body="json", credentials="basic", method="PUT"),
        SmsSecrets("hotline", "s3cret"),
    )
    await sms.send(_message())
    [request] = gateway.received
    assert request.method == "PUT"
    assert request.content_type == "application/json"
    assert request.fields["clientid"] == "case:1:completion:sms"
    assert "PWD" not in request.fields
    assert request.authorization == "Basic " + base64.b64encode(b"hotline:s3cret").decode()


@pytest.mark.parametrize(
    ("status", "failure"),
    [
        (500, TemporaryFailure),
        (503, TemporaryFailure),
        (429, TemporaryFailure),
        (408, TemporaryFailure),
        (400, PermanentFailure),
        (401, PermanentFailure),
        (404, PermanentFailure),
    ],
)
async def test_a_status_is_a_temporary_or_a_permanent_failure(
    gateway: Gateway, status: int, failure: type[Exception]
) -> None:
    gateway.behaviour = lambda _r: Reply(status, "error")
    sms = SmsGateway(_settings(gateway.url), SmsSecrets())
    with pytest.raises(failure, match=f"HTTP {status} error"):
        await sms.send(_message())
    assert gateway.handset == []


async def test_a_gateway_that_does_not_answer_in_time_is_tried_again(gateway: Gateway) -> None:
    gateway.behaviour = lambda _r: Reply(200, "statuscode=1", pause_s=LATE_S)
    sms = SmsGateway(_settings(gateway.url, timeout_s=TIMEOUT_S), SmsSecrets())
    with pytest.raises(TemporaryFailure, match="timed out"):
        await sms.send(_message())


async def test_a_refused_connection_is_tried_again() -> None:
    sms = SmsGateway(_settings(f"http://127.0.0.1:{free_port()}/send"), SmsSecrets())
    with pytest.raises(TemporaryFailure, match="unreachable: ConnectError"):
        await sms.send(_message())


async def test_a_2xx_without_the_accepted_answer_failed(gateway: Gateway) -> None:
    gateway.behaviour = lambda _r: Reply(200, "statuscode=e&Error=bad")
    sms = SmsGateway(_settings(gateway.url, accepted="statuscode=[0-4]"), SmsSecrets())
    with pytest.raises(TemporaryFailure, match="without accepting"):
        await sms.send(_message())


@pytest.mark.parametrize("recipient", ["0223456789", "12345", "+15551234567", "citizen@x.tw"])
async def test_only_mobile_numbers_get_an_sms(gateway: Gateway, recipient: str) -> None:
    sms = SmsGateway(_settings(gateway.url), SmsSecrets())
    with pytest.raises(PermanentFailure, match="not a Taiwan mobile number"):
        await sms.send(_message(recipient))
    assert gateway.received == []


async def test_the_sender_retries_through_every_failure_until_accepted(
    store: CaseStore, gateway: Gateway
) -> None:
    """500, a timeout and a refusal, then accepted: four attempts, each recorded."""
    answers = iter([Reply(500, "busy"), Reply(200, "late", pause_s=LATE_S, accept=True)])
    gateway.behaviour = lambda _r: next(answers, None)
    made = await enqueue(
        store,
        key="case:9:completion:sms",
        channel="sms",
        recipient="0912345678",
        body="您的案件已完成",
        purpose="completion",
        at=T0,
    )
    policy = RetryPolicy(first_delay=timedelta(seconds=10), max_attempts=5)
    now = [T0]
    up = SmsGateway(_settings(gateway.url, timeout_s=TIMEOUT_S), SmsSecrets())
    down = SmsGateway(_settings(f"http://127.0.0.1:{free_port()}/send"), SmsSecrets())
    transports = {NotifyChannel.SMS: up}
    sender = Sender(store, transports, lambda: now[0], policy, name="t")
    for step in range(4):
        # The third attempt finds the gateway down.
        transports[NotifyChannel.SMS] = down if step == 2 else up
        await sender.run_once()
        found = await box.get(store, str(made.id))
        assert found is not None
        if found.next_attempt_at is not None:
            now[0] = found.next_attempt_at
    done = await box.get(store, str(made.id))
    assert done is not None
    assert done.state is OutboxState.DELIVERED
    outcomes = [(a.outcome, (a.detail or "").split(":")[0]) for a in done.history]
    assert outcomes == [
        (OutboxOutcome.FAILED, "gateway failed"),
        (OutboxOutcome.FAILED, "gateway timed out"),
        (OutboxOutcome.FAILED, "gateway unreachable"),
        (OutboxOutcome.DELIVERED, "HTTP 200 statuscode=1"),
    ]
    # Backoff between them: 10 s, 20 s, 40 s.
    starts = [a.started_at - T0 for a in done.history]
    assert starts == [
        timedelta(0),
        timedelta(seconds=10),
        timedelta(seconds=30),
        timedelta(seconds=70),
    ]
    # The timed-out request reached the gateway too: the handset shows the message once.
    assert [r.fields["clientid"] for r in gateway.handset] == ["case:9:completion:sms"]


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)


def test_the_sms_password_must_be_owner_only(tmp_path: Path) -> None:
    _write(tmp_path / "secrets" / "sms.yaml", 'username: "u"\npassword: "p"\n', 0o644)
    with pytest.raises(NotifyConfigError, match="mode 0644 lets other users read"):
        notify_config.load(tmp_path, environ={})


def test_the_sms_password_comes_from_the_secrets_file_or_the_environment(tmp_path: Path) -> None:
    _write(
        tmp_path / "notify.yaml",
        "sms:\n  url: http://127.0.0.1:9/send\n  credentials: fields\n",
        0o600,
    )
    with pytest.raises(NotifyConfigError, match="no password"):
        notify_config.load(tmp_path, environ={})
    _write(tmp_path / "secrets" / "sms.yaml", 'username: "u"\npassword: "p"\n', 0o600)
    assert notify_config.load(tmp_path, environ={}).sms_secrets == SmsSecrets("u", "p")
    env = {"HOTLINE_SMS_USERNAME": "eu", "HOTLINE_SMS_PASSWORD": "ep"}
    assert notify_config.load(tmp_path, environ=env).sms_secrets == SmsSecrets("eu", "ep")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("sms:\n  url: not a url\n", "sms.url"),
        ("sms:\n  url: http://x/\n  body: xml\n", "sms.body"),
        ("sender:\n  max_attempts: 0\n", "sender.max_attempts"),
        ("sender:\n  lease: 5\n", "sender.lease"),
        ("phone:\n  voice: 'cmn; rm -rf'\n", "phone.voice"),
        ("sms: [1, 2\n", "notify.yaml"),
    ],
)
def test_a_bad_config_is_refused_with_its_field(tmp_path: Path, text: str, error: str) -> None:
    _write(tmp_path / "notify.yaml", text, 0o600)
    with pytest.raises(NotifyConfigError, match=error.replace(".", r"\.")):
        notify_config.load(tmp_path, environ={})


def test_no_config_means_defaults(tmp_path: Path) -> None:
    conf = notify_config.load(tmp_path, environ={})
    assert conf.settings.sms is None
    assert conf.policy == RetryPolicy()
    assert conf.lease == timedelta(seconds=120)
