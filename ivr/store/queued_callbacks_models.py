"""The queued_callbacks tables (migration 0015_queued_callbacks).

A waiting caller who asked to be called back keeps their place: one row per callback
(the caller's call, queue, language and confirmed number), and one row per attempt
with the deterministic ARI channel id it was originated with and how it ended.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.models import Base, UTCDateTime, key_column


class QueuedCallback(Base):
    __tablename__ = "queued_callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The caller's uniqueid and queue: one request per waiting caller per queue.
    idempotency_key: Mapped[str] = key_column()
    uniqueid: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    call_id: Mapped[int | None] = mapped_column(Integer)
    queue: Mapped[str] = mapped_column(String(64), nullable=False)
    language: Mapped[str] = mapped_column(String(16), nullable=False)
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)
    # When the caller first joined the queue: where the virtual entry joins it.
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # QueuedCallbackState: waiting, calling, completed, ticketed.
    state: Mapped[str] = mapped_column(String(16), index=True, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ticket_number: Mapped[str | None] = mapped_column(String(32))


class QueuedCallbackAttempt(Base):
    __tablename__ = "queued_callback_attempts"
    __table_args__ = (UniqueConstraint("callback_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("queued_callbacks.id"), index=True, nullable=False
    )
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    # The ARI channel id of the citizen half: `qcb-<callback>-<attempt>`.
    channel_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # CallbackAttemptOutcome; `in_flight` until the end is known.
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    # Asterisk's word for the end (DIALSTATUS, or queue-<QUEUESTATUS>).
    status: Mapped[str | None] = mapped_column(String(32))
