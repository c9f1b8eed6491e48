"""`ivr report cases` and `ivr cases sample`: reading the month's cases for the report."""

from __future__ import annotations

import csv
import json
import secrets
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ivr.cases_service import CaseContext, CaseError
from ivr.domain.cases.report import STAGES, CaseReportRow, Closed, case_report_rows, draw_spot_check
from ivr.domain.tickets import month_bounds
from ivr.domain.vocabulary import CaseKind

COLUMNS = (
    "service",
    "agency_id",
    "calls",
    "cases",
    *(f"overdue_{s}" for s in STAGES),
    "grade_b",
    "dissatisfied",
    "replied",
    "median_reply_s",
)


def _flat(row: CaseReportRow) -> dict[str, Any]:
    data = asdict(row)
    overdue = data.pop("overdue")
    for stage in STAGES:
        data[f"overdue_{stage}"] = overdue.get(stage, 0)
    if data["median_reply_s"] is not None:
        data["median_reply_s"] = round(data["median_reply_s"], 1)
    return {k: data[k] for k in COLUMNS}


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds / 3600:.1f}h"


def format_rows(month: str, rows: list[CaseReportRow]) -> str:
    short = {
        "stage1": "st1",
        "stage2": "st2",
        "reply": "reply",
        "grade_b": "B-30d",
        "jurisdiction": "juris",
        "review": "review",
        "returned": "return",
    }
    late = " ".join(f"{short[s]:>6}" for s in STAGES)
    header = (
        f"{'service':12} {'agency':12} {'calls':>6} {'cases':>6} {late} "
        f"{'grade B':>7} {'dissat':>6} {'median reply':>12}"
    )
    lines = [f"Cases, {month}: overdue at each stage", header]
    for r in rows:
        if r.total:
            lines.append("-" * len(header))
        stages = " ".join(f"{r.overdue.get(s, 0):>6}" for s in STAGES)
        lines.append(
            f"{r.service:12} {r.agency_id:12} {r.calls:>6} {r.cases:>6} {stages} "
            f"{r.grade_b:>7} {r.dissatisfied:>6} {_hours(r.median_reply_s):>12}"
        )
    return "\n".join(lines)


async def report_rows(ctx: CaseContext, month: str) -> list[CaseReportRow]:
    try:
        start, end = month_bounds(month, ctx.office.tz)
    except ValueError as exc:
        raise CaseError(str(exc)) from exc
    facts = await ctx.book.report_facts(start, end)
    return case_report_rows(
        facts.cases, facts.overdue, facts.replies, facts.services, facts.all_replies
    )


async def monthly_report(
    ctx: CaseContext, month: str, *, csv_path: Path | None, json_path: Path | None
) -> str:
    rows = await report_rows(ctx, month)
    written = write_report(rows, month, str(ctx.office.tz), csv_path, json_path)
    return "\n".join([format_rows(month, rows), *written])


def write_report(
    rows: list[CaseReportRow],
    month: str,
    tz: str,
    csv_path: Path | None,
    json_path: Path | None,
) -> list[str]:
    written = []
    try:
        if csv_path is not None:
            with csv_path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=COLUMNS)
                writer.writeheader()
                writer.writerows(_flat(r) for r in rows)
            written.append(f"wrote {csv_path}")
        if json_path is not None:
            report = {
                "month": month,
                "timezone": tz,
                "rows": [_flat(r) for r in rows if not r.total],
                "total": _flat(rows[-1]),
            }
            json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
            written.append(f"wrote {json_path}")
    except OSError as exc:
        raise CaseError(f"cannot write the report: {exc}") from exc
    return written


async def draw_sample(
    ctx: CaseContext, month: str, *, seed: int | None, per: int = 5
) -> tuple[int, list[dict[str, Any]]]:
    """The month's spot check: (the seed used, the drawn orders as plain data)."""
    try:
        start, end = month_bounds(month, ctx.office.tz)
    except ValueError as exc:
        raise CaseError(str(exc)) from exc
    if seed is None:
        seed = secrets.randbelow(2**31)
    closed = await ctx.book.closed_between(CaseKind.DISPATCH, start, end)
    by_number = {c.number: c for c in closed}
    picked = draw_spot_check(
        [Closed(c.number, c.item or 0, c.district or "") for c in closed], seed, per
    )
    out = []
    for p in picked:
        case = by_number[p.number]
        out.append(
            {
                "number": case.number,
                "item": case.item,
                "district": case.district,
                "agency_id": case.agency_id,
                "unit_id": case.unit_id,
                "closed_at": case.closed_at.isoformat() if case.closed_at else "",
            }
        )
    return seed, out
