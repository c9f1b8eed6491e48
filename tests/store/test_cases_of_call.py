"""The cases linked to a call (the screen pop's "Cases" row): those opened from it and
the open order its report merged into, in linking order; none of another call's."""

from __future__ import annotations

import pytest

from ivr import cases_service as svc
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from ivr.store import CaseStore
from ivr.store.cases import CaseBook
from tests.store.test_cases_store import T0, TAIPEI_DIR, petition, pothole


@pytest.fixture(scope="module")
def tables():  # type: ignore[no-untyped-def]
    return load_profile(TAIPEI_DIR)


@pytest.fixture
def ctx(store: CaseStore, tables) -> svc.CaseContext:  # type: ignore[no-untyped-def]
    office = build_view(tables).office
    return svc.context_for(CaseBook.of(store, "taipei"), tables, office, TAIPEI_DIR)


async def _call(store: CaseStore, uniqueid: str) -> int:
    return await store.start_call(
        uniqueid=uniqueid,
        linkedid=uniqueid,
        channel=f"PJSIP/inbound-{uniqueid}",
        caller_number="0912345678",
        caller_name=None,
        dnid="1999",
        started_at=T0,
    )


async def test_the_cases_of_a_call_are_those_linked_to_it(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    first, second, third = [await _call(store, f"17000000{i}.1") for i in range(3)]
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
