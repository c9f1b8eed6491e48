"""A private hotline stack for tests and benchmarks: real Asterisk, real engine process.

Every port is picked free at start, so a test stack runs beside a developer's stack
(or another test run) on the same machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ivr import config as stack_config
from ivr import prompts
from ivr.asterisk import install, process
from ivr.asterisk.generate import render_stack
from ivr.config import Ports, StackConfig
from ivr.engine_file import ENGINE_FILE
from ivr.store_cli import upgrade
from tests.migrated import copy_migrated_sqlite
from tests.ports import free_port


def fresh_ports() -> Ports:
    # RTP needs a range; a random block keeps parallel stacks from sharing one.
    rtp = random.randrange(30000, 59000, 200)
    return Ports(
        sip=free_port(socket.SOCK_DGRAM),
        ami=free_port(),
        http=free_port(),
        agi=free_port(),
        rtp_start=rtp,
        rtp_end=rtp + 199,
        web=free_port(),
    )


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll a condition; tests wait for facts, never for fixed sleeps."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# A test stack's prompts are cut to this many seconds. What a test checks is which
# prompts play, in which order and language, and what the caller's keys do; waiting
# through a 17-second menu or a 15-second notice checks none of it, and made up most
# of the suite's wall time. Every wait a test derives from a prompt's length
# (calls.secs) reads the cut file, so it stays true. A stack that must sound as a
# caller hears it (the soak) passes None.
TEST_PROMPT_MAX_S = 1.5


@contextmanager
def asterisk_stack(
    state_dir: Path,
    database_url: str | None = None,
    profile: Path | None = None,
    *,
    prompt_max_s: float | None = TEST_PROMPT_MAX_S,
) -> Iterator[StackConfig]:
    """A started stack; its prompts are cut to `prompt_max_s` (None: as built)."""
    # As `ivr` does: what a test stack writes (prompts, logs) is owner-only too.
    os.umask(0o077)
    cfg = stack_config.init(
        state_dir, fresh_ports(), database_url, str(profile) if profile else None
    )
    runtime = install.ensure()
    render_stack(cfg)
    _observer(cfg)
    build_prompts(cfg, prompt_max_s)
    if database_url is None:
        copy_migrated_sqlite(cfg.sqlite_path)
    asyncio.run(upgrade(cfg))
    process.start(cfg, runtime)
    try:
        yield cfg
    finally:
        process.stop(cfg, runtime)


# An AMI user for tests that watch the engine's AGI commands (AGIExecStart, class agi)
# and act as the caller (Originate, PlayDTMF, Hangup). The engine's own user may not
# see AGI events: it is granted only what the engine uses.
OBSERVER_USER = "hotline-test-observer"


def _observer(cfg: StackConfig) -> None:
    conf = cfg.etc_dir / "manager_local.conf"
    conf.write_text(
        f"[{OBSERVER_USER}]\n"
        f"secret = {cfg.ami_secret}\n"
        "deny = 0.0.0.0/0.0.0.0\n"
        "permit = 127.0.0.0/255.0.0.0\n"
        "read = call,agi,user\n"
        "write = call,originate\n",
        encoding="utf-8",
    )
    conf.chmod(0o600)


def build_prompts(cfg: StackConfig, max_s: float | None) -> None:
    """Prompts for a test stack, synthesised once per catalogue and copied after that.

    Building every prompt with espeak-ng and sox takes tens of seconds on a loaded
    machine; each test session would pay it again for the same files. The cache is
    keyed by the content of every file under recordings/, so a changed text or a new
    studio recording builds afresh. Copies are stamped now (the content is right by
    its key), so the build that follows finds them fresh and makes nothing twice.
    With `max_s`, the copies come from a second cache of the same prompts cut short.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in cfg.recordings_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(cfg.recordings_dir)).encode())
        digest.update(path.read_bytes())
    cache = Path(tempfile.gettempdir()) / "hotline1999-test-prompts" / digest.hexdigest()[:20]
    if not cache.is_dir():
        cache.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=cache.parent, prefix=".building-"))
        building.chmod(0o755)
        prompts.build(cfg.recordings_dir, building)
        try:
            building.rename(cache)
        except OSError:
            # Another session finished the same build first: use theirs.
            shutil.rmtree(building, ignore_errors=True)
    if max_s is not None:
        cache = _cut(cache, max_s)
    shutil.copytree(cache, cfg.sounds_dir, dirs_exist_ok=True, copy_function=shutil.copy)
    # The cache is shared by every test session (0755); a stack's own copy is owner-only.
    for path in [cfg.sounds_dir, *cfg.sounds_dir.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    prompts.build(cfg.recordings_dir, cfg.sounds_dir)


def _cut(cache: Path, max_s: float) -> Path:
    """The cached prompts, each cut to its first `max_s` seconds (hold music loops as
    it is); built once per cache and length, as the cache itself is."""
    target = cache.with_name(f"{cache.name}-max{max_s:g}")
    if target.is_dir():
        return target
    building = Path(tempfile.mkdtemp(dir=cache.parent, prefix=".building-"))
    building.chmod(0o755)
    shutil.copytree(cache, building, dirs_exist_ok=True)
    for path in building.rglob("*.wav"):
        if path.parent.name == "moh":
            continue
        with wave.open(str(path)) as w:
            params = w.getparams()
            keep = int(max_s * w.getframerate())
            if w.getnframes() <= keep:
                continue
            frames = w.readframes(keep)
        with wave.open(str(path), "wb") as out:
            out.setparams(params)
            out.writeframes(frames)
    try:
        building.rename(target)
    except OSError:
        # Another session finished the same cut first: use theirs.
        shutil.rmtree(building, ignore_errors=True)
    return target


class EngineProcess:
    """`ivr serve` as a real child process, so tests can stop or SIGKILL it.

    `console=False` runs it with `--no-console`, for tests that never open the console:
    importing and building the console is a third of an engine's start-up CPU, and
    the suite starts dozens of engines on a 2-core machine.
    """

    def __init__(self, cfg: StackConfig, *, console: bool = True) -> None:
        self.cfg = cfg
        self.console = console
        self.proc: subprocess.Popen[bytes] | None = None

    # A guard against a hang, not a speed target: a loaded CI machine runs four suites
    # at once.
    def start(self, timeout: float = 60.0) -> None:
        engine_file = self.cfg.run_dir / ENGINE_FILE
        engine_file.unlink(missing_ok=True)
        log = (self.cfg.log_dir / "engine-test.log").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ivr",
                "--state-dir",
                str(self.cfg.state_dir),
                "serve",
                *(() if self.console else ("--no-console",)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        try:
            wait_until(lambda: self._ready(engine_file), timeout, "the engine to listen")
        except BaseException:
            # A child left running would hold the stack's ports, and every later test
            # on this stack would fail on "address already in use" instead of this.
            self.kill()
            raise

    def _ready(self, engine_file: Path) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(
                f"engine exited with {self.proc.returncode}; see {self.cfg.log_dir}"
            )
        if not engine_file.exists():
            return False
        info = json.loads(engine_file.read_text(encoding="utf-8"))
        return bool(info.get("pid") == self.pid)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
