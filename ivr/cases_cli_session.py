"""What every `ivr cases` command opens and prints with: one session, JSON, local times."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr import cases_service as svc
from ivr.config import StackConfig
from ivr.domain.clock import Clock, system_clock
from ivr.domain.tickets import LOCAL_TZ


def by_default() -> str:
    from ivr.store.audit import os_user

    return os_user()


@dataclass
class Session:
    ctx: svc.CaseContext
    store: Any


@asynccontextmanager
async def session(cfg: StackConfig, clock: Clock = system_clock) -> AsyncIterator[Session]:
    """The store (migrated), the profile's tables and the case context, for one command."""
    from ivr.adapters.mail import SmtpMailer
    from ivr.routing.loader import RoutingError, load_profile
    from ivr.routing.view import build_view
    from ivr.store import CaseStore
    from ivr.store.cases import CaseBook

    try:
        tables = load_profile(cfg.routing_dir)
    except RoutingError as exc:
        raise svc.CaseError(f"the routing tables were refused: {exc.problems[0]}") from exc
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        view = build_view(tables)
        since = (clock() - svc.ONE_DAY * 400).astimezone(view.office.tz).date()
        closures = [c for c in (await store.closures(since)).values() if c.closed]
        ctx = svc.context_for(
            CaseBook.of(store, tables.profile.name),
            tables,
            view.office,
            cfg.routing_dir,
            closures,
            SmtpMailer.from_config(cfg),
        )
        yield Session(ctx, store)
    finally:
        await store.close()


def as_json(value: Any) -> str:
    def default(obj: object) -> object:
        if isinstance(obj, datetime):
            return obj.isoformat()
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")

    return json.dumps(value, indent=2, ensure_ascii=False, default=default)


def local_time(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"


def who_acts(args: argparse.Namespace) -> str:
    return str(getattr(args, "by", None) or by_default())
