"""The retention job (P12): de-identify the store, mask CDR lines, delete old files.

Run by `ivr retention run` (from cron or a systemd timer, daily). The clock is passed
in, so a test can run the job a month ahead. What it does, in order:

1. the case store: closed tickets past `deidentify_after_days` and calls past
   `calls_days` are masked with ○ (`ivr.store.retention`);
2. the voice messages of those tickets are deleted, and every recording older than
   `recordings_days`;
3. Master.csv: the lines of those calls are masked in place, byte for byte the same
   length, so Asterisk (which appends) and the reconciler (which keeps a byte offset)
   are undisturbed; other CDR files older than `cdr_days` are deleted;
4. the spool's rejected-records file: numbers masked in place, as in Master.csv;
5. one audit row says what was done.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from ivr.adapters.reconcile import CDR_DIR, CDR_FILE
from ivr.config import StackConfig
from ivr.domain.clock import Clock, system_clock
from ivr.domain.masking import MASK, is_masked
from ivr.routing.privacy import Retention
from ivr.store import CaseStore, audit
from ivr.store.retention import deidentify

log = structlog.get_logger(__name__)

MESSAGES_DIR = Path("spool") / "messages"
REJECTED_FILE = Path("spool") / "store.rejected.jsonl"
RECORDING_SUFFIXES = (".wav", ".gsm", ".ulaw", ".alaw", ".sln", ".g722")
# cdr_csv quotes text fields (a doubled quote is a quote inside one) and leaves the
# durations bare: a field is either.
_CSV_FIELD = re.compile(rb'"((?:[^"]|"")*)"|([^,\r\n]*)')
# Master.csv fields (cdr_csv with loguniqueid): src, clid and lastdata carry numbers.
_UNIQUEID_FIELD = 16
_PERSONAL_FIELDS = frozenset({1, 2, 4, 8})


@dataclass
class RetentionReport:
    tickets: list[str] = field(default_factory=list)
    calls: int = 0
    recordings_deleted: list[str] = field(default_factory=list)
    cdr_lines_masked: int = 0
    cdr_files_deleted: list[str] = field(default_factory=list)
    rejected_numbers_masked: int = 0

    def summary(self) -> str:
        return (
            f"de-identified {len(self.tickets)} tickets and {self.calls} calls; "
            f"deleted {len(self.recordings_deleted)} recordings and "
            f"{len(self.cdr_files_deleted)} CDR files; masked {self.cdr_lines_masked} CDR "
            f"lines and {self.rejected_numbers_masked} fields in rejected spool records"
        )


def _same_length_mask(value: bytes) -> bytes:
    """○ for every three bytes, spaces for the rest: the field keeps its byte length."""
    whole, rest = divmod(len(value), len(MASK.encode()))
    return (MASK * whole).encode() + b" " * rest


def _field_spans(line: bytes) -> list[tuple[int, int]]:
    """Where each field's content starts and ends in a CDR line, quotes excluded."""
    spans = []
    pos = 0
    while True:
        match = _CSV_FIELD.match(line, pos)
        if match is None:
            break
        group = 1 if match.group(1) is not None else 2
        spans.append(match.span(group))
        pos = match.end()
        if pos >= len(line) or line[pos : pos + 1] != b",":
            break
        pos += 1
    return spans


def mask_cdr_line(line: bytes, uniqueids: set[str]) -> bytes:
    """`line` with its personal fields masked if it belongs to one of `uniqueids`."""
    spans = _field_spans(line)
    if len(spans) <= _UNIQUEID_FIELD:
        return line
    start, end = spans[_UNIQUEID_FIELD]
    if line[start:end].decode(errors="replace") not in uniqueids:
        return line
    out = bytearray(line)
    for index in sorted(_PERSONAL_FIELDS):
        start, end = spans[index]
        if index == 2 and is_masked(line[start:end].decode(errors="replace")):
            continue  # dst is a service number (1999) unless it dialled a citizen
        out[start:end] = _same_length_mask(line[start:end])
    return bytes(out)


