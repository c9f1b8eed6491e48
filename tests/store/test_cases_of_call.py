"""The cases linked to a call (the screen pop's "Cases" row): those opened from it and
the open order its report merged into, in linking order; none of another call's."""

from __future__ import annotations

from ivr import cases_service as svc
from ivr.store import CaseStore
from tests.store.case_calls import ctx, start_call, tables
from tests.store.test_cases_store import T0, petition, pothole

__all__ = ["ctx", "tables"]  # the fixtures, shared with the other case-call tests


async def test_the_cases_of_a_call_are_those_linked_to_it(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    first, second, third = [await start_call(store, f"17000000{i}.1") for i in range(3)]
    asked = await svc.open_case(ctx, petition(), at=T0, who="a01", call_id=first)
    order = await svc.open_case(ctx, pothole(), at=T0, who="a01", call_id=first)
    # The second caller reports the same pothole: merged into the first call's order.
    merged = await svc.open_case(
        ctx, pothole(caller="0933000222"), at=T0, who="a02", call_id=second
    )
    assert merged.merged
    book = ctx.book
    assert await book.cases_of_call(first) == [
        (asked.case.number, "open"),
        (order.case.number, "open"),
    ]
    assert await book.cases_of_call(second) == [(order.case.number, "open")]
    assert await book.cases_of_call(third) == []
