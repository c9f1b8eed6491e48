"""`ivr tickets …` and `ivr report transfers` as a shell user runs them, on a seeded stack.

The commands run in the test's process (tests/cli_run.py); the check that a forged
$USER changes nothing runs `python -m ivr` itself.

Each test gets its own state directory with an SQLite store holding three transfers in
March 2025 (one more just across the April boundary) and three tickets. No Asterisk.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import pwd
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ivr import config as stack_config
from ivr.config import StackConfig
from ivr.store import CaseStore
from tests.cli_run import run_ivr
from tests.migrated import copy_migrated_sqlite

REPO = Path(__file__).resolve().parents[2]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    cfg: StackConfig
    # pwd/new-construction via transfer 1, closed in time after a 2 h callback.
    closed: str
    closed_id: int
    # epd/epd-cleaning via transfer 3, open and flagged overdue.
    overdue: str
    # The call centre's own off-hours ticket, open.
    hotline: str


async def _dial(
    store: CaseStore, transfer_id: int, start: datetime, *dials: tuple[str, str, str]
) -> None:
    for seq, (target, role, status) in enumerate(dials):
        at = start + timedelta(seconds=30 * seq)
        attempt_id = await store.start_attempt(
            transfer_id=transfer_id, target=target, role=role, attempt=seq + 1, at=at
        )
        await store.finish_attempt(
            attempt_id,
            at=at + timedelta(seconds=20),
            dialstatus=status,
            hangup_cause=17 if status == "BUSY" else 16,
            ring_seconds=20.0,
        )


async def _transfer(
    store: CaseStore,
    uid: str,
    agency: str,
    unit: str,
    start: datetime,
    *dials: tuple[str, str, str],
) -> int:
    call_id = await store.start_call(
        uniqueid=uid,
        linkedid=uid,
        channel=f"PJSIP/trunk-{uid}",
        caller_number="0912345678",
        caller_name=None,
        dnid="1999",
        started_at=start,
    )
    transfer_id = await store.start_transfer(
        call_id, initiated_by="agent", agency_id=agency, unit_id=unit, at=start
    )
    await _dial(store, transfer_id, start, *dials)
    return transfer_id


async def _seed(url: str) -> tuple[str, int, str, str]:
    store = await CaseStore.open(url)
    try:
        await store.migrate()
        busy, noanswer, answer = "BUSY", "NOANSWER", "ANSWER"
        t1_at = utc(2025, 3, 3, 2)
        t1 = await _transfer(
            store,
            "u1",
            "pwd",
            "new-construction",
            t1_at,
            ("2301", "primary", busy),
            ("2301", "primary", busy),
            ("2101", "liaison", answer),
        )
        # 00:30 on 1 March in Taipei: March's, though still February in UTC.
        await _transfer(
            store,
            "u2",
            "pwd",
            "new-construction",
            utc(2025, 2, 28, 16, 30),
            ("2301", "primary", noanswer),
            ("2302", "adjacent", answer),
        )
        t3_at = utc(2025, 3, 10, 2)
        t3 = await _transfer(
            store,
            "u3",
            "epd",
            "epd-cleaning",
            t3_at,
            ("3201", "primary", busy),
            ("3202", "adjacent", busy),
            ("3101", "liaison", noanswer),
        )
        # 00:30 on 1 April in Taipei: April's, though still March in UTC.
        await _transfer(
            store, "u4", "epd", "epd-cleaning", utc(2025, 3, 31, 16, 30), ("3201", "primary", busy)
        )

        created = t1_at + timedelta(minutes=5)
        closed = await store.create_ticket(
            call_id=None,
            transfer_id=t1,
            caller_number="0912345678",
            agency_id="pwd",
            unit_id="new-construction",
            reason="liaison_registered",
            created_at=created,
            due_at=created + timedelta(hours=4),
        )
        for status, hours in (("in_progress", 1), ("called_back", 2), ("closed", 3)):
            await store.set_ticket_status(
                closed.id,
                status,
                at=created + timedelta(hours=hours),
                by="王小明",
                outcome="explained the repair date" if status == "closed" else None,
            )
        await store.add_ticket_note(
            closed.id, at=created + timedelta(minutes=30), author="王小明", text="first try busy"
        )
        created3 = t3_at + timedelta(minutes=10)
        overdue = await store.create_ticket(
            call_id=None,
            transfer_id=t3,
            caller_number="0922333444",
            agency_id="epd",
            unit_id="epd-cleaning",
            reason="busy",
            created_at=created3,
            due_at=created3 + timedelta(hours=4),
        )
        await store.flag_overdue(created3 + timedelta(hours=4, minutes=1))
        hotline = await store.create_ticket(
            call_id=None,
            transfer_id=None,
            caller_number="0233445566",
            agency_id="hotline",
            unit_id=None,
            reason="off_hours",
            created_at=utc(2025, 3, 15, 14),
            due_at=utc(2025, 3, 17, 9, 30),
        )
    finally:
        await store.close()
    return closed.number, closed.id, overdue.number, hotline.number


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    """A fresh stack directory whose SQLite store holds the March 2025 fixture."""
    cfg = stack_config.init(tmp_path / "state")
    copy_migrated_sqlite(cfg.sqlite_path)
    closed, closed_id, overdue, hotline = asyncio.run(_seed(cfg.database_url))
    return Seeded(cfg, closed, closed_id, overdue, hotline)


def ivr(seeded: Seeded, *args: str) -> subprocess.CompletedProcess[str]:
    """`ivr --state-dir … ARGS`, run in this process, and what it printed."""
    return run_ivr("--state-dir", str(seeded.cfg.state_dir), *args)


def ok(seeded: Seeded, *args: str) -> str:
    done = ivr(seeded, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def fails(seeded: Seeded, *args: str, status: int = 1) -> str:
    """Run a command that must fail with `status`; return its single stderr line."""
    done = ivr(seeded, *args)
    assert done.returncode == status, done.stdout
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    return line


def show(seeded: Seeded, ref: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(seeded, "tickets", "show", ref, "--json"))
    return data


def test_list_filters_and_columns(seeded: Seeded) -> None:
    """The list shows every ticket by due time; filters narrow it; --json is data."""
    table = ok(seeded, "tickets", "list")
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["number", "status", "overdue", "agency/unit"]
    assert [line.split()[0] for line in lines[1:]] == [
        seeded.closed,
        seeded.overdue,
        seeded.hotline,
    ]
    overdue_line = next(line for line in lines if line.startswith(seeded.overdue))
    # Due 06:10 UTC is 14:10 in Taipei.
    assert overdue_line.split()[1:6] == [
        "open",
        "OVERDUE",
        "epd/epd-cleaning",
        "busy",
        "2025-03-10",
    ]
    assert "14:10" in overdue_line

    assert ok(seeded, "tickets", "list", "--overdue").split()[8:] == [
        seeded.overdue,
        "open",
        "OVERDUE",
        "epd/epd-cleaning",
        "busy",
        "2025-03-10",
        "14:10",
        "-",
    ]
    open_numbers = [
        t["number"] for t in json.loads(ok(seeded, "tickets", "list", "--status", "open", "--json"))
    ]
    assert open_numbers == [seeded.overdue, seeded.hotline]
    [pwd] = json.loads(ok(seeded, "tickets", "list", "--agency", "pwd", "--json"))
    assert (pwd["number"], pwd["status"], pwd["assignee"]) == (seeded.closed, "closed", None)
    unit = json.loads(ok(seeded, "tickets", "list", "--unit", "epd-cleaning", "--json"))
    assert [t["number"] for t in unit] == [seeded.overdue]


def test_show_gives_attempts_notes_and_events(seeded: Seeded) -> None:
    """Show prints the ticket with its transfer's attempts, its notes and its audit trail."""
    text = ok(seeded, "tickets", "show", seeded.closed)
    assert text.startswith(f"ticket {seeded.closed} (id {seeded.closed_id})")
    assert "attempts (3):" in text
    assert "liaison" in text
    assert "notes (1):" in text
    assert "王小明: first try busy" in text
    assert "events (5):" in text
    assert "explained the repair date" in text

    data = show(seeded, str(seeded.closed_id))
    assert data["number"] == seeded.closed
    assert [a["dialstatus"] for a in data["attempts"]] == ["BUSY", "BUSY", "ANSWER"]
    assert [e["kind"] for e in data["events"]] == ["created", "status", "status", "status", "note"]
    # Masked by default: a view shows who called only to someone who says why.
    assert data["caller_number"] == "0912○○○678"


