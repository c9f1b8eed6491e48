"""Routing versions in the case store: drafts, approvals, published versions, settings.

Thin: SQL only. What may be published, and how, is `ivr.routing.publish`'s. Every
change writes its audit row in the same transaction as the change itself, so a change
is never without its record, nor a record without its change.

Optimistic locking: a publish inserts version `base + 1`, and `(profile, number)` is
unique. Two publishes based on the same version cannot both get in: the second is
refused with `StaleVersion`, naming the version that won. Draft edits and approvals
carry the draft's revision the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ivr.domain.vocabulary import DraftState, RoutingAudit
from ivr.errors import ExitStatus, HotlineError
from ivr.routing.versions import Change, digest
from ivr.store.audit import append_in
from ivr.store.models import require_utc_aware
from ivr.store.routing_versions_models import (
    CallRoutingVersion,
    RoutingDraft,
    RoutingProfileSetting,
    RoutingVersion,
)

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore

MAX_COMMENT = 500


class VersionError(HotlineError):
    """A routing-version operation refused with a reason an admin can act on."""

    code = "routing.version"


class StaleVersion(VersionError):
    """Someone else changed it first: reload, look, and try again."""

    code = "routing.stale_version"
    exit_status = ExitStatus.REFUSED


class NotFound(VersionError):
    code = "routing.version_not_found"
    exit_status = ExitStatus.NOT_FOUND
    pass


@dataclass(frozen=True)
class VersionRecord:
    profile: str
    number: int
    files: Mapping[str, str]
    digest: str
    published_by: str
    published_at: datetime
    comment: str
    draft_id: int | None
    rollback_of: int | None
    approved_by: str | None

    def summary(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "number": self.number,
            "digest": self.digest,
            "published_by": self.published_by,
            "published_at": self.published_at.isoformat(),
            "comment": self.comment,
            "draft_id": self.draft_id,
            "rollback_of": self.rollback_of,
            "approved_by": self.approved_by,
        }


@dataclass(frozen=True)
class DraftRecord:
    id: int
    profile: str
    base: int
    files: Mapping[str, str]
    digest: str
    revision: int
    state: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    approved_digest: str | None
    scheduled_at: datetime | None
    scheduled_by: str | None
    scheduled_comment: str | None
    refusal: str | None
    published_version: int | None

    @property
    def approved(self) -> bool:
        """Approved as it is now: an edit after the approval clears it."""
        return self.approved_by is not None and self.approved_digest == self.digest

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "profile": self.profile,
            "base": self.base,
            "digest": self.digest,
            "revision": self.revision,
            "state": self.state,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "updated_by": self.updated_by,
            "updated_at": self.updated_at.isoformat(),
            "approved_by": self.approved_by if self.approved else None,
            "scheduled_at": self.scheduled_at.isoformat() if self.scheduled_at else None,
            "scheduled_by": self.scheduled_by,
            "refusal": self.refusal,
            "published_version": self.published_version,
        }


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


def audit_detail(changes: Sequence[Change], prefix: str) -> str:
    """What an audit row says of a diff: how many changes and the first of them.

    The audit row's detail is short; the versions it names are kept whole, so the
    full diff can always be made again from them.
    """
    head = f"{prefix}; {len(changes)} change(s)"
    return "; ".join([head, *(str(c) for c in changes[:3])])


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


def _comment(comment: str) -> str:
    comment = comment.strip()
    if not comment:
        raise VersionError("a comment is required: say what changed and why")
    if len(comment) > MAX_COMMENT:
        raise VersionError(f"a comment is at most {MAX_COMMENT} characters")
    return comment


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
    note = _comment(comment)
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
    note = _comment(comment or "") if when is not None else None

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
