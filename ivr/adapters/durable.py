"""Keeps the engine's call records when the case store cannot be reached.

`DurableStore` stands between the engine and `CaseStore`, with the same method
signatures. Calls are routed whatever the database does; what they write is kept.

Spool. A write that fails because the database is away (`StoreUnavailable`, or one of
the connect-time errors asyncpg raises unwrapped, see `_unavailable_on_outage`) is
appended to a JSON-lines file (`<state_dir>/spool/store.jsonl`) and fsync'ed before
the method returns, so it survives a SIGKILL of the engine. While the spool holds
anything, every later write goes to its end too, never straight to the database:
records then reach the database in the order the engine made them (an `end_call`
never overtakes its `start_call`). A background task (`start`) replays the spool in
order, retrying every second with backoff while the database is down, and rewrites
the file to what is left (temp file + rename) after each pass; an empty file means
nothing is waiting. A spool left by an earlier run is replayed the same way.

Spooled writes: start_call, mark_answered, add_event, end_call, set_outcome,
start_transfer, start_attempt, finish_attempt, finish_transfer, record_rating,
record_agent_state. Never spooled: `create_ticket` (the caller hears a ticket number
only once it is committed, so an outage raises `StoreUnavailable` to the caller's
script) and the reads.

Tickets after an outage. When `create_ticket` fails, the script hands the same ticket
to `defer_ticket`, with an idempotency key it made: a spooled `create_ticket` marked
`after_outage`. Replay makes it once the call's records are in (its call and
transfer ids are rewritten like any other), and the key makes it exactly once: a
replay repeated after a crash finds the ticket by its key and makes no second one.
Nobody is told its number by the engine; the ticket lists show it as made after an
outage, and the agent who took the call sees it on the call.

During an outage `current_mode` answers the last mode it read (at first "normal")
and `get_call_by_uniqueid` answers None; the scheduler's calls raise
`StoreUnavailable` as before.

Provisional ids. start_call, start_transfer and start_attempt return an id the
engine keeps using for the rest of the call. When spooled they return a provisional
negative id, unique within the spool; replay learns the real id and rewrites every
later record that names it (the `call_id`, `transfer_id` and `attempt_id` arguments,
and the same keys in an event's data). The mapping stays in memory for calls still
in progress; on disk, a record's `done` line carries its real id until the rewrite.
A write naming a provisional id not yet replayed is always spooled.

Nothing twice. Each spooled record has a unique key. Replay appends a `done` line
(fsync'ed) once a record is in the database, and a reopened spool skips done records.
That leaves the instant between the database's commit and that line, which an engine
crash can hit; the same doubt covers a direct write whose connection was lost
mid-statement (its COMMIT may have gone through with only the reply lost; a refused
connection or a SQLite lock proves it did not). Such a record is "in doubt", and:

- start_call, mark_answered, end_call, set_outcome, finish_attempt, finish_transfer
  and record_rating are idempotent in `CaseStore` (by uniqueid, first end or finish
  stands, one rating a call): they are simply written again.
- add_event, start_transfer, start_attempt and record_agent_state add a row each
  time. Before writing one, replay counts the rows with exactly its content and notes
  that count in a `try` line (fsync'ed). An in-doubt record is written only if the
  count has not grown since; if it has, that row is the record's (for a transfer or
  an attempt its id becomes the real id). A direct write in doubt has no count; it
  counts as written if a row with its content exists, which is exact because the
  content includes the engine's microsecond timestamp (only a clock that stands still
  makes two rows alike, and only a connection lost at that write makes it matter).

A record the database refuses for good (LookupError, ValueError, ...) is moved to
`store.rejected.jsonl` beside the spool, with the error, and logged: kept for an
operator, and never blocking the records behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from ivr.store import (
    CallRecord,
    CaseStore,
    ClosureRecord,
    DialAttemptRecord,
    StoreUnavailable,
    TicketRecord,
)
from ivr.store.models import require_utc_aware

log = structlog.get_logger()

# Where the spool lives, under the stack's state directory.
SPOOL_FILE = Path("spool") / "store.jsonl"
REJECTED_SUFFIX = ".rejected.jsonl"

# Writes that return an id the engine goes on using.
_ID_OPS = frozenset({"start_call", "start_transfer", "start_attempt"})
# Writes that add a row each time they run: replay must know whether one already did.
_APPENDS = frozenset({"add_event", "start_transfer", "start_attempt", "record_agent_state"})
_OPS = frozenset(
    {
        *_ID_OPS,
        *_APPENDS,
        "mark_answered",
        "end_call",
        "set_outcome",
        "finish_attempt",
        "finish_transfer",
        "record_rating",
        "create_ticket",
    }
)
# What a spooled write returns where the store would return a value: the write is
# accepted (it will be applied), its event seq is not known yet.
_SPOOLED_RESULT: Mapping[str, object] = {
    "add_event": 0,
    "end_call": True,
    "finish_transfer": True,
    "record_rating": True,
}
_DATETIME_ARGS = ("at", "started_at", "ended_at", "answered_at", "created_at", "due_at")
_ID_ARGS = ("call_id", "transfer_id", "attempt_id")
# An agent's in-doubt state change is among their newest rows: nothing else writes
# agent states while the spool is not empty.
_AGENT_STATE_SCAN = 1000
# Transfer ids are serial: past this many missing ids in a row, the search gives up.
_TRANSFER_PROBE_GAP = 1000
# SQLSTATE classes meaning "the server cannot serve now", not "this write is wrong":
# connection exception, insufficient resources, operator intervention (shutting
# down, starting up), system error.
_OUTAGE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})
# Failures that prove the write never reached the database: no connection was made
# (cannot connect now, unable to connect, rejected), or SQLite could not take its lock.
_UNSENT_SQLSTATES = frozenset({"57P03", "08001", "08004"})
_UNSENT_SQLITE_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


@dataclass
class _Doubt:
    """The record may already be in the database; how to tell (see the module doc)."""

    before: int | None  # rows with its content before replay wrote it; None: unknown
    floor: int | None  # highest transfer id known then: a new transfer's id is above it


@dataclass
class _Record:
    key: str
    op: str
    args: dict[str, Any]  # as spooled: JSON values, datetimes as ISO strings
    pid: int | None
    doubt: _Doubt | None

    def line(self) -> dict[str, Any]:
        doubt = None if self.doubt is None else vars(self.doubt)
        return {
            "t": "op",
            "key": self.key,
            "op": self.op,
            "args": self.args,
            "pid": self.pid,
            "doubt": doubt,
        }


class _Rejected(Exception):
    """The record cannot be written, now or later."""


class DurableStore:
    """The engine's case store: writes survive an outage, reads degrade (module doc)."""

    def __init__(
        self,
        store: CaseStore,
        spool_path: Path,
        *,
        retry_s: float = 1.0,
        max_retry_s: float = 10.0,
    ) -> None:
        self._store = store
        self.spool_path = spool_path
        self.rejected_path = spool_path.with_name(spool_path.stem + REJECTED_SUFFIX)
        self._retry_s = retry_s
        self._max_retry_s = max_retry_s
        self._pending: deque[_Record] = deque()
        self._real: dict[int, int] = {}  # provisional id -> real id
        self._call_pids: dict[str, int] = {}  # uniqueid -> provisional id of its call
        self._next_pid = -1
        self._floor: int | None = None
        self._mode = "normal"
        self._closures: dict[date, ClosureRecord] = {}
        self._file_lock = asyncio.Lock()
        self._replay_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._outage_spooled = 0
        self._outage_replayed = 0
        self._outage_rejected = 0

    @classmethod
    async def open(cls, store: CaseStore, spool_path: Path, **kwargs: float) -> DurableStore:
        """Wrap `store`, taking up what an earlier run left in the spool."""
        durable = cls(store, spool_path, **kwargs)
        lines = await asyncio.to_thread(_read_lines, spool_path)
        durable._load(lines)
        if lines:
            # Drops done records and a line torn by a crash, which the next append
            # would otherwise run on from.
            await durable._compact()
        if durable._pending:
            log.warning("store_spool_found", pending=len(durable._pending), path=str(spool_path))
            durable._wake.set()
        return durable

    @property
    def pending(self) -> int:
        """Records spooled and not yet in the database."""
        return len(self._pending)

    # -- background replay ---------------------------------------------------------

    def start(self) -> None:
        """Replay the spool in the background whenever it holds something, until stop()."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="store-replay")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        delay = self._retry_s
        while True:
            await self._wake.wait()
            try:
                await self.replay()
            except StoreUnavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_retry_s)
                continue
            except Exception:
                # A bug here must not end replay for good; the records stay spooled.
                log.exception("store_replay_failed")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_retry_s)
                continue
            delay = self._retry_s
            if not self._pending:
                self._wake.clear()

    async def replay(self, limit: int | None = None) -> int:
        """Write spooled records to the database in order; return how many were written.

        Raises StoreUnavailable if the database goes away (what was written stays
        written). `limit` stops after that many records. Records set aside as
        rejected count as handled.
        """
        async with self._replay_lock:
            done = 0
            try:
                while self._pending and (limit is None or done < limit):
                    if not await self._replay_one(self._pending[0]):
                        self._outage_rejected += 1
                    self._pending.popleft()
                    done += 1
            finally:
                if done:
                    await self._compact()
                    self._outage_replayed += done
                    if not self._pending:
                        log.info(
                            "store_replayed",
                            count=self._outage_replayed - self._outage_rejected,
                            rejected=self._outage_rejected,
                            spooled=self._outage_spooled,
                        )
                        self._outage_spooled = self._outage_replayed = 0
                        self._outage_rejected = 0
            return done

    # -- writes: the same signatures as CaseStore ------------------------------------

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
        pid = self._call_pids.get(uniqueid)
        if pid is not None:
            # Spooled before: the same id, as CaseStore gives for a known uniqueid.
            return self._real.get(pid, pid)
        call_id = _int(
            await self._write(
                "start_call",
                uniqueid=uniqueid,
                linkedid=linkedid,
                channel=channel,
                caller_number=caller_number,
                caller_name=caller_name,
                dnid=dnid,
                started_at=started_at,
                mode=mode,
                answered_at=answered_at,
            )
        )
        if call_id < 0:
            self._call_pids[uniqueid] = call_id
        return call_id

    async def mark_answered(self, uniqueid: str, at: datetime) -> None:
        await self._write("mark_answered", uniqueid=uniqueid, at=at)

    async def add_event(
        self,
        call_id: int,
        *,
        at: datetime,
        kind: str,
        data: Mapping[str, Any] | None = None,
    ) -> int:
        """The event's seq; 0 when spooled (replay assigns it)."""
        return _int(
            await self._write("add_event", call_id=call_id, at=at, kind=kind, data=dict(data or {}))
        )

    async def end_call(
        self,
        uniqueid: str,
        *,
        ended_at: datetime,
        cause: int | None,
        cause_text: str | None,
        outcome: str | None = None,
    ) -> bool:
        """As CaseStore.end_call; True when spooled (the first end still stands at replay)."""
        return _bool(
            await self._write(
                "end_call",
                uniqueid=uniqueid,
                ended_at=ended_at,
                cause=cause,
                cause_text=cause_text,
                outcome=outcome,
            )
        )

    async def set_outcome(self, uniqueid: str, outcome: str) -> None:
        await self._write("set_outcome", uniqueid=uniqueid, outcome=outcome)

    async def start_transfer(
        self,
        call_id: int,
        *,
        initiated_by: str,
        agency_id: str,
        unit_id: str,
        at: datetime,
    ) -> int:
        return _int(
            await self._write(
                "start_transfer",
                call_id=call_id,
                initiated_by=initiated_by,
                agency_id=agency_id,
                unit_id=unit_id,
                at=at,
            )
        )

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
        return _int(
            await self._write(
                "start_attempt",
                transfer_id=transfer_id,
                ticket_id=ticket_id,
                target=target,
                role=role,
                attempt=attempt,
                at=at,
            )
        )

    async def finish_attempt(
        self,
        attempt_id: int,
        *,
        at: datetime,
        dialstatus: str | None,
        hangup_cause: int | None,
        ring_seconds: float | None,
    ) -> None:
        await self._write(
            "finish_attempt",
            attempt_id=attempt_id,
            at=at,
            dialstatus=dialstatus,
            hangup_cause=hangup_cause,
            ring_seconds=ring_seconds,
        )

    async def finish_transfer(
        self,
        transfer_id: int,
        *,
        at: datetime,
        result: str,
        answered_by: str | None = None,
    ) -> bool:
        """As CaseStore.finish_transfer; True when spooled."""
        return _bool(
            await self._write(
                "finish_transfer",
                transfer_id=transfer_id,
                at=at,
                result=result,
                answered_by=answered_by,
            )
        )

    async def record_rating(
        self,
        call_id: int,
        rating: int,
        *,
        agent_id: str | None,
        queue: str | None,
        at: datetime,
    ) -> bool:
        """As CaseStore.record_rating; True when spooled."""
        return _bool(
            await self._write(
                "record_rating",
                call_id=call_id,
                rating=rating,
                agent_id=agent_id,
                queue=queue,
                at=at,
            )
        )

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
        if isinstance(queues, str):
            raise TypeError(f"queues must be a list of queue ids, got the string {queues!r}")
        await self._write(
            "record_agent_state",
            agent_id=agent_id,
            state=state,
            at=at,
            queues=list(queues),
            reason=reason,
            call_uniqueid=call_uniqueid,
        )

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
        language: str | None = None,
    ) -> TicketRecord:
        """As CaseStore.create_ticket, never spooled: StoreUnavailable when it cannot commit.

        A call or transfer still in the spool is replayed first: the ticket must name
        their real ids.
        """
        ids = (call_id, transfer_id)
        if any(self._unresolved(i) for i in ids):
            await self.replay()
            if any(self._unresolved(i) for i in ids):
                raise StoreUnavailable("the call's records are not in the case store yet")
        with _unavailable_on_outage():
            return await self._store.create_ticket(
                call_id=self._resolve(call_id),
                transfer_id=self._resolve(transfer_id),
                caller_number=caller_number,
                agency_id=agency_id,
                unit_id=unit_id,
                reason=reason,
                created_at=created_at,
                due_at=due_at,
                message_path=message_path,
                language=language,
            )

    async def defer_ticket(
        self,
        *,
        key: str,
        call_id: int | None,
        transfer_id: int | None,
        caller_number: str,
        agency_id: str,
        unit_id: str | None,
        reason: str,
        created_at: datetime,
        due_at: datetime,
        message_path: str | None = None,
        language: str | None = None,
    ) -> None:
        """Spool a ticket `create_ticket` could not commit: made once, after the outage.

        Always spooled, never written here: the caller has been told there is no
        ticket, and the records it names may still be waiting. `key` makes replay
        idempotent (see the module doc).
        """
        kwargs: dict[str, Any] = {
            "call_id": call_id,
            "transfer_id": transfer_id,
            "caller_number": caller_number,
            "agency_id": agency_id,
            "unit_id": unit_id,
            "reason": reason,
            "created_at": require_utc_aware(created_at, "created_at"),
            "due_at": require_utc_aware(due_at, "due_at"),
            "message_path": message_path,
            "idempotency_key": key,
            "after_outage": True,
            "language": language,
        }
        await self._spool("create_ticket", self._resolved(_encode(kwargs)), doubt=None)

    # -- reads -----------------------------------------------------------------------

    async def current_mode(self, at: datetime) -> str:
        """The mode in force; during an outage, the last one read (at first "normal")."""
        try:
            with _unavailable_on_outage():
                self._mode = await self._store.current_mode(at)
        except StoreUnavailable:
            log.debug("store_mode_cached", mode=self._mode)
        return self._mode

    async def closures(self, since: date) -> dict[date, ClosureRecord]:
        """Days closed from `since` on; during an outage, the last ones read (at first none)."""
        try:
            with _unavailable_on_outage():
                self._closures = await self._store.closures(since)
        except StoreUnavailable:
            log.debug("store_closures_cached", days=len(self._closures))
        return {day: r for day, r in self._closures.items() if day >= since}

    @property
    def case_store(self) -> CaseStore:
        """The database behind the spool, for reads that may fail and be skipped."""
        return self._store

    async def get_call_by_uniqueid(self, uniqueid: str) -> CallRecord | None:
        """The call as the database has it; None during an outage."""
        try:
            with _unavailable_on_outage():
                return await self._store.get_call_by_uniqueid(uniqueid)
        except StoreUnavailable:
            return None

    async def open_calls(self) -> list[CallRecord]:
        with _unavailable_on_outage():
            return await self._store.open_calls()

    async def flag_overdue(self, now: datetime) -> list[TicketRecord]:
        with _unavailable_on_outage():
            return await self._store.flag_overdue(now)

    async def overdue_tickets(self) -> list[TicketRecord]:
        with _unavailable_on_outage():
            return await self._store.overdue_tickets()

    async def mark_overdue_notified(self, ticket_id: int, at: datetime) -> bool:
        with _unavailable_on_outage():
            return await self._store.mark_overdue_notified(ticket_id, at)

    # -- writing or spooling -----------------------------------------------------------

    async def _write(self, op: str, **kwargs: Any) -> object:
        for name in _DATETIME_ARGS:
            if kwargs.get(name) is not None:
                kwargs[name] = require_utc_aware(kwargs[name], name)
        args = self._resolved(_encode(kwargs))
        if self._pending or self._names_unresolved(args):
            return await self._spool(op, args, doubt=None)
        try:
            result = await self._apply(op, _decode(args))
        except StoreUnavailable as exc:
            # A connection lost mid-statement may have lost only the COMMIT's reply.
            doubt = _Doubt(None, self._floor) if _may_have_reached(exc) else None
            return await self._spool(op, args, doubt=doubt, error=exc)
        self._learn(op, None, result)
        return result

    async def _spool(
        self,
        op: str,
        args: dict[str, Any],
        *,
        doubt: _Doubt | None,
        error: StoreUnavailable | None = None,
    ) -> object:
        pid: int | None = None
        if op in _ID_OPS:
            pid, self._next_pid = self._next_pid, self._next_pid - 1
        record = _Record(uuid.uuid4().hex, op, args, pid, doubt)
        if self._outage_spooled == 0:
            log.warning(
                "store_spooling",
                op=op,
                error=str(error) if error else "records already waiting",
                pending=len(self._pending),
                path=str(self.spool_path),
            )
        self._outage_spooled += 1
        await self._append([record.line()], then=lambda: self._pending.append(record))
        self._wake.set()
        return pid if pid is not None else _SPOOLED_RESULT.get(op)

    async def _apply(self, op: str, kwargs: dict[str, Any]) -> object:
        method: Callable[..., Any] = getattr(self._store, op)
        with _unavailable_on_outage():
            result: object = await method(**kwargs)
        return result

    # -- replay ----------------------------------------------------------------------

    async def _replay_one(self, record: _Record) -> bool:
        """Write one record; False if it was rejected instead."""
        record.args = self._resolved(record.args)
        try:
            with _unavailable_on_outage():
                real = await self._write_once(record)
        except StoreUnavailable:
            raise
        except Exception as exc:
            # Refused for good (or a bug): set aside, so the records behind it go on.
            await self._reject(record, f"{type(exc).__name__}: {exc}")
            return False
        real_id = real if record.pid is not None and isinstance(real, int) else None
        if isinstance(real, TicketRecord):
            log.warning(
                "ticket_made_after_outage", ticket=real.number, call_id=real.call_id, key=record.key
            )
        await self._append([{"t": "done", "key": record.key, "id": real_id}])
        self._learn(record.op, record.pid, real)
        return True

    async def _write_once(self, record: _Record) -> object:
        """Write the record unless it is already in the database; its result either way."""
        if self._names_unresolved(record.args):
            raise _Rejected("it names a record that was never written")
        kwargs = _decode(record.args)
        if record.op in _APPENDS:
            if record.doubt is not None:
                written, real = await self._already_written(record, kwargs)
                if written:
                    return real
            before, _ = await self._count(record.op, kwargs)
            record.doubt = _Doubt(before, self._floor)
            await self._append([{"t": "try", "key": record.key, **vars(record.doubt)}])
        return await self._apply(record.op, kwargs)

    async def _already_written(
        self, record: _Record, kwargs: dict[str, Any]
    ) -> tuple[bool, int | None]:
        assert record.doubt is not None
        count, newest = await self._count(record.op, kwargs)
        before = record.doubt.before
        if count <= (before if before is not None else 0):
            return False, None
        if record.op == "start_transfer":
            newest = await self._find_transfer(kwargs, record.doubt.floor)
            if newest is None:
                raise _Rejected("in the database, but its id could not be found")
        log.info("store_replay_already_written", op=record.op, key=record.key)
        return True, newest

    async def _count(self, op: str, kw: dict[str, Any]) -> tuple[int, int | None]:
        """Rows with exactly the record's content, and the newest one's id if it has one."""
        if op == "add_event":
            call = await self._store.get_call(kw["call_id"])
            events = call.events if call is not None else ()
            n = sum(
                1
                for e in events
                if e.kind == kw["kind"] and e.at == kw["at"] and dict(e.data) == kw["data"]
            )
            return n, None
        if op == "record_agent_state":
            states = await self._store.agent_states(kw["agent_id"], limit=_AGENT_STATE_SCAN)
            n = sum(
                1
                for s in states
                if (s.state, s.at, list(s.queues), s.reason, s.call_uniqueid)
                == (kw["state"], kw["at"], kw["queues"], kw["reason"], kw["call_uniqueid"])
            )
            return n, None
        if op == "start_attempt":
            attempts = await self._attempts(kw["transfer_id"], kw["ticket_id"])
            ids = [
                a.id
                for a in attempts
                if (a.target, a.role, a.attempt, a.started_at)
                == (kw["target"], kw["role"], kw["attempt"], kw["at"])
            ]
            return len(ids), max(ids, default=None)
        assert op == "start_transfer", op
        # The store lists no transfers by call; its report counts them by unit and start.
        stats = await self._store.transfer_stats(kw["at"], kw["at"] + timedelta(microseconds=1))
        n = sum(
            s.transfers
            for s in stats
            if s.agency_id == kw["agency_id"] and s.unit_id == kw["unit_id"]
        )
        return n, None

    async def _attempts(
        self, transfer_id: int | None, ticket_id: int | None
    ) -> Sequence[DialAttemptRecord]:
        if transfer_id is not None:
            try:
                return (await self._store.transfer_with_attempts(transfer_id)).attempts
            except LookupError:
                return ()
        ticket = await self._store.get_ticket(ticket_id) if ticket_id is not None else None
        return [a for a in ticket.attempts if a.ticket_id == ticket_id] if ticket else ()

    async def _find_transfer(self, kw: dict[str, Any], floor: int | None) -> int | None:
        """The id of the transfer with the record's content, searched upwards from `floor`.

        Ids are serial, so the transfer written after `floor` was noted is above it.
        """
        want = (kw["call_id"], kw["initiated_by"], kw["agency_id"], kw["unit_id"], kw["at"])
        transfer_id, misses = floor or 0, 0
        while misses < _TRANSFER_PROBE_GAP:
            transfer_id += 1
            try:
                t = await self._store.transfer_with_attempts(transfer_id)
            except LookupError:
                misses += 1
                continue
            misses = 0
            if (t.call_id, t.initiated_by, t.agency_id, t.unit_id, t.started_at) == want:
                return transfer_id
        return None

    async def _reject(self, record: _Record, error: str) -> None:
        log.error("store_record_rejected", op=record.op, key=record.key, error=error)
        entry = {**record.line(), "error": error}
        await asyncio.to_thread(_append_lines, self.rejected_path, [entry])
        await self._append([{"t": "done", "key": record.key, "id": None}])

    def _learn(self, op: str, pid: int | None, result: object) -> None:
        if not isinstance(result, int) or isinstance(result, bool):
            return
        if pid is not None:
            self._real[pid] = result
        if op == "start_transfer":
            self._floor = max(self._floor or 0, result)

    # -- provisional ids -------------------------------------------------------------

    def _resolve(self, value: Any) -> Any:
        return self._real.get(value, value) if _is_pid(value) else value

    def _unresolved(self, value: Any) -> bool:
        """A provisional id whose record has not reached the database."""
        return _is_pid(self._resolve(value))

    def _resolved(self, args: dict[str, Any]) -> dict[str, Any]:
        out = {k: self._resolve(v) if k in _ID_ARGS else v for k, v in args.items()}
        if isinstance(out.get("data"), dict):
            out["data"] = {
                k: self._resolve(v) if k in _ID_ARGS else v for k, v in out["data"].items()
            }
        return out

    def _names_unresolved(self, args: dict[str, Any]) -> bool:
        data = args.get("data")
        values = [args.get(k) for k in _ID_ARGS]
        if isinstance(data, dict):
            values += [data.get(k) for k in _ID_ARGS]
        return any(self._unresolved(v) for v in values)

    # -- the spool file --------------------------------------------------------------

    def _load(self, lines: list[dict[str, Any]]) -> None:
        records: dict[str, _Record] = {}
        for line in lines:
            kind, key = line.get("t"), line.get("key")
            args = line.get("args")
            if kind == "op" and line.get("op") in _OPS and isinstance(args, dict):
                doubt = line.get("doubt")
                records[str(key)] = _Record(
                    str(key),
                    line["op"],
                    args,
                    line.get("pid"),
                    _Doubt(doubt.get("before"), doubt.get("floor")) if doubt else None,
                )
            elif kind == "try" and key in records:
                records[key].doubt = _Doubt(line.get("before"), line.get("floor"))
            elif kind == "done" and key in records:
                record = records.pop(key)
                self._learn(record.op, record.pid, line.get("id"))
            else:
                log.warning("store_spool_line_skipped", line=line)
        for record in records.values():
            if record.doubt is not None and record.doubt.floor is not None:
                self._floor = max(self._floor or 0, record.doubt.floor)
            record.args = self._resolved(record.args)
            if record.op == "start_call" and record.pid is not None:
                self._call_pids[record.args["uniqueid"]] = record.pid
        self._pending.extend(records.values())
        pids = [r.pid for r in records.values() if r.pid is not None] + list(self._real)
        self._next_pid = min(pids, default=0) - 1

    async def _append(
        self, lines: list[dict[str, Any]], then: Callable[[], None] | None = None
    ) -> None:
        """Append and fsync; `then` runs once the lines are on disk, inside the lock."""
        async with self._file_lock:
            await _uncancelled(asyncio.to_thread(_append_lines, self.spool_path, lines))
            if then is not None:
                then()

    async def _compact(self) -> None:
        """Rewrite the spool as the records still waiting, atomically."""
        async with self._file_lock:
            lines = []
            for record in self._pending:
                record.args = self._resolved(record.args)
                lines.append(record.line())
            await _uncancelled(asyncio.to_thread(_replace_lines, self.spool_path, lines))


