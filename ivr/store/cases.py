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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ivr.domain.cases.numbers import case_number
from ivr.domain.cases.workflow import ClockStart, Move
from ivr.domain.vocabulary import CaseAction
from ivr.store.case_facts import ReportFacts, report_facts
from ivr.store.case_reads import CaseReader
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
from ivr.store.cases_models import CallService, Case, CaseClockRow, CaseCounter, CaseEvent, CaseLink
from ivr.store.models import clip_to_column, require_utc_aware

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
    "ClockRecord",
    "LinkRecord",
    "NewCase",
    "ReportFacts",
]

# Fields `apply` may change besides the state: what an action records on the case.
UPDATABLE = frozenset(
    {
        "agency_id",
        "unit_id",
        "officer",
        "grade",
        "reply",
        "item",
        "variant",
        "category",
        "nothing_found",
        "satisfaction",
        "merged_into_id",
        "converted_to_id",
        "first_reply_at",
        "closed_at",
        "deidentified_at",
        "summary",
        "caller_number",
        "caller_name",
        "caller_email",
        "caller_address",
    }
)

_NEXT_SEQ = {
    name: dialect.insert(CaseCounter)
    .values(profile=bindparam("profile"), last_seq=bindparam("n"))
    .on_conflict_do_update(
        index_elements=["profile"], set_={"last_seq": CaseCounter.last_seq + bindparam("n")}
    )
    .returning(CaseCounter.last_seq)
    for name, dialect in (("postgresql", pg), ("sqlite", sqlite))
}


def _insert_skip(conn: Connection | AsyncConnection, model: type[Any]) -> Any:
    dialect = pg if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing(index_elements=["idempotency_key"])


