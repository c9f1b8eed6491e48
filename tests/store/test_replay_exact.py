"""Replay after an outage is exact: the same spool replayed twice, with the replaying
process killed (SIGKILL) at random points in between, leaves each record once.

On SQLite and PostgreSQL. The kill points are drawn from a seeded generator; the seed
is printed, and `REPLAY_SEED=<seed>` repeats a run.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ivr.adapters.durable import DurableStore
from ivr.store import CaseStore
from ivr.store.write_records import MarkAnswered
from tests.forked import forking

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
KILLS_PER_ROUND = 5


class Dies(DurableStore):
    """Replays the spool; dies by SIGKILL at its `kill_at`-th record, just before or
    just after the spool notes it done (0: never)."""

    kill_at = 0
    where = "never"
    seen = 0

    async def _append(self, lines: Any, then: Any = None, **kwargs: Any) -> None:
        done = lines[0]["t"] == "done"
        if done:
            Dies.seen += 1
        dying = done and Dies.seen == Dies.kill_at
        if dying and Dies.where == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        await super()._append(lines, then, **kwargs)
        if dying and Dies.where == "after":
            os.kill(os.getpid(), signal.SIGKILL)


def replay(url: str, spool: str, kill_at: int, where: str) -> None:
    """A replaying process's whole life (in a child of the fork server)."""
    Dies.kill_at, Dies.where = kill_at, where

    async def main() -> None:
        store = await CaseStore.open(url)
        durable = await Dies.open(store, Path(spool))
        await durable.replay()
        await store.close()

    asyncio.run(main())


# Each replaying process is forked from a server that has imported the case store
# once (tests/forked.py). Started afresh, each of this file's 24 processes spent
# 1.2 CPU-s importing it before its first record.
PROCESSES = forking(__name__)


async def write_spool(store: CaseStore, spool: Path) -> dict[str, int]:
    """Two calls, a transfer each, attempts, a rating, agent states and a deferred
    ticket, all spooled as in an outage; the number of rows each table should get."""
    durable = await DurableStore.open(store, spool)
    # With something waiting, every write is spooled.
    await durable._spool(MarkAnswered(key="waiting", uniqueid="nobody", at=T0))
    at = T0
    for n in range(2):
        uniqueid = f"call-{n}"
        at += timedelta(seconds=1)
        call_id = await durable.start_call(
            uniqueid=uniqueid,
            linkedid=uniqueid,
            channel="PJSIP/carrier-1",
            caller_number="0912345678",
            caller_name=None,
            dnid="1999",
            started_at=at,
        )
        for kind in ("agi_start", "menu", "transfer"):
            await durable.add_event(call_id, at=at, kind=kind, data={"n": n})
        transfer_id = await durable.start_transfer(
            call_id, initiated_by="ivr", agency_id="dot", unit_id="parking", at=at
        )
        for attempt in (1, 2):
            attempt_id = await durable.start_attempt(
                transfer_id=transfer_id, target="PJSIP/6900", role="primary", attempt=attempt, at=at
            )
            await durable.finish_attempt(
                attempt_id, at=at, dialstatus="NOANSWER", hangup_cause=19, ring_seconds=20.0
            )
        await durable.finish_transfer(transfer_id, at=at, result="ticket")
        # Two events alike to the microsecond: both are records, each lands once.
        for _ in range(2):
            await durable.add_event(
                call_id, at=at, kind="played", data={"transfer_id": transfer_id}
            )
        await durable.defer_ticket(
            key=f"ticket-{n}",
            call_id=call_id,
            transfer_id=transfer_id,
            caller_number="0912345678",
            agency_id="dot",
            unit_id="parking",
            reason="no_answer",
            created_at=at,
            due_at=at + timedelta(hours=4),
        )
        await durable.record_rating(call_id, 4, agent_id=None, queue=None, at=at)
        await durable.record_agent_state("a01", "paused", at=at, queues=["general"])
        await durable.end_call(uniqueid, ended_at=at, cause=16, cause_text="Normal Clearing")
    return {
        "calls": 2,
        "call_events": 10,
        "transfers": 2,
        "dial_attempts": 4,
        "tickets": 2,
        "survey_ratings": 2,
        "agent_states": 2,
    }


async def replay_in_a_process(url: str, spool: Path, kill_at: int, where: str) -> int:
    proc = PROCESSES.Process(target=replay, args=(url, str(spool), kill_at, where))
    proc.start()
    await asyncio.to_thread(proc.join)
    # A failed replay prints its traceback on this worker's stderr and exits with 1.
    assert proc.exitcode in (0, -signal.SIGKILL), f"the replay exited with {proc.exitcode}"
    return proc.exitcode


async def table_counts(url: str, tables: list[str]) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()
                for t in tables
            }
    finally:
        await engine.dispose()


async def test_a_spool_replayed_twice_through_kills_leaves_each_record_once(
    store: CaseStore, db_url: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("REPLAY_SEED", random.randrange(2**32)))
    print(f"replay kill points: REPLAY_SEED={seed}")
    rng = random.Random(seed)
    spool = tmp_path / "spool" / "store.jsonl"
    expected = await write_spool(store, spool)
    original = tmp_path / "spooled.jsonl"
    shutil.copy(spool, original)
    assert await table_counts(db_url, list(expected)) == dict.fromkeys(expected, 0)

    kills = 0
    for _ in range(2):
        # The same spool again, as an engine that lost its notes would find it.
        shutil.copy(original, spool)
        for _ in range(KILLS_PER_ROUND):
            where = rng.choice(["before", "after"])
            returncode = await replay_in_a_process(db_url, spool, rng.randint(1, 12), where)
            kills += returncode == -signal.SIGKILL
        assert await replay_in_a_process(db_url, spool, 0, "never") == 0

    assert kills > 0
    assert await table_counts(db_url, list(expected)) == expected
    for n in range(2):
        call = await store.get_call_by_uniqueid(f"call-{n}")
        assert call is not None
        assert call.ended_at is not None
        assert [e.seq for e in call.events] == [1, 2, 3, 4, 5]
        assert [e.kind for e in call.events] == [
            "agi_start",
            "menu",
            "transfer",
            "played",
            "played",
        ]
        [ticket] = await store.tickets_of_call(call.id)
        assert ticket.after_outage
        assert ticket.transfer_id == call.events[3].data["transfer_id"]
        assert [a.dialstatus for a in ticket.attempts] == ["NOANSWER", "NOANSWER"]
