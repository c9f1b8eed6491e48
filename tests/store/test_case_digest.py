"""The 08:00 digest of overdue dispatch orders (K7(3)) goes through the outbox, once a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr import cases_service as svc
from ivr.adapters.case_rounds import PURPOSE, CaseRounds, digest_rows
from ivr.domain.cases.digest import UnitDigest
from ivr.domain.tickets import Mail
from ivr.domain.vocabulary import CaseKind, NotifyChannel, OutboxState
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from ivr.store import CaseStore
from ivr.store.cases import CaseBook
from ivr.store.outbox import list_messages

TAIPEI_DIR = Path(__file__).resolve().parents[2] / "routing" / "taipei"
T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # Monday 10:00 in Taipei
SATURDAY_8 = datetime(2026, 6, 6, 0, 0, tzinfo=UTC)  # 08:00 in Taipei
TPE = ZoneInfo("Asia/Taipei")


@pytest.fixture(scope="module")
def tables():  # type: ignore[no-untyped-def]
    return load_profile(TAIPEI_DIR)


@pytest.fixture
def ctx(store: CaseStore, tables) -> svc.CaseContext:  # type: ignore[no-untyped-def]
    office = build_view(tables).office
    return svc.context_for(CaseBook.of(store, "taipei"), tables, office, TAIPEI_DIR)


async def _pothole(ctx: svc.CaseContext) -> None:
    data = svc.CaseInput(
        CaseKind.DISPATCH,
        "坑洞",
        item=1,
        address="臺北市信義區信義路五段7號",
        district="信義區",
        caller_number="0922000111",
    )
    await svc.open_case(ctx, data, at=T0, who="a")  # stage 1 due 14:00 Monday


async def _digests(store: CaseStore) -> list[str]:
    return sorted(m.key for m in await list_messages(store) if m.purpose == PURPOSE)


async def test_the_round_queues_the_digest_in_the_outbox_once_a_day(
    store: CaseStore, ctx: svc.CaseContext, tmp_path: Path
) -> None:
    """At 08:00 every day, once; queued for the sender, not mailed; a restart adds none."""
    await _pothole(ctx)
    rounds = CaseRounds(lambda: ctx, tmp_path)
    assert await rounds.run_once(SATURDAY_8 - timedelta(hours=1)) == 0  # first round: base
    assert await rounds.run_once(SATURDAY_8) == 1
    [message] = [m for m in await list_messages(store) if m.purpose == PURPOSE]
    assert message.channel is NotifyChannel.EMAIL
    assert message.recipient == "supervisor@pwd.taipei.example"
    assert message.state is OutboxState.PENDING
    assert "2026-06-06" in message.subject
    assert "stage" in message.body
    assert await rounds.run_once(SATURDAY_8 + timedelta(minutes=5)) == 0
    restarted = CaseRounds(lambda: ctx, tmp_path)
    assert await restarted.run_once(SATURDAY_8 + timedelta(minutes=10)) == 0
    assert len(await _digests(store)) == 1
    assert await restarted.run_once(SATURDAY_8 + timedelta(days=1)) == 1  # Sunday too
    assert len(await _digests(store)) == 2


async def test_a_round_run_twice_in_a_day_queues_each_digest_once(
    store: CaseStore, ctx: svc.CaseContext, tmp_path: Path
) -> None:
    """Two engines (or a restart that lost its marker) both run the 08:00 round: one
    message per supervisor that day, whichever ran first."""
    await _pothole(ctx)
    first = CaseRounds(lambda: ctx, tmp_path / "a")
    second = CaseRounds(lambda: ctx, None)
    (tmp_path / "a").mkdir()
    for rounds in (first, second):
        assert await rounds.run_once(SATURDAY_8 - timedelta(hours=1)) == 0
    assert await first.run_once(SATURDAY_8) == 1
    assert await second.run_once(SATURDAY_8 + timedelta(minutes=1)) == 0
    assert len(await _digests(store)) == 1


def test_each_recipient_gets_one_message_per_unit_and_day() -> None:
    """The unit's supervisor and the agency head each get the unit's digest; the keys
    are the same all day and new the next day."""
    mail = Mail(("boss@unit.example", "head@agency.example"), "[1999] digest", "body\n")
    digests = [UnitDigest("pwd", "new-construction", mail)]
    morning = digest_rows("taipei", SATURDAY_8, TPE, digests)
    evening = digest_rows("taipei", SATURDAY_8 + timedelta(hours=15), TPE, digests)
    tomorrow = digest_rows("taipei", SATURDAY_8 + timedelta(days=1), TPE, digests)
    assert [r["recipient"] for r in morning] == ["boss@unit.example", "head@agency.example"]
    keys = [r["idempotency_key"] for r in morning]
    assert len(set(keys)) == 2
    assert [r["idempotency_key"] for r in evening] == keys
    assert not set(keys) & {r["idempotency_key"] for r in tomorrow}
