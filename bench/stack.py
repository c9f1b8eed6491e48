"""A private stack per benchmark step: fresh ports, the bench dialplan, short prompts.

Every step starts its own Asterisk (and engine) on fresh ports and stops them after:
Asterisk's memory grows after bursts, and PJSIP keeps retransmitting unanswered
INVITEs for 32 s, so nothing one step left behind can reach the next.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

from ivr import config as stack_config
from ivr import prompts
from ivr.asterisk import generate, install, process, render
from ivr.asterisk.install import AsteriskRuntime
from ivr.config import Ports, StackConfig
from ivr.store_cli import upgrade
from tests.harness import EngineProcess, free_port

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
BASELINE_CONF = BENCH_DIR / "baseline.conf"
# Rendered next to the project's dialplan files and #included after them.
BENCH_DIALPLAN = "dialplan-zz-bench.conf"
PROFILE = "taipei"
TRUNK = "agency-pbx"
# Asterisk's RTP ports: above Linux's ephemeral range (32768-60999), so no socket the
# bench or SIPp opens can take one, and clear of the test stacks' 30000-59199 blocks.
# 4,000 ports are 2,000 RTP sessions; the fd limit (20000) caps Asterisk near that.
RTP_START = 61000
RTP_END = 64999
# Short prompts both paths play (written after the prompt build); seconds.
SHORT_PROMPT_S = 0.3
SHORT_PROMPTS = ("greeting", "taipei-language-menu", "connecting")
LANGUAGE = "zh-TW"


def bench_ports() -> Ports:
    return Ports(
        sip=free_port(socket.SOCK_DGRAM),
        ami=free_port(),
        http=free_port(),
        agi=free_port(),
        rtp_start=RTP_START,
        rtp_end=RTP_END,
    )


def copy_profile(target: Path, trunk_port: int) -> Path:
    """The Taipei profile with its agency trunk pointed at the bench's UAS."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(REPO / "routing" / PROFILE, target)
    directory = target / "directory.yaml"
    text = directory.read_text(encoding="utf-8")
    text, n = re.subn(
        rf"\{{id: {TRUNK}, host: 127\.0\.0\.1, port: \d+",
        f"{{id: {TRUNK}, host: 127.0.0.1, port: {trunk_port}",
        text,
    )
    if n != 1:
        raise RuntimeError(f"{directory}: trunk {TRUNK} not found")
    directory.write_text(text, encoding="utf-8")
    return target


def tone(path: Path, seconds: float) -> None:
    """A quiet 8 kHz tone: a prompt of an exact length, the same for both paths."""
    tmp = path.with_name(f".{path.name}.tmp.wav")
    subprocess.run(
        [
            "sox",
            "-n",
            *prompts.SOX_FORMAT,
            str(tmp),
            "synth",
            f"{seconds:g}",
            "sine",
            "440",
            "gain",
            "-n",
            "-20",
        ],
        check=True,
        capture_output=True,
    )
    tmp.replace(path)


def prompt_file(cfg: StackConfig, name: str) -> Path:
    return prompts.prompt_path(cfg.sounds_dir, LANGUAGE, name).with_suffix(".wav")


@dataclass
class Workspace:
    """One directory for the whole run: the prompts (built once), then one state
    directory per step, and the steps' SIPp files."""

    root: Path
    runtime: AsteriskRuntime
    stacks: int = 0

    @classmethod
    def create(cls, root: Path) -> Workspace:
        root.mkdir(parents=True, exist_ok=True)
        runtime = install.ensure()
        ws = cls(root, runtime)
        copy_profile(ws.profile_dir, free_port(socket.SOCK_DGRAM))
        cfg = stack_config.init(ws.state_dir, bench_ports(), None, str(ws.profile_dir))
        prompts.build(cfg.recordings_dir, cfg.sounds_dir)
        ws.set_prompts(long_menu_s=None)
        return ws

    @property
    def state_dir(self) -> Path:
        """The template stack: its prompts are hard-linked into every step's stack."""
        return self.root / "template"

    def new_state_dir(self) -> Path:
        """An empty state directory with the template's prompts.

        Nothing the engine keeps on disk (database, spool, CDR offsets) may reach
        the next step: its engine would replay or reconcile the last step's calls.
        """
        self.stacks += 1
        state = self.root / "stacks" / f"{self.stacks:03d}"
        shutil.copytree(
            self.state_dir / "sounds", state / "sounds", copy_function=os.link, dirs_exist_ok=True
        )
        return state

    @property
    def profile_dir(self) -> Path:
        return self.root / "profile"

    def step_dir(self, name: str) -> Path:
        d = self.root / "steps" / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def set_prompts(self, long_menu_s: float | None) -> None:
        """Short greeting, menu and connecting prompts; or a long menu (media test)."""
        cfg = stack_config.load(self.state_dir)
        for name in SHORT_PROMPTS:
            tone(prompt_file(cfg, name), SHORT_PROMPT_S)
        if long_menu_s is not None:
            tone(prompt_file(cfg, "taipei-language-menu"), long_menu_s)

    def asterisk_version(self) -> str:
        done = subprocess.run(
            self.runtime.command(["-V"]), capture_output=True, text=True, check=False
        )
        return done.stdout.strip()


