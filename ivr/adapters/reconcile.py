"""Reconciliation at engine start: calls the engine never saw, and calls it lost.

While the engine is down (crashed, killed, restarting) Asterisk keeps serving: the
dialplan's fallback queues every caller. Two kinds of record need repair when the
engine comes back:

(a) calls that never reached the engine. Asterisk's CDRs (cdr_csv, Master.csv with
    the uniqueid and UTC times) list them; those on the hotline's inbound path that
    the store does not know are inserted, with outcome "fallback". An offset file
    keeps each start to the lines written since the last one.
(b) calls the store holds open whose channel is gone (the engine died before their
    Hangup). They are ended with the CDR's end time and cause when a CDR says, else
    with now and no cause.

Every repaired call gets a "reconciled" event in its timeline. Liveness comes from
ARI's channel list (all channels, not just Stasis ones).

cdr_csv writes no hangup cause, only a disposition; the cause recorded from a CDR is
the one that disposition stands for (ANSWERED: 16 Normal Clearing), and the event
says so (`cause_from: "disposition"`).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from ivr.adapters.ami import Outage
from ivr.adapters.ari import AriClient, AriError
from ivr.domain.clock import Clock
from ivr.domain.vocabulary import CallOutcome
from ivr.store import CallRecord, CaseStore, StoreUnavailable

log = structlog.get_logger()

CDR_DIR = "cdr-csv"
CDR_FILE = "Master.csv"
OFFSET_FILE = "cdr-reconcile.json"
OUTCOME_FALLBACK = CallOutcome.FALLBACK
EVENT = "reconciled"
# The timeline event of a call the dialplan fallback took (ivr/adapters/calls.py too).
FALLBACK_EVENT = "fallback"
# The hangup cause text of a call that was up when Asterisk died.
ASTERISK_LOST = "Asterisk lost (the engine lost its AMI link with the call up)"

# Contexts an inbound hotline call runs in (dialplans/hotline.conf). A CDR's dcontext
# is the last context its channel was in.
INBOUND_CONTEXTS = frozenset(
    {
        "hotline-inbound",
        "hotline-fallback",
        "hotline-queue",
        "hotline-transfer-agent",
        "hotline-transfer-admin",
        "hotline-transfer-done",
    }
)
# Only the fallback runs in hotline-fallback. A call ending in hotline-queue says
# nothing: the engine itself sends callers to the agents' queue (HOTLINE_NEXT=queue),
# and the fallback goes there too, after writing its mark in the CDR's userfield.
FALLBACK_CONTEXTS = frozenset({"hotline-fallback"})

# The hangup cause a CDR disposition stands for (Q.850 codes, Asterisk's texts).
DISPOSITION_CAUSES: Mapping[str, tuple[int, str]] = {
    "ANSWERED": (16, "Normal Clearing"),
    "BUSY": (17, "User busy"),
    "NO ANSWER": (19, "User alerting, no answer"),
    "CONGESTION": (34, "Circuit/channel congestion"),
}

RETRY_START_S = 0.5
RETRY_MAX_S = 5.0
SETTLE_POLL_S = 0.2
# Enough of a row to identify a call: cdr_csv with loguniqueid (17 fields), plus
# peeraccount, linkedid and sequence with newcdrcolumns (20).
_MIN_FIELDS = 17
_WITH_USERFIELD = 21
FALLBACK_MARK = "fallback:"
_CLID = re.compile(r'^\s*"?(?P<name>[^"<]*?)"?\s*<(?P<number>[^>]*)>\s*$')


@dataclass(frozen=True)
class CdrRow:
    """One Master.csv line, the fields reconciliation uses."""

    uniqueid: str
    linkedid: str
    channel: str
    src: str
    clid: str
    dst: str
    dcontext: str
    lastapp: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: str
    # "fallback:<reason>" when the dialplan's fallback took the call (loguserfield).
    userfield: str = ""


@dataclass
class CdrCall:
    """Every new CDR row of one channel, folded into one call."""

    first: CdrRow
    last: CdrRow
    answer: datetime | None
    end: datetime
    answered: bool

    @classmethod
    def of(cls, row: CdrRow) -> CdrCall:
        return cls(row, row, row.answer, row.end, row.disposition == "ANSWERED")

    def add(self, row: CdrRow) -> None:
        if row.start < self.first.start:
            self.first = row
        if row.end >= self.end:
            self.last = row
            self.end = row.end
        if row.answer is not None and (self.answer is None or row.answer < self.answer):
            self.answer = row.answer
        self.answered = self.answered or row.disposition == "ANSWERED"

    @property
    def disposition(self) -> str:
        # The hotline answers every call first. A row of a Dial the engine made carries
        # that Dial's disposition (NO ANSWER, BUSY), not the caller's: an answer time on
        # any row means the caller was answered.
        answered = self.answered or self.answer is not None
        return "ANSWERED" if answered else self.last.disposition

    @property
    def cause(self) -> tuple[int | None, str | None]:
        return DISPOSITION_CAUSES.get(self.disposition, (None, None))

    @property
    def took_fallback(self) -> bool:
        # The fallback's own mark decides (it is set before the caller is queued), or a
        # call that ended in the fallback's context before the mark was written.
        return self.last.dcontext in FALLBACK_CONTEXTS or self.fallback_reason is not None

    @property
    def fallback_reason(self) -> str | None:
        for row in (self.last, self.first):
            if row.userfield.startswith(FALLBACK_MARK):
                return row.userfield.removeprefix(FALLBACK_MARK)
        return None


@dataclass
class Summary:
    """What one reconciliation did, for the log and for tests."""

    cdr_rows: int = 0
    inserted: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    still_live: list[str] = field(default_factory=list)
    fell_back: list[str] = field(default_factory=list)


def _time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_row(fields: list[str]) -> CdrRow | None:
    """A Master.csv row (usegmtime, loguniqueid), or None if it is not one."""
    if len(fields) < _MIN_FIELDS:
        return None
    start, end = _time(fields[9]), _time(fields[11])
    uniqueid = fields[16]
    if start is None or end is None or not uniqueid:
        return None
    # With loguserfield the userfield follows the uniqueid, and the newcdrcolumns
    # (peeraccount, linkedid, sequence) move one on; older files have no userfield.
    userfield, rest = (fields[17], 19) if len(fields) >= _WITH_USERFIELD else ("", 18)
    linkedid = fields[rest] if len(fields) > rest and fields[rest] else uniqueid
    return CdrRow(
        uniqueid=uniqueid,
        linkedid=linkedid,
        channel=fields[5],
        src=fields[1],
        clid=fields[4],
        dst=fields[2],
        dcontext=fields[3],
        lastapp=fields[7],
        start=start,
        answer=_time(fields[10]),
        end=end,
        disposition=fields[14],
        userfield=userfield,
    )


def fold(rows: Iterable[CdrRow]) -> dict[str, CdrCall]:
    """Inbound hotline rows by channel uniqueid; other channels are left out."""
    calls: dict[str, CdrCall] = {}
    for row in rows:
        if row.dcontext not in INBOUND_CONTEXTS:
            continue
        if row.uniqueid in calls:
            calls[row.uniqueid].add(row)
        else:
            calls[row.uniqueid] = CdrCall.of(row)
    return calls


@dataclass(frozen=True)
class _Offset:
    inode: int
    offset: int


def _read_new(cdr_path: Path, offset_path: Path) -> tuple[list[CdrRow], _Offset | None]:
    """Rows written since the saved offset; a new or shorter file is read from its start."""
    try:
        saved_data = json.loads(offset_path.read_text(encoding="utf-8"))
        saved = _Offset(int(saved_data["inode"]), int(saved_data["offset"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        saved = None
    try:
        f = cdr_path.open("rb")
    except FileNotFoundError:
        return [], None
    with f:
        st = os.fstat(f.fileno())
        start = 0
        if saved is not None and saved.inode == st.st_ino and saved.offset <= st.st_size:
            start = saved.offset
        f.seek(start)
        data = f.read()
    # Only whole lines: Asterisk may be writing the next one right now.
    complete = data[: data.rfind(b"\n") + 1]
    rows = []
    for line in complete.decode("utf-8", errors="replace").splitlines():
        try:
            fields = next(csv.reader([line]), [])
        except csv.Error:
            continue  # Not a CDR line (a NUL byte, a broken quote): skip it, keep going.
        row = parse_row(fields)
        if row is not None:
            rows.append(row)
    return rows, _Offset(st.st_ino, start + len(complete))


def _save_offset(offset_path: Path, offset: _Offset) -> None:
    tmp = offset_path.with_name(f".{offset_path.name}.tmp")
    tmp.write_text(json.dumps({"inode": offset.inode, "offset": offset.offset}), encoding="utf-8")
    tmp.replace(offset_path)


def _caller(row: CdrRow) -> tuple[str | None, str | None]:
    match = _CLID.match(row.clid)
    name = match.group("name").strip() if match else ""
    number = row.src or (match.group("number") if match else "")
    return (number or None), (name or None)


class Reconciler:
    """Run once at engine start, in the background, until Asterisk has answered."""

    def __init__(
        self,
        store: CaseStore,
        ari: AriClient,
        clock: Clock,
        *,
        cdr_path: Path,
        offset_path: Path,
        settled: Callable[[], bool] = lambda: True,
        outages: Callable[[], Sequence[Outage]] = list,
        interval_s: float | None = None,
    ) -> None:
        self._store = store
        self._ari = ari
        self._clock = clock
        self._cdr_path = cdr_path
        self._offset_path = offset_path
        self._settled = settled
        # The engine's AMI outages: a call open when the engine lost Asterisk ended then.
        self._outages = outages
        # None: one pass (at start) only; else a pass every interval_s seconds.
        self._interval_s = interval_s
        # Calls started by this run, found gone with no end: ended on the next pass if
        # still open (the call tracker's Hangup may be on its way).
        # With the CDR row read meanwhile, if one was.
        self._missing: dict[str, CdrCall | None] = {}
        self._since: datetime | None = None
        # Calls inserted from a CDR whose channel is still up: ended on their Hangup.
        self._watch: set[str] = set()

    async def prepare(self) -> None:
        """Note when this engine began taking calls; call before FastAGI starts.

        Only calls started before then are this run's to repair: later ones are the
        call tracker's. cdr_csv does not make its directory (without it Asterisk drops
        every CDR), so it is made here.
        """
        self._since = self._clock()
        await asyncio.to_thread(self._cdr_path.parent.mkdir, parents=True, exist_ok=True)

    async def run(self) -> Summary:
        """Reconcile at start, then (with an interval) every interval, until cancelled.

        The store catches up without a restart: calls the fallback took while the
        engine hung or restarted, and calls whose end the engine never heard.
        """
        summary = await self._run_once()
        while self._interval_s is not None:
            await asyncio.sleep(self._interval_s)
            summary = await self._run_once()
        return summary

    async def _run_once(self) -> Summary:
        """One pass, retrying while Asterisk or the store cannot answer."""
        if self._since is None:
            await self.prepare()
        delay = RETRY_START_S
        while True:
            if not self._settled():
                # Records an earlier run spooled go in first: a call they start is not
                # one the engine never saw. The spool has no event to wait on.
                await asyncio.sleep(SETTLE_POLL_S)
                continue
            try:
                summary = await self.once()
            except (AriError, StoreUnavailable, OSError) as exc:
                log.warning("reconcile_retry", error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            except Exception:
                # A bug must not take the engine down; retrying it would only repeat it.
                log.exception("reconcile_failed")
                return Summary()
            quiet = not (
                summary.inserted or summary.ended or summary.still_live or summary.fell_back
            )
            (log.debug if quiet else log.info)(
                "reconciled",
                cdr_rows=summary.cdr_rows,
                inserted=len(summary.inserted),
                ended=len(summary.ended),
                still_live=len(summary.still_live),
                fell_back=len(summary.fell_back),
            )
            return summary

    async def once(self) -> Summary:
        rows, offset = await asyncio.to_thread(_read_new, self._cdr_path, self._offset_path)
        live = {c.id for c in await self._ari.list_channels()}
        cdr = fold(rows)
        summary = Summary(cdr_rows=len(rows))
        for uniqueid, call in cdr.items():
            known = await self._store.get_call_by_uniqueid(uniqueid)
            if known is None:
                await self._insert(call, live, summary)
            elif call.took_fallback:
                await self._fell_back(known, call, summary)
        since = self._since or self._clock()
        missing: dict[str, CdrCall | None] = {}
        for record in await self._store.open_calls():
            if record.uniqueid in live:
                continue
            found = cdr.get(record.uniqueid) or self._missing.get(record.uniqueid)
            if record.started_at >= since and record.uniqueid not in self._missing:
                missing[record.uniqueid] = found
                continue
            await self._end(record, found, summary)
        self._missing = missing
        if offset is not None:
            await asyncio.to_thread(_save_offset, self._offset_path, offset)
        return summary

    async def _insert(self, call: CdrCall, live: set[str], summary: Summary) -> None:
        row = call.first
        number, name = _caller(row)
        uniqueid = row.uniqueid[:64]
        call_id = await self._store.start_call(
            uniqueid=uniqueid,
            linkedid=row.linkedid[:64],
            channel=row.channel[:128],
            caller_number=number[:64] if number else None,
            caller_name=name[:128] if name else None,
            dnid=row.dst[:64] if row.dcontext == "hotline-inbound" and row.dst else None,
            started_at=row.start,
        )
        if call.answer is not None:
            await self._store.mark_answered(uniqueid, call.answer)
        # Not in the store means the engine never had the call: the fallback took it.
        await self._store.set_outcome(uniqueid, OUTCOME_FALLBACK)
        summary.inserted.append(uniqueid)
        ended = uniqueid not in live
        await self._store.add_event(
            call_id, at=self._clock(), kind=EVENT, data=self._cdr_data(call, ended=ended)
        )
        if not ended:
            self._watch.add(uniqueid)
            summary.still_live.append(uniqueid)
            return
        cause, text = call.cause
        await self._store.end_call(uniqueid, ended_at=call.end, cause=cause, cause_text=text)
        summary.ended.append(uniqueid)

    async def _end(self, record: CallRecord, call: CdrCall | None, summary: Summary) -> None:
        now = self._clock()
        if call is not None:
            cause, text = call.cause
            ended_at = max(call.end, record.started_at)
            data = self._cdr_data(call, ended=True)
            # The fallback took the caller last: that is how the call ended.
            outcome = OUTCOME_FALLBACK if call.took_fallback else None
        elif (lost := self._lost_at(record.started_at)) is not None:
            # No CDR: Asterisk died with the call up (a crash writes none). The call
            # ended when the engine lost Asterisk, not when this pass found it gone.
            cause, text, ended_at, outcome = None, ASTERISK_LOST, lost, None
            data = {"source": "asterisk-lost", "ended": True, "lost_at": lost.isoformat()}
        else:
            cause, text, ended_at, outcome = None, None, max(now, record.started_at), None
            data = {"source": "channels", "ended": True}
        if not await self._store.end_call(
            record.uniqueid, ended_at=ended_at, cause=cause, cause_text=text, outcome=outcome
        ):
            return  # Its Hangup was recorded meanwhile: that end stands.
        await self._store.add_event(record.id, at=now, kind=EVENT, data=data)
        summary.ended.append(record.uniqueid)

    async def _fell_back(self, record: CallRecord, call: CdrCall, summary: Summary) -> None:
        """A call the engine had, taken by the fallback when no engine heard it: its
        outcome and timeline say so (the engine records this itself when it hears
        the HotlineFallback event)."""
        if not any(e.kind == FALLBACK_EVENT for e in record.events):
            data = {"reason": call.fallback_reason, "source": "cdr"}
            await self._store.add_event(record.id, at=self._clock(), kind=FALLBACK_EVENT, data=data)
        if record.outcome != OUTCOME_FALLBACK:
            await self._store.set_outcome(record.uniqueid, OUTCOME_FALLBACK)
            summary.fell_back.append(record.uniqueid)

    def _lost_at(self, started_at: datetime) -> datetime | None:
        """When the engine lost Asterisk after the call began, if it did."""
        for outage in self._outages():
            if outage.down_at >= started_at:
                return outage.down_at
        return None

    @staticmethod
    def _cdr_data(call: CdrCall, *, ended: bool) -> dict[str, Any]:
        cause, _ = call.cause
        return {
            "source": "cdr",
            "ended": ended,
            "disposition": call.disposition,
            "last_context": call.last.dcontext,
            "last_app": call.last.lastapp,
            "cause_from": "disposition" if cause is not None else None,
            "fallback_reason": call.fallback_reason,
        }

    async def on_hangup(self, event: Mapping[str, str]) -> None:
        """AMI Hangup for a call inserted from a CDR while its channel was still up."""
        uniqueid = event.get("Uniqueid", "")
        if uniqueid not in self._watch:
            return
        self._watch.discard(uniqueid)
        cause_value = event.get("Cause")
        cause = int(cause_value) if cause_value and cause_value.isdigit() else None
        with contextlib.suppress(StoreUnavailable):
            await self._store.end_call(
                uniqueid,
                ended_at=self._clock(),
                cause=cause,
                cause_text=event.get("Cause-txt") or None,
            )
