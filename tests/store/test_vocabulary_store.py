"""The store keeps every word of the vocabulary and refuses any other (SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from ivr.domain.vocabulary import CallOutcome, TicketReason
from ivr.store import CaseStore
from tests.store.test_tickets import T0, new_call, new_ticket


@pytest.mark.parametrize("reason", list(TicketReason))
async def test_every_ticket_reason_is_kept(store: CaseStore, reason: TicketReason) -> None:
    ticket = await new_ticket(store, reason=reason)
    assert (await store.get_ticket_by_number(ticket.number)).reason == reason  # type: ignore[union-attr]


async def test_every_call_outcome_is_kept_and_another_is_refused(store: CaseStore) -> None:
    await new_call(store, "u-1")
    for outcome in CallOutcome:
        await store.set_outcome("u-1", outcome)
        record = await store.get_call_by_uniqueid("u-1")
        assert record is not None
        assert record.outcome == outcome
    with pytest.raises(ValueError, match="outcome must be one of"):
        await store.set_outcome("u-1", "lost")
    with pytest.raises(ValueError, match="outcome must be one of"):
        await store.end_call("u-1", ended_at=T0, cause=16, cause_text="x", outcome="lost")
