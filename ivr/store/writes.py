"""The engine's frequent writes as synchronous Core operations for `GroupCommitter`.

Also the one read every call makes (the service mode), which is cheaper on the
writer's connection than on a session of its own.

Each function takes a `Connection` inside a transaction it does not own and returns
what `CaseStore` needs; `CaseStore` validates the arguments before it queues one and
turns results and integrity errors into its documented returns and exceptions.
Statements are built once here with named parameters, so SQLAlchemy compiles each
once and caches it, instead of building (and hashing) a new statement per write.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from ivr.store.models import (
    AgentState,
    Call,
    CallEvent,
    DialAttempt,
    ServiceMode,
    SurveyRating,
    Ticket,
    TicketEvent,
    TicketNumberCounter,
    Transfer,
    UTCDateTime,
)


class Finish(Enum):
    """How a conditional close of a row went."""

    DONE = "done"
    ALREADY = "already"
    MISSING = "missing"


_CALL_ID = select(Call.id).where(Call.uniqueid == bindparam("uniqueid"))
_INSERT_CALL = insert(Call).returning(Call.id)


def start_call(conn: Connection, values: dict[str, Any]) -> int:
    found: int | None = conn.execute(_CALL_ID, {"uniqueid": values["uniqueid"]}).scalar()
    if found is None:
        new_id: int = conn.execute(_INSERT_CALL, values).scalar_one()
        return new_id
    if values["answered_at"] is not None:
        mark_answered(conn, values["uniqueid"], values["answered_at"])
    return found


_MARK_ANSWERED = (
    update(Call)
    .where(Call.uniqueid == bindparam("b_uniqueid"), Call.answered_at.is_(None))
    .values(answered_at=bindparam("b_at", type_=UTCDateTime()))
    .returning(Call.id)
)


def mark_answered(conn: Connection, uniqueid: str, at: datetime) -> bool:
    return conn.execute(_MARK_ANSWERED, {"b_uniqueid": uniqueid, "b_at": at}).first() is not None


# On PostgreSQL the row lock queues concurrent appends to one call, so each sees the
# previous one's seq; NO KEY UPDATE does not block the foreign-key checks of inserts.
# SQLite takes its write lock when the INSERT starts (before it reads MAX), which
# serialises appends the same way.
_LOCK_CALL = (
    select(Call.id)
    .where(Call.id == bindparam("call_id", type_=Integer))
    .with_for_update(key_share=True)
)
_INSERT_EVENT = insert(CallEvent).from_select(
    ["call_id", "seq", "at", "kind", "data"],
    select(
        bindparam("call_id", type_=Integer),
        func.coalesce(func.max(CallEvent.seq), 0) + 1,
        bindparam("at", type_=UTCDateTime()),
        bindparam("kind", type_=String),
        bindparam("data", type_=JSON()),
    ).where(CallEvent.call_id == bindparam("call_id", type_=Integer)),
)
_INSERT_EVENT_RETURNING = _INSERT_EVENT.returning(CallEvent.seq)


def add_event(
    conn: Connection, call_id: int, at: datetime, kind: str, data: dict[str, Any]
) -> int | None:
    """The new event's seq, or None if there is no such call."""
    if conn.execute(_LOCK_CALL, {"call_id": call_id}).scalar() is None:
        return None
    params = {"call_id": call_id, "at": at, "kind": kind, "data": data}
    seq: int = conn.execute(_INSERT_EVENT_RETURNING, params).scalar_one()
    return seq


_END_CALL = (
    update(Call)
    .where(Call.uniqueid == bindparam("b_uniqueid"), Call.ended_at.is_(None))
    .returning(Call.id)
)


def end_call(conn: Connection, uniqueid: str, values: dict[str, Any]) -> bool:
    # The SET clause comes from the keys of `values` (outcome only when given).
    return conn.execute(_END_CALL, {"b_uniqueid": uniqueid, **values}).first() is not None


_SET_OUTCOME = (
    update(Call)
    .where(Call.uniqueid == bindparam("b_uniqueid"))
    .values(outcome=bindparam("b_outcome"))
    .returning(Call.id)
)


def set_outcome(conn: Connection, uniqueid: str, outcome: str) -> bool:
    params = {"b_uniqueid": uniqueid, "b_outcome": outcome}
    return conn.execute(_SET_OUTCOME, params).first() is not None


_INSERT_AGENT_STATE = insert(AgentState)


