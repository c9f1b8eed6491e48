"""The audit log of personal data: every view, unmasking, export and de-identification.

Rows form a hash chain. Each row's `hash` is SHA-256 over the previous row's hash and
this row's own fields, so changing or deleting a row afterwards shows in `verify`.
Appends take a lock first (PostgreSQL: a transaction-level advisory lock; SQLite: the
database write lock, taken by an empty UPDATE before the read), so two processes never
chain onto the same predecessor.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection

from ivr.domain.vocabulary import RoutingAudit, ServiceAudit, values
from ivr.store.models import AuditEntry, require_utc_aware

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore

GENESIS = "0" * 64
# "signin": a console sign-in, successful or refused (issue 16).
ACTIONS = (
    "view",
    "unmask",
    "export",
    "callback",
    "deidentify",
    "retention",
    "limit",
    *values(RoutingAudit),
    *values(ServiceAudit),
    "signin",
    # "transfer": an agent moved a live caller from the console's screen pop (issue 16).
    "transfer",
    # "threeway": an agent conferenced 110/119 into a live call from the console.
    "threeway",
)
# An arbitrary constant naming the audit chain's lock among PostgreSQL advisory locks.
_PG_LOCK_KEY = 1999_0013
_LENGTHS = {"who": 64, "action": 32, "subject": 64, "detail": 256, "reason": 512}


def os_user() -> str:
    """Who is at the keyboard: the account of the process's real uid, not $USER.

    $USER is whatever the caller's environment says; the uid is what the kernel says.
    """
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    who: str
    action: str
    subject: str
    detail: str | None
    reason: str | None
    prev_hash: str
    hash: str


def chain_hash(
    prev_hash: str,
    *,
    at: datetime,
    who: str,
    action: str,
    subject: str,
    detail: str | None,
    reason: str | None,
) -> str:
    """The hash a row carries: over its predecessor's hash and its own fields."""
    body = json.dumps(
        [prev_hash, at.isoformat(), who, action, subject, detail, reason],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _clip(name: str, value: str | None) -> str | None:
    # An audit row is never refused for a long reason: it is clipped, and says so.
    limit = _LENGTHS[name]
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def _append(conn: Connection, values: dict[str, object]) -> int:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    else:
        # A no-op write first takes SQLite's write lock before the read below, so no
        # other process can append between our read of the last hash and our insert.
        conn.execute(update(AuditEntry).where(AuditEntry.id == -1).values(who=""))
    last = conn.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    at = values["at"]
    assert isinstance(at, datetime)
    row = {
        **values,
        "prev_hash": prev,
        "hash": chain_hash(
            prev,
            at=at,
            who=str(values["who"]),
            action=str(values["action"]),
            subject=str(values["subject"]),
            detail=values["detail"],  # type: ignore[arg-type]
            reason=values["reason"],  # type: ignore[arg-type]
        ),
    }
    new_id = conn.execute(insert(AuditEntry).returning(AuditEntry.id), row).scalar_one()
    return int(new_id)


def append_in(
    conn: Connection,
    *,
    at: datetime,
    who: str,
    action: str,
    subject: str,
    detail: str | None = None,
    reason: str | None = None,
) -> int:
    """Append one audit row inside a caller's transaction (commits or rolls back with it)."""
    return _append(conn, _values(at, who, action, subject, detail, reason))


def _values(
    at: datetime, who: str, action: str, subject: str, detail: str | None, reason: str | None
) -> dict[str, object]:
    if action not in ACTIONS:
        raise ValueError(f"audit action must be one of {', '.join(ACTIONS)}; got {action!r}")
    # The row is hashed as stored: UTC, to the microsecond both backends keep.
    return {
        "at": require_utc_aware(at, "at"),
        "who": _clip("who", who) or "?",
        "action": action,
        "subject": _clip("subject", subject) or "?",
        "detail": _clip("detail", detail),
        "reason": _clip("reason", reason),
    }


async def record(
    store: CaseStore,
    *,
    at: datetime,
    who: str,
    action: str,
    subject: str,
    detail: str | None = None,
    reason: str | None = None,
) -> int:
    """Append one audit row and return its id; committed before this returns."""
    row = _values(at, who, action, subject, detail, reason)
    return await store._write(lambda conn: _append(conn, row))


def _record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=row.at,
        who=row.who,
        action=row.action,
        subject=row.subject,
        detail=row.detail,
        reason=row.reason,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


async def entries(
    store: CaseStore,
    *,
    who: str | None = None,
    since: datetime | None = None,
    subject: str | None = None,
    limit: int | None = None,
) -> list[AuditRecord]:
    """Audit rows oldest first, filtered; `subject` matches a prefix (`ticket:`)."""
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    if who is not None:
        stmt = stmt.where(AuditEntry.who == who)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= require_utc_aware(since, "since"))
    if subject is not None:
        stmt = stmt.where(AuditEntry.subject.startswith(subject, autoescape=True))
    if limit is not None:
        stmt = stmt.order_by(None).order_by(AuditEntry.id.desc()).limit(limit)
    async with store._session() as session:
        rows = [_record(r) for r in (await session.scalars(stmt)).all()]
    return sorted(rows, key=lambda r: r.id)


@dataclass(frozen=True)
class ChainBreak:
    id: int
    problem: str


def verify_chain(rows: list[AuditRecord]) -> ChainBreak | None:
    """The first row whose link or hash does not hold, or None for an intact chain."""
    prev = GENESIS
    for row in rows:
        if row.prev_hash != prev:
            return ChainBreak(row.id, "links to a row that is not the one before it")
        expected = chain_hash(
            prev,
            at=row.at,
            who=row.who,
            action=row.action,
            subject=row.subject,
            detail=row.detail,
            reason=row.reason,
        )
        if row.hash != expected:
            return ChainBreak(row.id, "its contents changed after it was written")
        prev = row.hash
    return None
