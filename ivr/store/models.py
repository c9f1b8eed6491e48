"""Typed declarative models for the case store.

These must match the migrations (0001 to 0003, 0005 to 0007, 0009) exactly;
`test_models_match_migrations` holds them to it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ivr.domain.vocabulary import AgentState as AgentStateWord
from ivr.domain.vocabulary import (
    AttemptRole,
    CallOutcome,
    DialStatus,
    TicketReason,
    TicketStatus,
    TransferInitiator,
    TransferResult,
    values,
)
from ivr.domain.vocabulary import ServiceMode as ServiceModeWord

# The values each enumerated column may hold, from the one vocabulary. The repository
# checks them in Python rather than with CHECK constraints, so adding a value needs no
# table rebuild on SQLite.
SERVICE_MODES = values(ServiceModeWord)
AGENT_STATES = values(AgentStateWord)
TRANSFER_INITIATORS = values(TransferInitiator)
TRANSFER_RESULTS = values(TransferResult)
ATTEMPT_ROLES = values(AttemptRole)
DIAL_STATUSES = values(DialStatus)
TICKET_REASONS = values(TicketReason)
TICKET_STATUSES = values(TicketStatus)
CALL_OUTCOMES = values(CallOutcome)

# Explicit constraint names, so migrations can name what they alter or drop and the
# names are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def require_utc_aware(value: datetime, name: str = "datetime") -> datetime:
    """Return `value` converted to UTC; raise ValueError if it carries no offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


def clip_to_column(model: type[Base], name: str, value: str | None) -> str | None:
    """`value` cut to the declared length of `model.name`; None stays None."""
    length = getattr(model.__table__.c[name].type, "length", None)
    if value is None or length is None or len(value) <= length:
        return value
    return value[:length]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetime that always comes back as UTC.

    SQLite has no timestamp type: SQLAlchemy stores a fixed-width string and drops the
    offset, so we normalise to UTC before storing and re-attach UTC on the way out.
    PostgreSQL stores `timestamptz` natively.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = require_utc_aware(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def key_column() -> Mapped[str]:
    """The key the writer made for the write that added the row (0009): replaying the
    write finds it taken and adds nothing."""
    return mapped_column(String(64), unique=True, nullable=False)


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    linkedid: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    channel: Mapped[str] = mapped_column(String(128), nullable=False)
    caller_number: Mapped[str | None] = mapped_column(String(64))
    caller_name: Mapped[str | None] = mapped_column(String(128))
    dnid: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_cause_text: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))
    mode: Mapped[str | None] = mapped_column(String(32))
    # Set once the retention job masked its number, name and event data (P12).
    deidentified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # lazy="raise": under asyncio an implicit lazy load would fail obscurely, so every
    # query that needs events must ask for them.
    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call",
        order_by="CallEvent.seq",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
    )


class CallEvent(Base):
    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("call_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("calls.id", ondelete="CASCADE"), index=True, nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    kind: Mapped[str] = mapped_column(String(48), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(
        JSON, nullable=False, default=dict, server_default=text("'{}'")
    )
    idempotency_key: Mapped[str] = key_column()

    call: Mapped[Call] = relationship(back_populates="events", lazy="raise")


class ServiceMode(Base):
    """One switch of a service mode on or off; the newest row per mode is in force."""

    __tablename__ = "service_modes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mode: Mapped[str] = mapped_column(String(32), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[str | None] = mapped_column(String(256))
    idempotency_key: Mapped[str] = key_column()


class CalendarClosure(Base):
    """One declaration that a local day is closed (a typhoon day) or open again.

    The newest row per day is in force; earlier rows stay as the audit trail.
    """

    __tablename__ = "calendar_closures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True, nullable=False)
    closed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(64))
    # Local wall-clock time the closure starts; NULL for the whole day.
    closes_at: Mapped[time | None] = mapped_column(Time())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[str | None] = mapped_column(String(256))
    idempotency_key: Mapped[str] = key_column()


class AgentState(Base):
    __tablename__ = "agent_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(32), index=True, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    queues: Mapped[list[str]] = mapped_column(
        JSON, nullable=False, default=list, server_default=text("'[]'")
    )
    reason: Mapped[str | None] = mapped_column(String(64))
    call_uniqueid: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = key_column()


