"""A month of cases at Taipei's scale: load time and `ivr report cases` time, as figures.

    python -m bench.cases_month [--backend sqlite|postgresql|both] [--petitions N]
                                [--dispatches N] [--services N] [--seed N]

DOMAIN 7: about 12,320 petitions and 18,300 dispatch orders a month, and 158,120 calls
(each with its service type logged). The month is generated with a seeded generator:
receipt times spread over March 2026, items, districts and agencies from the Taipei
tables, and each case's fate drawn (replied in time or late, graded B, dissatisfied,
closed, still open).

The load goes through the product's write path in its bulk form: every case is checked
and given its clocks by `cases_service.prepare` (the rules), numbered and keyed by
`CaseBook.insert_many`; every fate is a move decided by the state machine
(`workflow.decide`) and written by `CaseBook.apply_many` (conditional on the state,
keyed, with its history row); the calls' service types by `CaseBook.log_services`.
1,000 cases or moves per transaction.

Figures printed, each with a baseline measured in the same run on the same machine
(the machine is shared, so the ratio is the comparable figure):
- load: the month through the product path; baseline: the same rows, read back from
  the loaded store, written with plain Core `executemany` into an empty store (no
  rules, no keys, no reads);
- case path: `CaseBook.create_many` (the `ivr cases import` path) for a sample, per case;
- report: `ivr report cases --month 2026-03` over the month, best of three runs;
  baseline: one grouped count of the month's cases (`kind`, `agency_id`), best of three;
- argon2: one petition password hash, which a real petition costs once, while the
  citizen is on the line (the load reuses one hash: it measures the store).

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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from ivr import cases_service as svc
from ivr.cases_report import report_rows
from ivr.domain.cases.secret import hash_password
from ivr.domain.cases.workflow import WORKING, CaseFacts, decide
from ivr.domain.vocabulary import CaseAction, CaseGrade, CaseKind, CaseState
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from ivr.store import CaseStore, default_sqlite_url
from ivr.store.cases import CaseBook, Change, ServiceLog
from ivr.store.cases_models import CallService, Case, CaseClockRow, CaseEvent

ROOT = Path(__file__).resolve().parents[1]
TAIPEI = ROOT / "routing" / "taipei"
MONTH = "2026-03"
START = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)  # 2026-03-01 00:00 in Taipei
DAYS = 31
DISTRICTS = ["中正區", "大同區", "中山區", "松山區", "大安區", "萬華區",
             "信義區", "士林區", "北投區", "內湖區", "南港區", "文山區"]  # fmt: skip
BATCH = 1000


def _tree_cpu(root: int | None) -> float:
    """CPU seconds of a process and its live children, and of its reaped children.

    For PostgreSQL, the server's work (the backends are the postmaster's children).
    """
    if root is None:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == root:
            total += sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
        elif ppid == root:
            total += sum(int(f) for f in fields[11:13]) / tick
    return total


class Cpu:
    """Wall and CPU time of a step: this process (with SQLite's thread) and the server."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid

    async def measure(self, fn: Any) -> tuple[float, float, Any]:
        w, c, s = time.perf_counter(), time.process_time(), _tree_cpu(self.server_pid)
        result = await fn()
        cpu = time.process_time() - c + _tree_cpu(self.server_pid) - s
        return time.perf_counter() - w, cpu, result


@dataclass
class Planned:
    """One case of the month: what the citizen reported, and what becomes of it."""

    data: svc.CaseInput
    at: datetime
    fate: float
    factor: float
    grade_b: bool
    score: int | None
    case_id: int = 0
    facts: CaseFacts | None = None
    moved_at: datetime | None = None


def _month(
    rng: random.Random, ctx: svc.CaseContext, petitions: int, dispatches: int
) -> list[Planned]:
    items = ctx.items
    agencies = sorted(ctx.agency_ids())
    kinds = [CaseKind.PETITION] * petitions + [CaseKind.DISPATCH] * dispatches
    rng.shuffle(kinds)
    month = []
    for kind in kinds:
        at = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        item = items[rng.choice(sorted(items))] if kind is CaseKind.DISPATCH else None
        number = f"09{rng.randrange(10**8):08d}"
        data = svc.CaseInput(
            kind=kind,
            summary="synthetic",
            agency_id=None if item else rng.choice(agencies),
            item=item.number if item else None,
            caller_number=number,
            district=rng.choice(DISTRICTS),
            address=f"臺北市某路{rng.randrange(1, 400)}號",
        )
        # 85% of cases met in time, 10% late, 5% still open at the month's end.
        fate = rng.random()
        factor = rng.uniform(0.05, 0.98) if fate < 0.85 else rng.uniform(1.01, 1.5)
        grade_b = kind is CaseKind.PETITION and rng.random() < 0.12
        score = rng.choice([1, 2, 3, 4, 5, 5, 4, None]) if kind is CaseKind.PETITION else None
        month.append(Planned(data, at, fate, factor, grade_b, score))
    return month


def _move(ctx: svc.CaseContext, p: Planned, action: CaseAction, at: datetime, **kw: Any) -> Change:
    """The rules' move for `action` on `p` now, and `p` as it is after it."""
    assert p.facts is not None
    move = decide(p.facts, action, at, ctx.office, **kw)
    changes: dict[str, Any] = {}
    if action in (CaseAction.REPLIED, CaseAction.CLOSED) and p.facts.state in WORKING:
        changes.update(reply="synthetic reply", first_reply_at=at)
    if move.grade is not None:
        changes["grade"] = move.grade
    if move.state is CaseState.CLOSED:
        changes["closed_at"] = at
    if action is CaseAction.SURVEY:
        changes["satisfaction"] = kw["score"]
    change = Change(p.case_id, "", p.facts.state, action, move, at, "bench",
                    "synthetic", changes, key=f"bench:{p.case_id}:{action}")  # fmt: skip
    running = (p.facts.running - move.stop) | {c.clock for c in move.start}
    p.facts = replace(p.facts, state=move.state, running=running, grade=move.grade or p.facts.grade)
    p.moved_at = at
    return change


async def _apply(book: CaseBook, changes: list[Change]) -> None:
    for start in range(0, len(changes), BATCH):
        await book.apply_many(changes[start : start + BATCH])


async def _product_load(
    ctx: svc.CaseContext, month: list[Planned], services: list[ServiceLog], pw_hash: str
) -> float:
    """The month through the product's checks, numbering, keys and state machine."""
    book = ctx.book
    t0 = time.perf_counter()
    for start in range(0, len(month), BATCH):
        chunk = month[start : start + BATCH]
        entries = []
        for seq, p in enumerate(chunk, start=start + 1):
            new, clocks, password = svc.prepare(ctx, p.data, p.at)
            new = replace(new, idempotency_key=f"bench:{seq}",
                          password_hash=pw_hash if password else None)  # fmt: skip
            entries.append((new, clocks, None, None, {}))
            item = ctx.items.get(p.data.item) if p.data.item else None
            p.facts = CaseFacts(p.data.kind, CaseState.OPEN, p.at, item,
                                frozenset(c.clock for c in clocks))  # fmt: skip
            p.moved_at = min((c.due_at for c in clocks), default=p.at)
        made = await book.insert_many(entries, who="bench")
        for p, (case_id, _) in zip(chunk, made, strict=True):
            p.case_id = case_id
    # First move: the result of a dispatch order, the reply of a petition (A or B).
    first = []
    for p in month:
        if p.fate < 0.95:
            assert p.moved_at is not None
            at = p.at + (p.moved_at - p.at) * p.factor
            if p.data.kind is CaseKind.DISPATCH:
                first.append(_move(ctx, p, CaseAction.CLOSED, at))
            else:
                grade = CaseGrade.B if p.grade_b else CaseGrade.A
                first.append(_move(ctx, p, CaseAction.REPLIED, at, grade=grade))
    await _apply(book, first)
    # A grade-B plan is finished later; then the survey of closed petitions.
    finish = []
    for p in month:
        if p.facts is not None and p.facts.state is CaseState.REPLIED:
            assert p.moved_at is not None
            finish.append(_move(ctx, p, CaseAction.CLOSED, p.moved_at + timedelta(days=10)))
    await _apply(book, finish)
    surveys = []
    for p in month:
        if p.facts is not None and p.facts.state is CaseState.CLOSED and p.score is not None:
            assert p.moved_at is not None
            at = p.moved_at + timedelta(days=1)
            surveys.append(_move(ctx, p, CaseAction.SURVEY, at, score=p.score))
    await _apply(book, surveys)
    for start in range(0, len(services), BATCH * 10):
        await book.log_services(services[start : start + BATCH * 10])
    return time.perf_counter() - t0


async def _raw_load(source: CaseStore, url: str, cpu: Cpu) -> tuple[float, float]:
    """Baseline: the same rows as the product load made, in plain Core executemany."""
    tables = [Case.__table__, CaseClockRow.__table__, CaseEvent.__table__,
              CallService.__table__]  # fmt: skip
    async with source._engine.connect() as conn:
        rows = {t.name: [dict(r._mapping) for r in await conn.execute(select(t))] for t in tables}
    target = await CaseStore.open(url)
    try:
        await target.migrate()

        async def copy() -> None:
            async with target._engine.begin() as conn:
                for t in tables:
                    for start in range(0, len(rows[t.name]), BATCH):
                        await conn.execute(insert(t), rows[t.name][start : start + BATCH])

        wall, used, _ = await cpu.measure(copy)
        return wall, used
    finally:
        await target.close()


async def _best_of_three(cpu: Cpu, fn: Any) -> tuple[float, float, float, Any]:
    """(best wall, median wall, CPU of the best, result) of three runs."""
    runs = [await cpu.measure(fn) for _ in range(3)]
    best = min(runs, key=lambda r: r[0])
    return best[0], statistics.median(r[0] for r in runs), best[1], best[2]


async def run_backend(
    url: str, raw_url: str, args: argparse.Namespace, server_pid: int | None = None
) -> dict[str, float]:
    cpu = Cpu(server_pid)
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    pw_hash = hash_password("123456")
    hash_s = time.perf_counter() - t0
    tables = load_profile(TAIPEI)
    office = build_view(tables).office
    store = await CaseStore.open(url)
    try:
        await store.migrate()
        ctx = svc.CaseContext(CaseBook.of(store, "taipei"), tables, office)
        month = _month(rng, ctx, args.petitions, args.dispatches)
        services = [
            ServiceLog(
                rng.choice(["consultation", "consultation", "transfer", "referral"]),
                START + timedelta(seconds=rng.uniform(0, DAYS * 86400)),
                agency_id=rng.choice(["pwd", "epd", "dot", "water"]),
            )
            for _ in range(args.services)
        ]
        load_s, load_cpu, _ = await cpu.measure(
            lambda: _product_load(ctx, month, services, pw_hash)
        )
        raw_s, raw_cpu = await _raw_load(store, raw_url, cpu)
        sample_ctx = svc.CaseContext(CaseBook.of(store, "sample"), tables, office)
        sample = []
        for i in range(args.path_sample):
            data = svc.CaseInput(CaseKind.DISPATCH, "sample", item=1 + i % 22,
                                 address=f"某路{i}號", district="信義區")  # fmt: skip
            new, runs, _ = svc.prepare(sample_ctx, data, START + timedelta(minutes=i))
            sample.append((new, runs, None, None, {}))
        t0 = time.perf_counter()
        await sample_ctx.book.create_many(sample, who="bench")
        path_s = time.perf_counter() - t0
        report_s, report_med, report_cpu, rows = await _best_of_three(
            cpu, lambda: report_rows(ctx, MONTH)
        )
        assert rows[-1].cases == len(month), (rows[-1].cases, len(month))

        async def grouped_count() -> Any:
            async with store._engine.connect() as conn:
                return (await conn.execute(
                    select(Case.kind, Case.agency_id, func.count())
                    .where(Case.profile == "taipei", Case.created_at >= START,
                           Case.created_at < START + timedelta(days=DAYS))
                    .group_by(Case.kind, Case.agency_id)
                )).all()  # fmt: skip

        base_s, _, base_cpu, _ = await _best_of_three(cpu, grouped_count)
    finally:
        await store.close()
    return {
        "cases": len(month),
        "services": len(services),
        "load_s": load_s,
        "load_cpu_s": load_cpu,
        "raw_s": raw_s,
        "raw_cpu_s": raw_cpu,
        "path_ms_per_case": 1000 * path_s / max(1, args.path_sample),
        "report_s": report_s,
        "report_median_s": report_med,
        "report_cpu_s": report_cpu,
        "report_base_s": base_s,
        "report_base_cpu_s": base_cpu,
        "argon2_ms": 1000 * hash_s,
    }


def _print(backend: str, f: dict[str, float]) -> None:
    print(
        f"{backend:10} {int(f['cases']):>6} cases + {int(f['services']):>6} service logs "
        "(wall s / CPU s of this process and the database server; target wall):\n"
        f"  load   {f['load_s']:6.1f} / {f['load_cpu_s']:5.1f}   baseline raw executemany "
        f"{f['raw_s']:6.1f} / {f['raw_cpu_s']:5.1f}   ratio wall x{f['load_s'] / f['raw_s']:.2f} "
        f"CPU x{f['load_cpu_s'] / max(f['raw_cpu_s'], 1e-9):.2f}   (target < 60 s)\n"
        f"  report {f['report_s']:6.2f} / {f['report_cpu_s']:5.2f}   baseline grouped count "
        f"{f['report_base_s']:6.3f} / {f['report_base_cpu_s']:5.3f}   "
        f"ratio wall x{f['report_s'] / f['report_base_s']:.1f}   (target < 2 s; "
        f"median of 3 {f['report_median_s']:.2f} s)\n"
        f"  case path {f['path_ms_per_case']:5.2f} ms/case | "
        f"argon2 {f['argon2_ms']:.0f} ms/petition"
    )


def _postmaster(pg: Any) -> int | None:
    try:
        return int((Path(pg._datadir) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


async def main(args: argparse.Namespace) -> None:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as d:
                f = await run_backend(
                    default_sqlite_url(Path(d) / "cases.db"),
                    default_sqlite_url(Path(d) / "raw.db"),
                    args,
                )
        else:
            from tests.pgserver import PostgresServer

            with PostgresServer() as pg:
                pg.create_database("cases_bench")
                pg.create_database("cases_bench_raw")
                f = await run_backend(
                    pg.url_for("cases_bench"),
                    pg.url_for("cases_bench_raw"),
                    args,
                    _postmaster(pg),
                )
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
