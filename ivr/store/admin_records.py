"""Operators' writes as records: a service mode switched, a day closed or opened again.

Each adds a history row keyed by its record ("insert, skip on conflict"), like the
engine's writes in `ivr.store.write_records`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, ClassVar

from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from ivr.store.checks import check_lengths, require_one_of
from ivr.store.models import SERVICE_MODES, CalendarClosure, ServiceMode
from ivr.store.write_records import Write, _aware

_DIALECTS = (("postgresql", pg), ("sqlite", sqlite))


def _insert_or_skip(model: type[ServiceMode | CalendarClosure]) -> dict[str, Any]:
    return {
        name: dialect.insert(model).on_conflict_do_nothing(index_elements=["idempotency_key"])
        for name, dialect in _DIALECTS
    }


_INSERT_MODE = _insert_or_skip(ServiceMode)
_INSERT_CLOSURE = _insert_or_skip(CalendarClosure)


@dataclass(frozen=True, kw_only=True)
class SetMode(Write[None]):
    tag: ClassVar[str] = "set_mode"
    key: str
    mode: str
    active: bool
    at: datetime
    by: str
    note: str | None = None

    def __post_init__(self) -> None:
        _aware(self, "at")
        require_one_of(self.mode, SERVICE_MODES, "mode")
        check_lengths(ServiceMode, {"changed_by": self.by, "note": self.note})

    def run(self, conn: Connection) -> None:
        values = {
            "mode": self.mode,
            "active": self.active,
            "changed_at": self.at,
            "changed_by": self.by,
            "note": self.note,
            "idempotency_key": self.key,
        }
        conn.execute(_INSERT_MODE[conn.dialect.name], values)


@dataclass(frozen=True, kw_only=True)
class SetClosure(Write[None]):
    """`by` closed `day` (from `closes_at`, or all day), or opened it again."""

    tag: ClassVar[str] = "set_closure"
    key: str
    day: date
    closed: bool
    at: datetime
    by: str
    reason: str | None = None
    closes_at: time | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        _aware(self, "at")
        if self.closed and not self.reason:
            raise ValueError("a closure needs a reason, e.g. typhoon")
        if self.closes_at is not None and self.closes_at.tzinfo is not None:
            raise ValueError("closes_at is a local wall-clock time, without a zone")
        check_lengths(
            CalendarClosure, {"changed_by": self.by, "note": self.note, "reason": self.reason}
        )

    def run(self, conn: Connection) -> None:
        values = {
            "day": self.day,
            "closed": self.closed,
            "reason": self.reason,
            "closes_at": self.closes_at,
            "changed_at": self.at,
            "changed_by": self.by,
            "note": self.note,
            "idempotency_key": self.key,
        }
        conn.execute(_INSERT_CLOSURE[conn.dialect.name], values)
