"""Routing drafts in the case store: reading them, and every change to one before it is
published (create, edit, approve, schedule, refuse, discard).

Thin: SQL only, like `ivr.store.routing_versions`, which publishes a draft. Every change
writes its audit row in the same transaction, and edits and approvals carry the draft's
revision, so a change made on an old look at the draft is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ivr.domain.vocabulary import DraftState, RoutingAudit
from ivr.routing.versions import Change, digest
from ivr.store.audit import append_in
from ivr.store.models import require_utc_aware
from ivr.store.routing_versions_models import RoutingDraft
from ivr.store.routing_versions_records import (
    DraftRecord,
    NotFound,
    StaleVersion,
    VersionError,
    audit_detail,
    checked_comment,
)

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore


def _draft(row: RoutingDraft) -> DraftRecord:
    return DraftRecord(
        id=row.id,
        profile=row.profile,
        base=row.base,
        files=dict(row.files),
        digest=row.digest,
        revision=row.revision,
        state=row.state,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        approved_digest=row.approved_digest,
        scheduled_at=row.scheduled_at,
        scheduled_by=row.scheduled_by,
        scheduled_comment=row.scheduled_comment,
        refusal=row.refusal,
        published_version=row.published_version,
    )


# ---------------------------------------------------------------- reading


async def draft(store: CaseStore, draft_id: int) -> DraftRecord:
    async with store._session() as session:
        row = await session.get(RoutingDraft, draft_id)
    if row is None:
        raise NotFound(f"no draft {draft_id}")
    return _draft(row)


async def drafts(
    store: CaseStore, profile: str, *, state: str | None = DraftState.OPEN
) -> list[DraftRecord]:
    stmt = select(RoutingDraft).where(RoutingDraft.profile == profile).order_by(RoutingDraft.id)
    if state is not None:
        stmt = stmt.where(RoutingDraft.state == state)
    async with store._session() as session:
        return [_draft(r) for r in (await session.scalars(stmt)).all()]


async def due(store: CaseStore, now: datetime) -> list[DraftRecord]:
    """Open drafts whose scheduled time has come, oldest first."""
    stmt = (
        select(RoutingDraft)
        .where(
            RoutingDraft.state == DraftState.OPEN,
            RoutingDraft.scheduled_at.is_not(None),
            RoutingDraft.scheduled_at <= require_utc_aware(now, "now"),
        )
        .order_by(RoutingDraft.scheduled_at, RoutingDraft.id)
    )
    async with store._session() as session:
        return [_draft(r) for r in (await session.scalars(stmt)).all()]


# ---------------------------------------------------------------- writing


async def create_draft(
    store: CaseStore,
    profile: str,
    files: Mapping[str, str],
    *,
    base: int,
    by: str,
    at: datetime,
    idempotency_key: str | None = None,
    note: str | None = None,
) -> DraftRecord:
    """A new open draft; the same idempotency key twice gives the first draft back."""
    at = require_utc_aware(at, "at")
    values = {
        "profile": profile,
        "base": base,
        "files": dict(files),
        "digest": digest(files),
        "revision": 1,
        "state": DraftState.OPEN.value,
        "created_by": by,
        "created_at": at,
        "updated_by": by,
        "updated_at": at,
        "idempotency_key": idempotency_key,
    }

    def op(conn: Connection) -> int:
        if idempotency_key is not None:
            known = conn.execute(
                select(RoutingDraft.id).where(RoutingDraft.idempotency_key == idempotency_key)
            ).scalar()
            if known is not None:
                return int(known)
        new_id = int(
            conn.execute(insert(RoutingDraft).returning(RoutingDraft.id), values).scalar_one()
        )
        append_in(
            conn,
            at=at,
            who=by,
            action=RoutingAudit.DRAFT,
            subject=f"routing:{profile}:draft:{new_id}",
            detail=f"draft {new_id} from v{base}",
            reason=note,
        )
        return new_id

    try:
        draft_id = await store._write(op)
    except IntegrityError:
        # Lost a race with the same key: the other one stands.
        draft_id = await store._write(op)
    return await draft(store, draft_id)


def _change_draft(
    conn: Connection,
    draft_id: int,
    *where: Any,
    values: dict[str, Any],
    refused: VersionError,
    by: str,
    at: datetime,
    action: RoutingAudit,
    detail: str | None = None,
    reason: str | None = None,
) -> None:
    """Change one draft row and audit it; raise `refused` when no row matched `where`."""
    done = conn.execute(
        update(RoutingDraft).where(RoutingDraft.id == draft_id, *where).values(**values)
    )
    if done.rowcount != 1:
        raise refused
    append_in(
        conn,
        at=at,
        who=by,
        action=action,
        subject=f"routing:draft:{draft_id}",
        detail=detail,
        reason=reason,
    )


async def update_draft(
    store: CaseStore,
    draft_id: int,
    files: Mapping[str, str],
    *,
    revision: int,
    by: str,
    at: datetime,
    changes: Sequence[Change] = (),
    address: str | None = None,
) -> DraftRecord:
    """Replace the draft's files if it is still at `revision`; clears an approval."""
    at = require_utc_aware(at, "at")
    content = digest(files)

    where = f" from {address}" if address else ""

    def op(conn: Connection) -> None:
        _change_draft(
            conn,
            draft_id,
            RoutingDraft.revision == revision,
            RoutingDraft.state == DraftState.OPEN,
            values={
                "files": dict(files),
                "digest": content,
                "revision": revision + 1,
                "updated_by": by,
                "updated_at": at,
            },
            refused=StaleVersion(
                f"draft {draft_id} changed since revision {revision} (or is closed): "
                "reload it and make the change again"
            ),
            by=by,
            at=at,
            action=RoutingAudit.EDIT,
            detail=audit_detail(changes, f"draft {draft_id} r{revision + 1}{where}"),
        )

    await store._write(op)
    return await draft(store, draft_id)


