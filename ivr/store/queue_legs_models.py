"""The queue_legs table (migration 0013): one caller's stay in one queue.

Waiting and talking are told apart: when the caller joined, who answered and when,
when the conversation ended, and how the stay ended.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.models import Base, UTCDateTime


class QueueLeg(Base):
    __tablename__ = "queue_legs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Made from the caller's uniqueid, the queue and the join time: one AMI join event
    # makes one row however often it is handled.
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True, nullable=False)
    # The caller's channel (calls.uniqueid): no foreign key, a fallback caller the
    # engine never saw still has a stay.
    uniqueid: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    queue: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    language: Mapped[str | None] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agent: Mapped[str | None] = mapped_column(String(64))
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hold_s: Mapped[float | None] = mapped_column(Float)
    talk_s: Mapped[float | None] = mapped_column(Float)
    # QueueLegOutcome: waiting, answered, transferred, abandoned, left.
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    capped: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
