"""Tables of routing versions (migration 0012): published versions, drafts, settings.

A published version is kept whole and never changed: `routing_versions` rows are only
inserted. `(profile, number)` is unique, and a publish inserts `number = base + 1`: of
two publishes based on the same version, the database lets exactly one in, and the
other is told it is stale (optimistic locking on the version number).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.models import Base, UTCDateTime


class RoutingVersion(Base):
    """One published version of a profile's routing: every table file, as written."""

    __tablename__ = "routing_versions"
    __table_args__ = (UniqueConstraint("profile", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    profile: Mapped[str] = mapped_column(String(64), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    # file name -> text; the whole profile, so any version can be exported or restored.
    files: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    published_by: Mapped[str] = mapped_column(String(64), nullable=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    comment: Mapped[str] = mapped_column(String(500), nullable=False)
    # What it came from: a draft, an earlier version (a rollback), or an import from disk.
    draft_id: Mapped[int | None] = mapped_column(Integer)
    rollback_of: Mapped[int | None] = mapped_column(Integer)
    approved_by: Mapped[str | None] = mapped_column(String(64))


class RoutingDraft(Base):
    """A copy of a version an admin edits; it never has to be valid until it is published."""

    __tablename__ = "routing_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    profile: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    # The version it was copied from; publishing it makes version base + 1.
    base: Mapped[int] = mapped_column(Integer, nullable=False)
    files: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    # Bumped by each edit: an edit or approval made on an older revision is stale.
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # The approval is of this content: an edit after it clears it.
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_digest: Mapped[str | None] = mapped_column(String(64))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    scheduled_by: Mapped[str | None] = mapped_column(String(64))
    scheduled_comment: Mapped[str | None] = mapped_column(String(500))
    # Why the last publish of it was refused (the checker's lines), for the admin.
    refusal: Mapped[str | None] = mapped_column(Text)
    published_version: Mapped[int | None] = mapped_column(Integer)
    # A client-made key: creating the same draft twice (a retried request) makes one.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class RoutingProfileSetting(Base):
    """Per profile: whether a supervisor must approve a draft before it is published."""

    __tablename__ = "routing_profile_settings"

    profile: Mapped[str] = mapped_column(String(64), primary_key=True)
    two_person_rule: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    set_by: Mapped[str] = mapped_column(String(64), nullable=False)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class CallRoutingVersion(Base):
    """The routing a call was served by: its profile, content digest and version number.

    Keyed by the channel's uniqueid (the calls table's natural key) so it can be written
    from the call's first moment without waiting for the call's row.
    """

    __tablename__ = "call_routing_versions"

    uniqueid: Mapped[str] = mapped_column(String(64), primary_key=True)
    profile: Mapped[str] = mapped_column(String(64), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    # None: the tables served were not a published version (edited on disk by hand).
    version: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
