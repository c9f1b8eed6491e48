"""`ivr report pauses --month YYYY-MM`: agents' pauses per reason, from the phone and console.

Per agent and reason, from the store's agent state changes (`*47` and a digit on the
phone, the console's pause): how many pauses, their total and median paused time in
the month (see ivr.domain.pause_report for how a pause is cut at the month's edges and
at now). `--json` prints the rows as JSON instead of a table; `--csv FILE` also
writes them as CSV.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ivr.cli.common import columns
from ivr.config import StackConfig
from ivr.domain.pause_report import PauseRow, as_dicts, pause_rows
from ivr.domain.tickets import month_bounds

EXIT_OK, EXIT_FAIL = 0, 1
_HEADER = ("agent", "reason", "pauses", "paused", "median", "open")


def register(
    reports: argparse._SubParsersAction[argparse.ArgumentParser],
    load: Callable[[argparse.Namespace], StackConfig],
) -> None:
    p = reports.add_parser("pauses", help="agents' pauses per reason for a month")
    p.add_argument("--month", required=True, help="YYYY-MM, in Asia/Taipei time")
    p.add_argument("--agent", default=None, help="only this agent id")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--csv", type=Path, default=None, help="also write the rows as CSV")
    p.set_defaults(
        func=lambda args: command(
            load(args).database_url,
            args.month,
            agent=args.agent,
            as_json=args.json,
            csv_path=args.csv,
            now=datetime.now(UTC),
        )
    )


async def month_rows(
    database_url: str, month: str, now: datetime, agent: str | None = None
) -> list[PauseRow]:
    # Imported here: `ivr --help` stays fast (the store pulls in SQLAlchemy).
    from ivr.store import CaseStore
    from ivr.store.pause_reads import PauseReads

    start, end = month_bounds(month)
    store = await CaseStore.open(database_url)
    try:
        await store.migrate()
        changes = await PauseReads.of(store).changes_for_month(start, end)
    finally:
        await store.close()
    return pause_rows(changes, start, end, now, agent_id=agent)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def format_rows(rows: list[PauseRow]) -> str:
    table = [
        _HEADER,
        *(
            (
                r.agent_id,
                r.reason,
                str(r.pauses),
                _duration(r.paused_s),
                _duration(r.median_s),
                str(r.open),
            )
            for r in rows
        ),
    ]
    return columns(table)


def write_csv(rows: list[PauseRow], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["agent", "reason", "pauses", "paused_s", "median_s", "open"])
        for r in rows:
            out.writerow([r.agent_id, r.reason, r.pauses, r.paused_s, r.median_s, r.open])


def command(
    database_url: str,
    month: str,
    *,
    agent: str | None,
    as_json: bool,
    csv_path: Path | None,
    now: datetime,
) -> int:
    try:
        rows = asyncio.run(month_rows(database_url, month, now, agent))
    except ValueError as exc:
        print(f"ivr: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except Exception as exc:
        from ivr.store import StoreUnavailable

        if not isinstance(exc, StoreUnavailable):
            raise
        print(f"ivr: {exc}", file=sys.stderr)
        return EXIT_FAIL
    if csv_path is not None:
        try:
            write_csv(rows, csv_path)
        except OSError as exc:
            print(f"ivr: cannot write {csv_path}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_FAIL
    if as_json:
        print(json.dumps({"month": month, "rows": as_dicts(rows)}, ensure_ascii=False, indent=2))
    elif rows:
        print(format_rows(rows))
    else:
        print(f"no pauses in {month}" + (f" for agent {agent}" if agent else ""))
    return EXIT_OK