class SurveyRating(Base):
    __tablename__ = "survey_ratings"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("calls.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    agent_id: Mapped[str | None] = mapped_column(String(32))
    queue: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    idempotency_key: Mapped[str] = key_column()


class Transfer(Base):
    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("calls.id", ondelete="CASCADE"), index=True, nullable=False
    )
    initiated_by: Mapped[str] = mapped_column(String(16), nullable=False)
    agency_id: Mapped[str] = mapped_column(String(32), nullable=False)
    unit_id: Mapped[str] = mapped_column(String(32), nullable=False)
    # Indexed for the monthly report, which selects transfers by when they started.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[str | None] = mapped_column(String(32))
    answered_by: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = key_column()

    # viewonly: the repository writes these rows with explicit statements (to number
    # them race-free); relationships here only load.
    attempts: Mapped[list[DialAttempt]] = relationship(
        foreign_keys="DialAttempt.transfer_id",
        order_by="DialAttempt.seq",
        lazy="raise",
        viewonly=True,
    )


class DialAttempt(Base):
    """One Dial() towards one target, for a live transfer or for a ticket's callback."""

    __tablename__ = "dial_attempts"
    __table_args__ = (
        # A click-to-callback belongs to a ticket and has no transfer: each attempt has
        # exactly one parent, whose own count `seq` continues.
        CheckConstraint("(transfer_id IS NULL) <> (ticket_id IS NULL)", name="one_parent"),
        UniqueConstraint("transfer_id", "seq"),
        UniqueConstraint("ticket_id", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("transfers.id", ondelete="CASCADE")
    )
    ticket_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    target: Mapped[str] = mapped_column(String(64), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dialstatus: Mapped[str | None] = mapped_column(String(16))
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    ring_seconds: Mapped[float | None] = mapped_column(Double)
    idempotency_key: Mapped[str] = key_column()


class Ticket(Base):
    """A callback owed to a citizen whose transfer could not be completed."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    # SET NULL: a citizen's ticket outlives the call records it came from.
    call_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    transfer_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("transfers.id", ondelete="SET NULL"), index=True
    )
    caller_number: Mapped[str] = mapped_column(String(32), nullable=False)
    agency_id: Mapped[str] = mapped_column(String(32), nullable=False)
    unit_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(24), nullable=False)
    status: Mapped[str] = mapped_column(String(16), index=True, nullable=False)
    overdue: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)
    # Indexed for the overdue scan, which the scheduler runs every few minutes.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)
    message_path: Mapped[str | None] = mapped_column(String(256))
    language: Mapped[str | None] = mapped_column(String(16))  # the callback's language (0013)
    assignee: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(256))
    # Made when the store returned from an outage: the caller heard no number (0007).
    after_outage: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    # Made by the engine before the write, so a replayed write makes the ticket once.
    idempotency_key: Mapped[str] = key_column()
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notified_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once the retention job masked its number, notes and events (P12).
    deidentified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    notes: Mapped[list[TicketNote]] = relationship(
        order_by="TicketNote.id", lazy="raise", viewonly=True
    )
    callback_attempts: Mapped[list[DialAttempt]] = relationship(
        foreign_keys="DialAttempt.ticket_id",
        order_by="DialAttempt.seq",
        lazy="raise",
        viewonly=True,
    )
    transfer: Mapped[Transfer | None] = relationship(lazy="raise", viewonly=True)


class TicketNote(Base):
    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), index=True, nullable=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    author: Mapped[str] = mapped_column(String(64), nullable=False)
    text: Mapped[str] = mapped_column(String(2000), nullable=False)
    idempotency_key: Mapped[str] = key_column()


class TicketEvent(Base):
    """Audit trail: one row for every change made to a ticket, in the order made."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), index=True, nullable=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(
        JSON, nullable=False, default=dict, server_default=text("'{}'")
    )


class TicketNumberCounter(Base):
    """Last sequence number handed out per ticket-number prefix (YYMM, Taipei time).

    Incremented with an upsert in the transaction that inserts the ticket: the row
    lock (PostgreSQL) or the database write lock (SQLite) makes concurrent creations
    take turns, so no two tickets get the same number and no retry loop is needed.
    """

    __tablename__ = "ticket_number_counters"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False)


class AuditEntry(Base):
    """One view of personal data, or one act on it: who, when, what and why.

    Rows form a hash chain: each carries the hash of the one before it, so a row
    changed or deleted afterwards breaks `ivr audit verify`.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)
    who: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    subject: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    detail: Mapped[str | None] = mapped_column(String(256))
    reason: Mapped[str | None] = mapped_column(String(512))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
