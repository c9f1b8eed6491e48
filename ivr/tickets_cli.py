"""`ivr tickets …` and `ivr report transfers`: callback tickets and the monthly report.

Each command is an async function returning the text to print; `run` executes one and
prints its answer. Every expected failure (unknown ticket, a move the workflow forbids,
a bad month, an unreachable store) is raised as a `HotlineError`, which the CLI shows
as one line on stderr (or JSON) with its exit status (docs/cli.md).

Caller numbers are masked unless `--unmask` is given with a `--reason`; every view,
masked or not, writes an audit row (`ivr.store.audit`). `ivr tickets callback` dials
the number without showing it.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from ivr.config import StackConfig
from ivr.domain.clock import Clock, system_clock
from ivr.domain.masking import mask_numbers_deep, mask_numbers_in, shown_number
from ivr.domain.tickets import LOCAL_TZ, TOTAL, ReportRow, month_bounds, report_rows
from ivr.errors import ExitStatus, HotlineError
from ivr.store import (
    TICKET_TRANSITIONS,
    CaseStore,
    InvalidTransition,
    TicketEventRecord,
    TicketRecord,
    audit,
)

EXIT_OK = int(ExitStatus.OK)
EXIT_FAIL = int(ExitStatus.FAILURE)


class TicketCommandError(HotlineError):
    """A ticket command cannot do what was asked; the message says why, in one line."""

    code = "ticket.failed"


class TicketNotFound(TicketCommandError):
    """No ticket has that number or id."""

    code = "ticket.not_found"
    exit_status = ExitStatus.NOT_FOUND


class TicketRefused(TicketCommandError):
    """The workflow or the privacy rules forbid what was asked."""

    code = "ticket.refused"
    exit_status = ExitStatus.REFUSED


def run(command: Coroutine[Any, Any, str]) -> int:
    """Run one command, print its output, and return the process exit status.

    A failure propagates as a `HotlineError` (the store's `StoreUnavailable` too), for
    the CLI's one error handler to show.
    """
    output = asyncio.run(command)
    if output:
        print(output)
    return EXIT_OK


@asynccontextmanager
async def _store(cfg: StackConfig) -> AsyncIterator[CaseStore]:
    store = await CaseStore.open(cfg.database_url)
    try:
        # As `ivr mode` does: a stack whose engine never ran still gets its tables.
        await store.migrate()
        yield store
    finally:
        await store.close()


async def _resolve(store: CaseStore, ref: str) -> TicketRecord:
    """A ticket by its number (25030042), or else by its database id."""
    ticket = await store.get_ticket_by_number(ref)
    if ticket is None and ref.isdigit():
        ticket = await store.get_ticket(int(ref))
    if ticket is None:
        raise TicketNotFound(
            f"no ticket {ref!r}: give its number (e.g. 25030042) or its id",
            details={"ticket": ref},
        )
    return ticket


def _local(moment: datetime | None, seconds: bool = False) -> str:
    if moment is None:
        return "-"
    return f"{moment.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M{':%S' if seconds else ''}}"


def _json(value: Any) -> str:
    def default(obj: object) -> object:
        if isinstance(obj, datetime):
            return obj.isoformat()
        if isinstance(obj, Mapping):
            return dict(obj)
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")

    return json.dumps(value, indent=2, ensure_ascii=False, default=default)


def ticket_dict(
    ticket: TicketRecord, events: list[TicketEventRecord] | None = None
) -> dict[str, Any]:
    """Everything about a ticket as plain data; `events` adds its audit trail."""
    data = {f.name: getattr(ticket, f.name) for f in fields(ticket)}
    data["notes"] = [asdict(n) for n in ticket.notes]
    data["attempts"] = [asdict(a) for a in ticket.attempts]
    if events is not None:
        data["events"] = [
            {"id": e.id, "at": e.at, "kind": e.kind, "data": dict(e.data)} for e in events
        ]
    return data


# A ticket's own fields that identify it, never a person: shown as they are.
_TICKET_IDS = frozenset({"id", "number", "call_id", "transfer_id", "cases"})


def masked_dict(data: dict[str, Any], *, unmask: bool) -> dict[str, Any]:
    """A ticket's data as shown: numbers masked unless unmasking was asked for."""
    if unmask:
        return data
    shown: dict[str, Any] = {}
    for key, value in data.items():
        if key in _TICKET_IDS:
            shown[key] = value
        elif key == "caller_number":
            shown[key] = shown_number(value, unmask=False)
        else:
            shown[key] = mask_numbers_deep(value, key)
    return shown


def require_reason(unmask: bool, reason: str | None) -> None:
    """Unmasking a citizen's data needs a stated reason (T10(3)): it goes in the audit."""
    if unmask and not (reason and reason.strip()):
        raise TicketRefused(
            "--unmask needs --reason: say why you need the citizen's data in clear "
            "(and whose consent you have); it is written to the audit log"
        )


async def audit_view(
    store: CaseStore,
    subject: str,
    *,
    unmask: bool,
    reason: str | None,
    detail: str,
    clock: Clock = system_clock,
) -> None:
    await audit.record(
        store,
        at=clock(),
        who=audit.os_user(),
        action="unmask" if unmask else "view",
        subject=subject,
        detail=detail,
        reason=reason,
    )


# -- tickets ---------------------------------------------------------------------------


async def list_tickets(
    cfg: StackConfig,
    *,
    status: str | None,
    unit: str | None,
    agency: str | None,
    overdue: bool,
    limit: int,
    as_json: bool,
    unmask: bool = False,
    reason: str | None = None,
) -> str:
    if limit < 1:
        raise TicketCommandError(f"--limit must be at least 1, got {limit}")
    require_reason(unmask, reason)
    async with _store(cfg) as store:
        tickets = await store.list_tickets(
            status=status,
            unit_id=unit,
            agency_id=agency,
            overdue=True if overdue else None,
            limit=limit,
        )
        # Only JSON carries numbers; the table shows none, but lists what exists.
        await audit_view(
            store,
            "tickets",
            unmask=unmask and as_json,
            reason=reason,
            detail=f"list of {len(tickets)}: {','.join(t.number for t in tickets)}"[:256],
        )
    if as_json:
        return _json([masked_dict(ticket_dict(t), unmask=unmask) for t in tickets])
    if not tickets:
        return "no tickets match"
    lines = [
        f"{'number':10} {'status':11} {'overdue':7} {'agency/unit':32} {'reason':21} "
        f"{'due (' + LOCAL_TZ.key + ')':22} assignee"
    ]
    for t in tickets:
        where = f"{t.agency_id}/{t.unit_id or '-'}"
        lines.append(
            f"{t.number:10} {t.status:11} {'OVERDUE' if t.overdue else '-':7} {where:32} "
            f"{t.reason:21} {_local(t.due_at):22} {t.assignee or '-'}"
            + ("  [after outage]" if t.after_outage else "")
        )
    return "\n".join(lines)


def _format_ticket(
    ticket: TicketRecord, events: list[TicketEventRecord], *, unmask: bool = False
) -> str:
    def clear(text: str) -> str:
        return text if unmask else mask_numbers_in(text)

    flagged = f"yes, flagged {_local(ticket.overdue_at)}" if ticket.overdue else "no"
    rows = [
        ("status", ticket.status),
        ("overdue", flagged),
        ("agency/unit", f"{ticket.agency_id} / {ticket.unit_id or '-'}"),
        ("reason", ticket.reason),
        ("caller", shown_number(ticket.caller_number, unmask=unmask)),
        ("created", _local(ticket.created_at)),
        ("due", _local(ticket.due_at)),
        ("assignee", ticket.assignee or "-"),
        ("outcome", ticket.outcome or "-"),
        ("closed", _local(ticket.closed_at)),
        ("overdue mail", _local(ticket.notified_overdue_at)),
        ("call / transfer", f"{ticket.call_id or '-'} / {ticket.transfer_id or '-'}"),
        ("message", ticket.message_path or "-"),
        (
            "made",
            "after a store outage (caller not told)" if ticket.after_outage else "on the call",
        ),
    ]
    lines = [f"ticket {ticket.number} (id {ticket.id}), times in {LOCAL_TZ.key}"]
    lines += [f"  {key:16} {value}" for key, value in rows]
    lines.append(f"attempts ({len(ticket.attempts)}):")
    for a in ticket.attempts:
        ring = f"{a.ring_seconds:.0f}s" if a.ring_seconds is not None else "-"
        lines.append(
            f"  {a.seq:>3}  {_local(a.started_at, seconds=True)}  {a.role:9} {clear(a.target):20} "
            f"try {a.attempt}  {a.dialstatus or 'ringing':11} ring {ring}"
        )
    lines.append(f"notes ({len(ticket.notes)}):")
    lines += [f"  {_local(n.at)}  {n.author}: {clear(n.text)}" for n in ticket.notes]
    lines.append(f"events ({len(events)}):")
    for e in events:
        data = json.dumps(dict(e.data), ensure_ascii=False)
        lines.append(f"  {_local(e.at, seconds=True)}  {e.kind:16} {clear(data)}")
    return "\n".join(lines)


async def show_ticket(
    cfg: StackConfig,
    ref: str,
    *,
    as_json: bool,
    unmask: bool = False,
    reason: str | None = None,
) -> str:
    require_reason(unmask, reason)
    async with _store(cfg) as store:
        ticket = await _resolve(store, ref)
        events = await store.ticket_events(ticket.id)
        cases = await _cases_of(store, ticket.id)
        # Written before anything is shown: a view that cannot be audited is not made.
        await audit_view(
            store,
            f"ticket:{ticket.number}",
            unmask=unmask,
            reason=reason,
            detail="json" if as_json else "text",
        )
    if as_json:
        data = ticket_dict(ticket, events)
        data["cases"] = [{"number": n, "role": r} for n, r in cases]
        return _json(masked_dict(data, unmask=unmask))
    # The case a callback was spawned from, or the case that absorbed the ticket.
    lines = [f"cases ({len(cases)}):", *(f"  {n}  {r}" for n, r in cases)]
    return "\n".join([_format_ticket(ticket, events, unmask=unmask), *lines])


async def _cases_of(store: CaseStore, ticket_id: int) -> list[tuple[str, str]]:
    from ivr.store.cases import CaseBook

    return await CaseBook.of(store, "").cases_of_ticket(ticket_id)


async def assign_ticket(
    cfg: StackConfig, ref: str, assignee: str, *, by: str, clock: Clock = system_clock
) -> str:
    async with _store(cfg) as store:
        ticket = await _resolve(store, ref)
        try:
            await store.assign_ticket(ticket.id, assignee, at=clock(), by=by)
        except ValueError as exc:
            raise TicketRefused(f"ticket {ticket.number}: {exc}") from exc
    return f"ticket {ticket.number}: assigned to {assignee}"


async def note_ticket(
    cfg: StackConfig, ref: str, text: str, *, by: str, clock: Clock = system_clock
) -> str:
    if not text.strip():
        raise TicketCommandError("a note needs some text")
    async with _store(cfg) as store:
        ticket = await _resolve(store, ref)
        try:
            await store.add_ticket_note(ticket.id, at=clock(), author=by, text=text)
        except ValueError as exc:
            raise TicketRefused(f"ticket {ticket.number}: {exc}") from exc
    return f"ticket {ticket.number}: note added by {by} ({len(ticket.notes) + 1} notes)"


async def set_status(
    cfg: StackConfig,
    ref: str,
    status: str,
    *,
    outcome: str | None,
    by: str,
    clock: Clock = system_clock,
) -> str:
    async with _store(cfg) as store:
        ticket = await _resolve(store, ref)
        try:
            await store.set_ticket_status(ticket.id, status, at=clock(), by=by, outcome=outcome)
        except InvalidTransition as exc:
            allowed = sorted(TICKET_TRANSITIONS[exc.current])
            then = f"it may go to {', '.join(allowed)}" if allowed else "it is final"
            raise TicketRefused(
                f"ticket {ticket.number}: cannot go from {exc.current} to {exc.requested}; "
                f"from {exc.current} {then}"
            ) from exc
        except ValueError as exc:
            raise TicketRefused(f"ticket {ticket.number}: {exc}") from exc
    return f"ticket {ticket.number}: {ticket.status} -> {status}"


# -- the monthly report ------------------------------------------------------------------

# CSV columns: the report row's fields but the totals marker (agency_id says TOTAL).
REPORT_COLUMNS = tuple(f.name for f in fields(ReportRow) if f.name != "total")


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 4)
    return value


