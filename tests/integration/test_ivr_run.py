"""`ivr run`, which `make run` runs: Asterisk, the engine and its console come up, and
Ctrl-C stops them all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ivr import config as stack_config
from ivr.asterisk import install, process
from ivr.engine_file import ENGINE_FILE
from tests.harness import TEST_PROMPT_MAX_S, build_prompts, fresh_ports, wait_until
from tests.migrated import copy_migrated_sqlite

pytestmark = pytest.mark.asterisk


def test_ivr_run_serves_calls_and_the_console_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    state = tmp_path / "stack"
    ports = fresh_ports()
    cfg = stack_config.init(state, ports)
    # What `ivr run` would otherwise synthesise (tens of seconds) and migrate: the test
    # harness's cached prompts and migrated store, which `ivr run` then finds current.
    build_prompts(cfg, TEST_PROMPT_MAX_S)
    copy_migrated_sqlite(cfg.sqlite_path)
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "ivr", "--state-dir", str(state), "run"),
            *("--sip-port", str(ports.sip), "--ami-port", str(ports.ami)),
            *("--http-port", str(ports.http), "--agi-port", str(ports.agi)),
            *("--web-port", str(ports.web)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    log.close()
    engine_file = cfg.run_dir / ENGINE_FILE
    try:

        def engine_ready() -> bool:
            assert proc.poll() is None, (tmp_path / "run.log").read_text(encoding="utf-8")
            return engine_file.exists()

        wait_until(engine_ready, 60, "the engine started by `ivr run`")
        record = json.loads(engine_file.read_text(encoding="utf-8"))
        assert record["console"] == cfg.web_url
        assert record["links"]["ami"]["state"] == "up"
        assert httpx.get(f"{cfg.web_url}signin", timeout=30).status_code == 200
        printed = (tmp_path / "run.log").read_text(encoding="utf-8")
        assert f"Web console   {cfg.web_url}" in printed

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert process.read_pid(cfg) is None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        process.stop(cfg, install.ensure())