def test_unmasking_needs_a_reason_and_every_view_is_audited(seeded: Seeded) -> None:
    """--unmask without --reason is refused; each view writes who, what and why."""
    assert fails(seeded, "tickets", "show", seeded.closed, "--unmask", status=4).startswith(
        "ivr: --unmask needs --reason"
    )
    assert "0912345678" not in ok(seeded, "tickets", "show", seeded.closed)
    clear = json.loads(
        ok(
            seeded,
            *("tickets", "show", seeded.closed, "--json", "--unmask"),
            *("--reason", "督導A同意 法定職務"),
        )
    )
    assert clear["caller_number"] == "0912345678"
    rows = json.loads(ok(seeded, "audit", "list", "--subject", f"ticket:{seeded.closed}", "--json"))
    me = pwd.getpwuid(os.getuid()).pw_name
    assert [(r["who"], r["action"], r["reason"]) for r in rows] == [
        (me, "view", None),
        (me, "unmask", "督導A同意 法定職務"),
    ]
    ok(seeded, "tickets", "list")
    assert [r["subject"] for r in json.loads(ok(seeded, "audit", "list", "--json"))] == [
        f"ticket:{seeded.closed}",
        f"ticket:{seeded.closed}",
        "tickets",
    ]
    # Who is the uid's account: a forged $USER changes nothing.
    forged = subprocess.run(
        [sys.executable, "-m", "ivr", "--state-dir", str(seeded.cfg.state_dir), "tickets", "list"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
        env={**os.environ, "USER": "someone-else", "LOGNAME": "someone-else"},
    )
    assert forged.returncode == 0, forged.stderr
    newest = json.loads(ok(seeded, "audit", "list", "--limit", "1", "--json"))
    assert newest[0]["who"] == me
    assert ok(seeded, "audit", "verify").startswith("audit log intact: 4 rows")


def test_calls_are_masked_and_each_view_audited(seeded: Seeded) -> None:
    """`ivr calls list/show` mask the caller number; unmasking needs a reason, and is audited."""
    table = ok(seeded, "calls", "list")
    assert "0912345678" not in table
    assert "0912○○○678" in table
    rows = json.loads(ok(seeded, "calls", "list", "--json"))
    assert {r["caller_number"] for r in rows} == {"0912○○○678"}
    call_id = str(rows[0]["id"])
    assert "0912345678" not in ok(seeded, "calls", "show", call_id)
    assert fails(seeded, "calls", "show", call_id, "--unmask", status=4).startswith(
        "ivr: --unmask needs --reason"
    )
    clear = ok(seeded, "calls", "show", call_id, "--unmask", "--reason", "citizen asked for a copy")
    assert "0912345678" in clear
    audit = json.loads(ok(seeded, "audit", "list", "--subject", "call", "--json"))
    assert [(r["action"], r["subject"], r["reason"]) for r in audit] == [
        ("view", "calls", None),
        ("view", "calls", None),
        ("view", f"call:{call_id}", None),
        ("unmask", f"call:{call_id}", "citizen asked for a copy"),
    ]


async def _ticket_after_outage(url: str) -> tuple[int, str]:
    """A call whose ticket was made from the spool after an outage; its id and number."""
    store = await CaseStore.open(url)
    try:
        at = utc(2025, 3, 20, 3)
        call_id = await store.start_call(
            uniqueid="u-outage",
            linkedid="u-outage",
            channel="PJSIP/trunk-u-outage",
            caller_number="0912345678",
            caller_name=None,
            dnid="1999",
            started_at=at,
        )
        ticket = await store.create_ticket(
            call_id=call_id,
            transfer_id=None,
            caller_number="0912345678",
            agency_id="hotline",
            unit_id=None,
            reason="voicemail",
            created_at=at,
            due_at=at + timedelta(days=1),
            message_path="/srv/hotline/spool/messages/outage-u-outage.wav",
            idempotency_key="engine-made-key",
            after_outage=True,
        )
    finally:
        await store.close()
    return call_id, ticket.number


def test_a_ticket_made_after_an_outage_is_marked_in_lists_and_on_its_call(
    seeded: Seeded,
) -> None:
    """The agent who took the call sees its ticket and message; the lists mark it."""
    call_id, number = asyncio.run(_ticket_after_outage(seeded.cfg.database_url))
    table = ok(seeded, "tickets", "list").splitlines()
    marked = [line for line in table if "[after outage]" in line]
    assert [line.split()[0] for line in marked] == [number]
    assert "made             after a store outage (caller not told)" in ok(
        seeded, "tickets", "show", number
    )
    shown = ok(seeded, "calls", "show", str(call_id))
    assert f"ticket {number} (made after a store outage): voicemail, open" in shown
    assert "message: /srv/hotline/spool/messages/outage-u-outage.wav" in shown
    data = json.loads(ok(seeded, "tickets", "show", number, "--json"))
    assert data["after_outage"] is True


@pytest.mark.parametrize(
    "args",
    [
        ("tickets", "list", "--limit", "0"),
        ("tickets", "list", "--limit", "-5"),
        ("tickets", "list", "--limit", "many"),
        ("calls", "list", "--limit", "0"),
        ("calls", "show", "0"),
        ("audit", "list", "--since", "yesterday"),
        ("audit", "list", "--limit", "0"),
    ],
)
def test_bad_cli_values_are_one_clear_line(seeded: Seeded, args: tuple[str, ...]) -> None:
    """A bad value is refused by name, with usage and exit 2: never a traceback."""
    done = ivr(seeded, *args)
    assert done.returncode == 2, done.stdout
    assert "Traceback" not in done.stderr
    assert "error: argument" in done.stderr.splitlines()[-1]


def test_unknown_ticket_is_one_line_and_exit_3(seeded: Seeded) -> None:
    """An unknown number or id fails with one clear line, no traceback: not found (3)."""
    assert fails(seeded, "tickets", "show", "99999999", status=3) == (
        "ivr: no ticket '99999999': give its number (e.g. 25030042) or its id"
    )
    assert fails(seeded, "tickets", "assign", "nope", "someone", status=3).startswith(
        "ivr: no ticket 'nope'"
    )


def test_assign_note_move_and_close(seeded: Seeded) -> None:
    """A ticket is assigned, annotated, called back and closed, each step in the audit trail."""
    number = seeded.hotline
    assert ok(seeded, "tickets", "assign", number, "王小明", "--by", "督導A").strip() == (
        f"ticket {number}: assigned to 王小明"
    )
    assert "note added by 王小明" in ok(
        seeded, "tickets", "note", number, "電話未接 下午再撥", "--by", "王小明"
    )
    assert ok(seeded, "tickets", "status", number, "in_progress", "--by", "王小明").strip() == (
        f"ticket {number}: open -> in_progress"
    )
    ok(seeded, "tickets", "status", number, "called_back", "--outcome", "說明清運時間")
    assert ok(
        seeded, "tickets", "close", number, "--outcome", "已處理", "--by", "王小明"
    ).strip() == (f"ticket {number}: called_back -> closed")

    data = show(seeded, number)
    assert data["status"] == "closed"
    assert data["assignee"] == "王小明"
    assert data["outcome"] == "已處理"
    assert data["closed_at"] is not None
    assert [n["text"] for n in data["notes"]] == ["電話未接 下午再撥"]
    events = data["events"]
    assert [e["kind"] for e in events] == [
        "created",
        "assigned",
        "note",
        "status",
        "status",
        "status",
    ]
    assert events[1]["data"]["by"] == "督導A"
    assert [e["data"]["to"] for e in events[3:]] == ["in_progress", "called_back", "closed"]


def test_illegal_transition_exits_4_and_changes_nothing(seeded: Seeded) -> None:
    """A move the workflow forbids names what is allowed instead and leaves the ticket be."""
    assert fails(seeded, "tickets", "status", seeded.overdue, "called_back", status=4) == (
        f"ivr: ticket {seeded.overdue}: cannot go from open to called_back; "
        "from open it may go to closed, in_progress"
    )
    assert fails(seeded, "tickets", "close", seeded.closed, "--outcome", "again", status=4) == (
        f"ivr: ticket {seeded.closed}: cannot go from closed to closed; from closed it is final"
    )
    assert show(seeded, seeded.overdue)["status"] == "open"
    assert show(seeded, seeded.closed)["outcome"] == "explained the repair date"


def _csv_rows(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {(r["agency_id"], r["unit_id"]): r for r in csv.DictReader(fh)}


def test_report_transfers_month_table_csv_and_json(seeded: Seeded, tmp_path: Path) -> None:
    """March's report has a row per unit whose figures match the seeded attempts."""
    csv_path, json_path = tmp_path / "march.csv", tmp_path / "march.json"
    out = ok(
        seeded,
        "report",
        "transfers",
        "--month",
        "2025-03",
        "--csv",
        str(csv_path),
        "--json",
        str(json_path),
    )
    lines = out.splitlines()
    units = lines[2 : next(i for i, line in enumerate(lines) if line.startswith("---"))]
    table = {f"{cells[0]}/{cells[1]}": cells for cells in (line.split() for line in units)}
    assert len(table) == 3
    assert table["epd/epd-cleaning"][2:] == ["1", "2", "0", "100.0%", "1", "0", "1", "-"]
    assert table["hotline/-"][2:] == ["0", "0", "0", "-", "1", "0", "0", "-"]
    assert table["pwd/new-construction"][2:] == ["2", "2", "1", "50.0%", "1", "1", "0", "2h", "00m"]
    totals = next(line for line in out.splitlines() if line.startswith("TOTAL")).split()
    assert totals[1:] == ["3", "4", "1", "66.7%", "3", "1", "1", "2h", "00m"]
    assert f"wrote {csv_path}" in out

    rows = _csv_rows(csv_path)
    assert list(rows) == [
        ("epd", "epd-cleaning"),
        ("hotline", ""),
        ("pwd", "new-construction"),
        ("TOTAL", ""),
    ]
    pwd = rows["pwd", "new-construction"]
    assert {k: pwd[k] for k in pwd if k not in {"agency_id", "unit_id"}} == {
        "period": "2025-03",
        "transfers": "2",
        "busy_attempts": "2",
        "noanswer_attempts": "1",
        "liaison_fallbacks": "1",
        "fallback_rate": "0.5",
        "tickets_opened": "1",
        "tickets_closed_in_time": "1",
        "tickets_overdue": "0",
        "median_callback_s": "7200.0",
    }
    epd = rows["epd", "epd-cleaning"]
    assert (epd["busy_attempts"], epd["liaison_fallbacks"], epd["fallback_rate"]) == (
        "2",
        "1",
        "1.0",
    )
    assert rows["hotline", ""]["fallback_rate"] == ""
    assert rows["TOTAL", ""]["fallback_rate"] == "0.6667"

    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["period"] == "2025-03"
    assert report["start"] == "2025-03-01T00:00:00+08:00"
    assert report["total"]["transfers"] == 3
    assert [u["unit_id"] for u in report["units"]] == ["epd-cleaning", None, "new-construction"]


def test_report_month_boundaries_are_taipei_time(seeded: Seeded) -> None:
    """A transfer at 00:30 on 1 April in Taipei counts for April, not March."""
    out = ok(seeded, "report", "transfers", "--month", "2025-04")
    [epd] = [line.split() for line in out.splitlines() if line.startswith("epd")]
    assert epd[:6] == ["epd", "epd-cleaning", "1", "1", "0", "0.0%"]
    empty = ok(seeded, "report", "transfers", "--month", "2024-01")
    assert "no transfers or tickets in 2024-01" in empty


@pytest.mark.parametrize("month", ["2025-13", "March", "2025-3"])
def test_report_bad_month_is_one_line_and_exit_1(seeded: Seeded, month: str) -> None:
    """A malformed month fails with one line that shows the expected form."""
    assert fails(seeded, "report", "transfers", "--month", month) == (
        f"ivr: month must be written YYYY-MM, e.g. 2025-03; got {month!r}"
    )