def write_csv(rows: list[ReportRow], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=REPORT_COLUMNS)
        writer.writeheader()
        for row in rows:
            data = asdict(row)
            writer.writerow({k: _csv_value(data[k]) for k in REPORT_COLUMNS})


def write_json(rows: list[ReportRow], start: datetime, end: datetime, path: Path) -> None:
    units = [asdict(r) for r in rows if not r.total]
    total = next(asdict(r) for r in rows if r.total)
    report = {
        "period": rows[0].period,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "timezone": LOCAL_TZ.key,
        "units": units,
        "total": total,
    }
    path.write_text(_json(report) + "\n", encoding="utf-8")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def format_report(rows: list[ReportRow]) -> str:
    header = (
        f"{'agency':12} {'unit':22} {'transfers':>9} {'busy':>5} {'no-ans':>6} "
        f"{'fallback':>8} {'tickets':>7} {'in time':>7} {'overdue':>7} {'median cb':>9}"
    )
    lines = [f"Transfers and callbacks, {rows[0].period} ({LOCAL_TZ.key})", header]
    for r in rows:
        if r.total:
            lines.append("-" * len(header))
        unit = "" if r.total else (r.unit_id or "-")
        lines.append(
            f"{r.agency_id:12} {unit:22} {r.transfers:>9} {r.busy_attempts:>5} "
            f"{r.noanswer_attempts:>6} {_percent(r.fallback_rate):>8} {r.tickets_opened:>7} "
            f"{r.tickets_closed_in_time:>7} {r.tickets_overdue:>7} "
            f"{_duration(r.median_callback_s):>9}"
        )
    return "\n".join(lines)


async def transfer_report(
    cfg: StackConfig, month: str, *, csv_path: Path | None, json_path: Path | None
) -> str:
    """The month's transfer and callback figures per agency and unit (DOMAIN 8)."""
    try:
        start, end = month_bounds(month)
    except ValueError as exc:
        raise TicketCommandError(str(exc)) from exc
    async with _store(cfg) as store:
        stats = await store.transfer_stats(start, end)
    rows = report_rows(stats, start, end)
    written = []
    try:
        if csv_path is not None:
            write_csv(rows, csv_path)
            written.append(f"wrote {csv_path}")
        if json_path is not None:
            write_json(rows, start, end, json_path)
            written.append(f"wrote {json_path}")
    except OSError as exc:
        raise TicketCommandError(f"cannot write the report: {exc}") from exc
    text = format_report(rows)
    if len(rows) == 1 and rows[0].agency_id == TOTAL:
        text += f"\nno transfers or tickets in {rows[0].period}"
    return "\n".join([text, *written])
