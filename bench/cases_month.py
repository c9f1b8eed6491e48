"""A month of cases at Taipei's scale: load time and `ivr report cases` time, as figures.

    python -m bench.cases_month [--backend sqlite|postgresql|both] [--petitions N]
                                [--dispatches N] [--services N] [--seed N]

DOMAIN 7: about 12,320 petitions and 18,300 dispatch orders a month, and 158,120 calls
(each with its service type logged). The month is generated with a seeded generator:
receipt times spread over March 2026, items, districts and agencies from the Taipei
tables, and each case's fate drawn (replied in time or late, graded B, dissatisfied,
closed, still open), with its clocks started and stopped as the rules say.

Figures printed:
- bulk load: the month written with Core `executemany`, 1,000 cases per transaction
  (cases, their clocks and their "created" events, and the calls' service types);
- case path: `CaseBook.create_many` (the `ivr cases import` path) for a sample, per case;
- report: `ivr report cases --month 2026-03` over the month, best of three runs;
- argon2: one petition password hash, which a real petition costs once, while the
  citizen is on the line (the bulk load reuses one hash: it measures the store).

No figure is asserted; this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from ivr import cases_service as svc
from ivr.cases_report import report_rows
from ivr.domain.cases.numbers import case_number
from ivr.domain.cases.secret import caller_key, hash_password
from ivr.domain.cases.workflow import opening_clocks
from ivr.domain.vocabulary import CaseKind
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from ivr.store import CaseStore, default_sqlite_url
from ivr.store.cases import CaseBook
from ivr.store.cases_models import CallService, Case, CaseClockRow, CaseCounter, CaseEvent

ROOT = Path(__file__).resolve().parents[1]
TAIPEI = ROOT / "routing" / "taipei"
MONTH = "2026-03"
START = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)  # 2026-03-01 00:00 in Taipei
DAYS = 31
DISTRICTS = ["中正區", "大同區", "中山區", "松山區", "大安區", "萬華區",
             "信義區", "士林區", "北投區", "內湖區", "南港區", "文山區"]  # fmt: skip
BATCH = 1000


def _month(
    rng: random.Random, petitions: int, dispatches: int, pw_hash: str
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    tables = load_profile(TAIPEI)
    office = build_view(tables).office
    items = tables.dispatch.domain_items()
    agencies = [a.id for a in tables.directory.agencies]
    cases: list[dict[str, Any]] = []
    clocks: list[list[dict[str, Any]]] = []
    kinds = [CaseKind.PETITION] * petitions + [CaseKind.DISPATCH] * dispatches
    rng.shuffle(kinds)
    for seq, kind in enumerate(kinds, start=1):
        at = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        item = items[rng.choice(sorted(items))] if kind is CaseKind.DISPATCH else None
        runs = opening_clocks(kind, at, office, item)
        number = f"09{rng.randrange(10**8):08d}"
        row: dict[str, Any] = {
            "profile": "taipei",
            "number": case_number(seq),
            "kind": kind.value,
            "state": "open",
            "caller_number": number,
            "caller_key": caller_key(number),
            "agency_id": item.agency_id if item else rng.choice(agencies),
            "unit_id": item.unit if item else None,
            "item": item.number if item else None,
            "district": rng.choice(DISTRICTS),
            "address": f"臺北市某路{rng.randrange(1, 400)}號",
            "summary": "synthetic",
            "password_hash": pw_hash if kind is CaseKind.PETITION else None,
            "created_at": at,
            "recorded_at": at,
            "grade": None,
            "satisfaction": None,
            "first_reply_at": None,
            "closed_at": None,
        }
        clock_rows = []
        fate = rng.random()
        for run in runs:
            # 85% of clocks met, a third of those close to the deadline; 15% late or open.
            span = (run.due_at - at).total_seconds()
            if fate < 0.85:
                stopped = at + timedelta(seconds=span * rng.uniform(0.05, 0.98))
            elif fate < 0.95:
                stopped = at + timedelta(seconds=span * rng.uniform(1.01, 1.5))
            else:
                stopped = None
            clock_rows.append(
                {"clock": run.clock, "started_at": run.started_at, "due_at": run.due_at,
                 "stopped_at": stopped}
            )  # fmt: skip
        last = max((c["stopped_at"] for c in clock_rows if c["stopped_at"]), default=None)
        if last is not None and fate < 0.95:
            row["first_reply_at"] = last
            row["state"] = "closed"
            row["closed_at"] = last
            if kind is CaseKind.PETITION:
                row["grade"] = "B" if rng.random() < 0.12 else "A"
                row["satisfaction"] = rng.choice([1, 2, 3, 4, 5, 5, 4, None])
        cases.append(row)
        clocks.append(clock_rows)
    return cases, clocks


async def _bulk_load(
    store: CaseStore,
    cases: list[dict[str, Any]],
    clocks: list[list[dict[str, Any]]],
    services: list[dict[str, Any]],
) -> float:
    engine = store._engine
    t0 = time.perf_counter()
    for start in range(0, len(cases), BATCH):
        chunk = cases[start : start + BATCH]
        async with engine.begin() as conn:
            # Ids given here: plain executemany, no RETURNING (which SQLite runs row by row).
            ids = list(range(start + 1, start + 1 + len(chunk)))
            await conn.execute(
                insert(Case), [{"id": i, **c} for i, c in zip(ids, chunk, strict=True)]
            )
            rows = [
                {"case_id": case_id, **c}
                for case_id, runs in zip(ids, clocks[start : start + BATCH], strict=True)
                for c in runs
            ]
            if rows:
                await conn.execute(insert(CaseClockRow), rows)
            await conn.execute(
                insert(CaseEvent),
                [
                    {"case_id": case_id, "at": c["created_at"], "who": "bench",
                     "action": "created", "state": "open", "text": None, "data": {}}
                    for case_id, c in zip(ids, chunk, strict=True)
                ],
            )  # fmt: skip
    async with engine.begin() as conn:
        await conn.execute(insert(CaseCounter), {"profile": "taipei", "last_seq": len(cases)})
        if conn.dialect.name == "postgresql":
            # Ids were given, so the serial's sequence must be moved past them.
            await conn.execute(
                text("SELECT setval(pg_get_serial_sequence('cases', 'id'), :n)"), {"n": len(cases)}
            )
        for start in range(0, len(services), BATCH * 10):
            await conn.execute(insert(CallService), services[start : start + BATCH * 10])
    return time.perf_counter() - t0


async def run_backend(url: str, args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    pw_hash = hash_password("123456")
    hash_s = time.perf_counter() - t0
    cases, clocks = _month(rng, args.petitions, args.dispatches, pw_hash)
    services = [
        {
            "service": rng.choice(["consultation", "consultation", "transfer", "referral"]),
            "agency_id": rng.choice(["pwd", "epd", "dot", "water"]),
            "at": START + timedelta(seconds=rng.uniform(0, DAYS * 86400)),
        }
        for _ in range(args.services)
    ]
    store = await CaseStore.open(url)
    try:
        await store.migrate()
        load_s = await _bulk_load(store, cases, clocks, services)
        tables = load_profile(TAIPEI)
        ctx = svc.CaseContext(CaseBook.of(store, "sample"), tables, build_view(tables).office)
        sample = []
        for i in range(args.path_sample):
            data = svc.CaseInput(CaseKind.DISPATCH, "sample", item=1 + i % 22,
                                 address=f"某路{i}號", district="信義區")  # fmt: skip
            new, runs, _ = svc.prepare(ctx, data, START + timedelta(minutes=i))
            sample.append((new, runs, None, None, {}))
        t0 = time.perf_counter()
        await ctx.book.create_many(sample, who="bench")
        path_s = time.perf_counter() - t0
        ctx = svc.CaseContext(CaseBook.of(store, "taipei"), tables, build_view(tables).office)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            rows = await report_rows(ctx, MONTH)
            times.append(time.perf_counter() - t0)
        assert rows[-1].cases == len(cases), (rows[-1].cases, len(cases))
    finally:
        await store.close()
    return {
        "cases": len(cases),
        "services": len(services),
        "load_s": load_s,
        "path_ms_per_case": 1000 * path_s / max(1, args.path_sample),
        "report_s": min(times),
        "report_median_s": statistics.median(times),
        "argon2_ms": 1000 * hash_s,
    }


def _print(backend: str, f: dict[str, float]) -> None:
    print(
        f"{backend:10} {int(f['cases']):>6} cases + {int(f['services']):>6} service logs: "
        f"bulk load {f['load_s']:6.1f} s | case path {f['path_ms_per_case']:5.1f} ms/case | "
        f"report {f['report_s']:5.2f} s (median of 3 {f['report_median_s']:.2f} s) | "
        f"argon2 {f['argon2_ms']:.0f} ms/petition"
    )


async def main(args: argparse.Namespace) -> None:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as d:
                f = await run_backend(default_sqlite_url(Path(d) / "cases.db"), args)
        else:
            from tests.pgserver import PostgresServer

            with PostgresServer() as pg:
                pg.create_database("cases_bench")
                f = await run_backend(pg.url_for("cases_bench"), args)
        _print(backend, f)
    # Figures from a shared machine are only comparable with its load alongside.
    print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--petitions", type=int, default=12_000)
    p.add_argument("--dispatches", type=int, default=18_000)
    p.add_argument("--services", type=int, default=158_000)
    p.add_argument("--path-sample", type=int, default=1_000)
    p.add_argument("--seed", type=int, default=1999)
    asyncio.run(main(p.parse_args()))
