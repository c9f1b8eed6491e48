"""`ivr calendar`: declare typhoon days closed or open, and show the working calendar.

A closure is a row in the case store with who declared it, when and why, like a switch
of disaster mode; the running engine reads the closures each time it computes a due
time, so a declaration takes effect on the next call without a reload.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from ivr import config as stack_config
from ivr import service_switches as switches
from ivr.config import StackConfig
from ivr.domain.calendar import Calendar, with_days_off
from ivr.domain.clock import Clock, system_clock
from ivr.domain.workdays import DayReport, closure_days, explain_day
from ivr.errors import HotlineError
from ivr.routing.loader import RoutingError, load_profile
from ivr.routing.tables import RoutingTables
from ivr.routing.view import working_calendar
from ivr.store import CaseStore, ClosureRecord

MAX_DAYS = 3660


class CalendarCommandError(HotlineError):
    """A bad argument or table: the message says which and why."""

    code = "calendar.invalid"


def parse_day(text: str, what: str = "DATE") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CalendarCommandError(
            f"{what} {text!r} is not a date written YYYY-MM-DD, e.g. 2026-09-01"
        ) from None


def parse_hhmm(text: str) -> time:
    m = re.fullmatch(r"([01][0-9]|2[0-3]):([0-5][0-9])", text)
    if m is None:
        raise CalendarCommandError(f"--from {text!r} is not a time written HH:MM, e.g. 12:00")
    return time(int(m[1]), int(m[2]))


def _tables(directory: Path) -> RoutingTables:
    try:
        return load_profile(directory)
    except RoutingError as exc:
        raise CalendarCommandError(f"{directory}: the routing tables are refused:\n{exc}") from None


async def close_day(
    cfg: StackConfig,
    day: date,
    *,
    reason: str,
    closes_at: time | None,
    by: str,
    note: str | None,
    clock: Clock = system_clock,
) -> str:
    if not reason.strip():
        raise CalendarCommandError("--reason is required, e.g. --reason typhoon")
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        await switches.close_day(
            store, day, reason=reason, closes_at=closes_at, at=clock(), by=by, note=note
        )
    except switches.SwitchRefused as exc:
        raise CalendarCommandError(str(exc)) from None
    finally:
        await store.close()
    span = "all day" if closes_at is None else f"from {closes_at:%H:%M}"
    return (
        f"{day} closed {span} ({reason.strip()}), recorded for {by}: no working time counts "
        "then; the running engine applies it from its next call"
    )


async def open_day(
    cfg: StackConfig, day: date, *, by: str, note: str | None, clock: Clock = system_clock
) -> str:
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        if not await switches.open_day(store, day, at=clock(), by=by, note=note):
            return f"{day} was not closed; nothing changed"
    except switches.SwitchRefused as exc:
        raise CalendarCommandError(str(exc)) from None
    finally:
        await store.close()
    return f"{day} open again, recorded for {by}; the running engine applies it from its next call"


async def stack_closures(cfg: StackConfig, since: date) -> list[ClosureRecord]:
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        return await store.closure_history(since)
    finally:
        await store.close()


def _in_force(history: Sequence[ClosureRecord]) -> list[ClosureRecord]:
    return switches.in_force(history)


_WHY = {
    "working_day": "working day",
    "weekend": "weekend",
    "no_hours": "no office hours on this weekday",
    "holiday": "holiday",
    "makeup_day": "make-up workday",
    "local_day_off": "local day off",
    "closure": "closure",
    "half_day": "half day",
}


def _line(cal: Calendar, report: DayReport) -> str:
    hours = " ".join(f"{r.start:%H:%M}-{r.end:%H:%M}" for r in report.hours) or "closed"
    why = _WHY[report.reason]
    off = cal.days_off.get(report.day)
    if off is not None and off.closes_at is not None:
        why += f" from {off.closes_at:%H:%M}"
    if report.name:
        why += f": {report.name}"
    if report.reason == "makeup_day" and report.name:
        why = f"make-up workday (instead of {report.name})"
    return f"{report.day} {report.day:%a}  {hours:<24} {why}"


def show(
    tables: RoutingTables,
    start: date | None,
    days: int,
    closures: Sequence[ClosureRecord] = (),
    *,
    now: datetime,
) -> str:
    """Each day's working time and why, from `start` (default: today in the profile)."""
    if not 1 <= days <= MAX_DAYS:
        raise CalendarCommandError(f"--days must be 1 to {MAX_DAYS}, got {days}")
    office = working_calendar(tables.hours, tables.profile.zone)
    cal = with_days_off(office, closure_days(_in_force(closures)))
    first = start or now.astimezone(cal.tz).date()
    last = first + timedelta(days=days - 1)
    source = tables.hours.calendar.national_holidays
    lines = [
        f"Working time of {tables.profile.name} ({cal.tz.key}), {first} to {last}; "
        f"national holidays: {source or 'none'}; it drives callback due times",
    ]
    hours = tables.hours
    if hours.always_open:
        lines.append("The line answers 24 hours a day, every day.")
    elif hours.service_days == "every_day":
        lines.append("The line answers its weekly hours every day, holidays included.")
    else:
        lines.append("The line answers its weekly hours on working days only.")
    lines += [_line(cal, explain_day(cal, first + timedelta(days=i))) for i in range(days)]
    shown = [c for c in closures if first <= c.day <= last]
    if shown:
        lines.append("Closures declared (newest last):")
        for c in shown:
            what = "closed" if c.closed else "opened"
            span = "" if c.closes_at is None or not c.closed else f" from {c.closes_at:%H:%M}"
            why = f" ({c.reason})" if c.reason else ""
            note = f" - {c.note}" if c.note else ""
            lines.append(
                f"  {c.day} {what}{span}{why} by {c.changed_by} at "
                f"{c.changed_at.astimezone(cal.tz):%Y-%m-%d %H:%M}{note}"
            )
    return "\n".join(lines)


async def show_stack(
    cfg: StackConfig | None,
    directory: Path,
    start: date | None,
    days: int,
    clock: Clock = system_clock,
) -> str:
    """`show` for a profile directory, with the stack's closures when a stack is given."""
    tables = _tables(directory)
    now = clock()
    first = start or now.astimezone(tables.profile.zone).date()
    closures = await stack_closures(cfg, first) if cfg is not None else []
    return show(tables, first, days, closures, now=now)


def command(args: argparse.Namespace, state_dir: Path) -> int:
    """Run one `ivr calendar` subcommand; a bad argument raises `CalendarCommandError`."""
    print(asyncio.run(_command(args, state_dir)))
    return 0


async def _command(args: argparse.Namespace, state_dir: Path) -> str:
    if args.calendar_command == "show":
        start = parse_day(args.start, "--from") if args.start else None
        if args.dir:
            return await show_stack(None, Path(args.dir), start, args.days)
        cfg = stack_config.load(state_dir)
        return await show_stack(cfg, cfg.routing_dir, start, args.days)
    day = parse_day(args.date)
    if args.calendar_command == "close":
        closes_at = parse_hhmm(args.closes_at) if args.closes_at else None
        if not args.reason.strip():
            raise CalendarCommandError("--reason is required, e.g. --reason typhoon")
        cfg = stack_config.load(state_dir)
        return await close_day(
            cfg, day, reason=args.reason, closes_at=closes_at, by=args.by, note=args.note
        )
    return await open_day(stack_config.load(state_dir), day, by=args.by, note=args.note)
