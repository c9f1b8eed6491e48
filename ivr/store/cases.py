"""Store of cases: all their SQL, on the repository's engine. No clock, no rules.

`CaseBook` takes the async engine the case store already has (`CaseBook.of(store)`)
and one profile's name, since case numbers are unique per profile. Each write is one
transaction and is idempotent: a write carrying an idempotency key that is already in
the table changes nothing and returns what the first write made.

State changes are conditional: `apply` moves a case only from the state the caller
decided on (`UPDATE … WHERE state = :expected`), so two officers acting at once
cannot both win; the loser gets `CaseChanged` and decides again.

The records live in `ivr.store.case_records`, the reads in `ivr.store.case_reads` and
the monthly report's counts in `ivr.store.case_facts`; their names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ivr.domain.cases.workflow import ClockStart, Move
from ivr.domain.vocabulary import CaseAction
from ivr.store.bulk_rows import insert_rows
from ivr.store.case_bulk import UPDATABLE, Change, apply_changes, insert_cases
from ivr.store.case_facts import ReportFacts, report_facts
from ivr.store.case_reads import CaseReader, KeyUse
from ivr.store.case_records import (
    ACTIONS,
    CLOCKS,
    KINDS,
    LINK_ROLES,
    STATES,
    CaseChanged,
    CaseEventRecord,
    CaseNotFound,
    CaseRecord,
    ClockRecord,
    LinkRecord,
    NewCase,
)
from ivr.store.cases_models import CallService, Case, CaseEvent, CaseLink
from ivr.store.models import clip_to_column, require_utc_aware
from ivr.store.outbox_models import OutboxMessage

__all__ = [
    "ACTIONS",
    "CLOCKS",
    "KINDS",
    "LINK_ROLES",
    "STATES",
    "UPDATABLE",
    "CaseBook",
    "CaseChanged",
    "CaseEventRecord",
    "CaseNotFound",
    "CaseRecord",
    "Change",
    "ClockRecord",
    "KeyUse",
    "LinkRecord",
    "NewCase",
    "ReportFacts",
    "ServiceLog",
]

# One case for `create_many`: the case, its clocks, its call, the ticket it absorbs,
# and data for its "created" event.
NewEntry = tuple[NewCase, Sequence[ClockStart], int | None, int | None, dict[str, Any]]


_NEW_FIELDS = tuple(f.name for f in fields(NewCase))


def _check(new: NewCase) -> dict[str, Any]:
    if new.kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {new.kind!r}")
    values_ = {name: getattr(new, name) for name in _NEW_FIELDS}
    values_["created_at"] = require_utc_aware(new.created_at, "created_at")
    for name, value in values_.items():
        if isinstance(value, str) and clip_to_column(Case, name, value) != value:
            raise ValueError(f"{name} is longer than the store keeps")
    if not new.summary.strip():
        raise ValueError("a case needs a summary of the matter")
    return values_


@dataclass(frozen=True)
class ServiceLog:
    """The service type an agent logged for a call (T2(1)), for `log_services`."""

    service: str
    at: datetime
    call_id: int | None = None
    agency_id: str | None = None
    agent_id: str | None = None
    case_id: int | None = None
    idempotency_key: str | None = None


_LOG_FIELDS = tuple(f.name for f in fields(ServiceLog))


class CaseBook(CaseReader):
    """Cases of one profile, on the case store's engine: the reads, and every write."""

    # -- creating ------------------------------------------------------------------

    async def create(
        self,
        new: NewCase,
        clocks: Sequence[ClockStart] = (),
        *,
        who: str,
        call_id: int | None = None,
        ticket_id: int | None = None,
        recorded_at: datetime | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> tuple[CaseRecord, bool]:
        """Make a case with its number, clocks and "created" event; (record, made now).

        With a key already used, nothing is written and the first case comes back
        with False. `ticket_id` is a callback ticket the case absorbs.
        """
        made = await self.create_many(
            [(new, clocks, call_id, ticket_id, dict(data or {}))],
            who=who,
            recorded_at=recorded_at,
        )
        return made[0]

    async def create_many(
        self,
        batch: Sequence[NewEntry],
        *,
        who: str,
        recorded_at: datetime | None = None,
    ) -> list[tuple[CaseRecord, bool]]:
        """Make every case of `batch` in one transaction: all of them, or none.

        A key already in the store, or repeated within the batch, makes one case.
        """
        ids = await self.insert_many(batch, who=who, recorded_at=recorded_at)
        wanted = sorted({case_id for case_id, _ in ids})
        records: dict[int, CaseRecord] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            records.update(
                {r.id: r for r in await self._load(select(Case).where(Case.id.in_(chunk)))}
            )
        return [(records[case_id], made) for case_id, made in ids]

    async def insert_many(
        self,
        batch: Sequence[NewEntry],
        *,
        who: str,
        recorded_at: datetime | None = None,
    ) -> list[tuple[int, bool]]:
        """`create_many` without reading the cases back: (id, made now) per entry.

        One statement per table for the whole batch (`ivr.store.case_bulk`), so a
        month of cases loads in seconds; the same checks, numbering and keys.
        """
        rows = [
            (_check(new), clocks, call, ticket, data) for new, clocks, call, ticket, data in batch
        ]
        keys = [r[0]["idempotency_key"] for r in rows if r[0]["idempotency_key"]]
        try:
            async with self._engine.begin() as conn:
                return await insert_cases(
                    conn, self.profile, rows, who=who, recorded_at=recorded_at
                )
        except IntegrityError as exc:
            if keys and "idempotency_key" in str(exc.orig):
                # A concurrent write with the same key won: return what it made.
                return await self.insert_many(batch, who=who, recorded_at=recorded_at)
            raise LookupError(f"a linked call or ticket does not exist: {exc.orig}") from exc

    # -- changing ------------------------------------------------------------------

    async def apply(
        self,
        case: CaseRecord,
        action: CaseAction,
        move: Move,
        *,
        at: datetime,
        who: str,
        text: str | None = None,
        changes: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        key: str | None = None,
        messages: Sequence[Mapping[str, Any]] = (),
    ) -> tuple[CaseRecord, bool]:
        """Record `action` and its `move` on `case`; (the case after, applied now).

        The case must still be in the state it was read in: CaseChanged otherwise.
        A `key` already used applies nothing and returns the case as it is.
        `messages` are outbox rows the move owes, written in its transaction.
        """
        change = Change(
            case.id,
            case.number,
            case.state,
            action,
            move,
            at,
            who,
            text,
            dict(changes or {}),
            dict(data or {}),
            key,
            tuple(messages),
        )
        (applied,) = await self.apply_many([change])
        after = await self.get(case.id)
        assert after is not None
        return after, applied

    async def apply_many(self, changes: Sequence[Change]) -> list[bool]:
        """Apply every change in one transaction, or none; per change, applied now.

        Each case must still be in its change's `expected` state (CaseChanged
        otherwise, and nothing is written); a change whose key was used applies
        nothing. One change per case per call.
        """
        if not changes:
            return []
        async with self._engine.begin() as conn:
            return await apply_changes(conn, changes)

    async def link(
        self,
        case_id: int,
        *,
        at: datetime,
        call_id: int | None = None,
        ticket_id: int | None = None,
        role: str = "call",
    ) -> bool:
        """Link a call or a ticket to a case; False when it was linked already."""
        if role not in LINK_ROLES:
            raise ValueError(f"role must be one of {', '.join(LINK_ROLES)}")
        if (call_id is None) == (ticket_id is None):
            raise ValueError("link one call or one ticket")
        column = CaseLink.call_id if call_id is not None else CaseLink.ticket_id
        async with self._engine.begin() as conn:
            found = (
                await conn.execute(
                    select(CaseLink.id).where(
                        CaseLink.case_id == case_id, column == (call_id or ticket_id)
                    )
                )
            ).first()
            if found is not None:
                return False
            await conn.execute(
                insert(CaseLink),
                {
                    "case_id": case_id,
                    "call_id": call_id,
                    "ticket_id": ticket_id,
                    "role": role,
                    "at": require_utc_aware(at, "at"),
                },
            )
        return True

    async def log_service(
        self,
        *,
        service: str,
        at: datetime,
        call_id: int | None = None,
        agency_id: str | None = None,
        agent_id: str | None = None,
        case_id: int | None = None,
        key: str | None = None,
    ) -> bool:
        """Log the service type of a call (T2(1)); False when `key` was logged already."""
        log = ServiceLog(service, at, call_id, agency_id, agent_id, case_id, key)
        return await self.log_services([log]) == 1

    async def log_services(self, logs: Sequence[ServiceLog]) -> int:
        """Log many calls' service types in one transaction; how many were new.

        Each is checked as `log_service` checks it; a key already logged is skipped.
        """
        rows = []
        for log in logs:
            if log.service not in KINDS:
                raise ValueError(f"service must be one of {', '.join(KINDS)}; got {log.service!r}")
            row = {name: getattr(log, name) for name in _LOG_FIELDS}
            rows.append({**row, "at": require_utc_aware(log.at, "at")})
        if not rows:
            return 0
        async with self._engine.begin() as conn:
            return await insert_rows(conn, CallService, rows, skip_on=["idempotency_key"])

    async def queue_messages(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Put outbox rows (`ivr.store.outbox.message_values`) in the outbox in one
        transaction, all or none; how many were new (a key already queued is skipped)."""
        if not rows:
            return 0
        async with self._engine.begin() as conn:
            return await insert_rows(conn, OutboxMessage, rows, skip_on=["idempotency_key"])

    async def mask_events(self, case_id: int, masked: Mapping[int, str]) -> None:
        """Replace the text of the given events (id → text) with their masked text."""
        if not masked:
            return
        async with self._engine.begin() as conn:
            for event_id, text in masked.items():
                await conn.execute(
                    update(CaseEvent)
                    .where(CaseEvent.id == event_id, CaseEvent.case_id == case_id)
                    .values(text=text)
                )

    # -- the monthly report --------------------------------------------------------

    async def report_facts(self, start: datetime, end: datetime) -> ReportFacts:
        """Counts for `ivr report cases`, grouped in SQL; reply times for the median."""
        return await report_facts(self._engine, self.profile, start, end)