@contextlib.contextmanager
def _unavailable_on_outage() -> Iterator[None]:
    """Raise StoreUnavailable also for the outages CaseStore lets through as they are.

    asyncpg raises some errors while connecting, before SQLAlchemy can wrap them:
    57P03 "the database system is shutting down" (or "starting up"), 08003 "connection
    was closed in the middle of operation". They are the same outage, and a write must
    spool, not fail, when PostgreSQL stops or starts at that instant.
    """
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as exc:
        for error in (exc, getattr(exc, "orig", None)):
            sqlstate = getattr(error, "sqlstate", None)
            if isinstance(sqlstate, str) and sqlstate[:2] in _OUTAGE_SQLSTATE_CLASSES:
                raise StoreUnavailable(f"case store unavailable: {type(exc).__name__}") from exc
        raise


def _may_have_reached(exc: BaseException) -> bool:
    """False when the failure shows the write never reached the database."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return False
        for error in (seen, getattr(seen, "orig", None)):
            if getattr(error, "sqlstate", None) in _UNSENT_SQLSTATES:
                return False
            if getattr(error, "sqlite_errorcode", None) in _UNSENT_SQLITE_CODES:
                return False
        seen = seen.__cause__ or seen.__context__
    return True


async def _uncancelled(coro: Awaitable[None]) -> None:
    """Await a file operation to its end even if cancelled, so the lock covers all of it."""
    task = asyncio.ensure_future(coro)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def _encode(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in kwargs.items()}
    # What replay writes is what the file holds, so a direct write gets the same.
    encoded: dict[str, Any] = json.loads(json.dumps(out, ensure_ascii=False))
    return encoded


def _decode(args: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: datetime.fromisoformat(v) if k in _DATETIME_ARGS and isinstance(v, str) else v
        for k, v in args.items()
    }


def _is_pid(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value < 0


def _int(value: object) -> int:
    assert isinstance(value, int), value
    return value


def _bool(value: object) -> bool:
    assert isinstance(value, bool), value
    return value


def _read_lines(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    lines = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            line = None
        if isinstance(line, dict):
            lines.append(line)
        else:
            # Only the last line can be torn (the engine died writing it), and its
            # write had not returned: nobody was promised that record.
            log.warning("store_spool_torn_line", path=str(path), line=raw[:200])
    return lines


def _append_lines(path: Path, lines: list[dict[str, Any]]) -> None:
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        _write_all(fd, data.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)


def _replace_lines(path: Path, lines: list[dict[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        _write_all(fd, data.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(directory: Path) -> None:
    # The new name (or the rename) is durable only once the directory is.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
