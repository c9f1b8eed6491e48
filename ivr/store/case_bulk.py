"""Writing many cases, or many moves, in one transaction with one statement per table.

`CaseBook.create_many` and `CaseBook.apply_many` run here. They keep every rule of the
one-case writes (checked values, numbers from the per-profile counter, idempotency
keys, conditional state changes, a history row per action) but send each table's rows
in one statement (`ivr.store.bulk_rows`: an `executemany` on SQLite, the rows unnested
from arrays on PostgreSQL) instead of a round trip per row: a paper log of a day, or a
month of cases, is written in seconds instead of minutes.

Ids of new cases come back by their numbers (unique per profile): from the INSERT's
RETURNING on PostgreSQL, read back on SQLite.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ivr.domain.cases.numbers import case_number
from ivr.domain.cases.workflow import ClockStart, Move
from ivr.domain.vocabulary import CaseAction
from ivr.store.bulk_rows import (
    insert_returning,
    insert_rows,
    prefer_indexes,
    update_rows,
    where_in,
)
from ivr.store.case_records import CaseChanged
from ivr.store.cases_models import Case, CaseClockRow, CaseCounter, CaseEvent, CaseLink
from ivr.store.models import clip_to_column, require_utc_aware
from ivr.store.outbox import INSERT_MESSAGE

# Ids per IN (...) list: within every supported database's limit on bound parameters.
CHUNK = 500

# Fields a move may change besides the state: what an action records on the case.
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

# One new case as `create_many` takes it: checked values, clocks, call, ticket, event data.
NewRow = tuple[dict[str, Any], Sequence[ClockStart], int | None, int | None, dict[str, Any]]


@dataclass(frozen=True)
class Change:
    """One action on one case, as `apply` takes it, for `apply_many`."""

    case_id: int
    number: str
    # The state the case was read in: the move applies only if it is still so.
    expected: str
    action: CaseAction
    move: Move
    at: datetime
    who: str
    text: str | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    key: str | None = None
    # Outbox rows (`ivr.store.outbox.message_values`) the move owes: written in its
    # transaction, so a move is never without its notice nor a notice without its move.
    messages: tuple[Mapping[str, Any], ...] = ()


def check_change(change: Change) -> None:
    """Refuse what `apply` refuses: unknown fields, values too long, a naive time."""
    require_utc_aware(change.at, "at")
    unknown = set(change.changes) - UPDATABLE
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))} this way")
    for name, value in change.changes.items():
        if isinstance(value, str) and clip_to_column(Case, name, value) != value:
            raise ValueError(f"{name} is longer than the store keeps")
    if change.text is not None and clip_to_column(CaseEvent, "text", change.text) != change.text:
        raise ValueError("the text is longer than the store keeps")


async def ids_by_key(conn: AsyncConnection, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        rows = await conn.execute(
            select(Case.idempotency_key, Case.id).where(where_in(conn, Case.idempotency_key, chunk))
        )
        found.update({str(k): int(i) for k, i in rows.all()})
    return found


def clock_rows(case_id: int, clocks: Sequence[ClockStart]) -> list[dict[str, Any]]:
    return [
        {
            "case_id": case_id,
            "clock": c.clock,
            "started_at": require_utc_aware(c.started_at, "started_at"),
            "due_at": require_utc_aware(c.due_at, "due_at"),
            "stopped_at": None,
        }
        for c in clocks
    ]


async def insert_cases(
    conn: AsyncConnection,
    profile: str,
    rows: Sequence[NewRow],
    *,
    who: str,
    recorded_at: datetime | None,
) -> list[tuple[int, bool]]:
    """Insert the new cases of `rows` in the open transaction; (id, made now) per row.

    A key already in the store, or repeated within `rows`, makes one case: the later
    rows get its id and False.
    """
    await prefer_indexes(conn)
    keys = [r[0]["idempotency_key"] for r in rows if r[0]["idempotency_key"]]
    known = await ids_by_key(conn, keys)
    # Per row: the index of its new case in `fresh`, or the id of the case it already is.
    plan: list[tuple[int | None, int | None]] = []
    fresh: list[NewRow] = []
    first_of: dict[str, int] = {}
    for row in rows:
        key = row[0]["idempotency_key"]
        if key is not None and key in known:
            plan.append((None, known[key]))
        elif key is not None and key in first_of:
            plan.append((first_of[key], None))
        else:
            if key is not None:
                first_of[key] = len(fresh)
            plan.append((len(fresh), None))
            fresh.append(row)
    new_ids: list[int] = []
    if fresh:
        new_ids = await _insert_fresh(conn, profile, fresh, who=who, recorded_at=recorded_at)
    out: list[tuple[int, bool]] = []
    seen: set[int] = set()
    for index, existing in plan:
        if existing is not None:
            out.append((existing, False))
            continue
        assert index is not None
        case_id = new_ids[index]
        out.append((case_id, case_id not in seen))
        seen.add(case_id)
    return out


async def _insert_fresh(
    conn: AsyncConnection,
    profile: str,
    fresh: Sequence[NewRow],
    *,
    who: str,
    recorded_at: datetime | None,
) -> list[int]:
    last = (
        await conn.execute(_NEXT_SEQ[conn.dialect.name], {"profile": profile, "n": len(fresh)})
    ).scalar_one()
    first_seq = int(last) - len(fresh) + 1
    numbers = [case_number(first_seq + i) for i in range(len(fresh))]
    case_rows = []
    for (values_, *_), number in zip(fresh, numbers, strict=True):
        stamp = require_utc_aware(recorded_at or values_["created_at"], "recorded_at")
        case_rows.append({**values_, "profile": profile, "number": number, "recorded_at": stamp})
    made = await insert_returning(conn, Case, case_rows, (Case.number, Case.id))
    if made is None:
        made = []
        for start in range(0, len(numbers), CHUNK):
            chunk = numbers[start : start + CHUNK]
            found = await conn.execute(
                select(Case.number, Case.id).where(Case.profile == profile, Case.number.in_(chunk))
            )
            made += [tuple(r) for r in found.all()]
    by_number = {str(n): int(i) for n, i in made}
    ids = [by_number[n] for n in numbers]
    clocks: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for (values_, starts, call, ticket, data), row, case_id in zip(
        fresh, case_rows, ids, strict=True
    ):
        at = values_["created_at"]
        clocks += clock_rows(case_id, starts)
        events.append(
            {
                "case_id": case_id,
                "at": at,
                "who": who,
                "action": CaseAction.CREATED,
                "state": row["state"],
                "text": None,
                "data": {"number": row["number"], "kind": row["kind"], **data},
            }
        )
        for linked, role in ((call, "call"), (ticket, "absorbed")):
            if linked is not None:
                links.append(
                    {
                        "case_id": case_id,
                        "call_id": linked if role == "call" else None,
                        "ticket_id": linked if role == "absorbed" else None,
                        "role": role,
                        "at": at,
                    }
                )
    await insert_rows(conn, CaseClockRow, clocks)
    await insert_rows(conn, CaseEvent, events)
    await insert_rows(conn, CaseLink, links)
    return ids


async def apply_changes(conn: AsyncConnection, changes: Sequence[Change]) -> list[bool]:
    """Apply every change in the open transaction; per change, whether it applied now.

    A change whose key was used already applies nothing. Any case no longer in its
    expected state raises CaseChanged, and the caller's transaction writes nothing.
    """
    for change in changes:
        check_change(change)
    await prefer_indexes(conn)
    ids = [c.case_id for c in changes]
    if len(set(ids)) != len(ids):
        raise ValueError("one change per case in a batch: apply the next after this one")
    keys = [c.key for c in changes if c.key is not None]
    done: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        found = await conn.execute(
            select(CaseEvent.idempotency_key).where(
                where_in(conn, CaseEvent.idempotency_key, keys[start : start + CHUNK])
            )
        )
        done.update(str(k) for k in found.scalars())
    todo = [c for c in changes if c.key is None or c.key not in done]
    await _check_states(conn, todo)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    stops: list[dict[str, Any]] = []
    starts: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for c in todo:
        messages += [dict(m) for m in c.messages]
        names = tuple(sorted(c.changes))
        groups[names].append(
            {"_id": c.case_id, "_expected": c.expected, "_state": c.move.state, **c.changes}
        )
        stops += [
            {"_id": c.case_id, "_clock": str(clock), "_at": require_utc_aware(c.at, "at")}
            for clock in sorted(c.move.stop)
        ]
        starts += clock_rows(c.case_id, c.move.start)
        events.append(
            {
                "case_id": c.case_id,
                "at": c.at,
                "who": c.who,
                "action": c.action,
                "state": c.move.state,
                "text": c.text,
                "data": {**dict(c.move.extra), **dict(c.data)},
                "idempotency_key": c.key,
            }
        )
    for names, params in groups.items():
        moved = await update_rows(
            conn,
            Case,
            params,
            match={"id": "_id", "state": "_expected"},
            values={"state": "_state", **{n: n for n in names}},
        )
        if moved != len(params):
            raise CaseChanged("a case changed since it was read")
    await _stop_clocks(conn, stops)
    await insert_rows(conn, CaseClockRow, starts)
    await insert_rows(conn, CaseEvent, events, skip_on=["idempotency_key"])
    if messages:
        await conn.execute(INSERT_MESSAGE[conn.dialect.name], messages)
    applied = {c.case_id for c in todo}
    return [c.case_id in applied for c in changes]


async def _stop_clocks(conn: AsyncConnection, stops: Sequence[dict[str, Any]]) -> None:
    """Stop the running clocks named by `stops` (case id, clock, when)."""
    if conn.dialect.name != "postgresql":
        await update_rows(
            conn,
            CaseClockRow,
            stops,
            match={"case_id": "_id", "clock": "_clock"},
            values={"stopped_at": "_at"},
            where=[CaseClockRow.stopped_at.is_(None)],
        )
        return
    # PostgreSQL: the clocks are found by case (locked, then picked here), and updated
    # by id. With "stopped_at IS NULL" in the UPDATE itself, the planner may walk the
    # index of open clocks for every row of the batch (measured: a second per batch
    # at a month's scale) instead of the index on the case.
    when = {(s["_id"], s["_clock"]): s["_at"] for s in stops}
    cases = sorted({case_id for case_id, _ in when})
    for start in range(0, len(cases), CHUNK):
        found = await conn.execute(
            select(
                CaseClockRow.id, CaseClockRow.case_id, CaseClockRow.clock, CaseClockRow.stopped_at
            )
            .where(where_in(conn, CaseClockRow.case_id, cases[start : start + CHUNK]))
            .with_for_update()
        )
        # Open ones picked here, not in SQL: that is the index to keep the planner off.
        rows = [
            {"_row": row_id, "_at": when[case_id, clock]}
            for row_id, case_id, clock, stopped_at in found.all()
            if stopped_at is None and (case_id, clock) in when
        ]
        await update_rows(
            conn, CaseClockRow, rows, match={"id": "_row"}, values={"stopped_at": "_at"}
        )


async def _check_states(conn: AsyncConnection, todo: Sequence[Change]) -> None:
    """CaseChanged unless every case is still in the state it was read in.

    On PostgreSQL the rows are locked until the transaction ends (FOR UPDATE), so a
    concurrent writer waits and then finds the new state. SQLite has one writer at a
    time, and the conditional UPDATE's row count checks the rest.
    """
    expected = {c.case_id: c.expected for c in todo}
    numbers = {c.case_id: c.number for c in todo}
    wanted = sorted(expected)
    for start in range(0, len(wanted), CHUNK):
        rows = await conn.execute(
            select(Case.id, Case.state)
            .where(where_in(conn, Case.id, wanted[start : start + CHUNK]))
            .with_for_update()
        )
        for case_id, state in rows.all():
            if state != expected[case_id]:
                raise CaseChanged(f"case {numbers[case_id]} changed since it was read")
            del expected[case_id]
    if expected:
        missing = ", ".join(numbers[i] for i in sorted(expected)[:5])
        raise CaseChanged(f"case {missing} no longer exists")
