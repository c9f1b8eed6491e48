"""`ivr supervise` (and `ivr run`): keep the engine, and Asterisk, answering.

- The engine runs as a child process (`ivr serve`). When it exits, or fails to start
  (a database down, a bad table on disk), it is started again with backoff; Asterisk
  keeps answering meanwhile, and its dialplan fallback queues every caller.
- A watchdog probes the engine over FastAGI every second. Two probes in a row without
  an answer mean a hung engine: it is killed, and callers still stuck in its AGI are
  sent to the fallback (ivr/watchdog.py).
- Asterisk, unless systemd looks after it, is started again when it dies.

Each restart is logged, and the state is kept in run/supervisor.json for `ivr status`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from ivr import watchdog
from ivr.adapters import collector
from ivr.asterisk import process
from ivr.asterisk.install import AsteriskRuntime
from ivr.config import StackConfig
from ivr.engine_file import ENGINE_FILE

log = structlog.get_logger()

SUPERVISOR_FILE = "supervisor.json"
PROBE_INTERVAL_S = 1.0
PROBE_TIMEOUT_S = 1.5
# Two misses in a row: a hung engine is killed within 1 + 2 x 1.5 = 4 s.
PROBE_MISSES = 2
ENGINE_READY_TIMEOUT_S = 60.0
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 30.0
# An engine that ran this long without a fault starts the backoff over.
HEALTHY_RESET_S = 60.0
# After killing a hung engine, how long Asterisk gets to notice the reset sockets
# before the stuck channels are moved by AMI.
RESCUE_GRACE_S = 1.0
ASTERISK_CHECK_S = 1.0


@dataclass
class Restart:
    at: str
    reason: str


@dataclass
class State:
    """What `ivr status` shows of the supervisor."""

    pid: int
    started_at: str
    engine_pid: int | None = None
    engine_state: str = "starting"
    engine_restarts: int = 0
    last_engine_restart: Restart | None = None
    hung_kills: int = 0
    redirected: int = 0
    asterisk_restarts: int = 0
    last_asterisk_restart: Restart | None = None
    supervise_asterisk: bool = True
    history: list[dict[str, Any]] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Supervisor:
    def __init__(
        self,
        cfg: StackConfig,
        runtime: AsteriskRuntime | None,
        *,
        log_level: str = "INFO",
        console: bool = True,
    ) -> None:
        self.cfg = cfg
        # None: Asterisk is someone else's (systemd's) to restart.
        self.runtime = runtime
        self.log_level = log_level
        self.console = console
        self.state = State(os.getpid(), _now(), supervise_asterisk=runtime is not None)
        self._engine: asyncio.subprocess.Process | None = None
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    # -- state file ------------------------------------------------------------------

    def _write(self) -> None:
        path = self.cfg.run_dir / SUPERVISOR_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(self.state)), encoding="utf-8")
        tmp.replace(path)

    def _note(self, kind: str, reason: str) -> Restart:
        restart = Restart(_now(), reason)
        self.state.history = [*self.state.history[-19:], {"kind": kind, **asdict(restart)}]
        return restart

    # -- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        self._write()
        tasks = [asyncio.create_task(self._engine_loop(), name="engine-supervisor")]
        if self.runtime is not None:
            tasks.append(asyncio.create_task(self._asterisk_loop(), name="asterisk-supervisor"))
        try:
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._stop_engine()
            (self.cfg.run_dir / SUPERVISOR_FILE).unlink(missing_ok=True)

    async def _engine_loop(self) -> None:
        delay = BACKOFF_START_S
        while True:
            started = time.monotonic()
            reason = await self._run_engine_once()
            self.state.engine_restarts += 1
            self.state.last_engine_restart = self._note("engine", reason)
            self.state.engine_pid = None
            self.state.engine_state = "backoff"
            if time.monotonic() - started >= HEALTHY_RESET_S:
                delay = BACKOFF_START_S
            log.warning(
                "engine_restarting",
                reason=reason,
                restarts=self.state.engine_restarts,
                in_s=delay,
            )
            self._write()
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)

    def engine_command(self) -> list[str]:
        """The engine's command line: this stack, this log level, the console or not."""
        command = [sys.executable, "-m", "ivr", "--state-dir", str(self.cfg.state_dir)]
        command += ["--log-level", self.log_level, "serve"]
        return command if self.console else [*command, "--no-console"]

    async def _run_engine_once(self) -> str:
        """Start the engine, watch it until it ends; returns why it ended."""
        engine_file = self.cfg.run_dir / ENGINE_FILE
        engine_file.unlink(missing_ok=True)
        self.state.engine_state = "starting"
        self._write()
        proc = await asyncio.create_subprocess_exec(
            *self.engine_command(), stdin=asyncio.subprocess.DEVNULL
        )
        self._engine = proc
        self.state.engine_pid = proc.pid
        log.info("engine_spawned", pid=proc.pid)
        if not await self._wait_ready(proc):
            if proc.returncode is None:
                await self._kill(proc)
                return f"not ready within {ENGINE_READY_TIMEOUT_S:.0f} s"
            return f"exited with {proc.returncode} at start"
        self.state.engine_state = "up"
        self._write()
        return await self._watch(proc)

    async def _wait_ready(self, proc: asyncio.subprocess.Process) -> bool:
        deadline = time.monotonic() + ENGINE_READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                return False
            if _engine_pid(self.cfg) == proc.pid:
                return True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    await proc.wait()
        return False

    async def _watch(self, proc: asyncio.subprocess.Process) -> str:
        misses = 0
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PROBE_INTERVAL_S):
                    await proc.wait()
            if proc.returncode is not None:
                return f"exited with {proc.returncode}"
            if await watchdog.probe(self.cfg, PROBE_TIMEOUT_S):
                misses = 0
                continue
            misses += 1
            log.warning("engine_probe_missed", pid=proc.pid, misses=misses)
            if misses >= PROBE_MISSES and proc.returncode is None:
                await self._hung(proc)
                return "hung: no FastAGI answer, killed"

    async def _hung(self, proc: asyncio.subprocess.Process) -> None:
        self.state.engine_state = "hung"
        self._write()
        stuck = await watchdog.agi_channels(self.cfg)
        log.error("engine_hung", pid=proc.pid, channels_in_agi=len(stuck))
        await self._kill(proc)
        self.state.hung_kills += 1
        if not stuck:
            return
        # Killing resets the engine's sockets, and Asterisk moves those callers on by
        # itself; any channel of the snapshot still in AGI after this gets moved.
        await asyncio.sleep(RESCUE_GRACE_S)
        now = {c.uniqueid for c in await watchdog.agi_channels(self.cfg)}
        still = [c for c in stuck if c.uniqueid in now]
        moved = await watchdog.rescue(self.cfg, still)
        self.state.redirected += len(moved)

    async def _kill(self, proc: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()

    async def _stop_engine(self) -> None:
        proc = self._engine
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(15):
                await proc.wait()
        except TimeoutError:
            await self._kill(proc)

    async def _asterisk_loop(self) -> None:
        assert self.runtime is not None
        while True:
            await asyncio.sleep(ASTERISK_CHECK_S)
            if await asyncio.to_thread(process.read_pid, self.cfg) is not None:
                continue
            log.error("asterisk_down", action="restarting")
            try:
                pid = await asyncio.to_thread(process.start, self.cfg, self.runtime)
            except process.AsteriskError as exc:
                log.error("asterisk_restart_failed", error=str(exc))  # noqa: TRY400
                continue
            self.state.asterisk_restarts += 1
            self.state.last_asterisk_restart = self._note("asterisk", f"restarted as pid {pid}")
            log.warning("asterisk_restarted", pid=pid, restarts=self.state.asterisk_restarts)
            self._write()


def _engine_pid(cfg: StackConfig) -> int | None:
    try:
        info = json.loads((cfg.run_dir / ENGINE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    pid = info.get("pid") if isinstance(info, dict) else None
    return pid if isinstance(pid, int) else None


def read_state(cfg: StackConfig) -> dict[str, Any] | None:
    """The supervisor's state file, or None when no supervisor wrote one."""
    try:
        data = json.loads((cfg.run_dir / SUPERVISOR_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


async def supervise(
    cfg: StackConfig, runtime: AsteriskRuntime | None, log_level: str, *, console: bool = True
) -> None:
    """Run until SIGINT or SIGTERM; then stop the engine (Asterisk is the caller's)."""
    sup = Supervisor(cfg, runtime, log_level=log_level, console=console)
    collector.started()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, sup.stop)
    await sup.run()
