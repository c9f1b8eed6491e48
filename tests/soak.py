"""`make soak`: a steady load of calls for N minutes on a private stack, then the
engine's memory at start and end. Not part of the test suite or CI.

    python -m tests.soak --minutes 10 --callers 8

Each caller places one call after another (leaving at the language menu, keying
through to a queue, barging in during the greeting) until the time is up. The
engine's resident set size (VmRSS) is read before the first call and after the
last; the growth is what to watch. The stack's directory (logs, store) is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ivr.config import StackConfig
from ivr.testcall import place_call
from tests.harness import EngineProcess, asterisk_stack
from tests.integration.calls import greeting_s
from tests.integration.conftest import copy_profile

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"


@dataclass(frozen=True)
class Script:
    name: str
    dtmf: str
    wait_s: float
    hold_s: float


def scripts(cfg: StackConfig) -> list[Script]:
    g = greeting_s(cfg)
    return [
        Script("left at the language menu", "", 0.5, g + 2.0),
        Script("queued, then left", "9#ww1#", g, 5.0),
        Script("barged in during the greeting", "9#ww1#", 2.0, 6.0),
        Script("invalid key, then left", "7", g, 6.0),
    ]


def rss_regions_kb(pid: int) -> dict[str, int]:
    """Resident KiB by kind of mapping: the main heap (malloc's main arena, where the
    engine's thread allocates), other anonymous memory (Python's object arenas, the
    store threads' malloc arenas, SQLite's page caches) and mapped files (code)."""
    regions = {"heap": 0, "anonymous": 0, "files": 0}
    kind = "anonymous"
    for line in Path(f"/proc/{pid}/smaps").read_text(encoding="utf-8").splitlines():
        head = line.split(maxsplit=5)
        if len(head) >= 5 and "-" in head[0] and not head[0].endswith(":"):
            name = head[5] if len(head) > 5 else ""
            kind = "heap" if name == "[heap]" else "files" if name.startswith("/") else "anonymous"
        elif line.startswith("Rss:"):
            regions[kind] += int(line.split()[1])
    return regions


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def caller(
    cfg: StackConfig, n: int, until: float, plan: list[Script], tally: Counter[str]
) -> None:
    rng = random.Random(n)
    while time.monotonic() < until:
        script = rng.choice(plan)
        result = await place_call(
            cfg,
            "1999",
            dtmf=script.dtmf,
            caller=f"0966{n:03d}{rng.randrange(1000):03d}",
            wait_s=script.wait_s,
            hold_s=script.hold_s,
            call_uid=uuid.uuid4().hex,
        )
        tally["calls"] += 1
        tally["reached" if result["reached"] else "fell back"] += 1


async def load(
    cfg: StackConfig,
    engine_pid: int,
    minutes: float,
    callers: int,
    rss: list[tuple[float, int]],
    regions: list[tuple[float, dict[str, int]]],
) -> Counter[str]:
    """Run the callers; about once a minute append (minutes, engine RSS in KiB) to `rss`
    and (minutes, RSS by region) to `regions`."""
    tally: Counter[str] = Counter()
    start = time.monotonic()
    until = start + minutes * 60
    plan = scripts(cfg)
    tasks = [asyncio.create_task(caller(cfg, n, until, plan, tally)) for n in range(callers)]
    while not all(t.done() for t in tasks):
        await asyncio.wait(tasks, timeout=60)
        elapsed = (time.monotonic() - start) / 60
        rss.append((round(elapsed, 2), rss_kb(engine_pid)))
        regions.append((round(elapsed, 2), rss_regions_kb(engine_pid)))
        parts = ", ".join(f"{k} {v / 1024:.1f}" for k, v in regions[-1][1].items())
        print(
            f"  {elapsed:5.1f} min: {tally['calls']} calls, engine RSS {rss[-1][1] / 1024:.1f} MB"
            f" ({parts})",
            flush=True,
        )
    for task in tasks:
        task.result()
    return tally


def second_half_kib_per_min(rss: list[tuple[float, int]]) -> float | None:
    """RSS growth per minute from the sample nearest the run's middle to its last."""
    if len(rss) < 3:
        return None
    end_min, end_kb = rss[-1]
    mid_min, mid_kb = min(rss[:-1], key=lambda sample: abs(sample[0] - end_min / 2))
    return round((end_kb - mid_kb) / (end_min - mid_min), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--callers", type=int, default=8, help="calls up at any time")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="hotline-soak-"))
    profile = copy_profile("taipei", base / "taipei")
    print(f"soak: {args.minutes:g} min, {args.callers} callers; stack in {base}", flush=True)
    with asterisk_stack(base / "stack", profile=profile.directory, prompt_max_s=None) as cfg:
        engine = EngineProcess(cfg)
        engine.start()
        try:
            assert engine.pid is not None
            start_kb = rss_kb(engine.pid)
            rss: list[tuple[float, int]] = []
            regions: list[tuple[float, dict[str, int]]] = []
            tally = asyncio.run(load(cfg, engine.pid, args.minutes, args.callers, rss, regions))
            end_kb = rss_kb(engine.pid)
        finally:
            engine.stop()
    growth = end_kb - start_kb
    # The first minute loads what a first call needs (modules, compiled statements,
    # prompts' metadata): growth after it is what would leak.
    warm_kb = rss[0][1] if rss else start_kb
    after_warm = end_kb - warm_kb
    # Caches fill in the first minutes (SQLite's page caches, the FastAGI timing
    # buffer); a leak keeps its pace to the end, so the second half's rate is the one
    # that tells them apart.
    late = second_half_kib_per_min(rss)
    print(
        f"soak: {tally['calls']} calls ({tally['reached']} reached the engine, "
        f"{tally['fell back']} fell back)\n"
        f"engine RSS: start {start_kb / 1024:.1f} MB, end {end_kb / 1024:.1f} MB, "
        f"growth {growth / 1024:+.1f} MB ({100 * growth / start_kb:+.1f} %); "
        f"after the first minute {after_warm / 1024:+.1f} MB ({100 * after_warm / warm_kb:+.1f} %)"
        + (f"; second half {late:+.0f} KiB/min" if late is not None else "")
    )
    result = {
        "minutes": args.minutes,
        "callers": args.callers,
        "calls": tally["calls"],
        "reached": tally["reached"],
        "fell_back": tally["fell back"],
        "rss_kib_start": start_kb,
        "rss_kib_after_first_minute": warm_kb,
        "rss_kib_end": end_kb,
        "rss_kib_by_minute": rss,
        "rss_kib_per_min_second_half": late,
        "rss_kib_by_region_by_minute": regions,
    }
    out = RESULTS / f"{datetime.now(UTC).astimezone():%Y-%m-%d-%H%M}-soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"soak: results in {out.relative_to(RESULTS.parent.parent)}")
    return 1 if tally["fell back"] else 0


if __name__ == "__main__":
    sys.exit(main())
