"""`ivr outbox list|show|retry` with `--json`: recipients masked unless unmasked with a
reason, every unmasking audited, and clear one-line errors."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ivr import config as stack_config
from ivr.cli import main
from ivr.domain.outbox_policy import Next
from ivr.domain.vocabulary import OutboxOutcome, OutboxState
from ivr.notify import enqueue
from ivr.store import CaseStore, audit
from ivr.store import outbox as box
from tests.harness import fresh_ports

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


async def _fill(url: str) -> None:
    store = await CaseStore.open(url)
    await store.migrate()
    try:
        await enqueue(
            store,
            key="case:1:completion:sms",
            channel="sms",
            recipient="0912345678",
            body="您的案件已完成，如有疑問請撥 0223456789",  # noqa: RUF001
            purpose="completion",
            ref="case:1",
            at=T0,
        )
        dead = await enqueue(
            store,
            key="case:2:reply:email",
            channel="email",
            recipient="citizen@example.tw",
            subject="回覆",
            body="text",
            purpose="reply",
            ref="case:2",
            at=T0,
        )
        [claimed] = await box.claim(store, sender="t", now=T0, lease=timedelta(minutes=1), limit=1)
        assert claimed.id == 1
        claimed = (await box.claim(store, sender="t", now=T0, lease=timedelta(minutes=1)))[0]
        assert claimed.id == dead.id
        seq = await box.begin_attempt(
            store, dead.id, sender="t", now=T0, lease=timedelta(minutes=1)
        )
        assert seq == 1
        await box.finish_attempt(
            store,
            dead.id,
            seq,
            sender="t",
            now=T0,
            outcome=OutboxOutcome.REJECTED,
            detail="550 no such user",
            next_step=Next(OutboxState.DEAD),
        )
    finally:
        await store.close()


@pytest.fixture
def state_dir(tmp_path: Path, db_url: str) -> Path:
    cfg = stack_config.init(tmp_path / "stack", fresh_ports(), db_url)
    asyncio.run(_fill(cfg.database_url))
    return cfg.state_dir


def _ivr(capsys: pytest.CaptureFixture[str], state_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--state-dir", str(state_dir), "--log-level", "WARNING", "outbox", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], state_dir: Path, *args: str) -> Any:
    code, out, err = _ivr(capsys, state_dir, *args, "--json")
    assert code == 0, err
    return json.loads(out)


async def _audit_rows(state_dir: Path) -> list[audit.AuditRecord]:
    store = await CaseStore.open(stack_config.load(state_dir).database_url)
    try:
        return await audit.entries(store)
    finally:
        await store.close()


def test_list_masks_recipients(capsys: pytest.CaptureFixture[str], state_dir: Path) -> None:
    rows = _json(capsys, state_dir, "list")
    assert [(r["id"], r["recipient"], r["state"]) for r in rows] == [
        (2, "c○○○@example.tw", "dead"),
        (1, "0912○○○678", "pending"),
    ]
    assert [r["id"] for r in _json(capsys, state_dir, "list", "--state", "dead")] == [2]
    assert [r["id"] for r in _json(capsys, state_dir, "list", "--ref", "case:1")] == [1]
    code, out, _ = _ivr(capsys, state_dir, "list")
    assert code == 0
    assert "0912○○○678" in out
    assert "0912345678" not in out


def test_unmasking_needs_a_reason_and_is_audited(
    capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    code, out, err = _ivr(capsys, state_dir, "list", "--unmask")
    assert (code, out) == (1, "")
    assert err.startswith("ivr: --unmask needs --reason")
    rows = _json(capsys, state_dir, "list", "--unmask", "--reason", "citizen asked")
    assert rows[1]["recipient"] == "0912345678"
    [row] = asyncio.run(_audit_rows(state_dir))
    assert (row.action, row.subject, row.reason) == ("unmask", "outbox:list", "citizen asked")


def test_show_gives_every_attempt_with_numbers_masked(
    capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    shown = _json(capsys, state_dir, "show", "case:1:completion:sms")
    assert shown["body"] == "您的案件已完成，如有疑問請撥 0223○○○789"  # noqa: RUF001
    dead = _json(capsys, state_dir, "show", "2")
    assert [(a["seq"], a["outcome"], a["detail"]) for a in dead["history"]] == [
        (1, "rejected", "550 no such user")
    ]
    code, out, _ = _ivr(capsys, state_dir, "show", "2")
    assert code == 0
    assert "attempt 1:" in out
    assert "rejected" in out
    assert [r.subject for r in asyncio.run(_audit_rows(state_dir))] == [
        "outbox:1",
        "outbox:2",
        "outbox:2",
    ]


def test_retry_revives_a_dead_message_only(
    capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    code, _, err = _ivr(capsys, state_dir, "retry", "1")
    assert code == 1
    assert err == "ivr: message 1 is pending: only dead or unknown messages are retried\n"
    again = _json(capsys, state_dir, "retry", "case:2:reply:email")
    assert (again["id"], again["state"]) == (2, "pending")
    code, _, err = _ivr(capsys, state_dir, "show", "no-such-message")
    assert (code, err) == (1, "ivr: no message no-such-message\n")
