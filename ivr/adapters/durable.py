"""Keeps the engine's call records when the case store cannot be reached.

`DurableStore` stands between the engine and `CaseStore`, with the same method
signatures (`ivr.store.ports.EngineStore`). Calls are routed whatever the database
does; what they write is kept.

Records. Every write is a typed record (`ivr.store.write_records`) that carries an
idempotency key made here, before the first try. The store inserts a record's row
with "on conflict do nothing" on that key, so writing a record a second time adds
nothing and answers the same (the same id, the same seq).

Spool. A write that fails because the database is away (`StoreUnavailable`: the one
list of outage errors is `ivr.store.outage`) is appended to a JSON-lines file
(`<state_dir>/spool/store.jsonl`), tagged with its type and serialized by pydantic,
and fsync'ed before the method returns, so it survives a SIGKILL of the engine.
While the spool holds anything, every later write goes to its end too: records reach
the database in the order the engine made them (an `end_call` never overtakes its
`start_call`). A background task (`start`) replays the spool in order, retrying with
backoff while the database is down, and rewrites the file to what is left (temp file
+ rename) after each pass. A spool left by an earlier run is replayed the same way.

Replay is "insert, skip on conflict": each record is simply written again. A record
the database committed before the engine died (or before a lost reply) finds its key
taken and adds nothing; no row counting, no search. A `done` line after each record
(not fsync'ed: losing it is harmless) only spares the next start from writing it again.
Records are replayed in groups of consecutive records, each group one transaction
(`ivr.adapters.replay_group`): a backlog drains at the pace of the work, not of one
commit per record. A group the database refuses is written again record by record.

Provisional ids. start_call, start_transfer and start_attempt return an id the engine
keeps using for the rest of the call. When spooled they return a provisional negative
id; replay learns the real id (the insert returns it, or finds it by the record's
key) and rewrites every later record that names it (their `id_fields`, and the same
names in an event's data).

Tickets. `create_ticket` is never spooled (the caller hears a number only once it is
committed, so an outage raises `StoreUnavailable`); `defer_ticket` spools a ticket
marked `after_outage` under the caller's key, made once after the outage.

During an outage `current_mode` and `closures` answer what they last read, and
`get_call_by_uniqueid` answers None.

A record the database refuses for good (LookupError, ValueError, ...) is moved to
`store.rejected.jsonl` beside the spool, with the error: kept for an operator, and
never blocking the records behind it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections import deque
from collections.abc import Mapping
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

import structlog

from ivr.adapters import spool_file
from ivr.adapters.durable_tickets import TicketsThroughOutage
from ivr.adapters.replay_group import MAX_GROUP, ReplayGroup
from ivr.adapters.spool_records import (
    ADAPTERS,
    DATA_IDS,
    ID_RECORDS,
    SpoolEntry,
    is_provisional,
)
from ivr.background import Background
from ivr.store import CallRecord, CaseStore, ClosureRecord, StoreUnavailable, TicketRecord
from ivr.store.engine_writes import EngineWrites
from ivr.store.outage import unavailable_on_outage
from ivr.store.ports import EngineStore
from ivr.store.ticket_records import CreateTicket
from ivr.store.write_records import (
    AddEvent,
    Spooled,
    StartAttempt,
    StartCall,
    Write,
)
from ivr.store.writes import Finish

log = structlog.get_logger()
T = TypeVar("T")

# Where the spool lives, under the stack's state directory.
SPOOL_FILE = Path("spool") / "store.jsonl"
REJECTED_SUFFIX = ".rejected.jsonl"


class _Rejected(Exception):
    """The record cannot be written, now or later."""


class DurableStore(EngineWrites, TicketsThroughOutage):
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
        self._pending: deque[SpoolEntry] = deque()
        self._real: dict[int, int] = {}  # provisional id -> real id
        self._call_pids: dict[str, int] = {}  # uniqueid -> provisional id of its call
        self._next_pid = -1
        self._mode = "normal"
        self._closures: dict[date, ClosureRecord] = {}
        self._file_lock = asyncio.Lock()
        self._replay_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._replay = Background("store-replay", self._run)
        self._counts = {"spooled": 0, "replayed": 0, "rejected": 0}

    @classmethod
    async def open(cls, store: CaseStore, spool_path: Path, **kwargs: float) -> DurableStore:
        """Wrap `store`, taking up what an earlier run left in the spool."""
        durable = cls(store, spool_path, **kwargs)
        lines = await asyncio.to_thread(spool_file.read_lines, spool_path)
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

    @property
    def case_store(self) -> CaseStore:
        """The database behind the spool, for reads that may fail and be skipped."""
        return self._store

    # -- background replay ---------------------------------------------------------

    def start(self) -> None:
        """Replay the spool in the background whenever it holds something, until stop()."""
        self._replay.start()

    async def stop(self) -> None:
        await self._replay.stop()

    async def _run(self) -> None:
        delay = self._retry_s
        while True:
            await self._wake.wait()
            try:
                await self.replay()
            except Exception as exc:
                if not isinstance(exc, StoreUnavailable):
                    # A bug here must not end replay for good; the records stay spooled.
                    log.exception("store_replay_failed")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_retry_s)
                continue
            delay = self._retry_s
            if not self._pending:
                self._wake.clear()

    async def replay(self, limit: int | None = None) -> int:
        """Write spooled records to the database in order; return how many were handled.

        Raises StoreUnavailable if the database goes away (what was written stays
        written). `limit` stops after that many records. Records set aside as
        rejected count as handled.
        """
        async with self._replay_lock:
            done = 0
            try:
                while self._pending and (limit is None or done < limit):
                    size = MAX_GROUP if limit is None else min(MAX_GROUP, limit - done)
                    done += await self._replay_group(size)
            finally:
                if done:
                    await self._compact()
                    self._counts["replayed"] += done
                    if not self._pending:
                        c = self._counts
                        log.info(
                            "store_replayed",
                            count=c["replayed"] - c["rejected"],
                            rejected=c["rejected"],
                            spooled=c["spooled"],
                        )
                        self._counts = dict.fromkeys(c, 0)
            return done

    # -- reads -----------------------------------------------------------------------

    async def current_mode(self, at: datetime) -> str:
        """The mode in force; during an outage, the last one read (at first "normal")."""
        try:
            with unavailable_on_outage():
                self._mode = await self._store.current_mode(at)
        except StoreUnavailable:
            log.debug("store_mode_cached", mode=self._mode)
        return self._mode

    async def closures(self, since: date) -> dict[date, ClosureRecord]:
        """Days closed from `since` on; during an outage, the last ones read (at first none)."""
        try:
            with unavailable_on_outage():
                self._closures = await self._store.closures(since)
        except StoreUnavailable:
            log.debug("store_closures_cached", days=len(self._closures))
        return {day: r for day, r in self._closures.items() if day >= since}

    async def get_call_by_uniqueid(self, uniqueid: str) -> CallRecord | None:
        """The call as the database has it; None during an outage."""
        try:
            with unavailable_on_outage():
                return await self._store.get_call_by_uniqueid(uniqueid)
        except StoreUnavailable:
            return None

    async def open_calls(self) -> list[CallRecord]:
        with unavailable_on_outage():
            return await self._store.open_calls()

    async def flag_overdue(self, now: datetime) -> list[TicketRecord]:
        with unavailable_on_outage():
            return await self._store.flag_overdue(now)

    async def overdue_tickets(self) -> list[TicketRecord]:
        with unavailable_on_outage():
            return await self._store.overdue_tickets()

    async def mark_overdue_notified(self, ticket_id: int, at: datetime) -> bool:
        with unavailable_on_outage():
            return await self._store.mark_overdue_notified(ticket_id, at)

    # -- writing or spooling -----------------------------------------------------------

    async def _submit(self, record: Write[T]) -> T | Spooled:
        """Write the record now, or spool it (`Spooled`) if it cannot be written now."""
        if isinstance(record, StartCall):
            pid = self._call_pids.get(record.uniqueid)
            if pid is not None:
                # Spooled before: the same id, as CaseStore gives for a known uniqueid.
                real = self._real.get(pid)
                return Spooled(pid) if real is None else cast(T, real)
        record = self._resolved(record)
        if self._pending or self._names_unresolved(record):
            return await self._spool(record)
        try:
            with unavailable_on_outage():
                return await self._store._submit(record)
        except StoreUnavailable as exc:
            # The write may have committed with only the reply lost: its key makes the
            # replay add nothing then.
            return await self._spool(record, error=exc)

    async def _spool(self, record: Write[Any], *, error: StoreUnavailable | None = None) -> Spooled:
        pid: int | None = None
        if isinstance(record, ID_RECORDS):
            pid, self._next_pid = self._next_pid, self._next_pid - 1
        entry = SpoolEntry(record, pid)
        if isinstance(record, StartCall) and pid is not None:
            self._call_pids[record.uniqueid] = pid
        if self._counts["spooled"] == 0:
            log.warning(
                "store_spooling",
                op=record.tag,
                error=str(error) if error else "records already waiting",
                pending=len(self._pending),
                path=str(self.spool_path),
            )
        self._counts["spooled"] += 1
        await self._append([entry.line()], then=lambda: self._pending.append(entry))
        self._wake.set()
        return Spooled(pid)

    # -- replay ----------------------------------------------------------------------

    async def _replay_group(self, size: int) -> int:
        """Write up to `size` records from the spool's head in one transaction; how
        many were handled. A group the database refuses as a whole is written one
        record at a time, so only the record refused is set aside."""
        entries = list(itertools.islice(self._pending, size))
        group = ReplayGroup(
            [e.record for e in entries], [e.pid for e in entries], self._resolved_with
        )
        try:
            with unavailable_on_outage():
                results = await self._store.apply(group)
        except StoreUnavailable:
            raise
        except Exception as exc:
            if len(entries) > 1:
                log.info("store_replay_group_split", records=len(entries), error=str(exc))
            for entry in entries:
                if not await self._replay_one(entry):
                    self._counts["rejected"] += 1
                self._pending.popleft()
            return len(entries)
        self._real.update(group.made)
        for entry, record, result in zip(entries, group.written, results, strict=True):
            entry.record = record
            if isinstance(record, CreateTicket):
                log.warning("ticket_made_after_outage", ticket_id=result, key=record.key)
            real_id = group.made.get(entry.pid) if entry.pid is not None else None
            # One line a record, as `_replay_one` writes: see there.
            done = {"t": "done", "key": record.idempotency_key, "id": real_id}
            await self._append([done], sync=False)
            self._pending.popleft()
        return len(entries)

    async def _replay_one(self, entry: SpoolEntry) -> bool:
        """Write one record; False if it was rejected instead."""
        entry.record = self._resolved(entry.record)
        try:
            with unavailable_on_outage():
                result = await self._write_again(entry.record)
        except StoreUnavailable:
            raise
        except Exception as exc:
            # Refused for good (or a bug): set aside, so the records behind it go on.
            await self._reject(entry, f"{type(exc).__name__}: {exc}")
            return False
        real_id = result if entry.pid is not None and isinstance(result, int) else None
        if isinstance(entry.record, CreateTicket):
            log.warning("ticket_made_after_outage", ticket_id=result, key=entry.record.key)
        # Not fsync'ed: a done line lost in a crash only means the record is written
        # again at the next start, which adds nothing (its key is taken).
        done = {"t": "done", "key": entry.record.idempotency_key, "id": real_id}
        await self._append([done], sync=False)
        if real_id is not None and entry.pid is not None:
            self._real[entry.pid] = real_id
        return True

    async def _write_again(self, record: Write[Any]) -> Any:
        """Write a spooled record: inserted, or skipped if its key is in already."""
        if self._names_unresolved(record):
            raise _Rejected("it names a record that was never written")
        result = await self._store.apply(record)
        if result is None and isinstance(record, (AddEvent, StartAttempt)):
            raise _Rejected("the row it belongs to does not exist")
        if result is Finish.MISSING:
            raise _Rejected("the row it finishes does not exist")
        return result

    async def _reject(self, entry: SpoolEntry, error: str) -> None:
        key = entry.record.idempotency_key
        log.error("store_record_rejected", op=entry.record.tag, key=key, error=error)
        line = {**entry.line(), "error": error}
        await asyncio.to_thread(spool_file.append_lines, self.rejected_path, [line])
        await self._append([{"t": "done", "key": key, "id": None}])

    # -- provisional ids -------------------------------------------------------------

    def _resolve(self, value: T) -> T:
        if is_provisional(value):
            return cast(T, self._real.get(cast(int, value), value))
        return value

    def _unresolved(self, value: object) -> bool:
        """A provisional id whose record has not reached the database."""
        return is_provisional(self._resolve(value))

    def _resolved_with(self, record: Write[T], made: Mapping[int, int]) -> tuple[Write[T], bool]:
        """`_resolved`, knowing also the ids a replay group has made so far; and whether
        the record still names a provisional id."""
        record = self._resolved(record, made)
        values = [getattr(record, name) for name in record.id_fields]
        if isinstance(record, AddEvent):
            values += [record.data.get(k) for k in DATA_IDS]
        return record, any(is_provisional(v) for v in values)

    def _resolved(self, record: Write[T], made: Mapping[int, int] | None = None) -> Write[T]:
        """The record with every provisional id it names that is known made real."""

        def resolve(value: Any) -> Any:
            value = self._resolve(value)
            return made.get(value, value) if made and is_provisional(value) else value

        changes: dict[str, Any] = {}
        for name in record.id_fields:
            value = getattr(record, name)
            if resolve(value) != value:
                changes[name] = resolve(value)
        if isinstance(record, AddEvent):
            data = {k: resolve(v) if k in DATA_IDS else v for k, v in record.data.items()}
            if data != record.data:
                changes["data"] = data
        if not changes:
            return record
        return cast(Write[T], dataclasses.replace(cast(Any, record), **changes))

    def _names_unresolved(self, record: Write[Any]) -> bool:
        values = [getattr(record, name) for name in record.id_fields]
        if isinstance(record, AddEvent):
            values += [record.data.get(k) for k in DATA_IDS]
        return any(self._unresolved(v) for v in values)

    # -- the spool file --------------------------------------------------------------

    def _load(self, lines: list[dict[str, Any]]) -> None:
        entries: dict[str, SpoolEntry] = {}
        for line in lines:
            kind, key, tag = line.get("t"), line.get("key"), line.get("op")
            if kind == "op" and isinstance(tag, str) and tag in ADAPTERS:
                args = dict(line.get("args") or {})
                # A spool of the previous release: its line's key is the record's key.
                if "idempotency_key" in args:
                    args["key"] = args.pop("idempotency_key")
                args.setdefault("key", key)
                try:
                    record = ADAPTERS[tag].validate_python(args)
                except ValueError as exc:
                    log.warning("store_spool_line_unreadable", line=line, error=str(exc))
                    continue
                pid = line.get("pid")
                entries[str(key)] = SpoolEntry(record, pid if isinstance(pid, int) else None)
            elif kind == "done" and key in entries:
                entry = entries.pop(str(key))
                real = line.get("id")
                if entry.pid is not None and isinstance(real, int):
                    self._real[entry.pid] = real
            else:
                log.warning("store_spool_line_skipped", line=line)
        for entry in entries.values():
            entry.record = self._resolved(entry.record)
            if isinstance(entry.record, StartCall) and entry.pid is not None:
                self._call_pids[entry.record.uniqueid] = entry.pid
        self._pending.extend(entries.values())
        pids = [e.pid for e in entries.values() if e.pid is not None] + list(self._real)
        self._next_pid = min(pids, default=0) - 1

    async def _append(
        self, lines: list[dict[str, Any]], then: Any = None, *, sync: bool = True
    ) -> None:
        """Append (fsync'ed with `sync`); `then` runs once the lines are written, in the lock."""
        async with self._file_lock:
            write = partial(spool_file.append_lines, self.spool_path, lines, sync=sync)
            await spool_file.uncancelled(asyncio.to_thread(write))
            if then is not None:
                then()

    async def _compact(self) -> None:
        """Rewrite the spool as the records still waiting, atomically."""
        async with self._file_lock:
            lines = []
            for entry in self._pending:
                entry.record = self._resolved(entry.record)
                lines.append(entry.line())
            await spool_file.uncancelled(
                asyncio.to_thread(spool_file.replace_lines, self.spool_path, lines)
            )


def _provides(store: DurableStore) -> EngineStore:
    # Checked by mypy: the spool keeps every promise the engine relies on.
    return store


def database_of(store: EngineStore) -> CaseStore:
    """The database behind a call's store, for reads that must not be spooled: an
    outage is told to the caller (case status, caller limits), never queued."""
    if isinstance(store, DurableStore):
        return store.case_store
    if isinstance(store, CaseStore):
        return store
    raise TypeError(f"no database behind {type(store).__name__}")
