"""Start, stop and inspect the stack's Asterisk process (on PATH or in the sid root)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from ivr.asterisk import install, user
from ivr.asterisk.install import AsteriskRuntime
from ivr.config import StackConfig
from ivr.errors import HotlineError

log = structlog.get_logger()

PID_FILE = "asterisk.pid"
BOOT_TIMEOUT_S = 60.0


class AsteriskError(HotlineError):
    """Asterisk failed to start, stop or answer; the message says where to look."""

    code = "asterisk.failed"


@dataclass(frozen=True)
class AsteriskStatus:
    running: bool
    pid: int | None
    detail: str


def _pid_path(cfg: StackConfig) -> Path:
    return cfg.run_dir / PID_FILE


def read_pid(cfg: StackConfig) -> int | None:
    """The pid of this stack's live Asterisk, or None.

    A pid file outlives a killed Asterisk: its pid may be a zombie or, later, another
    program's. Only a live (not zombie) process running asterisk with this stack's
    asterisk.conf counts. `start` replaces a stale file.
    """
    path = _pid_path(cfg)
    try:
        pid = int(path.read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if is_stack_asterisk(pid, cfg) else None


def is_stack_asterisk(pid: int, cfg: StackConfig) -> bool:
    """True if `pid` is alive, not a zombie, and is asterisk run with this stack's config."""
    if pid <= 0 or not _alive(pid):
        return False
    proc = Path("/proc") / str(pid)
    try:
        # The state follows the parenthesised command name, which may hold spaces.
        state = (proc / "stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
        argv = (proc / "cmdline").read_bytes().split(b"\0")
    except (OSError, IndexError):
        return False
    if state in ("Z", "X"):
        return False
    args = [a.decode("utf-8", errors="replace") for a in argv if a]
    # Under chroot the pid is chroot's until it execs asterisk: either is ours.
    names = {Path(a).name for a in args[:3]}
    return bool(names & {"asterisk", "chroot"}) and str(cfg.asterisk_conf) in args


def _prepare_root(runtime: AsteriskRuntime, cfg: StackConfig) -> None:
    """Make the state directory visible at the same path inside the chroot.

    With the same absolute path on both sides, every path in the generated config
    (and every prompt path the engine sends over AGI) means the same file.
    """
    root = runtime.root
    if root is None:
        return
    mounted = set(install.mounts_below(root))
    proc_dir = root / "proc"
    if str(proc_dir) not in mounted:
        subprocess.run(["mount", "-t", "proc", "proc", str(proc_dir)], check=True)
    inner = root / str(cfg.state_dir).lstrip("/")
    if str(inner) not in mounted:
        inner.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "--bind", str(cfg.state_dir), str(inner)], check=True)


def _release_root(runtime: AsteriskRuntime, cfg: StackConfig) -> None:
    if runtime.root is None:
        return
    inner = runtime.root / str(cfg.state_dir).lstrip("/")
    if str(inner) in install.mounts_below(runtime.root):
        subprocess.run(["umount", "-l", str(inner)], check=False, capture_output=True)


def rx(runtime: AsteriskRuntime, cfg: StackConfig, command: str, timeout: float = 10.0) -> str:
    """Run one CLI command on the stack's Asterisk through its control socket."""
    proc = subprocess.run(
        runtime.command(["-C", str(cfg.asterisk_conf), "-rx", command]),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise AsteriskError(f"asterisk -rx {command!r} failed: {proc.stderr.strip()}")
    return proc.stdout


def start(cfg: StackConfig, runtime: AsteriskRuntime) -> int:
    """Start Asterisk for this stack unless it already runs; returns its pid."""
    pid = read_pid(cfg)
    if pid is not None:
        return pid
    if _pid_path(cfg).exists():
        # Left by a killed Asterisk: its pid is dead, a zombie, or another program's.
        log.warning("asterisk_pid_stale", path=str(_pid_path(cfg)))
        _pid_path(cfg).unlink(missing_ok=True)
    _prepare_root(runtime, cfg)
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    # Asterisk drops root for its own account, which gets only the files it uses.
    run_as = user.prepare(cfg, runtime)
    console_fd = os.open(
        cfg.log_dir / "asterisk-console.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
    )
    console = os.fdopen(console_fd, "ab")
    proc = subprocess.Popen(
        runtime.command(["-C", str(cfg.asterisk_conf), "-f", "-n", *run_as]),
        stdin=subprocess.DEVNULL,
        stdout=console,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # CDRs, logs and callers' recordings are personal data: owner-only files.
        umask=0o077,
    )
    console.close()
    _pid_path(cfg).write_text(f"{proc.pid}\n", encoding="utf-8")
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AsteriskError(
                f"asterisk exited with {proc.returncode} at start; "
                f"see {cfg.log_dir / 'asterisk-console.log'} and {cfg.log_dir / 'messages.log'}"
            )
        try:
            rx(runtime, cfg, "core waitfullybooted", timeout=5.0)
        except (AsteriskError, subprocess.TimeoutExpired):
            time.sleep(0.2)
            continue
        log.info("asterisk_started", pid=proc.pid, runtime=runtime.describe())
        return proc.pid
    stop(cfg, runtime)
    raise AsteriskError(f"asterisk did not finish booting in {BOOT_TIMEOUT_S:.0f} s")


def stop(cfg: StackConfig, runtime: AsteriskRuntime, timeout: float = 15.0) -> bool:
    """Stop this stack's Asterisk; True if one was running."""
    pid = read_pid(cfg)
    if pid is None:
        _release_root(runtime, cfg)
        return False
    try:
        rx(runtime, cfg, "core stop now", timeout=5.0)
    except (AsteriskError, subprocess.TimeoutExpired):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    _pid_path(cfg).unlink(missing_ok=True)
    _release_root(runtime, cfg)
    log.info("asterisk_stopped", pid=pid)
    return True


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        waited = 0
    if waited == pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def status(cfg: StackConfig, runtime: AsteriskRuntime | None) -> AsteriskStatus:
    if runtime is None:
        return AsteriskStatus(False, None, "not installed (run `ivr asterisk install`)")
    pid = read_pid(cfg)
    if pid is None:
        return AsteriskStatus(False, None, "not running")
    try:
        out = rx(runtime, cfg, "core show uptime seconds", timeout=5.0)
    except (AsteriskError, subprocess.TimeoutExpired) as exc:
        return AsteriskStatus(False, pid, f"process {pid} does not answer: {exc}")
    return AsteriskStatus(True, pid, " ".join(out.split()))
