"""The per-caller limit check of a hotline call: count in the store, decide in the domain.

A store that cannot answer never turns a caller away: the check is skipped, and the
call goes on as if no limit applied.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError

from ivr.adapters.durable import database_of
from ivr.domain.limits import any_limit, exceeded, windows
from ivr.domain.screening import callback_number, normalise_number
from ivr.routing.view import RoutingView
from ivr.store import StoreUnavailable
from ivr.store.limits import caller_usage
from ivr.store.ports import EngineStore

log = structlog.get_logger()

# Where a caller past a limit goes, when the profile has this queue; else the fallback
# queue of the dialplan.
LIMIT_QUEUE = "general"


async def over_caller_limit(
    store: EngineStore, view: RoutingView, caller: str | None, now: datetime
) -> str | None:
    """The limit `caller` is past (its table name), or None."""
    number = normalise_number(caller or "")
    if not number or not any_limit(view.limits):
        return None
    case_store = database_of(store)
    hour_ago, day_start = windows(now, view.office.tz)
    try:
        usage = await caller_usage(
            case_store,
            caller or "",
            callback_number(caller),
            hour_ago=hour_ago,
            day_start=day_start,
        )
    except (StoreUnavailable, SQLAlchemyError, OSError) as exc:
        log.info("caller_limit_skipped", error=type(exc).__name__)
        return None
    return exceeded(view.limits, usage)
