"""The idempotency key of "open a case from the call": a repeat on the same call answers
with the first case and writes nothing; the same key on another call is refused and
writes nothing (no service log, no link, no history row tying the first case to it).
On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ivr import cases_service as svc
from ivr.cases_context import CaseKeyReused
from ivr.store import CaseStore
from ivr.store.cases_models import CallService, Case, CaseClockRow, CaseEvent, CaseLink
from tests.store.case_calls import ctx, start_call, tables
from tests.store.test_cases_store import T0, petition, pothole

__all__ = ["ctx", "tables"]  # the fixtures, shared with the other case-call tests


async def _rows(store: CaseStore) -> dict[str, int]:
    """How many rows each case table holds."""
    counts = {}
    async with store._engine.connect() as conn:
        for table in (Case, CaseEvent, CaseLink, CaseClockRow, CallService):
            counts[table.__tablename__] = (
                await conn.execute(select(func.count()).select_from(table))
            ).scalar_one()
    return counts


async def _services_of(store: CaseStore, call_id: int) -> list[int | None]:
    async with store._engine.connect() as conn:
        found = await conn.execute(
            select(CallService.case_id).where(CallService.call_id == call_id)
        )
        return list(found.scalars())


async def test_a_petitions_key_on_another_call_is_refused_and_writes_nothing(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    first, second = [await start_call(store, f"17100000{i}.1") for i in range(2)]
    opened = await svc.open_case(ctx, petition(), at=T0, who="a01", key="k-1", call_id=first)
    assert opened.made
    rows = await _rows(store)
    # The same call again (a double submit, a reload): the first case, nothing new.
    again = await svc.open_case(ctx, petition(), at=T0, who="a01", key="k-1", call_id=first)
    assert (again.case.number, again.made, again.password) == (opened.case.number, False, None)
    assert await _rows(store) == rows
    # Another call with the same key: refused, and the first case stays the first call's.
    with pytest.raises(CaseKeyReused) as refused:
        await svc.open_case(ctx, petition(), at=T0, who="a01", key="k-1", call_id=second)
    assert refused.value.code == "case.key_reused"
    assert refused.value.details == {"number": opened.case.number}
    assert await _rows(store) == rows
    assert await _services_of(store, second) == []
    assert await ctx.book.cases_of_call(second) == []
    assert await _services_of(store, first) == [opened.case.id]
    # Without a call (the CLI), the key answers with its case as before.
    cli = await svc.open_case(ctx, petition(), at=T0, who="a01", key="k-1")
    assert (cli.case.number, cli.made) == (opened.case.number, False)
    assert await _rows(store) == rows


async def test_a_dispatch_orders_key_repeated_on_its_call_merges_nothing(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    """The order the key made is an open order at the same place: a repeat must not be
    taken for a second report and merged into it."""
    first, second = [await start_call(store, f"17200000{i}.1") for i in range(2)]
    opened = await svc.open_case(ctx, pothole(), at=T0, who="a01", key="k-2", call_id=first)
    assert (opened.made, opened.merged) == (True, False)
    rows = await _rows(store)
    again = await svc.open_case(ctx, pothole(), at=T0, who="a01", key="k-2", call_id=first)
    assert (again.case.number, again.made, again.merged) == (opened.case.number, False, False)
    assert await _rows(store) == rows
    with pytest.raises(CaseKeyReused):
        await svc.open_case(ctx, pothole(), at=T0, who="a01", key="k-2", call_id=second)
    assert await _rows(store) == rows
    assert await ctx.book.cases_of_call(second) == []


async def test_a_merged_reports_key_on_another_call_is_refused(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    first, second, third = [await start_call(store, f"17300000{i}.1") for i in range(3)]
    order = await svc.open_case(ctx, pothole(), at=T0, who="a01", call_id=first)
    report = pothole(caller="0933000222")
    merged = await svc.open_case(ctx, report, at=T0, who="a02", key="k-3", call_id=second)
    assert (merged.merged, merged.case.number) == (True, order.case.number)
    rows = await _rows(store)
    again = await svc.open_case(ctx, report, at=T0, who="a02", key="k-3", call_id=second)
    assert (again.case.number, again.merged, again.made) == (order.case.number, True, False)
    assert await _rows(store) == rows
    # Not even the order's own first call: the key was the second call's report.
    for other in (third, first):
        with pytest.raises(CaseKeyReused):
            await svc.open_case(ctx, report, at=T0, who="a02", key="k-3", call_id=other)
    assert await _rows(store) == rows
    assert await ctx.book.cases_of_call(third) == []