@dataclass
class Stack:
    cfg: StackConfig
    trunk_port: int
    asterisk_pid: int
    engine: EngineProcess | None

    @property
    def engine_pid(self) -> int | None:
        return self.engine.pid if self.engine else None


def render_with_bench_dialplan(cfg: StackConfig) -> None:
    """The stack's config plus bench/baseline.conf, #included after the project's files."""
    # The same generated files as `ivr asterisk config`: pjsip.conf #includes the TLS
    # file, and agents' and trunks' secrets live outside the tables.
    files = generate.stack_files(cfg)
    names = [f"dialplan-{p.name}" for p in sorted((cfg.repo_dir / "dialplans").glob("*.conf"))]
    values = render.template_values(cfg, [*names, BENCH_DIALPLAN])
    src = cfg.repo_dir / "asterisk-conf" / "extensions.conf"
    files["extensions.conf"] = render.fill(src.read_text(encoding="utf-8"), values, src)
    files[BENCH_DIALPLAN] = render.fill(
        BASELINE_CONF.read_text(encoding="utf-8"), values, BASELINE_CONF
    )
    render.render(cfg, extra=files)


@contextmanager
def stack(ws: Workspace, *, engine: bool, agi_port: int | None = None) -> Iterator[Stack]:
    """Asterisk (and the engine, as a real process) on fresh ports and a fresh state
    directory (empty case store); stopped on exit."""
    trunk_port = free_port(socket.SOCK_DGRAM)
    copy_profile(ws.profile_dir, trunk_port)
    ports = bench_ports()
    if agi_port is not None:
        ports = replace(ports, agi=agi_port)
    cfg = stack_config.init(ws.new_state_dir(), ports, None, str(ws.profile_dir))
    asyncio.run(upgrade(cfg))
    render_with_bench_dialplan(cfg)
    pid = process.start(cfg, ws.runtime)
    proc: EngineProcess | None = None
    try:
        if engine:
            proc = EngineProcess(cfg)
            proc.start(timeout=60)
        yield Stack(cfg, trunk_port, pid, proc)
    finally:
        if proc is not None:
            proc.stop()
        process.stop(cfg, ws.runtime)


# ------------------------------------------------------------------ /proc readings

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None) -> float | None:
    """utime + stime of a process (not its children), in seconds."""
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def children_cpu_seconds() -> float:
    """utime + stime of this process's reaped children (SIPp runs, mostly)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_kib(pid: int | None) -> int | None:
    if pid is None:
        return None
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def machine_cpu_seconds() -> float:
    """All CPUs' busy time (user+nice+system+irq+softirq+steal) since boot."""
    first = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / _CLK_TCK


@dataclass
class Quiet:
    """Waits, bounded, for other users' load to drop before a step starts.

    The machine may be shared: a step that starts while something else holds a core
    measures that too. Each wait lasts at most `per_wait_s`; all waits of a run
    together at most `total_s`. What was measured last is returned and recorded.
    """

    threshold_pct: float = 25.0
    per_wait_s: float = 20.0
    total_s: float = 120.0
    waited_s: float = 0.0

    def wait(self) -> float:
        started = time.monotonic()
        while True:
            a = machine_cpu_seconds()
            time.sleep(0.5)
            busy = (machine_cpu_seconds() - a) / (0.5 * (os.cpu_count() or 1)) * 100
            spent = time.monotonic() - started
            if (
                busy < self.threshold_pct
                or spent >= self.per_wait_s
                or self.waited_s + spent >= self.total_s
            ):
                self.waited_s += spent
                return round(busy, 1)


QUIET = Quiet()


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll until `predicate` is true or the time is up; bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
