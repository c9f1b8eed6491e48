"""Case store: calls, transfers, callback tickets and their histories, on SQLite or PostgreSQL.

All SQL lives here and nothing else does: no clock, no business rules. Every
timestamp comes from the caller and must be timezone-aware.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Row,
    Select,
    and_,
    case,
    create_engine,
    distinct,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.pool import ConnectionPoolEntry

from ivr.domain.vocabulary import TicketStatus
from ivr.store import writes
from ivr.store.batch import BatchStats, GroupCommitter, ThreadExecutor, async_engine_executor
from ivr.store.models import (
    AGENT_STATES,
    ATTEMPT_ROLES,
    CALL_OUTCOMES,
    DIAL_STATUSES,
    SERVICE_MODES,
    TICKET_REASONS,
    TICKET_STATUSES,
    TRANSFER_INITIATORS,
    TRANSFER_RESULTS,
    AgentState,
    Base,
    CalendarClosure,
    Call,
    CallEvent,
    DialAttempt,
    ServiceMode,
    SurveyRating,
    Ticket,
    TicketEvent,
    TicketNote,
    Transfer,
    clip_to_column,
    require_utc_aware,
)

log = structlog.get_logger(__name__)

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


# The name is fixed by the store's published API, so N818's Error suffix does not apply.
class StoreUnavailable(Exception):
    """The database cannot be reached or has gone away; the call may carry on without it."""


@dataclass(frozen=True)
class CallEventRecord:
    seq: int
    at: datetime
    kind: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class CallRecord:
    id: int
    uniqueid: str
    linkedid: str
    channel: str
    caller_number: str | None
    caller_name: str | None
    dnid: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    hangup_cause: int | None
    hangup_cause_text: str | None
    outcome: str | None
    mode: str | None
    events: tuple[CallEventRecord, ...]


class InvalidTransition(ValueError):
    """A ticket status change that the workflow does not allow."""

    def __init__(self, ticket_id: int, current: str, requested: str) -> None:
        super().__init__(f"ticket {ticket_id}: cannot go from {current!r} to {requested!r}")
        self.ticket_id = ticket_id
        self.current = current
        self.requested = requested


# Status workflow of a callback ticket: which statuses each status may move to.
TICKET_TRANSITIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        TicketStatus.OPEN: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.CLOSED}),
        TicketStatus.IN_PROGRESS: frozenset({TicketStatus.CALLED_BACK, TicketStatus.CLOSED}),
        TicketStatus.CALLED_BACK: frozenset({TicketStatus.CLOSED}),
        TicketStatus.CLOSED: frozenset(),
    }
)

# Ticket numbers are read to the caller digit by digit, so they are digits only:
# YYMM of the creation time in Taipei, then that month's sequence, zero-padded to four
# digits ("25030042"). Taiwan has kept UTC+8 without daylight saving since 1979, so a
# fixed offset gives the month the caller would name. A month's 10,000th ticket gets five
# sequence digits ("250310000"): still unique, since the prefix is fixed-width, only
# longer. The counter is keyed by the prefix itself, so a later century would continue
# the count instead of repeating numbers.
TICKET_NUMBER_TZ = timezone(timedelta(hours=8), "Asia/Taipei")
TICKET_NUMBER_MIN_SEQ_DIGITS = 4

# The report counts busy and no-answer only on the unit's own lines: a busy liaison
# window says nothing about the unit, and the liaison fallback has its own figure.
_UNIT_LINE_ROLES = ("primary", "adjacent")


@dataclass(frozen=True)
class ModeChange:
    id: int
    mode: str
    active: bool
    changed_at: datetime
    changed_by: str
    note: str | None


@dataclass(frozen=True)
class ClosureRecord:
    """A declared closure of a local day, or its lifting (`closed` False)."""

    id: int
    day: date
    closed: bool
    reason: str | None
    closes_at: time | None
    changed_at: datetime
    changed_by: str
    note: str | None


@dataclass(frozen=True)
class AgentStateRecord:
    id: int
    agent_id: str
    state: str
    at: datetime
    queues: tuple[str, ...]
    reason: str | None
    call_uniqueid: str | None


@dataclass(frozen=True)
class SurveyRecord:
    id: int
    call_id: int
    rating: int
    agent_id: str | None
    queue: str | None
    at: datetime


@dataclass(frozen=True)
class DialAttemptRecord:
    id: int
    transfer_id: int | None
    ticket_id: int | None
    seq: int
    target: str
    role: str
    attempt: int
    started_at: datetime
    ended_at: datetime | None
    dialstatus: str | None
    hangup_cause: int | None
    ring_seconds: float | None


@dataclass(frozen=True)
class TransferRecord:
    id: int
    call_id: int
    initiated_by: str
    agency_id: str
    unit_id: str
    started_at: datetime
    ended_at: datetime | None
    result: str | None
    answered_by: str | None
    attempts: tuple[DialAttemptRecord, ...]


@dataclass(frozen=True)
class TicketNoteRecord:
    id: int
    at: datetime
    author: str
    text: str


@dataclass(frozen=True)
class TicketEventRecord:
    id: int
    at: datetime
    kind: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class TicketRecord:
    id: int
    number: str
    call_id: int | None
    transfer_id: int | None
    caller_number: str
    agency_id: str
    unit_id: str | None
    reason: str
    status: str
    overdue: bool
    overdue_at: datetime | None
    created_at: datetime
    due_at: datetime
    message_path: str | None
    assignee: str | None
    outcome: str | None
    closed_at: datetime | None
    notified_overdue_at: datetime | None
    notes: tuple[TicketNoteRecord, ...]
    # The attempts of the transfer that led to the ticket (by seq), then its callbacks.
    attempts: tuple[DialAttemptRecord, ...]
    # Made after a store outage, from the spool: the caller was not told its number.
    after_outage: bool = False


@dataclass(frozen=True)
class UnitStats:
    """Transfer and ticket figures of one unit over a reporting period.

    Transfers (and their attempts) count when they started in the period; tickets
    count when they were created in it, whatever happened to them since.
    """

    agency_id: str
    unit_id: str | None
    transfers: int = 0
    busy_attempts: int = 0
    noanswer_attempts: int = 0
    liaison_fallbacks: int = 0
    tickets_opened: int = 0
    tickets_closed_in_time: int = 0
    tickets_overdue: int = 0
    callback_seconds: list[float] = field(default_factory=list)


def _closure(row: CalendarClosure) -> ClosureRecord:
    return ClosureRecord(
        id=row.id,
        day=row.day,
        closed=row.closed,
        reason=row.reason,
        closes_at=row.closes_at,
        changed_at=row.changed_at,
        changed_by=row.changed_by,
        note=row.note,
    )


def _mode_change(row: ServiceMode) -> ModeChange:
    return ModeChange(
        id=row.id,
        mode=row.mode,
        active=row.active,
        changed_at=row.changed_at,
        changed_by=row.changed_by,
        note=row.note,
    )


def _agent_state_record(row: AgentState) -> AgentStateRecord:
    return AgentStateRecord(
        id=row.id,
        agent_id=row.agent_id,
        state=row.state,
        at=row.at,
        queues=tuple(row.queues),
        reason=row.reason,
        call_uniqueid=row.call_uniqueid,
    )


def _attempt_record(row: DialAttempt) -> DialAttemptRecord:
    return DialAttemptRecord(
        id=row.id,
        transfer_id=row.transfer_id,
        ticket_id=row.ticket_id,
        seq=row.seq,
        target=row.target,
        role=row.role,
        attempt=row.attempt,
        started_at=row.started_at,
        ended_at=row.ended_at,
        dialstatus=row.dialstatus,
        hangup_cause=row.hangup_cause,
        ring_seconds=row.ring_seconds,
    )


def _transfer_record(row: Transfer) -> TransferRecord:
    return TransferRecord(
        id=row.id,
        call_id=row.call_id,
        initiated_by=row.initiated_by,
        agency_id=row.agency_id,
        unit_id=row.unit_id,
        started_at=row.started_at,
        ended_at=row.ended_at,
        result=row.result,
        answered_by=row.answered_by,
        attempts=tuple(_attempt_record(a) for a in row.attempts),
    )


def _ticket_record(row: Ticket) -> TicketRecord:
    transfer_attempts = row.transfer.attempts if row.transfer is not None else []
    return TicketRecord(
        id=row.id,
        number=row.number,
        call_id=row.call_id,
        transfer_id=row.transfer_id,
        caller_number=row.caller_number,
        agency_id=row.agency_id,
        unit_id=row.unit_id,
        reason=row.reason,
        status=row.status,
        overdue=row.overdue,
        overdue_at=row.overdue_at,
        created_at=row.created_at,
        due_at=row.due_at,
        message_path=row.message_path,
        assignee=row.assignee,
        outcome=row.outcome,
        closed_at=row.closed_at,
        notified_overdue_at=row.notified_overdue_at,
        notes=tuple(
            TicketNoteRecord(id=n.id, at=n.at, author=n.author, text=n.text) for n in row.notes
        ),
        attempts=tuple(_attempt_record(a) for a in [*transfer_attempts, *row.callback_attempts]),
        after_outage=row.after_outage,
    )


def _ticket_event(ticket_id: int, at: datetime, kind: str, **data: Any) -> dict[str, Any]:
    """Values of a ticket_events row; datetimes in `data` become ISO strings for JSON."""
    payload = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}
    return {"ticket_id": ticket_id, "at": at, "kind": kind, "data": payload}


def _require_one_of(value: str | None, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _check_lengths(model: type[Base], values: Mapping[str, Any]) -> None:
    """Refuse strings longer than their column.

    SQLite ignores declared lengths and PostgreSQL rejects the whole statement; checking
    here makes both backends refuse the same input, with a message naming the field.
    """
    columns = model.__table__.c
    for name, value in values.items():
        length = getattr(columns[name].type, "length", None)
        if isinstance(value, str) and length is not None and len(value) > length:
            raise ValueError(
                f"{model.__tablename__}.{name} takes at most {length} characters, got {len(value)}"
            )


def _require_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")


# Everything a TicketRecord shows, loaded up front because relationships are lazy="raise".
_TICKET_LOADS = (
    selectinload(Ticket.notes),
    selectinload(Ticket.callback_attempts),
    selectinload(Ticket.transfer).selectinload(Transfer.attempts),
)


def _event_record(row: CallEvent) -> CallEventRecord:
    return CallEventRecord(
        seq=row.seq, at=row.at, kind=row.kind, data=MappingProxyType(dict(row.data))
    )


def _call_record(row: Call, *, with_events: bool) -> CallRecord:
    return CallRecord(
        id=row.id,
        uniqueid=row.uniqueid,
        linkedid=row.linkedid,
        channel=row.channel,
        caller_number=row.caller_number,
        caller_name=row.caller_name,
        dnid=row.dnid,
        started_at=row.started_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        hangup_cause=row.hangup_cause,
        hangup_cause_text=row.hangup_cause_text,
        outcome=row.outcome,
        mode=row.mode,
        events=tuple(_event_record(e) for e in row.events) if with_events else (),
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets the web UI read while a call writes; busy_timeout makes concurrent
        # writers queue instead of failing with "database is locked"; SQLite leaves
        # foreign keys (and so ON DELETE CASCADE) off unless asked, per connection.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _json_dumps(value: Any) -> str:
    # Keep Chinese text readable in the database rather than as \u escapes.
    return json.dumps(value, ensure_ascii=False)


def _as_unavailable(exc: BaseException) -> StoreUnavailable | None:
    """The StoreUnavailable that an outage error stands for; None for a data error."""
    if isinstance(exc, StoreUnavailable):
        return exc
    if isinstance(exc, (OSError, TimeoutError)):
        return StoreUnavailable(f"case store unreachable: {exc}")
    outage = isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError)
        and not isinstance(exc, IntegrityError)
        and (exc.connection_invalidated or _is_outage(exc))
    )
    if outage:
        assert isinstance(exc, DBAPIError)
        return StoreUnavailable(f"case store unavailable: {type(exc.orig).__name__}")
    return None


@contextmanager
def _unavailable_on_connection_errors() -> Iterator[None]:
    """Turn "cannot talk to the database" into StoreUnavailable; let data errors through."""
    try:
        yield
    except Exception as exc:
        unavailable = _as_unavailable(exc)
        if unavailable is None or unavailable is exc:
            raise
        raise unavailable from exc


def _writer_thread(engine: AsyncEngine) -> ThreadExecutor | None:
    """A synchronous writer for a SQLite file; None where writes use the async engine.

    An in-memory database exists once per connection, so only the async engine's
    connection can write to the one the rest of the store reads.
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    sync = create_engine(url.set(drivername="sqlite+pysqlite"), json_serializer=_json_dumps)
    event.listen(sync, "connect", _sqlite_on_connect)
    return ThreadExecutor(sync)


