"""`ivr cases import FILE.csv`: back-filling cases written on paper during an outage (P6(4)).

The whole file is checked before anything is written: a bad row is refused with its
line and reason, every bad row is listed, and a file with any bad row imports nothing.
A good file is written in one transaction with each case's original time. Each row's
idempotency key is a hash of its text, so importing the same file again makes nothing
twice (a crash halfway through a first import left nothing either: one transaction).
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ivr.cases_service import CaseContext, CaseError, CaseInput, import_key, prepare, seal
from ivr.domain.cases.workflow import ClockStart
from ivr.domain.vocabulary import CaseKind, values
from ivr.errors import ExitStatus
from ivr.store.cases import NewCase

REQUIRED = ("received_at", "kind", "summary")
OPTIONAL = (
    "agency",
    "unit",
    "item",
    "variant",
    "category",
    "caller",
    "name",
    "email",
    "caller_address",
    "language",
    "address",
    "district",
    "lat",
    "lon",
    "officer",
)
MAX_BYTES = 16 * 1024 * 1024
MAX_REASONS = 50


class ImportRefused(CaseError):
    """The file was refused whole; the message lists each bad line and why."""

    code = "case.import_refused"
    exit_status = ExitStatus.REFUSED


def _number(text: str, name: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} {text!r} is out of range ({low} to {high})")
    return value


def _row(ctx: CaseContext, row: dict[str, str], now: datetime) -> tuple[CaseInput, datetime]:
    get = {k: (v or "").strip() for k, v in row.items()}
    try:
        at = datetime.fromisoformat(get["received_at"])
    except ValueError:
        raise ValueError(
            f"received_at {get['received_at']!r} is not a time: write e.g. 2026-06-01T09:30"
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=ctx.office.tz)
    if at > now:
        raise ValueError(f"received_at {get['received_at']} is in the future")
    if get["kind"] not in values(CaseKind):
        raise ValueError(f"kind {get['kind']!r} is not one of {', '.join(values(CaseKind))}")
    if not get["summary"]:
        raise ValueError("summary is empty")
    item = None
    if get.get("item"):
        if not get["item"].isdigit():
            raise ValueError(f"item {get['item']!r} is not a whole number")
        item = int(get["item"])
    lat = _number(get["lat"], "lat", -90, 90) if get.get("lat") else None
    lon = _number(get["lon"], "lon", -180, 180) if get.get("lon") else None
    data = CaseInput(
        kind=CaseKind(get["kind"]),
        summary=get["summary"],
        agency_id=get.get("agency") or None,
        unit_id=get.get("unit") or None,
        item=item,
        variant=get.get("variant") or None,
        category=get.get("category") or None,
        caller_number=get.get("caller") or None,
        caller_name=get.get("name") or None,
        caller_email=get.get("email") or None,
        caller_address=get.get("caller_address") or None,
        language=get.get("language") or None,
        address=get.get("address") or None,
        district=get.get("district") or None,
        lat=lat,
        lon=lon,
        officer=get.get("officer") or None,
    )
    return data, at


def read_rows(
    ctx: CaseContext, text: str, now: datetime
) -> list[tuple[int, str, NewCase, tuple[ClockStart, ...], str | None]]:
    """Every row checked: (line, raw line, new case, clocks, password), or ImportRefused."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise ImportRefused(f"line 1: {'; '.join(parts)}; nothing imported")
    lines = text.splitlines()
    reasons: list[str] = []
    good = []
    for row in reader:
        line = reader.line_num
        if None in row:
            reasons.append(f"line {line}: more fields than the header has")
            continue
        if any(v is None for v in row.values()):
            reasons.append(f"line {line}: fewer fields than the header has")
            continue
        try:
            data, at = _row(ctx, row, now)
            new, clocks, password = prepare(ctx, data, at)
        except (ValueError, CaseError) as exc:
            reasons.append(f"line {line}: {exc}")
            continue
        raw = lines[line - 1] if line - 1 < len(lines) else ""
        good.append((line, raw, new, clocks, password))
    if reasons:
        shown = reasons[:MAX_REASONS]
        if len(reasons) > MAX_REASONS:
            shown.append(f"... and {len(reasons) - MAX_REASONS} more")
        raise ImportRefused(f"{len(reasons)} bad row(s); nothing imported:\n" + "\n".join(shown))
    if not good:
        raise ImportRefused("the file has no rows to import")
    return good


async def import_file(ctx: CaseContext, path: Path, *, who: str, now: datetime) -> dict[str, Any]:
    """Back-fill the file's cases, all or none; what was made, with passwords once."""
    try:
        raw = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if len(raw) > MAX_BYTES:
        raise ImportRefused(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportRefused(
            f"line {line}: not UTF-8 (byte {exc.start}); nothing imported"
        ) from None
    rows = read_rows(ctx, text, now)
    profile = ctx.book.profile
    batch = [
        (
            await seal(
                replace(new, from_paper=True, idempotency_key=import_key(profile, f"{line}:{raw}")),
                password,
            ),
            clocks,
            None,
            None,
            {"from_paper": True, "line": line},
        )
        for line, raw, new, clocks, password in rows
    ]
    made = await ctx.book.create_many(batch, who=who, recorded_at=now)
    cases = []
    for (line, _, _, _, password), (case, fresh) in zip(rows, made, strict=True):
        cases.append(
            {
                "line": line,
                "number": case.number,
                "kind": case.kind,
                "made": fresh,
                "password": password if fresh else None,
            }
        )
    return {
        "made": sum(1 for c in cases if c["made"]),
        "already": sum(1 for c in cases if not c["made"]),
        "cases": cases,
    }
