"""`ivr routing reload` reaches Asterisk: module reloads, never a restart, calls kept.

The stack here is the test's own (its profile is edited), with a running engine, a
citizen's SIP call in progress through the carrier, and SIPp phones on the lines.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.adapters.ami import AmiClient
from ivr.asterisk import install, process
from ivr.config import StackConfig
from tests.harness import EngineProcess, asterisk_stack, free_port, wait_until
from tests.integration.conftest import ProfileCopy, copy_profile
from tests.ports import sipp_media_port
from tests.sipp.scenarios import (
    caller_scenario,
    register_scenario,
    run_caller,
    start_uas,
    uas_scenario,
)

pytestmark = pytest.mark.asterisk

NEW_AGENT = "7099"
NEW_QUEUE = "signlang"
NEW_TRUNK = "t-added"


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[tuple[StackConfig, ProfileCopy]]:
    profile = copy_profile("taipei", tmp_path / "taipei")
    with asterisk_stack(tmp_path / "stack", profile=profile.directory) as cfg:
        engine = EngineProcess(cfg, console=False)
        engine.start()
        try:
            yield cfg, profile
        finally:
            engine.stop()


def _rx(cfg: StackConfig, command: str) -> str:
    return process.rx(install.ensure(), cfg, command)


def _carrier_calls(cfg: StackConfig) -> int:
    return sum(
        1
        for line in _rx(cfg, "core show channels concise").splitlines()
        if line.startswith("PJSIP/carrier-")
    )


def _edit_profile(profile: ProfileCopy, secret: str, new_port: int, added_port: int) -> None:
    """Move trunk t-ring to a new port; add a trunk, an agent and a queue."""
    directory = profile.directory / "directory.yaml"
    text = directory.read_text(encoding="utf-8")
    old = profile.trunk_ports["t-ring"]
    text, moved = re.subn(
        rf"\{{id: t-ring, host: 127\.0\.0\.1, port: {old}\}}",
        f"{{id: t-ring, host: 127.0.0.1, port: {new_port}}}",
        text,
    )
    assert moved == 1
    text = text.replace(
        "trunks:\n", f"trunks:\n  - {{id: {NEW_TRUNK}, host: 127.0.0.1, port: {added_port}}}\n", 1
    )
    directory.write_text(text, encoding="utf-8")
    agents = profile.directory / "agents.yaml"
    text = agents.read_text(encoding="utf-8")
    text = text.replace(
        "\n# A queue serves",
        f'  - {{id: a99, name: 新進人員, extension: "{NEW_AGENT}", secret: "{secret}", '
        "skills: [zh-TW, sign-language]}\n\n# A queue serves",
        1,
    )
    text = text.rstrip("\n") + (
        f"\n  - {{id: {NEW_QUEUE}, name: 手語服務, skills: [zh-TW, sign-language], "
        "strategy: ringall, announce_position: false, max_wait_s: 300}\n"
    )
    agents.write_text(text, encoding="utf-8")


def _reload(cfg: StackConfig) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr", "--state-dir", str(cfg.state_dir), "routing", "reload"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


async def _originate(cfg: StackConfig, dial: str) -> None:
    """Asterisk dials `dial` and, once answered, waits a second and hangs up."""
    ami = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)
    await ami.start()
    try:
        await ami.wait_connected(10.0)
        await ami.action(
            {
                "Action": "Originate",
                "Channel": dial,
                "Application": "Wait",
                "Data": "1",
                "Timeout": "10000",
                "Async": "true",
            }
        )
    finally:
        await ami.stop()


async def test_reload_applies_new_trunk_address_agent_and_queue_with_a_call_up(
    own_stack: tuple[StackConfig, ProfileCopy], tmp_path: Path
) -> None:
    """After a reload Asterisk dials the trunk's new port and knows the new phone and
    queue, while a citizen's SIP call that was up before the reload stays up."""
    cfg, profile = own_stack
    # A citizen calls in over the carrier and waits in the menus, then the queue.
    caller = asyncio.create_task(
        asyncio.to_thread(
            run_caller,
            cfg.ports.sip,
            "1999",
            caller_scenario("0912345000", "", pre_ms=0, gap_ms=0, hold_ms=40000),
            local_port=free_port(socket.SOCK_DGRAM),
            media_port=sipp_media_port(),
            timeout_s=90,
        )
    )
    await asyncio.to_thread(wait_until, lambda: _carrier_calls(cfg) == 1, 30, "the citizen's call")

    secret = "Reload-" + secrets.token_urlsafe(12)
    new_port, added_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    _edit_profile(profile, secret, new_port, added_port)
    done = await asyncio.to_thread(_reload, cfg)
    assert done.returncode == 0, done.stdout + done.stderr

    # The call that was up before the reload is still up, on the same channel.
    assert _carrier_calls(cfg) == 1
    # The new agent's phone exists: it registers with its new secret.
    registered = await asyncio.to_thread(
        run_caller,
        cfg.ports.sip,
        NEW_AGENT,
        register_scenario(NEW_AGENT, secret),
        local_port=free_port(socket.SOCK_DGRAM),
        media_port=sipp_media_port(),
        timeout_s=20,
    )
    assert registered.ok, registered.output
    assert "No such queue" not in _rx(cfg, f"queue show hotline-{NEW_QUEUE}")
    assert f"{NEW_TRUNK}" in _rx(cfg, f"pjsip show endpoint {NEW_TRUNK}")
    # Asterisk dials the trunk's new address: the phone at the new port rings.
    uas = start_uas(
        uas_scenario(200), port=new_port, media_port=sipp_media_port(), calls=1, workdir=tmp_path
    )
    try:
        await _originate(cfg, "PJSIP/69002@t-ring")
        await asyncio.to_thread(uas.wait, 30)
    finally:
        if uas.poll() is None:
            uas.kill()
            uas.wait(10)
    log = (tmp_path / f"uas-{new_port}-messages.log").read_text(errors="replace")
    assert "INVITE sip:69002@" in log
    assert uas.returncode == 0

    assert "res_pjsip.so" in done.stdout
    assert "app_queue.so" in done.stdout
    assert "routing tables reloaded" in done.stdout
    # The citizen hangs up when done: the dialog was never torn down by the reload.
    result = await caller
    assert result.ok, result.output


async def test_reload_says_when_a_change_needs_a_restart(
    own_stack: tuple[StackConfig, ProfileCopy],
) -> None:
    """A SIP port change cannot be applied by a reload: the command says so and fails."""
    cfg, _ = own_stack
    stack_file = cfg.state_dir / "stack.json"
    text = stack_file.read_text(encoding="utf-8")
    stack_file.write_text(
        text.replace(f'"sip": {cfg.ports.sip}', f'"sip": {free_port(socket.SOCK_DGRAM)}'),
        encoding="utf-8",
    )
    done = await asyncio.to_thread(_reload, cfg)
    assert done.returncode != 0
    assert "restart Asterisk" in done.stderr
    assert "routing tables reloaded" not in done.stdout
