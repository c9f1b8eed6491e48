"""What the rest of the project may ask of the case store, as Protocols.

`EngineStore` is what a call asks: its writes and the few reads the call flow needs.
`CaseStore` provides it, and so does `ivr.adapters.durable.DurableStore`, which keeps
the writes through an outage; code that runs a call should depend on this Protocol,
not on either class. `CaseStorePort` adds what the CLI, the web console and the
scheduled jobs ask: reads, the ticket workflow, operators' settings, the report, and
`apply` for any typed write record (`ivr.store.write_records`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, Protocol, TypeVar

from ivr.store.views import (
    AgentStateRecord,
    CallRecord,
    ClosureRecord,
    ModeChange,
    SurveyRecord,
    TicketEventRecord,
    TicketRecord,
    TransferRecord,
    UnitStats,
)
from ivr.store.write_records import Write

T = TypeVar("T")


class EngineStore(Protocol):
    """The store as a call sees it (see the module doc)."""

    async def start_call(
        self,
        *,
        uniqueid: str,
        linkedid: str,
        channel: str,
        caller_number: str | None,
        caller_name: str | None,
        dnid: str | None,
        started_at: datetime,
        mode: str | None = None,
        answered_at: datetime | None = None,
    ) -> int: ...

    async def mark_answered(self, uniqueid: str, at: datetime) -> None: ...

    async def add_event(
        self, call_id: int, *, at: datetime, kind: str, data: Mapping[str, Any] | None = None
    ) -> int: ...

    async def end_call(
        self,
        uniqueid: str,
        *,
        ended_at: datetime,
        cause: int | None,
        cause_text: str | None,
        outcome: str | None = None,
    ) -> bool: ...

    async def set_outcome(self, uniqueid: str, outcome: str) -> None: ...

    async def start_transfer(
        self, call_id: int, *, initiated_by: str, agency_id: str, unit_id: str, at: datetime
    ) -> int: ...

    async def start_attempt(
        self,
        *,
        transfer_id: int | None = None,
        ticket_id: int | None = None,
        target: str,
        role: str,
        attempt: int,
        at: datetime,
    ) -> int: ...

    async def finish_attempt(
        self,
        attempt_id: int,
        *,
        at: datetime,
        dialstatus: str | None,
        hangup_cause: int | None,
        ring_seconds: float | None,
    ) -> None: ...

    async def finish_transfer(
        self, transfer_id: int, *, at: datetime, result: str, answered_by: str | None = None
    ) -> bool: ...

    async def record_rating(
        self, call_id: int, rating: int, *, agent_id: str | None, queue: str | None, at: datetime
    ) -> bool: ...

    async def record_agent_state(
        self,
        agent_id: str,
        state: str,
        *,
        at: datetime,
        queues: Sequence[str],
        reason: str | None = None,
        call_uniqueid: str | None = None,
    ) -> None: ...

    async def create_ticket(
        self,
        *,
        call_id: int | None,
        transfer_id: int | None,
        caller_number: str,
        agency_id: str,
        unit_id: str | None,
        reason: str,
        created_at: datetime,
        due_at: datetime,
        message_path: str | None = None,
        language: str | None = None,
    ) -> TicketRecord: ...

    async def current_mode(self, at: datetime) -> str: ...

    async def closures(self, since: date) -> dict[date, ClosureRecord]: ...

    async def get_call_by_uniqueid(self, uniqueid: str) -> CallRecord | None: ...

    async def open_calls(self) -> list[CallRecord]: ...

    async def flag_overdue(self, now: datetime) -> list[TicketRecord]: ...

    async def overdue_tickets(self) -> list[TicketRecord]: ...

    async def mark_overdue_notified(self, ticket_id: int, at: datetime) -> bool: ...


class CaseStorePort(EngineStore, Protocol):
    """The whole store: what the CLI, the web console and the jobs may ask."""

    async def apply(self, record: Write[T]) -> T: ...

    async def migrate(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...

    async def get_call(self, call_id: int) -> CallRecord | None: ...

    async def list_calls(
        self, *, limit: int = 50, before_id: int | None = None
    ) -> list[CallRecord]: ...

    async def transfer_with_attempts(self, transfer_id: int) -> TransferRecord: ...

    async def set_mode(
        self, mode: str, *, active: bool, at: datetime, by: str, note: str | None = None
    ) -> None: ...

    async def mode_history(self, limit: int = 20) -> list[ModeChange]: ...

    async def set_closure(
        self,
        day: date,
        *,
        closed: bool,
        at: datetime,
        by: str,
        reason: str | None = None,
        closes_at: time | None = None,
        note: str | None = None,
    ) -> None: ...

    async def closure_history(
        self, since: date | None = None, limit: int = 1000
    ) -> list[ClosureRecord]: ...

    async def agent_states(self, agent_id: str, limit: int = 50) -> list[AgentStateRecord]: ...

    async def latest_agent_states(self) -> dict[str, AgentStateRecord]: ...

    async def rating_for_call(self, call_id: int) -> SurveyRecord | None: ...

    async def get_ticket(self, ticket_id: int) -> TicketRecord | None: ...

    async def get_ticket_by_number(self, number: str) -> TicketRecord | None: ...

    async def tickets_of_call(self, call_id: int) -> list[TicketRecord]: ...

    async def list_tickets(
        self,
        *,
        status: str | None = None,
        unit_id: str | None = None,
        agency_id: str | None = None,
        overdue: bool | None = None,
        limit: int = 100,
    ) -> list[TicketRecord]: ...

    async def assign_ticket(
        self, ticket_id: int, assignee: str, *, at: datetime, by: str
    ) -> None: ...

    async def add_ticket_note(
        self, ticket_id: int, *, at: datetime, author: str, text: str
    ) -> int: ...

    async def set_ticket_status(
        self, ticket_id: int, status: str, *, at: datetime, by: str, outcome: str | None = None
    ) -> None: ...

    async def ticket_events(self, ticket_id: int) -> list[TicketEventRecord]: ...

    async def transfer_stats(self, start: datetime, end: datetime) -> list[UnitStats]: ...
