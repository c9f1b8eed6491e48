"""`ivr asterisk start` must not take a dead, zombie or reused pid for a running Asterisk."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from ivr import config as stack_config
from ivr.asterisk import process
from ivr.config import StackConfig


@pytest.fixture
def cfg(tmp_path: Path) -> StackConfig:
    cfg = stack_config.init(tmp_path / "stack")
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    return cfg


@pytest.fixture
def fake_asterisk(tmp_path: Path) -> Path:
    """A program named `asterisk` that says it runs, then waits on its stdin."""
    path = tmp_path / "bin" / "asterisk"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\necho started\nread line\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def _spawn(program: Path, conf: Path) -> subprocess.Popen[bytes]:
    return _started([str(program), "-C", str(conf), "-f"])


def _started(argv: list[str]) -> subprocess.Popen[bytes]:
    """A child that has said it runs.

    Popen returns once the kernel has begun the child's exec, which is before the new
    program's arguments are in place: /proc/<pid>/cmdline can still be empty then, and
    on a loaded machine a check made at once saw no asterisk there."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"started\n"
    return proc


def _write_pid(cfg: StackConfig, pid: int) -> None:
    (cfg.run_dir / process.PID_FILE).write_text(f"{pid}\n", encoding="utf-8")


def test_a_live_asterisk_of_this_stack_is_running(cfg: StackConfig, fake_asterisk: Path) -> None:
    proc = _spawn(fake_asterisk, cfg.asterisk_conf)
    try:
        _write_pid(cfg, proc.pid)
        assert process.read_pid(cfg) == proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_a_reused_pid_is_not_asterisk(cfg: StackConfig) -> None:
    """The pid now belongs to another program: not running."""
    proc = _started(["sh", "-c", "echo started; read line"])
    try:
        _write_pid(cfg, proc.pid)
        assert process.read_pid(cfg) is None
    finally:
        proc.kill()
        proc.wait()


def test_another_stacks_asterisk_is_not_ours(
    cfg: StackConfig, fake_asterisk: Path, tmp_path: Path
) -> None:
    proc = _spawn(fake_asterisk, tmp_path / "other" / "asterisk.conf")
    try:
        _write_pid(cfg, proc.pid)
        assert process.read_pid(cfg) is None
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_asterisk_left_as_a_zombie_is_not_running(
    cfg: StackConfig, fake_asterisk: Path
) -> None:
    proc = _spawn(fake_asterisk, cfg.asterisk_conf)
    os.kill(proc.pid, signal.SIGKILL)
    # Not reaped yet: the pid still exists, as a zombie.
    stat = Path(f"/proc/{proc.pid}/stat")
    while stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
        pass
    _write_pid(cfg, proc.pid)
    assert process.read_pid(cfg) is None
    proc.wait()


def test_a_dead_pid_is_not_running(cfg: StackConfig) -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    _write_pid(cfg, proc.pid)
    assert process.read_pid(cfg) is None
