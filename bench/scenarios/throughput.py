"""Highest call rate held, stepped: each rate is one step on its own fresh stack.

"Held" means: under 1% of the calls failed (a call counts only if the caller's
scenario completed AND the far end answered it: the UAS saw INVITE, 200, ACK), no
backlog (SIPp finished within the planned time plus a margin, nothing timed out),
and the INVITE→200 p99 is under 500 ms. Delayed calls (over 500 ms) are counted too.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.sipp import (
    DELAYED_MS,
    Uas,
    answering_uas,
    caller_with_dtmf,
    liaison_only_uas,
    read_rtt,
    run_callers,
)
from bench.stack import (
    QUIET,
    REPO,
    Stack,
    Workspace,
    children_cpu_seconds,
    cpu_seconds,
    machine_cpu_seconds,
    rss_kib,
    stack,
    wait_for,
)
from ivr.stats import nearest_rank
from tests.harness import free_port

CALLER = "0912345678"
# '#' ends the entry at once: without it the engine (rightly) waits 1.5 s for a fifth
# digit, since 6100 begins the PBX lines 61001-61012.
UNIT_CODE = "6100#"
# The caller's timeline after ACK: wait for the greeting (and Answer()'s 500 ms wait
# for RTP), key the code, stay on the line with the unit, hang up.
PRE_MS = 2000
GAP_MS = 300
MAX_FAIL_PCT = 1.0
MAX_P99_MS = DELAYED_MS
BACKLOG_MARGIN_S = 5.0


@dataclass(frozen=True)
class Shape:
    """One call shape on one path."""

    name: str
    service: str  # the number dialled on the carrier trunk
    engine: str  # "none", "engine" or "process" (process-per-call AGI)
    uas: Callable[[], str]
    hold_ms: int
    # Extra seconds a call of this shape may take after the caller's own timeline.
    slack_s: float = 1.0
    # When the caller keys the code, after ACK; must fall in the menu's listening time.
    pre_ms: int = PRE_MS

    @property
    def call_s(self) -> float:
        return (self.pre_ms + GAP_MS * len(UNIT_CODE) + self.hold_ms) / 1000.0 + self.slack_s


BASELINE = Shape("baseline", "1998", "none", answering_uas, 1500)
FULL_PATH = Shape("full_path", "1999", "engine", answering_uas, 1500)
# A fresh interpreter needs about 1.5 s before its first AGI command, so its callers
# key the code 2.5 s later: this shape measures the rate, not the start-up delay.
PROCESS_AGI = Shape("process_agi", "1999", "process", answering_uas, 1500, pre_ms=PRE_MS + 2500)
# busy, busy (after the 2 s ringback pause), the adjacent line busy, liaison answers.
BUSY_BASELINE = Shape("busy_liaison_baseline", "1997", "none", liaison_only_uas, 3500)
BUSY_FULL = Shape("busy_liaison", "1999", "engine", liaison_only_uas, 3500)


def store_counts(db: Path) -> dict[str, Any]:
    """What the engine wrote in one step; best effort (the schema may move on)."""
    if not db.exists():
        return {}
    out: dict[str, Any] = {}
    # Writes the engine could not commit at once and kept in its spool (ivr/adapters/
    # durable.py); whatever is left there at the end never reached the database.
    spool = db.parent / "spool"
    out["spool_lines_left"] = sum(
        len(f.read_bytes().splitlines()) for f in spool.glob("*.jsonl") if f.is_file()
    )
    con = sqlite3.connect(db)
    try:
        queries = {
            "calls_by_outcome": "SELECT coalesce(outcome, '-'), count(*) FROM calls GROUP BY 1",
            "transfers_by_result": (
                "SELECT coalesce(result, '-'), count(*) FROM transfers GROUP BY 1"
            ),
            "tickets_by_reason": "SELECT reason, count(*) FROM tickets GROUP BY 1",
        }
        for key, sql in queries.items():
            try:
                out[key] = dict(con.execute(sql).fetchall())
            except sqlite3.Error:
                continue
        for key, table in (
            ("calls", "calls"),
            ("events", "call_events"),
            ("transfers", "transfers"),
            ("dial_attempts", "dial_attempts"),
            ("tickets", "tickets"),
        ):
            try:
                out[f"rows_{key}"] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            except sqlite3.Error:
                continue
    finally:
        con.close()
    return out


class Sampler:
    """While a step runs: peaks of the engine's and Asterisk's RSS (every 0.5 s), and
    the machine's busy share in each whole second.

    The step's average busy share includes the ramps at its start and end, so a
    saturated machine can average 65%; the busiest seconds say whether the cores ran
    out.
    """

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = pids
        self.peak: dict[str, int] = {}
        self.busy_per_s: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def busiest_seconds(self) -> dict[str, float | None]:
        """The busiest second, and the 90th percentile of seconds, in % of all CPUs."""
        return {
            "max": max(self.busy_per_s, default=None),
            "p90": nearest_rank(self.busy_per_s, 90),
        }

    def _run(self) -> None:
        cpus = os.cpu_count() or 1
        since, busy_since = time.monotonic(), machine_cpu_seconds()
        while not self._stop.wait(0.5):
            for name, pid in self.pids.items():
                rss = rss_kib(pid)
                if rss is not None:
                    self.peak[name] = max(self.peak.get(name, 0), rss)
            now = time.monotonic()
            if now - since >= 1.0:
                busy = machine_cpu_seconds()
                self.busy_per_s.append(round((busy - busy_since) / ((now - since) * cpus) * 100, 1))
                since, busy_since = now, busy


class ProcessAgiServer:
    """bench.process_agi as a child of the bench, on the stack's AGI port."""

    def __init__(self, port: int, state_dir: Path, log: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.process_agi",
                "serve",
                "--port",
                str(port),
                "--state-dir",
                str(state_dir),
            ],
            cwd=REPO,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )

        def listening() -> bool:
            # Not a probe connection: the server would start a child for it.
            return "listening" in log.read_text(encoding="utf-8", errors="replace")

        if not wait_for(listening, 15):
            self.stop()
            raise RuntimeError("process-per-call AGI server did not listen")

    def cpu_with_children(self) -> float | None:
        """utime+stime of the server and of every child it has reaped."""
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text(encoding="ascii")
        except OSError:
            return None
        f = stat.rsplit(")", 1)[1].split()
        return sum(int(v) for v in f[11:15]) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _agi_stats(st: Stack, timeout: float = 10.0) -> dict[str, Any] | None:
    """Ask the engine for its FastAGI round trips (SIGUSR1 → run/agi-stats.json)."""
    if st.engine is None or st.engine.proc is None:
        return None
    path = st.cfg.run_dir / "agi-stats.json"
    path.unlink(missing_ok=True)
    st.engine.proc.send_signal(signal.SIGUSR1)
    if not wait_for(path.exists, timeout):
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def measure_step(
    ws: Workspace,
    shape: Shape,
    rate: float,
    duration_s: float,
    *,
    tag: str = "",
    agi_stats: bool = False,
) -> dict[str, Any]:
    """One rate on a fresh stack; returns the step's figures and whether it held."""
    calls = max(round(rate * duration_s), 1)
    workdir = ws.step_dir(f"{shape.name}{tag}-{rate:g}cps")
    agi_port = free_port() if shape.engine == "process" else None
    planned_s = calls / rate + shape.call_s
    result: dict[str, Any] = {"shape": shape.name, "rate": rate, "calls": calls}
    result["background_busy_pct"] = QUIET.wait()
    with stack(ws, engine=shape.engine == "engine", agi_port=agi_port) as st:
        server = (
            ProcessAgiServer(st.cfg.ports.agi, st.cfg.state_dir, workdir / "process-agi.out")
            if shape.engine == "process"
            else None
        )
        uas = Uas(shape.uas(), port=st.trunk_port, workdir=workdir)
        try:
            time.sleep(0.3)
            scenario = caller_with_dtmf(
                UNIT_CODE,
                pre_ms=shape.pre_ms,
                gap_ms=GAP_MS,
                hold_ms=shape.hold_ms,
                workdir=workdir,
                caller=CALLER,
            )
            python_pid = st.engine_pid or (server.proc.pid if server else None)
            before = {
                "asterisk": cpu_seconds(st.asterisk_pid),
                "engine": server.cpu_with_children() if server else cpu_seconds(st.engine_pid),
                "sipp": children_cpu_seconds(),
                "machine": machine_cpu_seconds(),
            }
            with Sampler({"asterisk": st.asterisk_pid, "engine": python_pid}) as sampler:
                run = run_callers(
                    st.cfg.ports.sip,
                    shape.service,
                    scenario,
                    rate=rate,
                    calls=calls,
                    workdir=workdir,
                    timeout_s=planned_s + 60,
                    # Digits only, no audio: SIPp's echo would interleave a second SSRC
                    # with the DTMF capture's, and Asterisk then counts a digit twice.
                    rtp_echo=False,
                )
            uas_stats = uas.stop(settle_s=1.0)
            after = {
                "asterisk": cpu_seconds(st.asterisk_pid),
                "engine": server.cpu_with_children() if server else cpu_seconds(st.engine_pid),
                # The caller and UAS SIPps are this process's only children reaped
                # during the step (Asterisk and the engine are reaped after it).
                "sipp": children_cpu_seconds(),
                "machine": machine_cpu_seconds(),
            }
            if agi_stats:
                result["agi"] = _agi_stats(st)
        finally:
            uas.kill()
            if server is not None:
                server.stop()
    answered = len(read_rtt(workdir, "uas"))
    ok = min(run.stats.successful, answered)
    store = store_counts(st.cfg.sqlite_path) if shape.engine != "none" else {}
    if store and shape.engine == "engine":
        ok = min(ok, store.get("calls_by_outcome", {}).get("transferred", 0))
    failed = calls - ok
    rtt = run.rtt_ms
    p99 = nearest_rank(rtt, 99)
    reasons = []
    if failed / calls * 100 > MAX_FAIL_PCT:
        reasons.append(f"{failed} of {calls} calls failed")
    if run.timed_out or run.wall_s > planned_s + BACKLOG_MARGIN_S:
        reasons.append(f"backlog: SIPp took {run.wall_s:.1f} s for a planned {planned_s:.1f} s")
    if p99 is None or p99 > MAX_P99_MS:
        reasons.append(f"setup p99 {p99} ms")
    cpu = {k: _delta(before[k], after[k]) for k in before}
    result.update(
        held=not reasons,
        why_not=reasons,
        ok=ok,
        failed=failed,
        fail_pct=round(failed / calls * 100, 2),
        caller_successful=run.stats.successful,
        caller_failed=run.stats.failed,
        uas_answered=answered,
        uas_completed=uas_stats.successful,
        setup_ms={
            "p50": nearest_rank(rtt, 50),
            "p99": p99,
            "max": max(rtt) if rtt else None,
            "n": len(rtt),
        },
        delayed_calls=run.delayed,
        wall_s=round(run.wall_s, 2),
        planned_s=round(planned_s, 2),
        max_current_calls=run.stats.max_current,
        expected_concurrency=round(rate * shape.call_s),
        cpu_s={k: round(v, 2) if v is not None else None for k, v in cpu.items()},
        cpu_ms_per_call={
            k: round(v * 1000 / calls, 2) if v is not None else None
            for k, v in cpu.items()
            if k in ("asterisk", "engine")
        },
        machine_busy_pct=round(
            (cpu["machine"] or 0) / (run.wall_s * (os.cpu_count() or 1)) * 100, 1
        ),
        busiest_seconds_pct=sampler.busiest_seconds(),
        # What else ran meanwhile: the machine's busy time less Asterisk, the engine
        # and SIPp (other users, the kernel's share of networking, this script).
        others_busy_pct=round(
            max((cpu["machine"] or 0) - sum(cpu[k] or 0 for k in ("asterisk", "engine", "sipp")), 0)
            / (run.wall_s * (os.cpu_count() or 1))
            * 100,
            1,
        ),
        rss_peak_kib=sampler.peak,
        store=store,
        sipp_returncode=run.returncode,
        errors_tail=run.errors[-400:] if reasons else "",
    )
    return result