def _check(new: NewCase) -> dict[str, Any]:
    if new.kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {new.kind!r}")
    values_ = {f.name: getattr(new, f.name) for f in fields(new)}
    values_["created_at"] = require_utc_aware(new.created_at, "created_at")
    for name, value in values_.items():
        if isinstance(value, str) and clip_to_column(Case, name, value) != value:
            raise ValueError(f"{name} is longer than the store keeps")
    if not new.summary.strip():
        raise ValueError("a case needs a summary of the matter")
    return values_


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
        batch: Sequence[
            tuple[NewCase, Sequence[ClockStart], int | None, int | None, dict[str, Any]]
        ],
        *,
        who: str,
        recorded_at: datetime | None = None,
    ) -> list[tuple[CaseRecord, bool]]:
        """Make every case of `batch` in one transaction: all of them, or none.

        A key already in the store, or repeated within the batch, makes one case.
        """
        rows = [
            (_check(new), clocks, call, ticket, data) for new, clocks, call, ticket, data in batch
        ]
        keys = [r[0]["idempotency_key"] for r in rows if r[0]["idempotency_key"]]
        try:
            ids = await self._insert_batch(rows, keys, who=who, recorded_at=recorded_at)
        except IntegrityError as exc:
            if keys and "idempotency_key" in str(exc.orig):
                # A concurrent write with the same key won: return what it made.
                return await self.create_many(batch, who=who, recorded_at=recorded_at)
            raise LookupError(f"a linked call or ticket does not exist: {exc.orig}") from exc
        wanted = sorted({case_id for case_id, _ in ids})
        records: dict[int, CaseRecord] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            records.update(
                {r.id: r for r in await self._load(select(Case).where(Case.id.in_(chunk)))}
            )
        out = []
        for case_id, made in ids:
            out.append((records[case_id], made))
        return out

    async def _insert_batch(
        self,
        rows: list[
            tuple[dict[str, Any], Sequence[ClockStart], int | None, int | None, dict[str, Any]]
        ],
        keys: list[str],
        *,
        who: str,
        recorded_at: datetime | None,
    ) -> list[tuple[int, bool]]:
        async with self._engine.begin() as conn:
            known = await self._ids_by_key(conn, keys)
            fresh: set[str] = set()
            count = 0
            for values_, *_ in rows:
                key = values_["idempotency_key"]
                if key is None or (key not in known and key not in fresh):
                    count += 1
                    if key is not None:
                        fresh.add(key)
            seq = 0
            if count:
                last = (
                    await conn.execute(
                        _NEXT_SEQ[conn.dialect.name], {"profile": self.profile, "n": count}
                    )
                ).scalar_one()
                seq = int(last) - count + 1
            out: list[tuple[int, bool]] = []
            for values_, clocks, call, ticket, data in rows:
                key = values_["idempotency_key"]
                if key is not None and key in known:
                    out.append((known[key], False))
                    continue
                number = case_number(seq)
                seq += 1
                at = values_["created_at"]
                stamp = require_utc_aware(recorded_at or at, "recorded_at")
                row = {**values_, "profile": self.profile, "number": number, "recorded_at": stamp}
                case_id = int(
                    (await conn.execute(insert(Case).returning(Case.id), row)).scalar_one()
                )
                if key is not None:
                    known[key] = case_id
                await self._start_clocks(conn, case_id, clocks)
                await conn.execute(
                    insert(CaseEvent),
                    {
                        "case_id": case_id,
                        "at": at,
                        "who": who,
                        "action": CaseAction.CREATED,
                        "state": row["state"],
                        "text": None,
                        "data": {"number": number, "kind": row["kind"], **data},
                    },
                )
                for linked, column, role in (
                    (call, "call_id", "call"),
                    (ticket, "ticket_id", "absorbed"),
                ):
                    if linked is not None:
                        await conn.execute(
                            insert(CaseLink),
                            {"case_id": case_id, column: linked, "role": role, "at": at},
                        )
                out.append((case_id, True))
            return out

    async def _ids_by_key(self, conn: AsyncConnection, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = await conn.execute(
                select(Case.idempotency_key, Case.id).where(Case.idempotency_key.in_(chunk))
            )
            found.update({str(k): int(i) for k, i in rows.all()})
        return found

    async def _start_clocks(
        self, conn: AsyncConnection, case_id: int, clocks: Iterable[ClockStart]
    ) -> None:
        rows = [
            {
                "case_id": case_id,
                "clock": c.clock,
                "started_at": require_utc_aware(c.started_at, "started_at"),
                "due_at": require_utc_aware(c.due_at, "due_at"),
                "stopped_at": None,
            }
            for c in clocks
        ]
        if rows:
            await conn.execute(insert(CaseClockRow), rows)

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
    ) -> tuple[CaseRecord, bool]:
        """Record `action` and its `move` on `case`; (the case after, applied now).

        The case must still be in the state it was read in: CaseChanged otherwise.
        A `key` already used applies nothing and returns the case as it is.
        """
        at = require_utc_aware(at, "at")
        changes = dict(changes or {})
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))} this way")
        for name, value in changes.items():
            if isinstance(value, str) and clip_to_column(Case, name, value) != value:
                raise ValueError(f"{name} is longer than the store keeps")
        if text is not None and clip_to_column(CaseEvent, "text", text) != text:
            raise ValueError("the text is longer than the store keeps")
        async with self._engine.begin() as conn:
            if key is not None:
                done = (
                    await conn.execute(select(CaseEvent.id).where(CaseEvent.idempotency_key == key))
                ).first()
                if done is not None:
                    current = await self.get(case.id)
                    assert current is not None
                    return current, False
            moved = await conn.execute(
                update(Case)
                .where(Case.id == case.id, Case.state == case.state)
                .values(state=move.state, **changes)
            )
            if moved.rowcount != 1:
                raise CaseChanged(f"case {case.number} changed since it was read")
            if move.stop:
                await conn.execute(
                    update(CaseClockRow)
                    .where(
                        CaseClockRow.case_id == case.id,
                        CaseClockRow.clock.in_([str(c) for c in move.stop]),
                        CaseClockRow.stopped_at.is_(None),
                    )
                    .values(stopped_at=at)
                )
            await self._start_clocks(conn, case.id, move.start)
            await conn.execute(
                _insert_skip(conn, CaseEvent),
                {
                    "case_id": case.id,
                    "at": at,
                    "who": who,
                    "action": action,
                    "state": move.state,
                    "text": text,
                    "data": {**dict(move.extra), **dict(data or {})},
                    "idempotency_key": key,
                },
            )
        after = await self.get(case.id)
        assert after is not None
        return after, True

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
        if service not in KINDS:
            raise ValueError(f"service must be one of {', '.join(KINDS)}; got {service!r}")
        async with self._engine.begin() as conn:
            done = await conn.execute(
                _insert_skip(conn, CallService),
                {
                    "call_id": call_id,
                    "service": service,
                    "agency_id": agency_id,
                    "agent_id": agent_id,
                    "case_id": case_id,
                    "at": require_utc_aware(at, "at"),
                    "idempotency_key": key,
                },
            )
        return bool(done.rowcount)

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
