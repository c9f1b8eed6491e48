"""Most simultaneous calls held in the IVR with media flowing, as a staircase.

Callers enter the menu and stay there: the language menu prompt is made long, so
Asterisk streams it for the whole test, and every caller's SIPp echoes the RTP back
(-rtp_echo), so media flows both ways on every call. Each level adds callers (each
SIPp instance holds its calls past the last window), lets them settle, then reads
Asterisk's own RTP counters twice (`pjsip show channelstats`) over a window:

- clean: every planned call is up, no SIPp call failed, Asterisk sent and received
  at least 95% of the packets 50 packets/s per call gives over the window, and the
  receive side lost none (RTP sequence gaps Asterisk counted): the issue asks for
  no RTP loss, and the baseline meets that up to 600 calls here.

What this cannot see: audio quality (jitter, timing inside a packet); and loss in
SIPp's echo thread shows up as receive loss at Asterisk, since both share the two
cores. The first unclean level stops the staircase; the callers are then killed
with the stack (their hang-ups are not part of the measure).
"""

from __future__ import annotations

import math
import os
import re
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.sipp import SippStats, sipp_common
from bench.stack import (
    QUIET,
    Stack,
    Workspace,
    cpu_seconds,
    machine_cpu_seconds,
    rss_kib,
    stack,
    wait_for,
)
from ivr.asterisk import process
from ivr.config import StackConfig
from tests.harness import free_port
from tests.ports import sipp_media_port
from tests.sipp.scenarios import caller_scenario

PACKETS_PER_S = 50
MIN_PACKET_RATIO = 0.95
MAX_LOSS_RATIO = 0.0
_ROW = re.compile(r"(carrier-[0-9a-f]+)\s+\S+\s+\S+\s+(.*)$")


@dataclass(frozen=True)
class ChannelRtp:
    rx: int
    rx_lost: int
    tx: int


def channel_stats(ws: Workspace, cfg: StackConfig) -> tuple[float, dict[str, ChannelRtp]]:
    """(time, RTP counters per caller channel) from `pjsip show channelstats`."""
    started = time.monotonic()
    out = process.rx(ws.runtime, cfg, "pjsip show channelstats", timeout=30)
    at = (started + time.monotonic()) / 2
    rows: dict[str, ChannelRtp] = {}
    for line in out.splitlines():
        m = _ROW.search(line)
        if not m:
            continue
        nums = m.group(2).split()
        # Count Lost Pct Jitter (receive), Count Lost Pct Jitter (transmit), RTT.
        if len(nums) < 9:
            continue
        try:
            rows[m.group(1)] = ChannelRtp(int(nums[0]), int(nums[1]), int(nums[4]))
        except ValueError:
            continue
    return at, rows


def _window(
    first: tuple[float, dict[str, ChannelRtp]], second: tuple[float, dict[str, ChannelRtp]]
) -> dict[str, Any]:
    (t0, a), (t1, b) = first, second
    both = [c for c in b if c in a]
    span = t1 - t0
    expected = len(both) * PACKETS_PER_S * span
    rx = sum(b[c].rx - a[c].rx for c in both)
    tx = sum(b[c].tx - a[c].tx for c in both)
    lost = sum(max(b[c].rx_lost - a[c].rx_lost, 0) for c in both)
    return {
        "channels": len(both),
        "window_s": round(span, 2),
        "rx_ratio": round(rx / expected, 4) if expected else None,
        "tx_ratio": round(tx / expected, 4) if expected else None,
        "rx_lost": lost,
        "rx_loss_ratio": round(lost / rx, 5) if rx else None,
    }


def _launch(
    workdir: Path,
    name: str,
    sip_port: int,
    service: str,
    calls: int,
    ramp_cps: float,
    hold_ms: int,
    limit_s: float,
) -> subprocess.Popen[bytes]:
    """One SIPp instance: `calls` callers at `ramp_cps` who echo RTP and stay `hold_ms`."""
    sf = workdir / f"{name}.xml"
    sf.write_text(
        caller_scenario("0912345678", "", pre_ms=0, gap_ms=0, hold_ms=hold_ms), encoding="utf-8"
    )
    cmd = [
        "sipp",
        f"127.0.0.1:{sip_port}",
        "-sf",
        str(sf),
        "-s",
        service,
        *sipp_common(workdir, name, free_port(socket.SOCK_DGRAM), sipp_media_port()),
        "-r",
        f"{ramp_cps:g}",
        "-m",
        str(calls),
        "-l",
        str(calls),
        "-rtp_echo",
        "-recv_timeout",
        str(hold_ms + 60_000),
        "-timeout",
        f"{math.ceil(limit_s)}s",
        "-timeout_error",
    ]
    return subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _problems(level: int, window: dict[str, Any], failed: int) -> list[str]:
    problems = []
    if window["channels"] < level:
        problems.append(f"{window['channels']} of {level} calls up")
    if failed:
        problems.append(f"{failed} calls failed")
    for key in ("rx_ratio", "tx_ratio"):
        if window[key] is None or window[key] < MIN_PACKET_RATIO:
            problems.append(f"{key} {window[key]}")
    if window["rx_loss_ratio"] is None or window["rx_loss_ratio"] > MAX_LOSS_RATIO:
        problems.append(f"rx loss {window['rx_loss_ratio']}")
    return problems


