"""What the store's routing versions hand back: the records, the errors, and the checks
every write shares (the comment rule, the audit row's summary of a diff).

Kept apart from the SQL so the draft and version modules can both use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr.errors import ExitStatus, HotlineError
from ivr.routing.versions import Change

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


def audit_detail(changes: Sequence[Change], prefix: str) -> str:
    """What an audit row says of a diff: how many changes and the first of them.

    The audit row's detail is short; the versions it names are kept whole, so the
    full diff can always be made again from them.
    """
    head = f"{prefix}; {len(changes)} change(s)"
    return "; ".join([head, *(str(c) for c in changes[:3])])


def checked_comment(comment: str) -> str:
    comment = comment.strip()
    if not comment:
        raise VersionError("a comment is required: say what changed and why")
    if len(comment) > MAX_COMMENT:
        raise VersionError(f"a comment is at most {MAX_COMMENT} characters")
    return comment