def mask_cdr_file(path: Path, uniqueids: set[str]) -> int:
    """Mask the lines of `uniqueids` in place; the file's size never changes."""
    if not uniqueids or not path.exists():
        return 0
    masked = 0
    with path.open("r+b") as fh:
        offset = 0
        for line in fh.read().splitlines(keepends=True):
            new = mask_cdr_line(line, uniqueids)
            if new != line:
                fh.seek(offset)
                fh.write(new)
                masked += 1
            offset += len(line)
        fh.flush()
        os.fsync(fh.fileno())
    return masked


def _older_than(path: Path, cutoff: datetime) -> bool:
    return path.stat().st_mtime < cutoff.timestamp()


def _delete(path: Path, deleted: list[str]) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    deleted.append(str(path))


# A phone number in the rejected spool's JSON: a string value that starts with it, or
# one inside a dial string or caller id. A bare JSON number (an id) is left alone, so
# the line stays valid JSON.
_NUMBER_BYTES = re.compile(rb'(?<=["/<])\+?[0-9]{7,15}(?![A-Za-z0-9_.])')
# Free text a refused write may carry: the value of these keys, masked whole.
_TEXT_BYTES = re.compile(rb'"(?:caller_name|text|outcome)": ?"((?:[^"\\]|\\.)*)"')


def _mask_rejected(path: Path) -> int:
    """Mask numbers in place, byte for byte: the engine may append while this runs."""
    if not path.exists():
        return 0
    changed = 0
    with path.open("r+b") as fh:
        data = fh.read()
        spans = [m.span() for m in _NUMBER_BYTES.finditer(data)]
        spans += [m.span(1) for m in _TEXT_BYTES.finditer(data)]
        for start, end in spans:
            fh.seek(start)
            fh.write(_same_length_mask(data[start:end]))
            changed += 1
        fh.flush()
        os.fsync(fh.fileno())
    return changed


def sweep_files(
    state_dir: Path,
    policy: Retention,
    now: datetime,
    uniqueids: set[str],
    message_paths: list[str],
    report: RetentionReport,
) -> None:
    """The file side of retention: recordings, CDR files, the rejected spool."""
    for message in message_paths:
        _delete(Path(message), report.recordings_deleted)
    recordings_cutoff = now - timedelta(days=policy.recordings_days)
    messages = state_dir / MESSAGES_DIR
    if messages.is_dir():
        for path in sorted(messages.iterdir()):
            if path.suffix in RECORDING_SUFFIXES and _older_than(path, recordings_cutoff):
                _delete(path, report.recordings_deleted)
    cdr_dir = state_dir / "log" / CDR_DIR
    report.cdr_lines_masked = mask_cdr_file(cdr_dir / CDR_FILE, uniqueids)
    cdr_cutoff = now - timedelta(days=policy.cdr_days)
    if cdr_dir.is_dir():
        for path in sorted(cdr_dir.iterdir()):
            # Master.csv is Asterisk's open file: its lines are masked, never deleted.
            if path.is_file() and path.name != CDR_FILE and _older_than(path, cdr_cutoff):
                _delete(path, report.cdr_files_deleted)
    report.rejected_numbers_masked = _mask_rejected(state_dir / REJECTED_FILE)


async def run_retention(
    cfg: StackConfig, *, clock: Clock = system_clock, policy: Retention | None = None
) -> RetentionReport:
    """One run of the job; `policy` defaults to the profile's `privacy.retention`."""
    if policy is None:
        from ivr.routing.loader import load_profile

        policy = load_profile(cfg.routing_dir).profile.privacy.retention
    now = clock()
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        done = await deidentify(
            store,
            now=now,
            ticket_days=policy.deidentify_after_days,
            call_days=policy.calls_days,
        )
        report = RetentionReport(tickets=done.tickets, calls=done.calls)
        sweep_files(cfg.state_dir, policy, now, done.uniqueids, done.message_paths, report)
        await audit.record(
            store,
            at=now,
            who=audit.os_user(),
            action="retention",
            subject="retention",
            detail=report.summary()[:256],
        )
    finally:
        await store.close()
    log.info(
        "retention_run",
        tickets=len(report.tickets),
        calls=report.calls,
        recordings_deleted=len(report.recordings_deleted),
        cdr_files_deleted=len(report.cdr_files_deleted),
    )
    return report
