"""Bulk case writes: the same rules as one at a time, all or nothing, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ivr import cases_service as svc
from ivr.domain.cases.numbers import parse_case_number
from ivr.domain.cases.workflow import CaseFacts, decide
from ivr.domain.vocabulary import CaseAction, CaseClock, CaseKind, CaseState
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from ivr.store import CaseStore
from ivr.store.cases import CaseBook, CaseChanged, Change, ServiceLog
from tests.store.test_cases_store import T0, TAIPEI_DIR, pothole


@pytest.fixture(scope="module")
def tables():  # type: ignore[no-untyped-def]
    return load_profile(TAIPEI_DIR)


@pytest.fixture
def ctx(store: CaseStore, tables) -> svc.CaseContext:  # type: ignore[no-untyped-def]
    return svc.CaseContext(CaseBook.of(store, "taipei"), tables, build_view(tables).office)


def entry(ctx: svc.CaseContext, i: int, key: str | None):  # type: ignore[no-untyped-def]
    new, clocks, _ = svc.prepare(ctx, pothole(address=f"臺北市某路{i}號"), T0)
    return (replace(new, idempotency_key=key), clocks, None, None, {})


def close(ctx: svc.CaseContext, case_id: int, number: str, expected: str, key: str) -> Change:
    running = frozenset({CaseClock.STAGE1, CaseClock.STAGE2})
    facts = CaseFacts(CaseKind.DISPATCH, CaseState(expected), T0, ctx.items[1], running)
    move = decide(facts, CaseAction.CLOSED, T0 + timedelta(hours=1), ctx.office)
    return Change(case_id, number, expected, CaseAction.CLOSED, move,
                  T0 + timedelta(hours=1), "crew", "done", {"reply": "done"}, key=key)  # fmt: skip


async def test_insert_many_numbers_in_order_and_makes_a_key_once(ctx: svc.CaseContext) -> None:
    first = await ctx.book.insert_many([entry(ctx, 0, "k0")], who="a")
    batch = [entry(ctx, 1, "k1"), entry(ctx, 2, "k0"), entry(ctx, 3, "k1"), entry(ctx, 4, None)]
    made = await ctx.book.insert_many(batch, who="a")
    assert [m for _, m in made] == [True, False, False, True]
    assert made[1][0] == first[0][0]  # the key made before
    assert made[2][0] == made[0][0]  # repeated within the batch
    cases = [await ctx.book.get(i) for i, _ in made]
    assert [parse_case_number(c.number) for c in cases if c] == [2, 1, 2, 3]
    one = cases[0]
    assert one is not None
    assert {c.clock for c in one.clocks} == {"stage1", "stage2"}
    [created] = await ctx.book.events(one.id)
    assert created.action == "created"
    assert created.data["number"] == one.number


async def test_apply_many_is_all_or_nothing_when_one_case_moved(ctx: svc.CaseContext) -> None:
    made = await ctx.book.insert_many([entry(ctx, i, f"k{i}") for i in range(3)], who="a")
    cases = [await ctx.book.get(i) for i, _ in made]
    numbers = [c.number for c in cases if c]
    # One of them moves first: a batch that read it "open" must write nothing at all.
    await svc.act(ctx, numbers[1], CaseAction.ASSIGNED, at=T0, who="lead", officer="陳")
    changes = [close(ctx, i, n, "open", f"c{i}") for (i, _), n in zip(made, numbers, strict=True)]
    with pytest.raises(CaseChanged, match=numbers[1]):
        await ctx.book.apply_many(changes)
    for case_id, _ in made:
        case = await ctx.book.get(case_id)
        assert case is not None
        assert case.state != "closed"
        assert all(c.stopped_at is None for c in case.clocks)
        assert "closed" not in [e.action for e in await ctx.book.events(case_id)]
    # Decided again from what is there now: all apply, and once only.
    changes[1] = close(ctx, made[1][0], numbers[1], "assigned", "c-again")
    assert await ctx.book.apply_many(changes) == [True, True, True]
    assert await ctx.book.apply_many(changes) == [False, False, False]
    for case_id, _ in made:
        case = await ctx.book.get(case_id)
        assert case is not None
        assert (case.state, case.reply) == ("closed", "done")
        assert all(c.stopped_at is not None for c in case.clocks)


async def test_log_services_skips_keys_already_logged(ctx: svc.CaseContext) -> None:
    logs = [ServiceLog("consultation", T0, agency_id="pwd", idempotency_key=f"s{i}")
            for i in range(3)]  # fmt: skip
    assert await ctx.book.log_services(logs[:1]) == 1
    # The count of new rows is true on both databases (the first was there already).
    assert await ctx.book.log_services(logs) == 2
    assert not await ctx.book.log_service(service="consultation", at=T0, key="s2")
    with pytest.raises(ValueError, match="service must be one of"):
        await ctx.book.log_services([ServiceLog("gossip", T0)])
    from ivr.cases_report import report_rows

    rows = await report_rows(ctx, "2026-06")
    assert rows[-1].calls == 3


async def test_apply_many_keeps_history_text_and_data_as_given(ctx: svc.CaseContext) -> None:
    """A move's history row keeps its text and data (Chinese, nested, null) exactly."""
    [(case_id, _)] = await ctx.book.insert_many([entry(ctx, 0, "k0")], who="a")
    case = await ctx.book.get(case_id)
    assert case is not None
    change = replace(
        close(ctx, case_id, case.number, "open", "c0"),
        text="已修復 路面平整",
        data={"結果": "完成", "crew": ["甲", "乙"], "note": None},
        changes={"reply": "已修復", "officer": None},
    )
    assert await ctx.book.apply_many([change]) == [True]
    closed = (await ctx.book.events(case_id))[-1]
    assert (closed.action, closed.text) == ("closed", "已修復 路面平整")
    assert {"結果": "完成", "crew": ["甲", "乙"], "note": None}.items() <= closed.data.items()
    after = await ctx.book.get(case_id)
    assert after is not None
    assert (after.state, after.reply, after.officer) == ("closed", "已修復", None)
