"""Recovery times under the supervisor, on a private stack with real calls.

    python -m bench.recovery [--rounds 3]

Prints, per fault and round:
- hung engine (SIGSTOP with callers at the language menu): seconds from the stop to
  the last caller's HotlineFallback (the longest silence a caller heard), and to the
  engine serving again;
- engine SIGKILL: seconds to a new engine answering FastAGI;
- Asterisk SIGKILL: seconds to a restarted Asterisk answering a call to 1999.

Figures only, never asserts: the tests in tests/integration/test_resilience.py check
the behaviour, this reports how long it took on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from ivr.adapters.ami import AmiClient
from ivr.asterisk import process
from ivr.config import StackConfig
from ivr.testcall import place_call
from ivr.watchdog import probe
from tests.harness import asterisk_stack
from tests.integration.test_resilience import Supervised

CALLERS = 4
DEADLINE_S = 120.0


async def _until(check: object, what: str) -> float:
    """Seconds until `check()` (sync or async) is true."""
    start = time.monotonic()
    while True:
        result = check()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - start
        if time.monotonic() - start > DEADLINE_S:
            raise SystemExit(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


async def hung_engine(cfg: StackConfig, sup: Supervised) -> tuple[float, float]:
    reached: dict[str, float] = {}

    def on_event(event: Mapping[str, str]) -> None:
        if event.get("UserEvent") == "HotlineFallback":
            reached.setdefault(event.get("Uniqueid", ""), time.monotonic())

    ami = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)
    ami.on("UserEvent", on_event)
    await ami.start()
    await ami.wait_connected(10)
    pid = await sup.wait_engine()
    uids = [uuid.uuid4().hex for _ in range(CALLERS)]
    tasks = [
        asyncio.create_task(
            place_call(cfg, "1999", dtmf="", caller="0970000000", wait_s=0.5, hold_s=60, call_uid=u)
        )
        for u in uids
    ]
    # At the menu: a few seconds into the call, in the engine's AGI.
    await asyncio.sleep(4)
    stopped = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    await _until(lambda: all(f"{u}-hotline" in reached for u in uids), "every fallback")
    silence = max(reached[f"{u}-hotline"] for u in uids) - stopped
    await sup.wait_engine(other_than=pid)
    back = time.monotonic() - stopped
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await ami.stop()
    return silence, back


async def engine_kill(cfg: StackConfig, sup: Supervised) -> float:
    pid = await sup.wait_engine()
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    await sup.wait_engine(other_than=pid)
    await _until(lambda: probe(cfg, 1.0), "FastAGI answering")
    return time.monotonic() - killed


async def asterisk_kill(cfg: StackConfig) -> float:
    old = process.read_pid(cfg)
    assert old is not None
    killed = time.monotonic()
    os.kill(old, signal.SIGKILL)

    async def answers() -> bool:
        pid = process.read_pid(cfg)
        if pid is None or pid == old:
            return False
        try:
            result = await place_call(
                cfg,
                "1999",
                dtmf="",
                caller="0970000001",
                wait_s=0.2,
                hold_s=0.2,
                call_uid=uuid.uuid4().hex,
            )
        except Exception:
            return False
        return bool(result["reached"] or result["fallback"])

    await _until(answers, "Asterisk answering")
    return time.monotonic() - killed


def _line(name: str, values: list[float]) -> str:
    shown = ", ".join(f"{v:.1f}" for v in values)
    return (
        f"{name:44} median {statistics.median(values):5.1f} s  max {max(values):5.1f} s  ({shown})"
    )


async def run(cfg: StackConfig, rounds: int) -> None:
    sup = Supervised(cfg)
    sup.start()
    silences, hung_back, engine_back, asterisk_back = [], [], [], []
    try:
        for _ in range(rounds):
            silence, back = await hung_engine(cfg, sup)
            silences.append(silence)
            hung_back.append(back)
            engine_back.append(await engine_kill(cfg, sup))
            asterisk_back.append(await asterisk_kill(cfg))
    finally:
        sup.stop()
    print(f"recovery under the supervisor, {rounds} round(s), {CALLERS} callers per hang")
    print(_line("hung engine: longest caller silence", silences))
    print(_line("hung engine: engine serving again", hung_back))
    print(_line("engine SIGKILL: FastAGI answering again", engine_back))
    print(_line("Asterisk SIGKILL: 1999 answered again", asterisk_back))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="hotline-recovery-") as tmp,
        asterisk_stack(Path(tmp) / "stack") as cfg,
    ):
        asyncio.run(run(cfg, args.rounds))


if __name__ == "__main__":
    main()
