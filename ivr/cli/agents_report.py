"""`ivr report agents --month YYYY-MM`: each agent's month of queue work and pauses.

Per agent: queue calls answered (stays that began in the month), their talk time, the
wrap-up time after them (each answering queue's `wrapup_s` in the routing tables),
calls that reached the call cap, and paused time in all and per reason (see
ivr.domain.agent_report and ivr.domain.pause_report). `--json` prints the rows as
JSON instead of a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from ivr.cli.common import columns
from ivr.config import StackConfig
from ivr.domain.agent_report import AgentRow, agent_rows, as_dicts
from ivr.domain.pause_report import pause_rows
from ivr.domain.tickets import month_bounds

EXIT_OK, EXIT_FAIL = 0, 1
_HEADER = ("agent", "answered", "talk", "wrap-up", "capped", "paused", "reasons")


def register(
    reports: argparse._SubParsersAction[argparse.ArgumentParser],
    load: Callable[[argparse.Namespace], StackConfig],
) -> None:
    p = reports.add_parser("agents", help="each agent's calls, talk, wrap-up, cap and pauses")
    p.add_argument("--month", required=True, help="YYYY-MM, in Asia/Taipei time")
    p.add_argument("--agent", default=None, help="only this agent id")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=lambda args: _run(load(args), args))


def _run(cfg: StackConfig, args: argparse.Namespace) -> int:
    from ivr.routing.loader import load_profile
    from ivr.routing.problems import RoutingError

    try:
        tables = load_profile(cfg.routing_dir)
    except RoutingError as exc:
        # Wrap-up time is the tables' figure: without them it cannot be said.
        print(f"ivr: the routing tables were refused: {exc}", file=sys.stderr)
        return EXIT_FAIL
    wrapup = {q.id: q.wrapup_s for q in tables.agents.queues}
    return command(
        cfg.database_url,
        args.month,
        wrapup_by_queue=wrapup,
        agent=args.agent,
        as_json=args.json,
        now=datetime.now(UTC),
    )


async def month_rows(
    database_url: str,
    month: str,
    now: datetime,
    wrapup_by_queue: Mapping[str, int],
    agent: str | None = None,
) -> list[AgentRow]:
    # Imported here: `ivr --help` stays fast (the store pulls in SQLAlchemy).
    from ivr.store import CaseStore
    from ivr.store.agent_work import AgentWork
    from ivr.store.pause_reads import PauseReads

    start, end = month_bounds(month)
    store = await CaseStore.open(database_url)
    try:
        await store.migrate()
        stays = await AgentWork.of(store).answered_between(start, end, agent=agent)
        changes = await PauseReads.of(store).changes_for_month(start, end)
    finally:
        await store.close()
    pauses = pause_rows(changes, start, end, now, agent_id=agent)
    return agent_rows(stays, pauses, wrapup_by_queue, agent_id=agent)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def format_rows(rows: list[AgentRow]) -> str:
    table = [
        _HEADER,
        *(
            (
                r.agent_id,
                str(r.answered),
                _duration(r.talk_s),
                _duration(r.wrapup_s),
                str(r.capped),
                _duration(r.paused_s),
                " ".join(f"{k}={_duration(v)}" for k, v in r.paused_by_reason.items()) or "-",
            )
            for r in rows
        ),
    ]
    return columns(table)


def command(
    database_url: str,
    month: str,
    *,
    wrapup_by_queue: Mapping[str, int],
    agent: str | None,
    as_json: bool,
    now: datetime,
) -> int:
    try:
        rows = asyncio.run(month_rows(database_url, month, now, wrapup_by_queue, agent))
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
        print(f"no agent work in {month}" + (f" for agent {agent}" if agent else ""))
    return EXIT_OK
