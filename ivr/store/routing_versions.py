"""Routing versions in the case store: published versions, settings, calls served.

Thin: SQL only. What may be published, and how, is `ivr.routing.publish`'s. Every
change writes its audit row in the same transaction as the change itself, so a change
is never without its record, nor a record without its change.

Optimistic locking: a publish inserts version `base + 1`, and `(profile, number)` is
unique. Two publishes based on the same version cannot both get in: the second is
refused with `StaleVersion`, naming the version that won. Drafts, and the changes
to one before it is published, are `ivr.store.routing_drafts`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ivr.domain.vocabulary import DraftState, RoutingAudit
from ivr.routing.versions import Change, digest
from ivr.store.audit import append_in
from ivr.store.models import require_utc_aware
from ivr.store.routing_drafts import (
    approve,
    create_draft,
    discard,
    draft,
    drafts,
    due,
    refuse,
    schedule,
    update_draft,
)
from ivr.store.routing_versions_models import (
    CallRoutingVersion,
    RoutingDraft,
    RoutingProfileSetting,
    RoutingVersion,
)
from ivr.store.routing_versions_records import (
    MAX_COMMENT,
    DraftRecord,
    NotFound,
    StaleVersion,
    VersionError,
    VersionRecord,
    audit_detail,
    checked_comment,
)

# Everything callers import from here, moved pieces included.
__all__ = [
    "MAX_COMMENT",
    "DraftRecord",
    "NotFound",
    "StaleVersion",
    "VersionError",
    "VersionRecord",
    "approve",
    "audit_detail",
    "create_draft",
    "discard",
    "draft",
    "drafts",
    "due",
    "head",
    "import_version",
    "number_for_digest",
    "record_call",
    "refuse",
    "schedule",
    "set_two_person_rule",
    "two_person_rule",
    "update_draft",
    "version",
    "version_of_call",
    "versions",
]

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore


def _version(row: RoutingVersion) -> VersionRecord:
    return VersionRecord(
        profile=row.profile,
        number=row.number,
        files=dict(row.files),
        digest=row.digest,
        published_by=row.published_by,
        published_at=row.published_at,
        comment=row.comment,
        draft_id=row.draft_id,
        rollback_of=row.rollback_of,
        approved_by=row.approved_by,
    )


# ---------------------------------------------------------------- reading


async def head(store: CaseStore, profile: str) -> VersionRecord | None:
    """The newest published version of `profile`, or None before the first."""
    stmt = (
        select(RoutingVersion)
        .where(RoutingVersion.profile == profile)
        .order_by(RoutingVersion.number.desc())
        .limit(1)
    )
    async with store._session() as session:
        row = (await session.scalars(stmt)).first()
    return None if row is None else _version(row)


async def version(store: CaseStore, profile: str, number: int) -> VersionRecord:
    stmt = select(RoutingVersion).where(
        RoutingVersion.profile == profile, RoutingVersion.number == number
    )
    async with store._session() as session:
        row = (await session.scalars(stmt)).first()
    if row is None:
        raise NotFound(f"{profile}: no version {number}")
    return _version(row)


async def versions(store: CaseStore, profile: str) -> list[VersionRecord]:
    """Every published version of `profile`, newest first."""
    stmt = (
        select(RoutingVersion)
        .where(RoutingVersion.profile == profile)
        .order_by(RoutingVersion.number.desc())
    )
    async with store._session() as session:
        return [_version(r) for r in (await session.scalars(stmt)).all()]


async def number_for_digest(store: CaseStore, profile: str, content: str) -> int | None:
    """The newest published version whose content has this digest."""
    stmt = select(func.max(RoutingVersion.number)).where(
        RoutingVersion.profile == profile, RoutingVersion.digest == content
    )
    async with store._session() as session:
        found = (await session.execute(stmt)).scalar()
    return None if found is None else int(found)


async def two_person_rule(store: CaseStore, profile: str) -> bool:
    async with store._session() as session:
        row = await session.get(RoutingProfileSetting, profile)
    return bool(row is not None and row.two_person_rule)


async def version_of_call(store: CaseStore, uniqueid: str) -> CallRoutingVersion | None:
    async with store._session() as session:
        row = await session.get(CallRoutingVersion, uniqueid)
        if row is not None:
            session.expunge(row)
    return row


# ---------------------------------------------------------------- writing


def _stale(profile: str, number: int, winner: Any = None) -> StaleVersion:
    who = f" by {winner.published_by} at {winner.published_at:%Y-%m-%d %H:%M} UTC" if winner else ""
    return StaleVersion(
        f"{profile}: version {number} was already published{who}; this change was based "
        f"on version {number - 1}: look at the new version, then make the change again on it"
    )


def _insert_version(conn: Connection, values: dict[str, Any]) -> VersionRecord:
    winner = conn.execute(
        select(RoutingVersion.published_by, RoutingVersion.published_at).where(
            RoutingVersion.profile == values["profile"],
            RoutingVersion.number >= values["number"],
        )
    ).first()
    if winner is not None:
        raise _stale(values["profile"], values["number"], winner)
    # Two publishers past the check above at once: the unique (profile, number) lets
    # one in; the other's IntegrityError becomes StaleVersion in `import_version`.
    conn.execute(insert(RoutingVersion), values)
    row = conn.execute(
        select(RoutingVersion).where(
            RoutingVersion.profile == values["profile"],
            RoutingVersion.number == values["number"],
        )
    ).one()
    return VersionRecord(
        profile=row.profile,
        number=row.number,
        files=dict(row.files),
        digest=row.digest,
        published_by=row.published_by,
        published_at=values["published_at"],
        comment=row.comment,
        draft_id=row.draft_id,
        rollback_of=row.rollback_of,
        approved_by=row.approved_by,
    )


async def import_version(
    store: CaseStore,
    profile: str,
    files: Mapping[str, str],
    *,
    base: int,
    by: str,
    at: datetime,
    comment: str,
    rollback_of: int | None = None,
    draft_id: int | None = None,
    approved_by: str | None = None,
    changes: Sequence[Change] = (),
    action: RoutingAudit = RoutingAudit.PUBLISH,
    address: str | None = None,
) -> VersionRecord:
    """Insert version `base + 1` (or `StaleVersion`), mark its draft published, audit it."""
    at = require_utc_aware(at, "at")
    note = checked_comment(comment)
    values: dict[str, Any] = {
        "profile": profile,
        "number": base + 1,
        "files": dict(files),
        "digest": digest(files),
        "published_by": by,
        "published_at": at,
        "comment": note,
        "draft_id": draft_id,
        "rollback_of": rollback_of,
        "approved_by": approved_by,
    }

    def op(conn: Connection) -> VersionRecord:
        made = _insert_version(conn, values)
        if draft_id is not None:
            done = conn.execute(
                update(RoutingDraft)
                .where(RoutingDraft.id == draft_id, RoutingDraft.state == DraftState.OPEN)
                .values(
                    state=DraftState.PUBLISHED,
                    published_version=made.number,
                    refusal=None,
                    updated_at=at,
                )
            )
            if done.rowcount != 1:
                raise StaleVersion(f"draft {draft_id} is no longer open")
        source = (
            f"rollback to v{rollback_of}"
            if rollback_of
            else f"draft {draft_id}"
            if draft_id
            else "import"
        )
        where = f" from {address}" if address else ""
        append_in(
            conn,
            at=at,
            who=by,
            action=action,
            subject=f"routing:{profile}:v{made.number}",
            detail=audit_detail(changes, f"v{made.number} ({source}){where}"),
            reason=note,
        )
        return made

    try:
        return await store._write(op)
    except IntegrityError:
        raise _stale(profile, base + 1) from None


async def set_two_person_rule(
    store: CaseStore, profile: str, *, on: bool, by: str, at: datetime
) -> None:
    at = require_utc_aware(at, "at")

    def op(conn: Connection) -> None:
        done = conn.execute(
            update(RoutingProfileSetting)
            .where(RoutingProfileSetting.profile == profile)
            .values(two_person_rule=on, set_by=by, set_at=at)
        )
        if done.rowcount == 0:
            conn.execute(
                insert(RoutingProfileSetting),
                {"profile": profile, "two_person_rule": on, "set_by": by, "set_at": at},
            )
        append_in(
            conn,
            at=at,
            who=by,
            action=RoutingAudit.SETTING,
            subject=f"routing:{profile}",
            detail=f"two-person rule {'on' if on else 'off'}",
        )

    await store._write(op)


async def record_call(
    store: CaseStore,
    *,
    uniqueid: str,
    profile: str,
    content: str,
    number: int | None,
    at: datetime,
) -> None:
    """Note which routing served a call: insert once, a repeat changes nothing."""
    values = {
        "uniqueid": uniqueid,
        "profile": profile,
        "digest": content,
        "version": number,
        "at": require_utc_aware(at, "at"),
    }

    def op(conn: Connection) -> None:
        exists = conn.execute(
            select(CallRoutingVersion.uniqueid).where(CallRoutingVersion.uniqueid == uniqueid)
        ).first()
        if exists is None:
            conn.execute(insert(CallRoutingVersion), values)

    try:
        await store._write(op)
    except IntegrityError:
        return  # a concurrent note for the same call: the first one stands