async def approve(
    store: CaseStore, draft_id: int, *, revision: int, by: str, at: datetime
) -> DraftRecord:
    """A second person approves the draft as it is now (maker-checker)."""
    at = require_utc_aware(at, "at")
    current = await draft(store, draft_id)
    if by in {current.created_by, current.updated_by}:
        raise VersionError(f"{by} made or edited draft {draft_id}: another person must approve it")

    def op(conn: Connection) -> None:
        _change_draft(
            conn,
            draft_id,
            RoutingDraft.revision == revision,
            RoutingDraft.state == DraftState.OPEN,
            values={"approved_by": by, "approved_at": at, "approved_digest": current.digest},
            refused=StaleVersion(
                f"draft {draft_id} changed since revision {revision}: look at it again"
            ),
            by=by,
            at=at,
            action=RoutingAudit.APPROVE,
            detail=f"draft {draft_id} r{revision} sha256:{current.digest[:16]}",
        )

    await store._write(op)
    return await draft(store, draft_id)


async def schedule(
    store: CaseStore,
    draft_id: int,
    *,
    when: datetime | None,
    comment: str | None,
    by: str,
    at: datetime,
) -> DraftRecord:
    """Publish the draft at `when` (checked again then); None cancels the schedule."""
    at = require_utc_aware(at, "at")
    when = None if when is None else require_utc_aware(when, "when")
    note = checked_comment(comment or "") if when is not None else None

    def op(conn: Connection) -> None:
        _change_draft(
            conn,
            draft_id,
            RoutingDraft.state == DraftState.OPEN,
            values={
                "scheduled_at": when,
                "scheduled_by": by if when else None,
                "scheduled_comment": note,
            },
            refused=NotFound(f"no open draft {draft_id}"),
            by=by,
            at=at,
            action=RoutingAudit.SCHEDULE,
            detail=f"publish at {when.isoformat()}" if when else "schedule cancelled",
            reason=note,
        )

    await store._write(op)
    return await draft(store, draft_id)


async def refuse(
    store: CaseStore, draft_id: int, *, reason: str, by: str, at: datetime, unschedule: bool
) -> None:
    """Keep why a publish of the draft was refused; a refused schedule is cleared."""
    at = require_utc_aware(at, "at")

    def op(conn: Connection) -> None:
        values: dict[str, Any] = {"refusal": reason}
        if unschedule:
            values.update(scheduled_at=None)
        conn.execute(update(RoutingDraft).where(RoutingDraft.id == draft_id).values(**values))
        append_in(
            conn,
            at=at,
            who=by,
            action=RoutingAudit.REFUSED,
            subject=f"routing:draft:{draft_id}",
            detail=reason.splitlines()[0] if reason else None,
            reason=reason,
        )

    await store._write(op)


async def discard(store: CaseStore, draft_id: int, *, by: str, at: datetime) -> None:
    at = require_utc_aware(at, "at")

    def op(conn: Connection) -> None:
        _change_draft(
            conn,
            draft_id,
            RoutingDraft.state == DraftState.OPEN,
            values={
                "state": DraftState.DISCARDED,
                "scheduled_at": None,
                "updated_by": by,
                "updated_at": at,
            },
            refused=NotFound(f"no open draft {draft_id}"),
            by=by,
            at=at,
            action=RoutingAudit.DISCARD,
        )

    await store._write(op)
