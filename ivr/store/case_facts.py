"""The monthly case report's counts, grouped by the database.

Counts are grouped in SQL; only the reply times come back one by one, for the median.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ivr.domain.cases.workflow import DISSATISFIED_AT_MOST
from ivr.domain.vocabulary import CaseClock
from ivr.store.cases_models import CallService, Case, CaseClockRow
from ivr.store.models import require_utc_aware


@dataclass(frozen=True)
class ReportFacts:
    # (kind, agency) -> (cases, grade B, dissatisfied)
    cases: Mapping[tuple[str, str], tuple[int, int, int]]
    # (kind, agency, clock) -> runs overdue
    overdue: Mapping[tuple[str, str, str], int]
    reply_seconds: list[tuple[str, str, float]]
    # (service, agency or "") -> calls logged
    services: Mapping[tuple[str, str], int]


async def report_facts(
    engine: AsyncEngine, profile: str, start: datetime, end: datetime
) -> ReportFacts:
    """Counts for `ivr report cases`, grouped in SQL; reply times for the median."""
    start = require_utc_aware(start, "start")
    end = require_utc_aware(end, "end")
    in_month = and_(Case.profile == profile, Case.created_at >= start, Case.created_at < end)
    async with engine.connect() as conn:
        counts = (
            await conn.execute(
                select(
                    Case.kind,
                    Case.agency_id,
                    func.count(),
                    func.sum(sql_case((Case.grade == "B", 1), else_=0)),
                    func.sum(sql_case((Case.satisfaction <= DISSATISFIED_AT_MOST, 1), else_=0)),
                )
                .where(in_month)
                .group_by(Case.kind, Case.agency_id)
            )
        ).all()
        late = (
            await conn.execute(
                select(Case.kind, Case.agency_id, CaseClockRow.clock, func.count())
                .join(CaseClockRow, CaseClockRow.case_id == Case.id)
                .where(
                    in_month,
                    CaseClockRow.clock != CaseClock.DEIDENTIFY,
                    or_(
                        CaseClockRow.stopped_at > CaseClockRow.due_at,
                        and_(CaseClockRow.stopped_at.is_(None), CaseClockRow.due_at < end),
                    ),
                )
                .group_by(Case.kind, Case.agency_id, CaseClockRow.clock)
            )
        ).all()
        # Seconds computed by the database: 25,000 timestamps parsed in Python took
        # most of the report's time on SQLite.
        replies = (
            await conn.execute(
                select(
                    Case.kind,
                    Case.agency_id,
                    _seconds(conn, Case.created_at, Case.first_reply_at),
                ).where(in_month, Case.first_reply_at.is_not(None))
            )
        ).all()
        services = (
            await conn.execute(
                select(CallService.service, CallService.agency_id, func.count())
                .where(CallService.at >= start, CallService.at < end)
                .group_by(CallService.service, CallService.agency_id)
            )
        ).all()
    return ReportFacts(
        cases={(k, a): (int(n), int(b or 0), int(d or 0)) for k, a, n, b, d in counts},
        overdue={(k, a, c): int(n) for k, a, c, n in late},
        reply_seconds=[(k, a, float(sec)) for k, a, sec in replies],
        services={(s, a or ""): int(n) for s, a, n in services},
    )


def _seconds(conn: AsyncConnection, start: Any, end: Any) -> Any:
    """`end - start` in seconds, as the database computes it."""
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    # SQLite keeps UTC times as ISO text (see UTCDateTime): julianday reads them.
    return (func.julianday(end) - func.julianday(start)) * 86400.0
