"""Case deadlines run on the responsible agency's calendar: the office's and its days off."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from ivr import cases_service as svc
from ivr.domain.vocabulary import CaseAction, CaseClock
from ivr.routing.directory_table import AgencyDayOff
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from ivr.store import CaseStore
from ivr.store.cases import CaseBook
from tests.store.test_cases_store import T0, TAIPEI_DIR, petition

# T0 is Monday 2026-06-01; the office's 6th working day after it ends on Tuesday 06-09.
OFF = date(2026, 6, 3)  # Wednesday: the public works office moves house


@pytest.fixture
def ctx(store: CaseStore) -> svc.CaseContext:
    tables = load_profile(TAIPEI_DIR)
    agencies = [
        a.model_copy(update={"days_off": [AgencyDayOff(date=OFF, name="搬遷")]})
        if a.id == "pwd"
        else a
        for a in tables.directory.agencies
    ]
    directory = tables.directory.model_copy(update={"agencies": agencies})
    tables = replace(tables, directory=directory)
    return svc.CaseContext(CaseBook.of(store, "taipei"), tables, build_view(tables).office)


async def test_an_agency_day_off_moves_its_reply_due_and_not_anothers(
    ctx: svc.CaseContext,
) -> None:
    pwd = await svc.open_case(ctx, petition(agency_id="pwd"), at=T0, who="a")
    other = next(a for a in sorted(ctx.agency_ids()) if a != "pwd")
    dot = await svc.open_case(ctx, petition("x", agency_id=other), at=T0, who="a")
    pwd_due = pwd.case.due(CaseClock.REPLY)
    other_due = dot.case.due(CaseClock.REPLY)
    assert pwd_due is not None
    assert other_due is not None
    assert pwd_due - other_due == timedelta(days=1)  # one working day later
    # Re-assigned to pwd, the other case's reply runs on pwd's calendar from receipt.
    moved = await svc.act(ctx, dot.case.number, CaseAction.REASSIGNED, at=T0, who="lead",
                          agency_id="pwd", text="權責機關")  # fmt: skip
    assert moved.case.due(CaseClock.REPLY) == pwd_due
