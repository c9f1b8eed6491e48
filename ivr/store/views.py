"""What the case store answers: frozen records of rows, and how rows become them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm import selectinload

from ivr.store.models import (
    AgentState,
    CalendarClosure,
    Call,
    CallEvent,
    DialAttempt,
    ServiceMode,
    Ticket,
    Transfer,
)


@dataclass(frozen=True)
class CallEventRecord:
    seq: int
    at: datetime
    kind: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class CallRecord:
    id: int
    uniqueid: str
    linkedid: str
    channel: str
    caller_number: str | None
    caller_name: str | None
    dnid: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    hangup_cause: int | None
    hangup_cause_text: str | None
    outcome: str | None
    mode: str | None
    events: tuple[CallEventRecord, ...]


@dataclass(frozen=True)
class ModeChange:
    id: int
    mode: str
    active: bool
    changed_at: datetime
    changed_by: str
    note: str | None


@dataclass(frozen=True)
class ClosureRecord:
    """A declared closure of a local day, or its lifting (`closed` False)."""

    id: int
    day: date
    closed: bool
    reason: str | None
    closes_at: time | None
    changed_at: datetime
    changed_by: str
    note: str | None


@dataclass(frozen=True)
class AgentStateRecord:
    id: int
    agent_id: str
    state: str
    at: datetime
    queues: tuple[str, ...]
    reason: str | None
    call_uniqueid: str | None


@dataclass(frozen=True)
class SurveyRecord:
    id: int
    call_id: int
    rating: int
    agent_id: str | None
    queue: str | None
    at: datetime


@dataclass(frozen=True)
class DialAttemptRecord:
    id: int
    transfer_id: int | None
    ticket_id: int | None
    seq: int
    target: str
    role: str
    attempt: int
    started_at: datetime
    ended_at: datetime | None
    dialstatus: str | None
    hangup_cause: int | None
    ring_seconds: float | None


@dataclass(frozen=True)
class TransferRecord:
    id: int
    call_id: int
    initiated_by: str
    agency_id: str
    unit_id: str
    started_at: datetime
    ended_at: datetime | None
    result: str | None
    answered_by: str | None
    attempts: tuple[DialAttemptRecord, ...]


@dataclass(frozen=True)
class TicketNoteRecord:
    id: int
    at: datetime
    author: str
    text: str


@dataclass(frozen=True)
class TicketEventRecord:
    id: int
    at: datetime
    kind: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class TicketRecord:
    id: int
    number: str
    call_id: int | None
    transfer_id: int | None
    caller_number: str
    agency_id: str
    unit_id: str | None
    reason: str
    status: str
    overdue: bool
    overdue_at: datetime | None
    created_at: datetime
    due_at: datetime
    message_path: str | None
    assignee: str | None
    outcome: str | None
    closed_at: datetime | None
    notified_overdue_at: datetime | None
    notes: tuple[TicketNoteRecord, ...]
    # The attempts of the transfer that led to the ticket (by seq), then its callbacks.
    attempts: tuple[DialAttemptRecord, ...]
    # Made after a store outage, from the spool: the caller was not told its number.
    after_outage: bool = False


@dataclass(frozen=True)
class UnitStats:
    """Transfer and ticket figures of one unit over a reporting period.

    Transfers (and their attempts) count when they started in the period; tickets
    count when they were created in it, whatever happened to them since.
    """

    agency_id: str
    unit_id: str | None
    transfers: int = 0
    busy_attempts: int = 0
    noanswer_attempts: int = 0
    liaison_fallbacks: int = 0
    tickets_opened: int = 0
    tickets_closed_in_time: int = 0
    tickets_overdue: int = 0
    callback_seconds: list[float] = field(default_factory=list)


def closure(row: CalendarClosure) -> ClosureRecord:
    return ClosureRecord(
        id=row.id,
        day=row.day,
        closed=row.closed,
        reason=row.reason,
        closes_at=row.closes_at,
        changed_at=row.changed_at,
        changed_by=row.changed_by,
        note=row.note,
    )


def mode_change(row: ServiceMode) -> ModeChange:
    return ModeChange(
        id=row.id,
        mode=row.mode,
        active=row.active,
        changed_at=row.changed_at,
        changed_by=row.changed_by,
        note=row.note,
    )


def agent_state_record(row: AgentState) -> AgentStateRecord:
    return AgentStateRecord(
        id=row.id,
        agent_id=row.agent_id,
        state=row.state,
        at=row.at,
        queues=tuple(row.queues),
        reason=row.reason,
        call_uniqueid=row.call_uniqueid,
    )


def attempt_record(row: DialAttempt) -> DialAttemptRecord:
    return DialAttemptRecord(
        id=row.id,
        transfer_id=row.transfer_id,
        ticket_id=row.ticket_id,
        seq=row.seq,
        target=row.target,
        role=row.role,
        attempt=row.attempt,
        started_at=row.started_at,
        ended_at=row.ended_at,
        dialstatus=row.dialstatus,
        hangup_cause=row.hangup_cause,
        ring_seconds=row.ring_seconds,
    )


def transfer_record(row: Transfer) -> TransferRecord:
    return TransferRecord(
        id=row.id,
        call_id=row.call_id,
        initiated_by=row.initiated_by,
        agency_id=row.agency_id,
        unit_id=row.unit_id,
        started_at=row.started_at,
        ended_at=row.ended_at,
        result=row.result,
        answered_by=row.answered_by,
        attempts=tuple(attempt_record(a) for a in row.attempts),
    )


def ticket_record(row: Ticket) -> TicketRecord:
    transfer_attempts = row.transfer.attempts if row.transfer is not None else []
    return TicketRecord(
        id=row.id,
        number=row.number,
        call_id=row.call_id,
        transfer_id=row.transfer_id,
        caller_number=row.caller_number,
        agency_id=row.agency_id,
        unit_id=row.unit_id,
        reason=row.reason,
        status=row.status,
        overdue=row.overdue,
        overdue_at=row.overdue_at,
        created_at=row.created_at,
        due_at=row.due_at,
        message_path=row.message_path,
        assignee=row.assignee,
        outcome=row.outcome,
        closed_at=row.closed_at,
        notified_overdue_at=row.notified_overdue_at,
        notes=tuple(
            TicketNoteRecord(id=n.id, at=n.at, author=n.author, text=n.text) for n in row.notes
        ),
        attempts=tuple(attempt_record(a) for a in [*transfer_attempts, *row.callback_attempts]),
        after_outage=row.after_outage,
    )


# Everything a TicketRecord shows, loaded up front because relationships are lazy="raise".
TICKET_LOADS = (
    selectinload(Ticket.notes),
    selectinload(Ticket.callback_attempts),
    selectinload(Ticket.transfer).selectinload(Transfer.attempts),
)


def event_record(row: CallEvent) -> CallEventRecord:
    return CallEventRecord(
        seq=row.seq, at=row.at, kind=row.kind, data=MappingProxyType(dict(row.data))
    )


def call_record(row: Call, *, with_events: bool) -> CallRecord:
    return CallRecord(
        id=row.id,
        uniqueid=row.uniqueid,
        linkedid=row.linkedid,
        channel=row.channel,
        caller_number=row.caller_number,
        caller_name=row.caller_name,
        dnid=row.dnid,
        started_at=row.started_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        hangup_cause=row.hangup_cause,
        hangup_cause_text=row.hangup_cause_text,
        outcome=row.outcome,
        mode=row.mode,
        events=tuple(event_record(e) for e in row.events) if with_events else (),
    )
