"""What the store tests of cases opened from a call share: Taipei's tables, a case
context over the test's store, and a started call to open cases from."""

from __future__ import annotations

import pytest

from ivr import cases_service as svc
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from ivr.store import CaseStore
from ivr.store.cases import CaseBook
from tests.store.test_cases_store import T0, TAIPEI_DIR


@pytest.fixture(scope="module")
def tables():  # type: ignore[no-untyped-def]
    return load_profile(TAIPEI_DIR)


@pytest.fixture
def ctx(store: CaseStore, tables) -> svc.CaseContext:  # type: ignore[no-untyped-def]
    office = build_view(tables).office
    return svc.context_for(CaseBook.of(store, "taipei"), tables, office, TAIPEI_DIR)


async def start_call(store: CaseStore, uniqueid: str) -> int:
    """A call from 0912345678 to 1999, started at T0: its id."""
    return await store.start_call(
        uniqueid=uniqueid,
        linkedid=uniqueid,
        channel=f"PJSIP/inbound-{uniqueid}",
        caller_number="0912345678",
        caller_name=None,
        dnid="1999",
        started_at=T0,
    )
