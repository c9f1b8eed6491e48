"""The watchdog's probe: only an engine whose event loop runs answers it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ivr import config as stack_config
from ivr.adapters.fastagi.server import AGIRouter, AGISession, FastAGIServer
from ivr.config import StackConfig
from ivr.watchdog import HEALTH_SCRIPT, probe
from tests.harness import free_port


def _cfg(tmp_path: Path, port: int) -> StackConfig:
    cfg = stack_config.init(tmp_path / "stack")
    return replace(cfg, ports=replace(cfg.ports, agi=port))


async def test_a_running_engine_answers_the_probe(tmp_path: Path) -> None:
    async def health(_session: AGISession) -> None:
        return None

    router = AGIRouter()
    router.register(HEALTH_SCRIPT, health)
    server = FastAGIServer(router, "127.0.0.1", free_port())
    await server.start()
    try:
        assert await probe(_cfg(tmp_path, server.port), 2.0)
    finally:
        await server.stop()


async def test_nothing_listening_fails_the_probe(tmp_path: Path) -> None:
    assert not await probe(_cfg(tmp_path, free_port()), 2.0)


@pytest.fixture
def stopped_listener() -> Iterator[int]:
    """A process listening on a port, then stopped with SIGSTOP; yields the port."""
    port = free_port()
    script = (
        "import socket, sys, time\n"
        "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        os.kill(proc.pid, signal.SIGSTOP)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


async def test_a_stopped_engine_fails_the_probe_though_its_port_accepts(
    tmp_path: Path, stopped_listener: int
) -> None:
    """SIGSTOP: the kernel still accepts the connection, but nothing answers."""
    _, writer = await asyncio.open_connection("127.0.0.1", stopped_listener)
    writer.close()
    assert not await probe(_cfg(tmp_path, stopped_listener), 1.0)