# SQLSTATE classes that mean "the server is not there right now", not "bad data":
# 08 connection exception, 53 insufficient resources, 57 operator intervention (a
# server starting or shutting down: 57P01/57P03), 58 system error.
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57", "58")


def _is_outage(exc: DBAPIError) -> bool:
    orig = exc.orig
    # asyncpg's errors reach SQLAlchemy wrapped; the SQLSTATE sits on the cause.
    for candidate in (orig, getattr(orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str) and state[:2] in _OUTAGE_SQLSTATE_CLASSES:
            return True
    name = type(getattr(orig, "__cause__", None) or orig).__name__
    return name in {"ConnectionDoesNotExistError", "CannotConnectNowError"}


class CaseStore:
    """Async repository for calls and their timelines."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._closed = False
        self._writer_thread = _writer_thread(engine)
        executor = self._writer_thread or async_engine_executor(engine)
        self._writes = GroupCommitter(executor, lambda exc: _as_unavailable(exc) is not None)

    @property
    def commit_stats(self) -> BatchStats:
        """How the engine's writes were grouped into transactions."""
        return self._writes.stats

    @classmethod
    async def open(cls, url: str, *, connect_timeout: float = 5.0) -> CaseStore:
        """Create the engine; does not connect (use `ping` to check reachability)."""
        kwargs: dict[str, Any] = {"json_serializer": _json_dumps}
        if url.startswith("sqlite"):
            engine = create_async_engine(url, **kwargs)
            event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        else:
            # pre_ping: after a PostgreSQL restart, pooled connections are dead; check
            # them out fresh instead of failing the next call's first write.
            if url.startswith("postgresql+asyncpg"):
                kwargs["connect_args"] = {"timeout": connect_timeout}
            engine = create_async_engine(url, pool_pre_ping=True, **kwargs)
        return cls(engine)

    async def migrate(self) -> None:
        """Upgrade the schema to the newest migration; a no-op when already there."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))

        def upgrade(connection: Connection) -> None:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

        with _unavailable_on_connection_errors():
            async with self._engine.begin() as conn:
                await conn.run_sync(upgrade)

    async def close(self) -> None:
        self._closed = True
        await self._writes.close()
        if self._writer_thread is not None:
            await asyncio.to_thread(self._writer_thread.close)
        await self._engine.dispose()

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers a trivial query."""
        self._check_open()
        try:
            async with self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"case store unavailable: {type(exc).__name__}") from exc

    async def start_call(
        self,
        *,
        uniqueid: str,
        linkedid: str,
        channel: str,
        caller_number: str | None,
        caller_name: str | None,
        dnid: str | None,
        started_at: datetime,
        mode: str | None = None,
        answered_at: datetime | None = None,
    ) -> int:
        """Record a new call and return its id; for a known uniqueid, return the existing id.

        `answered_at` does what a `mark_answered` right after would, in the same write.
        """
        started_at = require_utc_aware(started_at, "started_at")
        if answered_at is not None:
            answered_at = require_utc_aware(answered_at, "answered_at")
        values = {
            "uniqueid": uniqueid,
            "linkedid": linkedid,
            "channel": channel,
            # What the caller's side sent is cut to fit, never refused: PostgreSQL would
            # reject a 10,000-character name, and the call would go unrecorded.
            "caller_number": clip_to_column(Call, "caller_number", caller_number),
            "caller_name": clip_to_column(Call, "caller_name", caller_name),
            "dnid": clip_to_column(Call, "dnid", dnid),
            "started_at": started_at,
            "mode": mode,
            "answered_at": answered_at,
        }
        op = partial(writes.start_call, values=values)
        try:
            return await self._write(op)
        except IntegrityError:
            # Lost a race with another start for the same channel: theirs stands, and
            # has committed by now, so a second run finds its id.
            return await self._write(op)

    async def mark_answered(self, uniqueid: str, at: datetime) -> None:
        """Set answered_at once; later calls, and unknown uniqueids, change nothing."""
        at = require_utc_aware(at, "at")
        if not await self._write(partial(writes.mark_answered, uniqueid=uniqueid, at=at)):
            log.debug("case_store.mark_answered.ignored", uniqueid=uniqueid)

    async def add_event(
        self,
        call_id: int,
        *,
        at: datetime,
        kind: str,
        data: Mapping[str, Any] | None = None,
    ) -> int:
        """Append an event to the call's timeline and return its seq (1, 2, ...).

        Raises LookupError if there is no call with that id.
        """
        at = require_utc_aware(at, "at")
        op = partial(writes.add_event, call_id=call_id, at=at, kind=kind, data=dict(data or {}))
        try:
            seq = await self._write(op)
        except IntegrityError:
            # Only a concurrent append can take our (call_id, seq); it has committed by
            # now, so a second attempt sees its seq.
            log.info("case_store.add_event.seq_conflict_retry", call_id=call_id)
            seq = await self._write(op)
        if seq is None:
            raise LookupError(f"no call with id {call_id}")
        return seq

    async def end_call(
        self,
        uniqueid: str,
        *,
        ended_at: datetime,
        cause: int | None,
        cause_text: str | None,
        outcome: str | None = None,
    ) -> bool:
        """Close the call; False if unknown or already ended (the first end stands).

        An outcome of None keeps any outcome set earlier with `set_outcome`.
        """
        ended_at = require_utc_aware(ended_at, "ended_at")
        values: dict[str, Any] = {
            "ended_at": ended_at,
            "hangup_cause": cause,
            "hangup_cause_text": cause_text,
        }
        if outcome is not None:
            _require_one_of(outcome, CALL_OUTCOMES, "outcome")
            values["outcome"] = outcome
        # One conditional UPDATE, so two racing ends cannot both win.
        return await self._write(partial(writes.end_call, uniqueid=uniqueid, values=values))

    async def set_outcome(self, uniqueid: str, outcome: str) -> None:
        """Set (or replace) the call's outcome; unknown uniqueids change nothing."""
        _require_one_of(outcome, CALL_OUTCOMES, "outcome")
        if not await self._write(partial(writes.set_outcome, uniqueid=uniqueid, outcome=outcome)):
            log.debug("case_store.set_outcome.ignored", uniqueid=uniqueid)

    async def get_call(self, call_id: int) -> CallRecord | None:
        return await self._get_one(select(Call).where(Call.id == call_id))

    async def get_call_by_uniqueid(self, uniqueid: str) -> CallRecord | None:
        return await self._get_one(select(Call).where(Call.uniqueid == uniqueid))

    async def list_calls(
        self, *, limit: int = 50, before_id: int | None = None
    ) -> list[CallRecord]:
        """Newest first, without events; page on with `before_id` = the last id seen."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        stmt = select(Call).order_by(Call.id.desc()).limit(limit)
        if before_id is not None:
            stmt = stmt.where(Call.id < before_id)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [_call_record(r, with_events=False) for r in rows]

    async def open_calls(self) -> list[CallRecord]:
        """Calls not yet ended, oldest first, without events."""
        stmt = select(Call).where(Call.ended_at.is_(None)).order_by(Call.id)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [_call_record(r, with_events=False) for r in rows]

    # -- service modes -------------------------------------------------------------

    async def set_mode(
        self, mode: str, *, active: bool, at: datetime, by: str, note: str | None = None
    ) -> None:
        """Record that `by` switched `mode` on or off at `at`; earlier rows stay as history."""
        at = require_utc_aware(at, "at")
        _require_one_of(mode, SERVICE_MODES, "mode")
        _check_lengths(ServiceMode, {"changed_by": by, "note": note})
        async with self._session() as session, session.begin():
            session.add(
                ServiceMode(mode=mode, active=active, changed_at=at, changed_by=by, note=note)
            )

    async def current_mode(self, at: datetime) -> str:
        """The mode in force at `at`: "disaster" if its latest switch by then was on."""
        at = require_utc_aware(at, "at")
        # Every call asks this once: it runs with the writes (see `ivr.store.batch`).
        active = await self._write(partial(writes.disaster_active, at=at))
        return "disaster" if active else "normal"

    async def mode_history(self, limit: int = 20) -> list[ModeChange]:
        """Mode switches, newest first."""
        _require_limit(limit)
        stmt = (
            select(ServiceMode)
            .order_by(ServiceMode.changed_at.desc(), ServiceMode.id.desc())
            .limit(limit)
        )
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [_mode_change(r) for r in rows]

    # -- calendar closures (typhoon days) --------------------------------------------

    async def set_closure(
        self,
        day: date,
        *,
        closed: bool,
        at: datetime,
        by: str,
        reason: str | None = None,
        closes_at: time | None = None,
        note: str | None = None,
    ) -> None:
        """Record that `by` closed `day` (from `closes_at`, or all day) or opened it again."""
        at = require_utc_aware(at, "at")
        if closed and not reason:
            raise ValueError("a closure needs a reason, e.g. typhoon")
        if closes_at is not None and closes_at.tzinfo is not None:
            raise ValueError("closes_at is a local wall-clock time, without a zone")
        values = {"changed_by": by, "note": note, "reason": reason}
        _check_lengths(CalendarClosure, values)
        row = CalendarClosure(day=day, closed=closed, closes_at=closes_at, changed_at=at, **values)
        async with self._session() as session, session.begin():
            session.add(row)

    async def closure_history(
        self, since: date | None = None, limit: int = 1000
    ) -> list[ClosureRecord]:
        """Closures and openings of days from `since` on, oldest change first."""
        _require_limit(limit)
        stmt = select(CalendarClosure)
        if since is not None:
            stmt = stmt.where(CalendarClosure.day >= since)
        stmt = stmt.order_by(CalendarClosure.changed_at, CalendarClosure.id).limit(limit)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [_closure(r) for r in rows]

    async def closures(self, since: date) -> dict[date, ClosureRecord]:
        """The days from `since` on that are closed now: each day's newest row, if closed."""
        latest: dict[date, ClosureRecord] = {}
        for record in await self.closure_history(since, limit=100_000):
            latest[record.day] = record
        return {day: r for day, r in latest.items() if r.closed}

    # -- agents --------------------------------------------------------------------

    async def record_agent_state(
        self,
        agent_id: str,
        state: str,
        *,
        at: datetime,
        queues: Sequence[str],
        reason: str | None = None,
        call_uniqueid: str | None = None,
    ) -> None:
        """Append an agent's login, logout, pause or unpause to their history."""
        at = require_utc_aware(at, "at")
        _require_one_of(state, AGENT_STATES, "state")
        if isinstance(queues, str):
            # A bare string is a Sequence[str] too, and would be stored one letter a queue.
            raise TypeError(f"queues must be a list of queue ids, got the string {queues!r}")
        _check_lengths(
            AgentState, {"agent_id": agent_id, "reason": reason, "call_uniqueid": call_uniqueid}
        )
        values = {
            "agent_id": agent_id,
            "state": state,
            "at": at,
            "queues": list(queues),
            "reason": reason,
            "call_uniqueid": call_uniqueid,
        }
        await self._write(partial(writes.record_agent_state, values=values))

    async def agent_states(self, agent_id: str, limit: int = 50) -> list[AgentStateRecord]:
        """One agent's state changes, newest first."""
        _require_limit(limit)
        stmt = (
            select(AgentState)
            .where(AgentState.agent_id == agent_id)
            .order_by(AgentState.at.desc(), AgentState.id.desc())
            .limit(limit)
        )
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [_agent_state_record(r) for r in rows]

    async def latest_agent_states(self) -> dict[str, AgentStateRecord]:
        """Each agent's newest state change, by agent id."""
        ranked = select(
            AgentState,
            func.row_number()
            .over(
                partition_by=AgentState.agent_id,
                order_by=(AgentState.at.desc(), AgentState.id.desc()),
            )
            .label("rank"),
        ).subquery()
        latest = aliased(AgentState, ranked)
        stmt = select(latest).where(ranked.c.rank == 1)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return {r.agent_id: _agent_state_record(r) for r in rows}

    # -- satisfaction survey -------------------------------------------------------

    async def record_rating(
        self,
        call_id: int,
        rating: int,
        *,
        agent_id: str | None,
        queue: str | None,
        at: datetime,
    ) -> bool:
        """Store the caller's 1-5 rating; False if the call already has one (it stands).

        Raises ValueError for a rating outside 1..5, LookupError for an unknown call.
        """
        at = require_utc_aware(at, "at")
        # bool is an int; a True from a yes/no prompt is not a rating of 1.
        if isinstance(rating, bool) or not 1 <= rating <= 5:
            raise ValueError(f"rating must be an integer 1 to 5, got {rating!r}")
        _check_lengths(SurveyRating, {"agent_id": agent_id, "queue": queue})
        values = {
            "call_id": call_id,
            "rating": rating,
            "agent_id": agent_id,
            "queue": queue,
            "at": at,
        }
        try:
            return await self._write(partial(writes.record_rating, values=values))
        except IntegrityError as exc:
            # The conflict on call_id is absorbed in the statement; only the foreign key
            # is left.
            raise LookupError(f"no call with id {call_id}") from exc

    async def rating_for_call(self, call_id: int) -> SurveyRecord | None:
        stmt = select(SurveyRating).where(SurveyRating.call_id == call_id)
        async with self._session() as session:
            row = await session.scalar(stmt)
        if row is None:
            return None
        return SurveyRecord(
            id=row.id,
            call_id=row.call_id,
            rating=row.rating,
            agent_id=row.agent_id,
            queue=row.queue,
            at=row.at,
        )

    # -- transfers and dial attempts -----------------------------------------------

    async def start_transfer(
        self,
        call_id: int,
        *,
        initiated_by: str,
        agency_id: str,
        unit_id: str,
        at: datetime,
    ) -> int:
        """Open a transfer of the call to a unit and return its id."""
        at = require_utc_aware(at, "at")
        _require_one_of(initiated_by, TRANSFER_INITIATORS, "initiated_by")
        _check_lengths(Transfer, {"agency_id": agency_id, "unit_id": unit_id})
        values = {
            "call_id": call_id,
            "initiated_by": initiated_by,
            "agency_id": agency_id,
            "unit_id": unit_id,
            "started_at": at,
        }
        try:
            return await self._write(partial(writes.start_transfer, values=values))
        except IntegrityError as exc:
            raise LookupError(f"no call with id {call_id}") from exc

    async def start_attempt(
        self,
        *,
        transfer_id: int | None = None,
        ticket_id: int | None = None,
        target: str,
        role: str,
        attempt: int,
        at: datetime,
    ) -> int:
        """Record a Dial() starting, for a transfer or a ticket's callback; return its id.

        The attempt gets the next `seq` of its transfer or ticket (1, 2, ...). Raises
        ValueError unless exactly one of transfer_id and ticket_id is given, LookupError
        if that transfer or ticket does not exist.
        """
        at = require_utc_aware(at, "at")
        if (transfer_id is None) == (ticket_id is None):
            raise ValueError("give exactly one of transfer_id and ticket_id")
        _require_one_of(role, ATTEMPT_ROLES, "role")
        if attempt < 1:
            raise ValueError(f"attempt counts from 1, got {attempt}")
        _check_lengths(DialAttempt, {"target": target})
        parent, parent_id = (
            ("transfer", transfer_id) if transfer_id is not None else ("ticket", ticket_id)
        )
        assert parent_id is not None
        op = partial(
            writes.start_attempt,
            parent=parent,
            parent_id=parent_id,
            target=target,
            role=role,
            attempt=attempt,
            at=at,
        )
        started = await self._write(op)
        if started is None:
            table = "transfers" if parent == "transfer" else "tickets"
            raise LookupError(f"no {table} row with id {parent_id}")
        return started[0]

    async def finish_attempt(
        self,
        attempt_id: int,
        *,
        at: datetime,
        dialstatus: str | None,
        hangup_cause: int | None,
        ring_seconds: float | None,
    ) -> None:
        """Record how a Dial() ended. The first finish stands; LookupError if unknown."""
        at = require_utc_aware(at, "at")
        if dialstatus is not None:
            _require_one_of(dialstatus, DIAL_STATUSES, "dialstatus")
        values = {
            "ended_at": at,
            "dialstatus": dialstatus,
            "hangup_cause": hangup_cause,
            "ring_seconds": ring_seconds,
        }
        op = partial(writes.finish_attempt, attempt_id=attempt_id, values=values)
        finished = await self._write(op)
        if finished is writes.Finish.MISSING:
            raise LookupError(f"no dial attempt with id {attempt_id}")
        if finished is writes.Finish.ALREADY:
            log.debug("case_store.finish_attempt.already_finished", attempt_id=attempt_id)

    async def finish_transfer(
        self,
        transfer_id: int,
        *,
        at: datetime,
        result: str,
        answered_by: str | None = None,
    ) -> bool:
        """Close the transfer with its result; False if it was already closed (first wins).

        Raises LookupError if there is no such transfer.
        """
        at = require_utc_aware(at, "at")
        _require_one_of(result, TRANSFER_RESULTS, "result")
        _check_lengths(Transfer, {"answered_by": answered_by})
        values = {"ended_at": at, "result": result, "answered_by": answered_by}
        op = partial(writes.finish_transfer, transfer_id=transfer_id, values=values)
        finished = await self._write(op)
        if finished is writes.Finish.MISSING:
            raise LookupError(f"no transfer with id {transfer_id}")
        return finished is writes.Finish.DONE

    async def transfer_with_attempts(self, transfer_id: int) -> TransferRecord:
        """The transfer and its dial attempts by seq; LookupError if unknown."""
        stmt = (
            select(Transfer)
            .where(Transfer.id == transfer_id)
            .options(selectinload(Transfer.attempts))
        )
        async with self._session() as session:
            row = await session.scalar(stmt)
            if row is None:
                raise LookupError(f"no transfer with id {transfer_id}")
            return _transfer_record(row)

    # -- callback tickets ----------------------------------------------------------

    async def create_ticket(
        self,
        *,
        call_id: int | None,
        transfer_id: int | None,
        caller_number: str,
        agency_id: str,
        unit_id: str | None,
        reason: str,
        created_at: datetime,
        due_at: datetime,
        message_path: str | None = None,
        idempotency_key: str | None = None,
        after_outage: bool = False,
        language: str | None = None,
    ) -> TicketRecord:
        """Open a callback ticket with a fresh number; committed when this returns.

        The number (see TICKET_NUMBER_TZ) is drawn in the same transaction as the
        insert, so it is never handed out twice, even by concurrent creations.
        With an `idempotency_key` the ticket is made once: a write with a key already
        used returns that ticket, unchanged. Raises LookupError if call_id or
        transfer_id names nothing.
        """
        created_at = require_utc_aware(created_at, "created_at")
        due_at = require_utc_aware(due_at, "due_at")
        _require_one_of(reason, TICKET_REASONS, "reason")
        _check_lengths(
            Ticket,
            {
                "caller_number": caller_number,
                "agency_id": agency_id,
                "unit_id": unit_id,
                "message_path": message_path,
                "idempotency_key": idempotency_key,
                "language": language,
            },
        )
        prefix = created_at.astimezone(TICKET_NUMBER_TZ).strftime("%y%m")
        op = partial(
            writes.create_ticket,
            prefix=prefix,
            seq_digits=TICKET_NUMBER_MIN_SEQ_DIGITS,
            values={
                "call_id": call_id,
                "transfer_id": transfer_id,
                "caller_number": caller_number,
                "agency_id": agency_id,
                "unit_id": unit_id,
                "reason": reason,
                "status": "open",
                "overdue": False,
                "created_at": created_at,
                "due_at": due_at,
                "message_path": message_path,
                "idempotency_key": idempotency_key,
                "after_outage": after_outage,
                "language": language,
            },
            event_data={
                "reason": reason,
                "agency_id": agency_id,
                "unit_id": unit_id,
                "due_at": due_at.isoformat(),
                **({"after_outage": True} if after_outage else {}),
            },
        )
        ticket_id = await self._write(op)
        # Committed: the read that follows can only find it.
        record = await self.get_ticket(ticket_id)
        assert record is not None, ticket_id
        return record

    async def get_ticket(self, ticket_id: int) -> TicketRecord | None:
        async with self._session() as session:
            found = await self._load_tickets(session, select(Ticket).where(Ticket.id == ticket_id))
        return found[0] if found else None

    async def tickets_of_call(self, call_id: int) -> list[TicketRecord]:
        """The tickets made from a call, oldest first."""
        async with self._session() as session:
            return await self._load_tickets(
                session, select(Ticket).where(Ticket.call_id == call_id).order_by(Ticket.id)
            )

    async def get_ticket_by_number(self, number: str) -> TicketRecord | None:
        async with self._session() as session:
            found = await self._load_tickets(session, select(Ticket).where(Ticket.number == number))
        return found[0] if found else None

    async def list_tickets(
        self,
        *,
        status: str | None = None,
        unit_id: str | None = None,
        agency_id: str | None = None,
        overdue: bool | None = None,
        limit: int = 100,
    ) -> list[TicketRecord]:
        """Tickets matching every filter given, soonest due first.

        Due order, not newest first: with a limit, a work list must not push the
        oldest promises to callers off its end.
        """
        _require_limit(limit)
        stmt = select(Ticket).order_by(Ticket.due_at, Ticket.id).limit(limit)
        if status is not None:
            _require_one_of(status, TICKET_STATUSES, "status")
            stmt = stmt.where(Ticket.status == status)
        if unit_id is not None:
            stmt = stmt.where(Ticket.unit_id == unit_id)
        if agency_id is not None:
            stmt = stmt.where(Ticket.agency_id == agency_id)
        if overdue is not None:
            stmt = stmt.where(Ticket.overdue.is_(overdue))
        async with self._session() as session:
            return await self._load_tickets(session, stmt)

    async def assign_ticket(self, ticket_id: int, assignee: str, *, at: datetime, by: str) -> None:
        """Give the ticket to `assignee` (a case officer); LookupError if unknown."""
        at = require_utc_aware(at, "at")
        _check_lengths(Ticket, {"assignee": assignee})
        async with self._session() as session, session.begin():
            current = await self._lock_ticket(session, ticket_id)
            await session.execute(
                update(Ticket).where(Ticket.id == ticket_id).values(assignee=assignee)
            )
            await session.execute(
                insert(TicketEvent).values(
                    _ticket_event(
                        ticket_id,
                        at,
                        "assigned",
                        assignee=assignee,
                        previous=current.assignee,
                        by=by,
                    )
                )
            )

    async def add_ticket_note(self, ticket_id: int, *, at: datetime, author: str, text: str) -> int:
        """Append a note to the ticket and return its id; LookupError if unknown."""
        at = require_utc_aware(at, "at")
        _check_lengths(TicketNote, {"author": author, "text": text})
        try:
            async with self._session() as session, session.begin():
                note = TicketNote(ticket_id=ticket_id, at=at, author=author, text=text)
                session.add(note)
                await session.flush()
                await session.execute(
                    insert(TicketEvent).values(
                        _ticket_event(ticket_id, at, "note", note_id=note.id, author=author)
                    )
                )
                return note.id
        except IntegrityError as exc:
            raise LookupError(f"no ticket with id {ticket_id}") from exc

    async def set_ticket_status(
        self,
        ticket_id: int,
        status: str,
        *,
        at: datetime,
        by: str,
        outcome: str | None = None,
    ) -> None:
        """Move the ticket along its workflow (TICKET_TRANSITIONS).

        Closing sets closed_at; an outcome of None keeps any earlier outcome. Raises
        InvalidTransition for a move the workflow does not allow, LookupError if unknown.
        """
        at = require_utc_aware(at, "at")
        _require_one_of(status, TICKET_STATUSES, "status")
        _check_lengths(Ticket, {"outcome": outcome})
        values: dict[str, Any] = {"status": status}
        if outcome is not None:
            values["outcome"] = outcome
        if status == "closed":
            values["closed_at"] = at
        async with self._session() as session, session.begin():
            current = (await self._lock_ticket(session, ticket_id)).status
            if status not in TICKET_TRANSITIONS[current]:
                raise InvalidTransition(ticket_id, current, status)
            # The status guard: on SQLite the read above takes no lock, so a change
            # that slipped in between makes this match nothing rather than skip a step.
            moved = await session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id, Ticket.status == current)
                .values(**values)
                .returning(Ticket.id)
            )
            if moved.scalar_one_or_none() is None:
                raise InvalidTransition(ticket_id, current, status)
            await session.execute(
                insert(TicketEvent).values(
                    _ticket_event(
                        ticket_id,
                        at,
                        "status",
                        to=status,
                        by=by,
                        outcome=outcome,
                        **{"from": current},
                    )
                )
            )

    async def flag_overdue(self, now: datetime) -> list[TicketRecord]:
        """Flag every open ticket due by `now` not flagged yet, and return those.

        One conditional UPDATE: of two schedulers running at once, each ticket is
        flagged (and returned) by exactly one.
        """
        now = require_utc_aware(now, "now")
        stmt = (
            update(Ticket)
            .where(Ticket.overdue.is_(False), Ticket.status != "closed", Ticket.due_at <= now)
            .values(overdue=True, overdue_at=now)
            .returning(Ticket.id, Ticket.due_at)
        )
        async with self._session() as session, session.begin():
            flagged = (await session.execute(stmt)).all()
            if not flagged:
                return []
            await session.execute(
                insert(TicketEvent),
                [
                    _ticket_event(ticket_id, now, "overdue", due_at=due)
                    for ticket_id, due in flagged
                ],
            )
            ids = [ticket_id for ticket_id, _ in flagged]
            return await self._load_tickets(
                session, select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.due_at, Ticket.id)
            )

    async def mark_overdue_notified(self, ticket_id: int, at: datetime) -> bool:
        """Note that the overdue mail went out; False if it already had (the first stands).

        Raises LookupError if there is no such ticket.
        """
        at = require_utc_aware(at, "at")
        stmt = (
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.notified_overdue_at.is_(None))
            .values(notified_overdue_at=at)
            .returning(Ticket.id)
        )
        async with self._session() as session, session.begin():
            if (await session.execute(stmt)).scalar_one_or_none() is not None:
                await session.execute(
                    insert(TicketEvent).values(
                        _ticket_event(ticket_id, at, "mail_sent", mail="overdue")
                    )
                )
                return True
            exists = await session.scalar(select(Ticket.id).where(Ticket.id == ticket_id))
        if exists is None:
            raise LookupError(f"no ticket with id {ticket_id}")
        return False

    async def overdue_tickets(self) -> list[TicketRecord]:
        """Tickets flagged overdue and not closed, soonest due first: the daily digest."""
        stmt = (
            select(Ticket)
            .where(Ticket.overdue.is_(True), Ticket.status != "closed")
            .order_by(Ticket.due_at, Ticket.id)
        )
        async with self._session() as session:
            return await self._load_tickets(session, stmt)

    async def ticket_events(self, ticket_id: int) -> list[TicketEventRecord]:
        """The ticket's audit trail in the order the changes were made."""
        stmt = (
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [
            TicketEventRecord(id=r.id, at=r.at, kind=r.kind, data=MappingProxyType(dict(r.data)))
            for r in rows
        ]

    # -- reporting -----------------------------------------------------------------

    async def transfer_stats(self, start: datetime, end: datetime) -> list[UnitStats]:
        """Monthly management figures per (agency, unit) for [start, end).

        See UnitStats for what counts when. callback_seconds lists, ascending, the time
        from creation to the first "called_back" of each ticket that got that far.
        """
        start = require_utc_aware(start, "start")
        end = require_utc_aware(end, "end")
        if end <= start:
            raise ValueError(f"end must be after start, got {start} to {end}")

        unit_line = DialAttempt.role.in_(_UNIT_LINE_ROLES)
        transfers = (
            select(
                Transfer.agency_id,
                Transfer.unit_id,
                func.count(distinct(Transfer.id)),
                func.sum(case((and_(unit_line, DialAttempt.dialstatus == "BUSY"), 1), else_=0)),
                func.sum(case((and_(unit_line, DialAttempt.dialstatus == "NOANSWER"), 1), else_=0)),
                func.count(distinct(case((DialAttempt.role == "liaison", Transfer.id)))),
            )
            .outerjoin(DialAttempt, DialAttempt.transfer_id == Transfer.id)
            .where(Transfer.started_at >= start, Transfer.started_at < end)
            .group_by(Transfer.agency_id, Transfer.unit_id)
        )
        in_period = and_(Ticket.created_at >= start, Ticket.created_at < end)
        tickets = (
            select(
                Ticket.agency_id,
                Ticket.unit_id,
                func.count(Ticket.id),
                func.sum(case((Ticket.closed_at <= Ticket.due_at, 1), else_=0)),
                func.sum(case((Ticket.overdue.is_(True), 1), else_=0)),
            )
            .where(in_period)
            .group_by(Ticket.agency_id, Ticket.unit_id)
        )
        # The JSON path is rendered per dialect (json_extract / ->>), so this stays one
        # query on both backends.
        called_back = (
            select(
                Ticket.agency_id,
                Ticket.unit_id,
                Ticket.created_at,
                func.min(TicketEvent.at),
            )
            .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
            .where(
                in_period,
                TicketEvent.kind == "status",
                TicketEvent.data["to"].as_string() == "called_back",
            )
            .group_by(Ticket.id, Ticket.agency_id, Ticket.unit_id, Ticket.created_at)
        )
        async with self._session() as session:
            transfer_rows = (await session.execute(transfers)).all()
            ticket_rows = (await session.execute(tickets)).all()
            callback_rows = (await session.execute(called_back)).all()

        stats: dict[tuple[str, str | None], UnitStats] = {}

        def unit(agency_id: str, unit_id: str | None) -> UnitStats:
            return stats.setdefault((agency_id, unit_id), UnitStats(agency_id, unit_id))

        for agency_id, unit_id, count, busy, noanswer, liaison in transfer_rows:
            stats[agency_id, unit_id] = replace(
                unit(agency_id, unit_id),
                transfers=int(count),
                busy_attempts=int(busy),
                noanswer_attempts=int(noanswer),
                liaison_fallbacks=int(liaison),
            )
        for agency_id, unit_id, opened, in_time, overdue in ticket_rows:
            stats[agency_id, unit_id] = replace(
                unit(agency_id, unit_id),
                tickets_opened=int(opened),
                tickets_closed_in_time=int(in_time),
                tickets_overdue=int(overdue),
            )
        for agency_id, unit_id, created_at, first_called_back in callback_rows:
            unit(agency_id, unit_id).callback_seconds.append(
                (first_called_back - created_at).total_seconds()
            )
        for figures in stats.values():
            figures.callback_seconds.sort()
        return [
            stats[key] for key in sorted(stats, key=lambda k: (k[0], k[1] is not None, k[1] or ""))
        ]

    # -- helpers -------------------------------------------------------------------

    async def _lock_ticket(
        self, session: AsyncSession, ticket_id: int
    ) -> Row[tuple[str, str | None]]:
        """The ticket's status and assignee, row-locked on PostgreSQL until commit."""
        stmt = (
            select(Ticket.status, Ticket.assignee)
            .where(Ticket.id == ticket_id)
            .with_for_update(key_share=True)
        )
        row = (await session.execute(stmt)).one_or_none()
        if row is None:
            raise LookupError(f"no ticket with id {ticket_id}")
        return row

    async def _load_tickets(
        self, session: AsyncSession, stmt: Select[tuple[Ticket]]
    ) -> list[TicketRecord]:
        # populate_existing: a ticket this session just wrote is in its identity map
        # without its (lazy="raise") relationships; reload it whole.
        stmt = stmt.options(*_TICKET_LOADS).execution_options(populate_existing=True)
        rows = (await session.scalars(stmt)).all()
        return [_ticket_record(r) for r in rows]

    async def _get_one(self, stmt: Any) -> CallRecord | None:
        async with self._session() as session:
            row = (await session.scalars(stmt.options(selectinload(Call.events)))).one_or_none()
        return None if row is None else _call_record(row, with_events=True)

    async def _write(self, op: Callable[[Connection], T]) -> T:
        """Run a write in the next group commit (see `ivr.store.batch`)."""
        self._check_open()
        try:
            return await self._writes.run(op)
        except Exception as exc:
            unavailable = _as_unavailable(exc)
            if unavailable is not None:
                raise unavailable from exc
            raise

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("case store is closed")

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        self._check_open()
        with _unavailable_on_connection_errors():
            async with self._sessions() as session:
                yield session