def _delta(a: float | None, b: float | None) -> float | None:
    return b - a if a is not None and b is not None else None


def summary_line(step: dict[str, Any]) -> str:
    s = step["setup_ms"]
    p99 = f"{s['p99']:.0f}" if s["p99"] is not None else "-"
    status = "held" if step["held"] else "NOT held: " + "; ".join(step["why_not"])
    cpu = step["cpu_ms_per_call"]
    busiest = _pct(step["busiest_seconds_pct"]["max"])
    return (
        f"  {step['shape']:<22} {step['rate']:>6g} cps  {step['calls']:>5} calls  "
        f"failed {step['failed']:>4}  p99 {p99:>5} ms  delayed {step['delayed_calls']:>4}  "
        f"ast {cpu.get('asterisk')} ms/call  py {cpu.get('engine')} ms/call  "
        f"busy {step['machine_busy_pct']}% (busiest second {busiest}, "
        f"others {step['others_busy_pct']}%)  → {status}"
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:g}%"


def _rate(r: float) -> float:
    """Whole calls per second from 10 up, tenths below (0.5 and 1.5 cps are rates too)."""
    return float(round(r)) if r >= 10 else round(r, 1)


def find_max(
    ws: Workspace,
    shape: Shape,
    *,
    start: float,
    factor: float,
    cap: float,
    floor: float,
    duration_s: float,
    refine: int,
    deadline: float,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Step the rate up by `factor` until a step fails, then bisect `refine` times.

    Bounded three ways: the rate cap, the floor (going down when even `start` fails),
    and a wall-clock deadline after which no new step starts.
    """
    steps: list[dict[str, Any]] = []
    best: float | None = None
    ceiling: float | None = None

    def step(rate: float) -> bool:
        r = measure_step(ws, shape, rate, duration_s)
        steps.append(r)
        log(summary_line(r))
        return bool(r["held"])

    rate = start
    while rate <= cap and time.monotonic() < deadline:
        if step(rate):
            best = rate
            rate = _rate(rate * factor)
        else:
            ceiling = rate
            break
    if best is None and ceiling is not None:
        rate = ceiling
        while rate / factor >= floor and time.monotonic() < deadline:
            rate = max(_rate(rate / factor), floor)
            if step(rate):
                best = rate
                break
            ceiling = rate
    for _ in range(refine):
        if best is None or ceiling is None or time.monotonic() >= deadline:
            break
        mid = _rate((best + ceiling) / 2)
        # Within 15% is as fine as steps this short can tell apart.
        if mid in (best, ceiling) or (ceiling - best) / best < 0.15:
            break
        if step(mid):
            best = mid
        else:
            ceiling = mid
    return {"max_cps": best, "first_failed_cps": ceiling, "steps": steps}
