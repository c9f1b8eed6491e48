"""The sender killed (SIGKILL) at random points and restarted: every message ends
delivered, and no citizen gets one twice.

The kill points are drawn from a seeded generator (the seed is printed; set
HOTLINE_CRASH_SEED to repeat a run). Each run of `ivr outbox run` is killed in one way:

- "before": when the gateway receives its k-th request, before taking the message;
- "after": when the gateway has taken its k-th message, before it answers (the
  window where the sender cannot know the message went out);
- "timer": a random time after its first request: in a commit, a claim, anywhere.

The local gateway drops a repeated client message id as real ones do, so its handset
log is what citizens see; resends happen only after an interrupted attempt.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest

from ivr import cli
from ivr import config as stack_config
from ivr.domain.vocabulary import OutboxOutcome, OutboxState
from ivr.notify import enqueue
from ivr.store import CaseStore
from ivr.store import outbox as box
from tests.forked import forking
from tests.harness import fresh_ports
from tests.notify.gateway import Gateway, Request

MESSAGES = 30
KILLS = 9
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gw = Gateway(client_id_field="clientid")
    gw.start()
    yield gw
    gw.stop()


def outbox_run(state_dir: str, log: str) -> None:
    """`ivr --state-dir STATE_DIR outbox run`, writing to `log` (in a fork server's child).

    The same `ivr.cli.main` that `python -m ivr` runs, in a process forked from a
    server that imported it (tests/forked.py): started afresh, each of this file's 20
    runs spent some 1.5 CPU-s importing before its first claim.
    """
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    sys.exit(cli.main(["--state-dir", state_dir, "--log-level", "WARNING", "outbox", "run"]))


PROCESSES = forking(__name__)


class Runs:
    """One `ivr outbox run` at a time, and the kills the gateway's hooks make."""

    def __init__(self, state_dir: Path, rng: random.Random) -> None:
        self.state_dir = state_dir
        self.rng = rng
        self.proc: BaseProcess | None = None
        self.requests = 0
        self.kill_at: tuple[str, int] | None = None
        self.killed: list[str] = []
        self.lock = threading.Lock()

    def start(self, mode: str | None) -> None:
        with self.lock:
            self.requests = 0
            self.kill_at = (mode, self.rng.randint(1, 4)) if mode else None
            self.delay = self.rng.uniform(0.0, 0.4)
            self.proc = PROCESSES.Process(
                target=outbox_run, args=(str(self.state_dir), str(self.state_dir / "sender.log"))
            )
            self.proc.start()

    def alive(self) -> bool:
        # The gateway's and the timer's threads ask too: one at a time reads the exit.
        with self.lock:
            return self.proc is not None and self.proc.is_alive()

    def _kill(self, mode: str) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()  # SIGKILL
            self.killed.append(mode)

    def before(self, _request: Request) -> bool:
        """Kill the sender (and drop its request untaken) at its k-th request."""
        with self.lock:
            self.requests += 1
            if self.kill_at is None:
                return False
            mode, k = self.kill_at
            if mode == "before" and self.requests == k:
                self._kill(mode)
                return True
            if mode == "timer" and self.requests == 1:
                timer = threading.Timer(self.delay, self._timer_kill)
                timer.daemon = True
                timer.start()
            return False

    def _timer_kill(self) -> None:
        with self.lock:
            self._kill("timer")

    def after(self, _request: Request) -> None:
        with self.lock:
            if self.kill_at == ("after", self.requests):
                self._kill("after")

    def stop(self) -> None:
        with self.lock:
            if self.proc is None:
                return
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(timeout=30)
            assert self.proc.exitcode is not None, "the sender outlived SIGKILL"


async def _delivered(store: CaseStore) -> int:
    return (await box.counts(store)).get(OutboxState.DELIVERED.value, 0)


async def test_killed_and_restarted_the_sender_delivers_everything_once(
    tmp_path: Path, gateway: Gateway, db_url: str
) -> None:
    seed = int(os.environ.get("HOTLINE_CRASH_SEED") or random.SystemRandom().randrange(10**9))
    print(f"HOTLINE_CRASH_SEED={seed}")
    rng = random.Random(seed)
    state_dir = tmp_path / "stack"
    cfg = stack_config.init(state_dir, fresh_ports(), db_url)
    (state_dir / "notify.yaml").write_text(
        "sender:\n"
        "  interval_s: 0.05\n"
        "  lease_s: 1\n"
        "  first_delay_s: 0.1\n"
        "  max_delay_s: 0.5\n"
        "  max_attempts: 100\n"
        "  batch: 5\n"
        "sms:\n"
        f"  url: {gateway.url}\n"
        "  fields: {to: dstaddr, text: smbody, client_id: clientid}\n"
        "  timeout_s: 5\n",
        encoding="utf-8",
    )
    store = await CaseStore.open(cfg.database_url)
    await store.migrate()
    keys = [f"case:{n}:completion:sms" for n in range(MESSAGES)]
    for n, key in enumerate(keys):
        await enqueue(
            store,
            key=key,
            channel="sms",
            recipient=f"09123450{n:02d}",
            body=f"您的案件 {n} 已完成",
            purpose="completion",
            ref=f"case:{n}",
            at=T0,
        )
    runs = Runs(state_dir, rng)
    gateway.before = runs.before
    gateway.after = runs.after
    modes = ["before", "after", "timer"] * (KILLS // 3)
    rng.shuffle(modes)
    try:
        for mode in modes:
            runs.start(mode)
            # A run ends killed, or, with nothing left to send, is stopped here.
            deadline = time.monotonic() + 120
            while runs.alive() and time.monotonic() < deadline:
                if await _delivered(store) == MESSAGES:
                    break
                await asyncio.sleep(0.05)
            runs.stop()
        runs.start(None)
        for _ in range(6000):
            if await _delivered(store) == MESSAGES:
                break
            assert runs.alive(), f"sender exited; see {state_dir}/sender.log"
            await asyncio.sleep(0.05)
        runs.stop()
        messages = [await box.get(store, key) for key in keys]
    finally:
        runs.stop()
        await store.close()
    why = f"(seed {seed}, kills {runs.killed})"
    assert all(m is not None and m.state is OutboxState.DELIVERED for m in messages), why
    # Each citizen's phone shows their message once, with its own text.
    shown = Counter(r.fields["clientid"] for r in gateway.handset)
    assert shown == Counter(keys), why
    for request in gateway.handset:
        n = int(request.fields["clientid"].split(":")[1])
        assert (request.fields["dstaddr"], request.fields["smbody"]) == (
            f"09123450{n:02d}",
            f"您的案件 {n} 已完成",
        ), why
    # The gateway saw a message again only after an attempt of it was interrupted.
    submitted = Counter(r.fields["clientid"] for r in gateway.received)
    for m in messages:
        assert m is not None
        interrupted = sum(a.outcome == OutboxOutcome.INTERRUPTED for a in m.history)
        assert submitted[m.key] - 1 <= interrupted, (m.key, why)
    assert runs.killed, why
    interrupted_all = sum(
        a.outcome == OutboxOutcome.INTERRUPTED for m in messages if m for a in m.history
    )
    print(
        f"kills={len(runs.killed)} {Counter(runs.killed)} submissions={len(gateway.received)} "
        f"resubmissions={len(gateway.received) - MESSAGES} "
        f"repeats_dropped_by_gateway={len(gateway.accepted) - len(gateway.handset)} "
        f"interrupted={interrupted_all}"
    )
