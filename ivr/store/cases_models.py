"""Tables of cases: petitions, dispatch orders and the rest, with their clocks and history.

They must match migration 0010 exactly (`test_models_match_migrations`). Enumerated
columns are checked in Python against `ivr.domain.vocabulary`, as the other tables
are, so adding a word needs no table rebuild on SQLite.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.models import Base, UTCDateTime


class Case(Base):
    """One case. `number` is unique per profile and read over the phone."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("profile", "number"),
        Index("ix_cases_kind_created_at", "kind", "created_at"),
        # The month's report reads one profile's cases of one month, not all of them.
        Index("ix_cases_profile_created_at", "profile", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    profile: Mapped[str] = mapped_column(String(32), nullable=False)
    number: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(16), index=True, nullable=False)
    # The citizen. `caller_key` is a hash of the number, kept after de-identification
    # so that three strikes (T6(6)2) still recognises the same citizen.
    caller_number: Mapped[str | None] = mapped_column(String(32))
    caller_key: Mapped[str | None] = mapped_column(String(64), index=True)
    caller_name: Mapped[str | None] = mapped_column(String(64))
    caller_email: Mapped[str | None] = mapped_column(String(254))
    caller_address: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    # Where a dispatch order's work is (published as open data: H 104.10.08).
    address: Mapped[str | None] = mapped_column(String(200))
    district: Mapped[str | None] = mapped_column(String(16))
    lat: Mapped[float | None] = mapped_column(Double)
    lon: Mapped[float | None] = mapped_column(Double)
    item: Mapped[int | None] = mapped_column(Integer)
    variant: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64))
    agency_id: Mapped[str] = mapped_column(String(32), nullable=False)
    unit_id: Mapped[str | None] = mapped_column(String(32))
    officer: Mapped[str | None] = mapped_column(String(64))
    grade: Mapped[str | None] = mapped_column(String(1))
    summary: Mapped[str] = mapped_column(String(4000), nullable=False)
    reply: Mapped[str | None] = mapped_column(String(8000))
    # Dispatch: the crew found nothing to do (counts towards three strikes).
    nothing_found: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    # argon2id hash of the petition password (P6(2)1); the password itself is never kept.
    password_hash: Mapped[str | None] = mapped_column(String(128))
    merged_into_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("cases.id", ondelete="SET NULL")
    )
    converted_to_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("cases.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)
    # When the record reached the store: later than created_at for a back-filled case.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deidentified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Back-filled from a paper log after an outage (P6(4)).
    from_paper: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class CaseCounter(Base):
    """Last case sequence handed out per profile; bumped in the inserting transaction."""

    __tablename__ = "case_counters"

    profile: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False)


class CaseClockRow(Base):
    """One run of one deadline: started, due, and stopped when it was met or ended."""

    __tablename__ = "case_clocks"
    __table_args__ = (Index("ix_case_clocks_open_due", "stopped_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False
    )
    clock: Mapped[str] = mapped_column(String(16), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseEvent(Base):
    """The case's history: every state change and note, with who and when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    who: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(24), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str | None] = mapped_column(String(8000))
    data: Mapped[dict[str, Any]] = mapped_column(
        JSON, nullable=False, default=dict, server_default=sql_text("'{}'")
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class CaseLink(Base):
    """A call a case came from, a ticket it absorbed, or a callback it spawned."""

    __tablename__ = "case_links"
    __table_args__ = (
        UniqueConstraint("case_id", "call_id"),
        UniqueConstraint("case_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False
    )
    call_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    # "call", "absorbed" (a ticket that became this case) or "callback" (one it spawned).
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class CallService(Base):
    """The service type an agent logged for a call (T2(1)): every call, case or not."""

    __tablename__ = "call_services"
    # Covers the monthly count per service type and agency: no table lookups.
    __table_args__ = (Index("ix_call_services_at_service", "at", "service", "agency_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    service: Mapped[str] = mapped_column(String(16), nullable=False)
    agency_id: Mapped[str | None] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
