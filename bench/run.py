"""`make bench`: the hotline against pure dialplan, side by side, on this machine.

    python -m bench.run [--quick] [--name NAME] [--keep] [--only SCENARIO,...]

Prints figures and ratios against a baseline measured in the same run, with the
targets met or missed by their margins, and writes bench/results/<date>-<name>.json.
Benchmarks never assert: a missed target is a finding, not a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.scenarios import media, throughput
from bench.scenarios.store import store_throughput
from bench.stack import QUIET, REPO, Workspace
from ivr.stats import nearest_rank

RESULTS = Path(__file__).resolve().parent / "results"
TRANSFER_ENGINE = REPO / "ivr" / "domain" / "transfer.py"
# Quick commands are GET/SET VARIABLE and the like; media commands (STREAM FILE of a
# 0.3 s prompt, GET DATA, EXEC Dial) last at least 300 ms. Nothing lasts in between.
QUICK_COMMAND_MS = 250.0

# Targets: printed as met or missed with their margin; never lowered.
TARGET_RATIO = 0.8
TARGET_AGI_P99_MS = 2.0
TARGET_MEDIA_RATIO = 0.9
TARGET_PROCESS_FACTOR = 20.0

SCENARIOS = ("baseline", "full_path", "agi", "busy", "media", "process_agi", "store")


@dataclass(frozen=True)
class Mode:
    name: str
    budget_s: float
    step_s: float
    factor: float
    refine: int
    baseline_start: float
    full_start: float
    cap: float
    busy_steps: bool  # step the busy scenario to its max (else one step at half rate)
    agi_step_s: float
    media_levels: tuple[int, ...]
    media_ramp_max: float
    quiet_per_wait_s: float
    quiet_total_s: float
    media_settle_s: float
    media_window_s: float
    process_start: float
    process_cap: float
    store_calls: int
    store_limit_s: float


QUICK = Mode(
    name="quick",
    budget_s=4 * 60,
    # At least one call long (about 5.7 s), or concurrency never reaches steady state.
    step_s=6.0,
    factor=2.0,
    refine=0,
    baseline_start=40,
    full_start=8,
    cap=400,
    busy_steps=False,
    agi_step_s=6.0,
    media_levels=(100, 200),
    media_ramp_max=20,
    quiet_per_wait_s=8,
    quiet_total_s=30,
    media_settle_s=2.0,
    media_window_s=3.0,
    process_start=1,
    process_cap=1,
    store_calls=100,
    store_limit_s=5,
)
FULL = Mode(
    name="full",
    budget_s=15 * 60,
    step_s=8.0,
    factor=1.5,
    refine=2,
    baseline_start=20,
    full_start=10,
    cap=500,
    busy_steps=True,
    agi_step_s=15.0,
    media_levels=(100, 200, 300, 400, 500, 600),
    media_ramp_max=20,
    quiet_per_wait_s=20,
    quiet_total_s=150,
    media_settle_s=3.0,
    media_window_s=5.0,
    process_start=1,
    process_cap=32,
    store_calls=400,
    store_limit_s=30,
)


class Log:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.0f}s] {text}", flush=True)


def _cmd(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable: {exc}"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0] if done.stdout or done.stderr else ""
    )


def machine_and_versions(ws: Workspace) -> dict[str, Any]:
    cpu_model = ""
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    pg = shutil.which("postgres") or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))), ""
    )
    import sqlalchemy

    dirty = _cmd(["git", "-C", str(REPO), "status", "--porcelain"])
    return {
        "machine": {
            "nproc": os.cpu_count(),
            "cpu_model": cpu_model,
            "memory_mib": mem_kib // 1024,
            "kernel": platform.release(),
            "loadavg_at_start": Path("/proc/loadavg").read_text(encoding="ascii").split()[:3],
        },
        "versions": {
            "python": platform.python_version(),
            "asterisk": ws.asterisk_version(),
            "sipp": _cmd(["sipp", "-v"]),
            "sqlite": sqlite3.sqlite_version,
            "postgresql": _cmd([pg, "--version"]) if pg else "not installed",
            "sqlalchemy": sqlalchemy.__version__,
            "git_commit": _cmd(["git", "-C", str(REPO), "rev-parse", "HEAD"]),
            "git_dirty": bool(dirty and not dirty.startswith("unavailable")),
        },
    }


def agi_summary(agi: dict[str, Any] | None, calls: int) -> dict[str, Any]:
    if not agi:
        return {"error": "the engine did not write run/agi-stats.json"}
    samples: list[float] = agi.get("samples_ms", [])
    quick = [s for s in samples if s < QUICK_COMMAND_MS]
    return {
        "all_commands": {
            "count": agi.get("count"),
            "p50_ms": agi.get("p50_ms"),
            "p99_ms": agi.get("p99_ms"),
        },
        "quick_commands": {
            "count": len(quick),
            "per_call": round(len(quick) / calls, 1) if calls else None,
            "p50_ms": nearest_rank(quick, 50),
            "p99_ms": nearest_rank(quick, 99),
            "max_ms": max(quick) if quick else None,
            "slowest_ms": sorted(quick)[-10:],
            "over_2ms": sum(1 for q in quick if q >= 2.0),
            "threshold_ms": QUICK_COMMAND_MS,
        },
        "media_commands": len(samples) - len(quick),
        # How the case store grouped the engine's writes over the same step.
        "store_commits": agi.get("store_commits"),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


class Bench:
    def __init__(
        self, mode: Mode, ws: Workspace, only: set[str], log: Log, media_ramp: float | None
    ) -> None:
        self.mode = mode
        self.media_ramp = media_ramp
        self.ws = ws
        self.only = only
        self.log = log
        # A safety net only: every scenario is bounded by its own steps and levels.
        self.deadline = time.monotonic() + mode.budget_s * 1.3
        self.out: dict[str, Any] = {"mode": mode.name, "scenarios": {}}

    def wanted(self, name: str) -> bool:
        return not self.only or name in self.only

    def scenario(self, name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
        if not self.wanted(name):
            return None
        if time.monotonic() > self.deadline:
            self.out["scenarios"][name] = {"error": "not measured: time budget used up"}
            self.log(f"{name}: skipped, time budget used up")
            return None
        self.log(f"{name}: starting")
        started = time.monotonic()
        try:
            result = fn()
        except Exception as exc:  # one broken scenario must not lose the rest
            self.log(f"{name}: FAILED: {exc!r}")
            result = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        result["duration_s"] = round(time.monotonic() - started, 1)
        self.out["scenarios"][name] = result
        return result

    def max_cps(self, name: str) -> float | None:
        s = self.out["scenarios"].get(name) or {}
        value: float | None = s.get("max_cps")
        return value

    def run(self) -> dict[str, Any]:
        m = self.mode
        self.scenario(
            "baseline",
            lambda: throughput.find_max(
                self.ws,
                throughput.BASELINE,
                start=m.baseline_start,
                factor=m.factor,
                cap=m.cap,
                floor=1,
                duration_s=m.step_s,
                refine=m.refine,
                deadline=self.deadline,
                log=self.log,
            ),
        )
        self.scenario(
            "full_path",
            lambda: throughput.find_max(
                self.ws,
                throughput.FULL_PATH,
                start=m.full_start,
                factor=m.factor,
                cap=m.cap,
                floor=1,
                duration_s=m.step_s,
                refine=m.refine,
                deadline=self.deadline,
                log=self.log,
            ),
        )
        full = self.max_cps("full_path")
        half = max(round((full or 2) / 2, 1), 1)
        self.scenario("agi", lambda: self._agi(half))
        self.scenario(
            "process_agi",
            lambda: throughput.find_max(
                self.ws,
                throughput.PROCESS_AGI,
                start=m.process_start,
                factor=2.0,
                cap=m.process_cap,
                floor=0.25,
                duration_s=max(m.step_s, 6.0),
                refine=min(m.refine, 1),
                deadline=self.deadline,
                log=self.log,
            ),
        )
        self.scenario(
            "store",
            lambda: store_throughput(
                self.ws.step_dir("store"), calls=m.store_calls, time_limit_s=m.store_limit_s
            ),
        )
        if TRANSFER_ENGINE.exists():
            self.scenario("busy", self._busy)
        elif self.wanted("busy"):
            self.out["scenarios"]["busy"] = {"error": "not measured: transfer engine not built yet"}
        # Media calls cost the engine about a third of a transfer call (no dialling,
        # fewer writes): ramp at twice the transfer rate held, within bounds.
        ramp = self.media_ramp or min(max(2 * (full or 2.5), 5), m.media_ramp_max)
        self.scenario("media", lambda: self._media(ramp))
        return self.out

    def _agi(self, rate: float) -> dict[str, Any]:
        step = throughput.measure_step(
            self.ws, throughput.FULL_PATH, rate, self.mode.agi_step_s, tag="-agi", agi_stats=True
        )
        agi = step.pop("agi", None)
        self.log(throughput.summary_line(step))
        summary = agi_summary(agi, step["ok"])
        q = summary.get("quick_commands", {})
        self.log(
            f"  FastAGI at {rate:g} cps: quick commands p50 {q.get('p50_ms')} ms, "
            f"p99 {q.get('p99_ms')} ms ({q.get('count')} commands)"
        )
        return {"rate": rate, "step": step, **summary}

    def _busy(self) -> dict[str, Any]:
        m = self.mode
        full = self.max_cps("full_path") or 2
        out: dict[str, Any] = {
            "shape": "busy, busy after a 2 s ringback pause, adjacent line busy, "
            "liaison window answers (engine: liaison_registered ticket)"
        }
        for key, shape, start in (
            ("full_path", throughput.BUSY_FULL, max(round(full / 2), 1)),
            ("baseline", throughput.BUSY_BASELINE, max(self.max_cps("baseline") or 10, 5) / 2),
        ):
            if m.busy_steps:
                out[key] = throughput.find_max(
                    self.ws,
                    shape,
                    start=start,
                    factor=m.factor,
                    cap=m.cap,
                    floor=1,
                    duration_s=m.step_s,
                    refine=1,
                    deadline=self.deadline,
                    log=self.log,
                )
            elif key == "full_path":
                step = throughput.measure_step(self.ws, shape, start, m.step_s)
                self.log(throughput.summary_line(step))
                out[key] = {"max_cps": start if step["held"] else None, "steps": [step]}
        out["ratio"] = _ratio(
            (out.get("full_path") or {}).get("max_cps"), (out.get("baseline") or {}).get("max_cps")
        )
        return out

    def _media(self, ramp: float) -> dict[str, Any]:
        m = self.mode
        out: dict[str, Any] = {}
        for path in ("baseline", "full_path"):
            out[path] = media.staircase(
                self.ws,
                path=path,
                levels=list(m.media_levels),
                ramp_cps=ramp,
                settle_s=m.media_settle_s,
                window_s=m.media_window_s,
                log=self.log,
            )
        out["ratio"] = _ratio(
            out["full_path"]["max_clean_calls"], out["baseline"]["max_clean_calls"]
        )
        return out


# ---------------------------------------------------------------------- summary


def _walk(node: Any, key: str) -> list[Any]:
    if isinstance(node, dict):
        found = [node[key]] if key in node else []
        return found + [v for child in node.values() for v in _walk(child, key)]
    if isinstance(node, list):
        return [v for child in node for v in _walk(child, key)]
    return []


def headline(out: dict[str, Any]) -> dict[str, Any]:
    sc = out["scenarios"]
    background = [v for v in _walk(sc, "background_busy_pct") if isinstance(v, int | float)]

    def get(*keys: str) -> Any:
        node: Any = sc
        for k in keys:
            if not isinstance(node, dict):
                return None
            node = node.get(k)
        return node

    baseline = get("baseline", "max_cps")
    full = get("full_path", "max_cps")
    process_cps = get("process_agi", "max_cps")
    full_steps = get("full_path", "steps") or []
    at_max = next((s for s in full_steps if s["rate"] == full), None)
    return {
        "baseline_cps": baseline,
        "full_path_cps": full,
        "ratio": _ratio(full, baseline),
        "agi_rate_cps": get("agi", "rate"),
        "agi_p50_ms": get("agi", "quick_commands", "p50_ms"),
        "agi_p99_ms": get("agi", "quick_commands", "p99_ms"),
        "agi_all_commands_p50_ms": get("agi", "all_commands", "p50_ms"),
        "agi_all_commands_p99_ms": get("agi", "all_commands", "p99_ms"),
        "busy_liaison_cps": get("busy", "full_path", "max_cps"),
        "busy_liaison_baseline_cps": get("busy", "baseline", "max_cps"),
        "busy_liaison_error": get("busy", "error"),
        "max_concurrent_media": get("media", "full_path", "max_clean_calls"),
        "max_concurrent_media_baseline": get("media", "baseline", "max_clean_calls"),
        "media_ratio": get("media", "ratio"),
        "process_agi_cps": process_cps,
        "full_over_process": _ratio(full, process_cps),
        "store_writes_per_s": {
            "sqlite": get("store", "sqlite", "writes_per_s"),
            "postgresql": get("store", "postgresql", "writes_per_s"),
        },
        "engine_cpu_ms_per_call": (at_max or {}).get("cpu_ms_per_call", {}).get("engine"),
        "asterisk_cpu_ms_per_call": (at_max or {}).get("cpu_ms_per_call", {}).get("asterisk"),
        "background_busy_pct_max": max(background, default=None),
        "engine_rss_kib_per_concurrent_call": get("media", "full_path", "engine_rss_kib_per_call"),
    }


def _target(value: float | None, target: float, *, below: bool = False) -> str:
    """Met or missed, with the margin (positive: better than the target by that much)."""
    if value is None:
        return "not measured"
    met = value < target if below else value >= target
    margin = target - value if below else value - target
    return f"{'met' if met else 'MISSED'} (margin {margin:+.3g})"


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        v = f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return f"{v}{unit}"


def summary_table(h: dict[str, Any]) -> str:
    rows = [
        ("baseline (pure dialplan) cps", _fmt(h["baseline_cps"]), "", ""),
        ("full path (engine) cps", _fmt(h["full_path_cps"]), "", ""),
        (
            "ratio full/baseline",
            _fmt(h["ratio"]),
            f">= {TARGET_RATIO}",
            _target(h["ratio"], TARGET_RATIO),
        ),
        (
            f"FastAGI quick cmd p50/p99 @ {_fmt(h['agi_rate_cps'])} cps",
            f"{_fmt(h['agi_p50_ms'])} / {_fmt(h['agi_p99_ms'])} ms",
            f"p99 < {TARGET_AGI_P99_MS} ms",
            _target(h["agi_p99_ms"], TARGET_AGI_P99_MS, below=True),
        ),
        (
            "FastAGI all cmds p50/p99 (incl. media)",
            f"{_fmt(h['agi_all_commands_p50_ms'])} / {_fmt(h['agi_all_commands_p99_ms'])} ms",
            "",
            "",
        ),
        (
            "busy→busy→adjacent→liaison cps (engine/dialplan)",
            h["busy_liaison_error"]
            or f"{_fmt(h['busy_liaison_cps'])} / {_fmt(h['busy_liaison_baseline_cps'])}",
            "",
            "",
        ),
        (
            "media calls held (engine/dialplan)",
            f"{_fmt(h['max_concurrent_media'])} / {_fmt(h['max_concurrent_media_baseline'])}",
            f">= {TARGET_MEDIA_RATIO}x",
            _target(h["media_ratio"], TARGET_MEDIA_RATIO),
        ),
        ("process-per-call AGI cps", _fmt(h["process_agi_cps"]), "", ""),
        (
            "full path / process-per-call",
            _fmt(h["full_over_process"], "x"),
            f">= {TARGET_PROCESS_FACTOR:g}x",
            _target(h["full_over_process"], TARGET_PROCESS_FACTOR),
        ),
        (
            "store writes/s sqlite / postgresql",
            f"{_fmt(h['store_writes_per_s']['sqlite'])} / "
            f"{_fmt(h['store_writes_per_s']['postgresql'])}",
            "",
            "",
        ),
        (
            "CPU ms/call at max: engine / asterisk",
            f"{_fmt(h['engine_cpu_ms_per_call'])} / {_fmt(h['asterisk_cpu_ms_per_call'])}",
            "",
            "",
        ),
        (
            "engine RSS per concurrent call",
            _fmt(h["engine_rss_kib_per_concurrent_call"], " KiB"),
            "",
            "",
        ),
    ]
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        f"{'measure':<{w[0]}}  {'value':<{w[1]}}  {'target':<{w[2]}}  result",
        "-" * (sum(w) + 12),
    ]
    lines += [f"{a:<{w[0]}}  {b:<{w[1]}}  {c:<{w[2]}}  {d}" for a, b, c, d in rows]
    return "\n".join(lines)


def result_path(name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    day = datetime.now(UTC).astimezone().strftime("%Y-%m-%d")
    path = RESULTS / f"{day}-{name}.json"
    if path.exists():
        path = RESULTS / f"{day}-{name}-{datetime.now(UTC).astimezone():%H%M%S}.json"
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer, shorter steps (~4 min)")
    p.add_argument("--name", help="result file suffix (default: quick or full)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs, SIPp)")
    p.add_argument("--only", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    p.add_argument("--workdir", type=Path, help="work directory (default under /var/tmp)")
    p.add_argument(
        "--media-ramp",
        type=float,
        help="calls/s while filling a media level (default: twice the full path's rate)",
    )
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("bench: needs root (Asterisk's chroot, SIPp's DTMF captures)", file=sys.stderr)
        return 1
    mode = QUICK if args.quick else FULL
    QUIET.per_wait_s = mode.quiet_per_wait_s
    QUIET.total_s = mode.quiet_total_s
    only = set(args.only.split(",")) if args.only else set()
    if only - set(SCENARIOS):
        p.error(f"unknown scenario(s): {', '.join(sorted(only - set(SCENARIOS)))}")
    stamp = datetime.now(UTC).astimezone().strftime("%Y%m%d-%H%M%S")
    workdir = args.workdir or Path("/var/tmp/hotline1999-bench") / stamp
    log = Log()
    log(f"bench {mode.name}: work directory {workdir}")
    ws = Workspace.create(workdir)
    started = datetime.now(UTC).astimezone()
    out: dict[str, Any] = {
        "name": args.name or mode.name,
        "started_at": started.isoformat(timespec="seconds"),
        **machine_and_versions(ws),
    }
    try:
        out.update(Bench(mode, ws, only, log, args.media_ramp).run())
    finally:
        out["duration_s"] = round(time.monotonic() - log.started, 1)
        out["waited_for_quiet_s"] = round(QUIET.waited_s, 1)
        out.update(headline(out) if "scenarios" in out else {})
        path = result_path(out["name"])
        path.write_text(json.dumps(out, indent=1, default=str) + "\n", encoding="utf-8")
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(summary_table(out))
    print(
        f"\nother users' load before a step: up to {out.get('background_busy_pct_max')}% of "
        f"all CPUs (waited {out.get('waited_for_quiet_s')} s for quiet)"
    )
    print(f"\nresults: {path.relative_to(REPO)}  ({out['duration_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