def record_agent_state(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(_INSERT_AGENT_STATE, values)


_INSERT_RATING = {
    name: dialect.insert(SurveyRating)
    .on_conflict_do_nothing(index_elements=["call_id"])
    .returning(SurveyRating.id)
    for name, dialect in (("postgresql", pg), ("sqlite", sqlite))
}


def record_rating(conn: Connection, values: dict[str, Any]) -> bool:
    """False if the call already had a rating (the first stands)."""
    stmt = _INSERT_RATING[conn.dialect.name]
    return conn.execute(stmt, values).first() is not None


_INSERT_TRANSFER = insert(Transfer).returning(Transfer.id)


def start_transfer(conn: Connection, values: dict[str, Any]) -> int:
    new_id: int = conn.execute(_INSERT_TRANSFER, values).scalar_one()
    return new_id


def _attempt_statements(parent: type[Transfer | Ticket], column: Any) -> tuple[Any, Any]:
    lock = (
        select(parent.id)
        .where(parent.id == bindparam("parent_id", type_=Integer))
        .with_for_update(key_share=True)
    )
    insert_attempt = (
        insert(DialAttempt)
        .from_select(
            [column.key, "seq", "target", "role", "attempt", "started_at"],
            select(
                bindparam("parent_id", type_=Integer),
                func.coalesce(func.max(DialAttempt.seq), 0) + 1,
                bindparam("target", type_=String),
                bindparam("role", type_=String),
                bindparam("attempt", type_=Integer),
                bindparam("at", type_=UTCDateTime()),
            ).where(column == bindparam("parent_id", type_=Integer)),
        )
        .returning(DialAttempt.id, DialAttempt.seq)
    )
    return lock, insert_attempt


_ATTEMPT_FOR = {
    "transfer": _attempt_statements(Transfer, DialAttempt.transfer_id),
    "ticket": _attempt_statements(Ticket, DialAttempt.ticket_id),
}
_INSERT_TICKET_EVENT = insert(TicketEvent)


def start_attempt(
    conn: Connection,
    parent: str,
    parent_id: int,
    *,
    target: str,
    role: str,
    attempt: int,
    at: datetime,
) -> tuple[int, int] | None:
    """(attempt id, seq), or None if the transfer or ticket does not exist."""
    lock, insert_attempt = _ATTEMPT_FOR[parent]
    if conn.execute(lock, {"parent_id": parent_id}).scalar() is None:
        return None
    params = {"parent_id": parent_id, "target": target, "role": role, "attempt": attempt, "at": at}
    row = conn.execute(insert_attempt, params).one()
    if parent == "ticket":
        conn.execute(
            _INSERT_TICKET_EVENT,
            {
                "ticket_id": parent_id,
                "at": at,
                "kind": "callback_attempt",
                "data": {
                    "attempt_id": row.id,
                    "seq": row.seq,
                    "target": target,
                    "attempt": attempt,
                },
            },
        )
    return int(row.id), int(row.seq)


# Whether a row exists, by its id.
_EXISTS = {
    model: select(model.id).where(model.id == bindparam("b_id"))
    for model in (Call, Transfer, DialAttempt)
}
# Close a row once: the first close stands.
_FINISH = {
    model: update(model)
    .where(model.id == bindparam("b_id"), model.ended_at.is_(None))
    .returning(model.id)
    for model in (DialAttempt, Transfer)
}


def _finish(
    conn: Connection, model: type[DialAttempt | Transfer], row_id: int, values: dict[str, Any]
) -> Finish:
    if conn.execute(_FINISH[model], {"b_id": row_id, **values}).first() is not None:
        return Finish.DONE
    if conn.execute(_EXISTS[model], {"b_id": row_id}).first() is None:
        return Finish.MISSING
    return Finish.ALREADY


def finish_attempt(conn: Connection, attempt_id: int, values: dict[str, Any]) -> Finish:
    return _finish(conn, DialAttempt, attempt_id, values)


def finish_transfer(conn: Connection, transfer_id: int, values: dict[str, Any]) -> Finish:
    return _finish(conn, Transfer, transfer_id, values)


_NEXT_TICKET_SEQ = {
    name: dialect.insert(TicketNumberCounter)
    .values(prefix=bindparam("prefix"), last_seq=1)
    .on_conflict_do_update(
        index_elements=["prefix"], set_={"last_seq": TicketNumberCounter.last_seq + 1}
    )
    .returning(TicketNumberCounter.last_seq)
    for name, dialect in (("postgresql", pg), ("sqlite", sqlite))
}
_INSERT_TICKET = insert(Ticket).returning(Ticket.id)
_TICKET_BY_KEY = select(Ticket.id).where(Ticket.idempotency_key == bindparam("key"))


def create_ticket(
    conn: Connection,
    *,
    prefix: str,
    seq_digits: int,
    values: dict[str, Any],
    event_data: dict[str, Any],
) -> int:
    """Draw the next number under `prefix` and insert the ticket with its "created"
    event, all in the caller's transaction; the new ticket's id.

    Raises LookupError if `call_id` or `transfer_id` names nothing. A ticket whose
    `idempotency_key` is already in the table is not made again: its id is returned.
    """
    key = values.get("idempotency_key")
    if key is not None:
        found = conn.execute(_TICKET_BY_KEY, {"key": key}).scalar()
        if found is not None:
            return int(found)
    for model, key in ((Call, "call_id"), (Transfer, "transfer_id")):
        row_id = values[key]
        if row_id is not None and conn.execute(_EXISTS[model], {"b_id": row_id}).first() is None:
            raise LookupError(f"no {model.__tablename__} row with id {row_id}")
    seq = conn.execute(_NEXT_TICKET_SEQ[conn.dialect.name], {"prefix": prefix}).scalar_one()
    number = f"{prefix}{seq:0{seq_digits}d}"
    ticket_id: int = conn.execute(_INSERT_TICKET, {**values, "number": number}).scalar_one()
    conn.execute(
        _INSERT_TICKET_EVENT,
        {
            "ticket_id": ticket_id,
            "at": values["created_at"],
            "kind": "created",
            "data": {"number": number, **event_data},
        },
    )
    return ticket_id


_DISASTER_ACTIVE = (
    select(ServiceMode.active)
    .where(
        ServiceMode.mode == "disaster",
        ServiceMode.changed_at <= bindparam("at", type_=UTCDateTime()),
    )
    .order_by(ServiceMode.changed_at.desc(), ServiceMode.id.desc())
    .limit(1)
)


def disaster_active(conn: Connection, at: datetime) -> bool:
    """Whether the latest switch of disaster mode up to `at` turned it on."""
    return bool(conn.execute(_DISASTER_ACTIVE, {"at": at}).scalar())