@dataclass
class _Run:
    """The SIPp instances of one staircase; every one is bounded by -m and -timeout."""

    workdir: Path
    procs: list[tuple[subprocess.Popen[bytes], str]]

    def created(self, name: str) -> int:
        return SippStats.read(self.workdir / f"{name}-stats.csv").created

    def failed(self) -> int:
        return sum(SippStats.read(self.workdir / f"{n}-stats.csv").failed for _, n in self.procs)

    def kill(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def _measured_window(
    ws: Workspace, st: Stack, run: _Run, window_s: float, level: int
) -> dict[str, Any]:
    """RTP counters over one window, with who used the CPU meanwhile."""
    pids = {"asterisk": st.asterisk_pid, "engine": st.engine_pid}

    def cpu() -> dict[str, float]:
        out = {k: cpu_seconds(pid) or 0.0 for k, pid in pids.items()}
        out["sipp"] = sum(cpu_seconds(p.pid) or 0.0 for p, _ in run.procs)
        out["machine"] = machine_cpu_seconds()
        return out

    c0, t0 = cpu(), time.monotonic()
    first = channel_stats(ws, st.cfg)
    time.sleep(window_s)
    window = _window(first, channel_stats(ws, st.cfg))
    c1 = cpu()
    used = {k: c1[k] - c0[k] for k in c0}
    span = (time.monotonic() - t0) * (os.cpu_count() or 1)
    ours = used["asterisk"] + used["engine"] + used["sipp"]
    failed = run.failed()
    window.update(
        sipp_failed=failed,
        cpu_pct={k: round(v / span * 100, 1) for k, v in used.items()},
        others_busy_pct=round(max(used["machine"] - ours, 0) / span * 100, 1),
        problems=_problems(level, window, failed),
    )
    return window


def _rss_slope(points: list[tuple[int, int]]) -> float | None:
    """KiB per call: least-squares slope of RSS over the calls held at each level."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return round(sum((x - mx) * (y - my) for x, y in points) / sxx, 1) if sxx else None


def staircase(
    ws: Workspace,
    *,
    path: str,
    levels: list[int],
    ramp_cps: float,
    settle_s: float,
    window_s: float,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Add callers level by level on one stack; returns the highest clean level.

    A level whose only problem is RTP (every call up, none failed) gets one more
    window: the machine may be shared, and a level counts as clean when that second
    window is. Both windows are kept in the result.
    """
    service, engine = {"baseline": ("1998", False), "full_path": ("1999", True)}[path]
    steps = [b - a for a, b in zip([0, *levels], levels, strict=False)]
    # Callers hold past the last window (and a confirm window at every level).
    plan_s = sum(math.ceil(n / ramp_cps) + settle_s + 2 * window_s + 3.0 for n in steps) + 5.0
    ws.set_prompts(long_menu_s=plan_s + 60)
    run = _Run(ws.step_dir(f"media-{path}"), [])
    results: list[dict[str, Any]] = []
    rss_points: list[tuple[int, int]] = []
    best = 0
    background = QUIET.wait()
    try:
        with stack(ws, engine=engine) as st:
            idle_rss = rss_kib(st.engine_pid)
            t_end = time.monotonic() + plan_s
            for k, (level, n) in enumerate(zip(levels, steps, strict=True)):
                hold_ms = int((t_end - time.monotonic() - n / ramp_cps) * 1000)
                if hold_ms < (settle_s + 2 * window_s) * 1000:
                    break
                name = f"level{k}"
                proc = _launch(
                    run.workdir, name, st.cfg.ports.sip, service, n, ramp_cps, hold_ms, plan_s + 90
                )
                run.procs.append((proc, name))
                # SIPp's rate lags on a loaded machine: wait until it made every call
                # (bounded), then let the last ones reach the menu.
                wait_for(
                    lambda name=name, n=n: run.created(name) >= n,  # type: ignore[misc]
                    n / ramp_cps * 2 + 10,
                    interval=0.5,
                )
                time.sleep(settle_s)
                try:
                    windows = [_measured_window(ws, st, run, window_s, level)]
                except subprocess.TimeoutExpired:
                    # Asterisk too loaded to answer its own CLI: not a clean level,
                    # and the end of the staircase, not of the whole scenario.
                    why = "Asterisk did not answer `pjsip show channelstats` within 30 s"
                    results.append({"level": level, "clean": False, "why_not": [why]})
                    log(f"  media {path:<10} {level:>5} calls  → {why}")
                    break
                rtp_only = windows[0]["channels"] >= level and not windows[0]["sipp_failed"]
                if windows[0]["problems"] and rtp_only:
                    windows.append(_measured_window(ws, st, run, window_s, level))
                final = windows[-1]
                rss = rss_kib(st.engine_pid)
                if rss is not None:
                    rss_points.append((level, rss))
                results.append(
                    {
                        "level": level,
                        "clean": not final["problems"],
                        "why_not": final["problems"],
                        "windows": windows,
                        "engine_rss_kib": rss,
                        "asterisk_rss_kib": rss_kib(st.asterisk_pid),
                    }
                )
                for i, w in enumerate(windows):
                    log(
                        f"  media {path:<10} {level:>5} calls  "
                        f"{'confirm ' if i else ''}rx {w['rx_ratio']}  tx {w['tx_ratio']}  "
                        f"lost {w['rx_lost']}  failed {w['sipp_failed']}  cpu {w['cpu_pct']} "
                        f"others {w['others_busy_pct']}%  engine rss {rss} KiB → "
                        f"{'clean' if not w['problems'] else '; '.join(w['problems'])}"
                    )
                if final["problems"]:
                    break
                best = level
            # Measured: stop the callers now rather than wait out their planned hold
            # (the stack, and its calls, go with them).
            run.kill()
    finally:
        run.kill()
        ws.set_prompts(long_menu_s=None)
    return {
        "path": path,
        "background_busy_pct": background,
        "max_clean_calls": best,
        "levels": results,
        "ramp_cps": ramp_cps,
        "engine_idle_rss_kib": idle_rss,
        "engine_rss_kib_per_call": _rss_slope(rss_points),
    }
