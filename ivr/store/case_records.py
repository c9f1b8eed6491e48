"""What the case store hands out and takes in: typed records, no SQL.

`NewCase` is what a case starts with; `CaseRecord` (with its clocks), `CaseEventRecord`
and `LinkRecord` are what the store reads back. `CaseChanged` is the conditional
update's refusal: the case moved since it was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr.domain.vocabulary import CaseAction, CaseClock, CaseKind, CaseState, values
from ivr.errors import ExitStatus, HotlineError

KINDS = values(CaseKind)
STATES = values(CaseState)
CLOCKS = values(CaseClock)
ACTIONS = values(CaseAction)
LINK_ROLES = ("call", "absorbed", "callback")


class CaseChanged(HotlineError):
    """The case moved since it was read; read it again and decide again."""

    code = "case.changed"
    exit_status = ExitStatus.REFUSED


class CaseNotFound(HotlineError, LookupError):
    code = "case.not_found"
    exit_status = ExitStatus.NOT_FOUND
    pass


@dataclass(frozen=True)
class NewCase:
    """Everything a case starts with; the store adds its number and id."""

    kind: CaseKind
    agency_id: str
    summary: str
    created_at: datetime
    caller_number: str | None = None
    caller_key: str | None = None
    caller_name: str | None = None
    caller_email: str | None = None
    caller_address: str | None = None
    language: str | None = None
    address: str | None = None
    district: str | None = None
    lat: float | None = None
    lon: float | None = None
    item: int | None = None
    variant: str | None = None
    category: str | None = None
    unit_id: str | None = None
    officer: str | None = None
    password_hash: str | None = None
    from_paper: bool = False
    idempotency_key: str | None = None
    state: CaseState = CaseState.OPEN


@dataclass(frozen=True)
class ClockRecord:
    clock: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None


@dataclass(frozen=True)
class CaseEventRecord:
    id: int
    at: datetime
    who: str
    action: str
    state: str
    text: str | None
    data: Mapping[str, Any]


@dataclass(frozen=True)
class LinkRecord:
    role: str
    call_id: int | None
    ticket_id: int | None
    at: datetime


@dataclass(frozen=True)
class CaseRecord:
    id: int
    profile: str
    number: str
    kind: str
    state: str
    caller_number: str | None
    caller_key: str | None
    caller_name: str | None
    caller_email: str | None
    caller_address: str | None
    language: str | None
    address: str | None
    district: str | None
    lat: float | None
    lon: float | None
    item: int | None
    variant: str | None
    category: str | None
    agency_id: str
    unit_id: str | None
    officer: str | None
    grade: str | None
    summary: str
    reply: str | None
    nothing_found: bool
    satisfaction: int | None
    password_hash: str | None
    merged_into_id: int | None
    converted_to_id: int | None
    created_at: datetime
    recorded_at: datetime
    first_reply_at: datetime | None
    closed_at: datetime | None
    deidentified_at: datetime | None
    from_paper: bool
    idempotency_key: str | None
    clocks: tuple[ClockRecord, ...] = ()

    @property
    def running(self) -> frozenset[str]:
        return frozenset(c.clock for c in self.clocks if c.stopped_at is None)

    def due(self, clock: str) -> datetime | None:
        """The due time of the newest run of `clock`, running or not."""
        runs = [c for c in self.clocks if c.clock == clock]
        return runs[-1].due_at if runs else None
