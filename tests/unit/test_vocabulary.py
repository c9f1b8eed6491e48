"""One vocabulary: every module that speaks a closed word list takes it from the same enum."""

from __future__ import annotations

import typing
from pathlib import Path

from ivr.adapters.agi.agent import ACTIONS
from ivr.domain.tickets import REASON_LABELS, STATUS_LABELS
from ivr.domain.transfer import GiveUp
from ivr.domain.vocabulary import (
    AgentState,
    CallOutcome,
    FallbackReason,
    TicketReason,
    TicketStatus,
    values,
)
from ivr.routing.menus import ToRecord
from ivr.store import models

REPO = Path(__file__).resolve().parents[2]


def test_the_store_checks_the_vocabulary() -> None:
    assert values(TicketReason) == models.TICKET_REASONS
    assert values(TicketStatus) == models.TICKET_STATUSES
    assert values(AgentState) == models.AGENT_STATES
    assert values(CallOutcome) == models.CALL_OUTCOMES


def test_every_reason_a_table_may_give_a_recording_is_one_the_store_keeps() -> None:
    annotation = ToRecord.model_fields["reason"].annotation
    assert annotation is TicketReason
    assert set(values(TicketReason)) <= set(models.TICKET_REASONS)


def test_a_transfer_gives_up_only_with_stored_reasons() -> None:
    hints = typing.get_type_hints(GiveUp)
    reasons = typing.get_args(hints["reason"])
    assert reasons
    assert set(reasons) <= set(models.TICKET_REASONS)


def test_every_reason_and_status_has_a_mail_label() -> None:
    assert set(REASON_LABELS) == set(TicketReason)
    assert set(STATUS_LABELS) == set(TicketStatus)


def test_agent_actions_store_agent_states() -> None:
    assert set(ACTIONS.values()) == set(AgentState)


def test_the_dialplan_spells_every_fallback_reason() -> None:
    dialplan = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted((REPO / "dialplans").glob("*.conf"))
    )
    for reason in FallbackReason:
        assert reason.value in dialplan, reason
