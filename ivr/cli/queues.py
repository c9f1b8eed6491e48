"""`ivr report queues --month YYYY-MM`: offered, answered, abandoned, callbacks, waits.

Per queue and language, from the store's queue stays (ivr.store.queue_legs) and the
waiting callers' callbacks (kept places, ivr.store.queued_callbacks, and tickets);
see ivr.domain.queue_report for what each column counts. `--json` prints the rows as
JSON instead of a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable

from ivr.cli.common import columns
from ivr.config import StackConfig
from ivr.domain.queue_report import Callback, QueueRow, as_dicts, one_per_caller, queue_rows
from ivr.domain.tickets import month_bounds
from ivr.domain.vocabulary import TicketStatus

EXIT_OK, EXIT_FAIL = 0, 1
_HEADER = (
    "queue",
    "language",
    "offered",
    "answered",
    "abandoned",
    "callbacks",
    "called back",
    "wait p50",
    "wait p90",
    "talk",
    "capped",
)
_DONE = {TicketStatus.CALLED_BACK, TicketStatus.CLOSED}


def register(
    reports: argparse._SubParsersAction[argparse.ArgumentParser],
    load: Callable[[argparse.Namespace], StackConfig],
) -> None:
    q = reports.add_parser("queues", help="queue figures per queue and language for a month")
    q.add_argument("--month", required=True, help="YYYY-MM, in Asia/Taipei time")
    q.add_argument("--json", action="store_true", help="print the rows as JSON")
    q.set_defaults(func=lambda args: command(load(args), args.month, as_json=args.json))


async def month_rows(cfg: StackConfig, month: str) -> list[QueueRow]:
    # Imported here: `ivr --help` stays fast (the store pulls in SQLAlchemy).
    from ivr.store import CaseStore
    from ivr.store.queue_legs import QueueLegs
    from ivr.store.queued_callbacks import QueuedCallbacks

    start, end = month_bounds(month)
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        legs = QueueLegs.of(store)
        stays = await legs.between(start, end)
        tickets = [
            Callback(uid, status in _DONE)
            for uid, status in await legs.callbacks_between(start, end)
        ]
        kept = [
            Callback(uid, completed)
            for uid, completed in await QueuedCallbacks.of(store).requested_between(start, end)
        ]
        callbacks = one_per_caller(tickets, kept)
    finally:
        await store.close()
    return queue_rows(stays, callbacks)


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s"


def format_rows(rows: list[QueueRow]) -> str:
    table = [
        _HEADER,
        *(
            (
                r.queue,
                r.language,
                str(r.offered),
                str(r.answered),
                str(r.abandoned),
                str(r.callbacks_requested),
                str(r.callbacks_completed),
                _secs(r.wait_median_s),
                _secs(r.wait_p90_s),
                _secs(r.talk_s),
                str(r.capped),
            )
            for r in rows
        ),
    ]
    return columns(table)


def command(cfg: StackConfig, month: str, *, as_json: bool) -> int:
    try:
        rows = asyncio.run(month_rows(cfg, month))
    except ValueError as exc:
        print(f"ivr: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except Exception as exc:
        from ivr.store import StoreUnavailable

        if not isinstance(exc, StoreUnavailable):
            raise
        print(f"ivr: {exc}", file=sys.stderr)
        return EXIT_FAIL
    if as_json:
        print(json.dumps({"month": month, "rows": as_dicts(rows)}, ensure_ascii=False, indent=2))
    elif rows:
        print(format_rows(rows))
    else:
        print(f"no queue calls in {month}")
    return EXIT_OK
