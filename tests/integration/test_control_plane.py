"""The control plane and SIP, locked down: tried as an attacker would, on a real Asterisk."""

from __future__ import annotations

import asyncio
import os
import pwd
import socket
import stat
from pathlib import Path

import pytest

from ivr.adapters.ami import AmiActionFailed, AmiClient
from ivr.asterisk import process
from ivr.asterisk.user import USER
from ivr.config import StackConfig
from ivr.store import CaseStore
from tests.harness import EngineProcess, free_port
from tests.integration.calls import (
    StartEngine,
    call,
    events,
    feature_code,
    greeting_s,
    register_agent,
)
from tests.integration.conftest import ProfileCopy
from tests.ports import sipp_media_port
from tests.sipp.scenarios import (
    caller_keys_while_bridged_scenario,
    run_caller,
    spoofed_invite_scenario,
    start_uas,
    uas_scenario,
)

pytestmark = pytest.mark.asterisk


@pytest.mark.parametrize(
    "action",
    [
        {"Action": "Command", "Command": "core show uptime"},
        {"Action": "GetConfig", "Filename": "manager.conf"},
        {"Action": "Reload", "Module": "res_pjsip.so"},
        {
            "Action": "Originate",
            "Channel": "Local/s@hotline-test-caller",
            "Application": "System",
            "Data": "id",
            "Async": "true",
        },
    ],
    ids=lambda a: a["Action"] + ("-System" if a.get("Application") == "System" else ""),
)
async def test_engine_ami_user_is_refused_system_command_and_config_actions(
    stack: StackConfig, action: dict[str, str]
) -> None:
    """The engine's AMI user cannot run CLI commands, read config or reload modules."""
    ami = AmiClient(stack.host, stack.ports.ami, stack.ami_user, stack.ami_secret)
    await ami.start()
    try:
        await ami.wait_connected(10.0)
        with pytest.raises(AmiActionFailed, match=r"(?i)permission denied|forbidden"):
            await ami.action(action)
        # Ping still answers: the refusal is the privilege, not a broken session.
        assert (await ami.action({"Action": "Ping"}))["Response"] == "Success"
    finally:
        await ami.stop()


@pytest.mark.parametrize("claimed", ["carrier", "agency-pbx"])
async def test_spoofed_trunk_name_from_another_address_is_refused(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine, claimed: str
) -> None:
    """An INVITE from 127.0.0.2 with `From: carrier` is challenged, never answered."""
    await start_engine()
    result = await asyncio.to_thread(
        run_caller,
        stack.ports.sip,
        "1999",
        spoofed_invite_scenario(claimed),
        local_port=free_port(socket.SOCK_DGRAM),
        media_port=sipp_media_port(),
        timeout_s=20,
        local_ip="127.0.0.2",
    )
    assert result.ok, result.output
    # (The engine may meanwhile record earlier tests' fallback calls from the CDRs.)
    assert all(c.caller_number != claimed for c in await store.list_calls(limit=50))


async def test_citizen_keying_8_and_a_code_while_bridged_transfers_nothing(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """The transfer key is the agent's: a citizen's 8 6902 rings no unit."""
    await start_engine()
    agent_port = free_port()
    await register_agent(stack, "7004", agent_port)
    agent = start_uas(
        uas_scenario(200), port=agent_port, media_port=sipp_media_port(), calls=1, workdir=tmp_path
    )
    unit_port = taipei_profile.trunk_ports["t-ring"]
    unit = start_uas(
        uas_scenario(200), port=unit_port, media_port=sipp_media_port(), calls=1, workdir=tmp_path
    )
    caller = "0912888001"
    await feature_code(stack, "7004", "*45")
    try:
        result = await asyncio.to_thread(
            run_caller,
            stack.ports.sip,
            "1999",
            caller_keys_while_bridged_scenario(
                caller,
                "91",
                "86902",
                pre_ms=int(greeting_s(stack) * 1000),
                bridged_ms=5000,
                hold_ms=10000,
            ),
            local_port=free_port(socket.SOCK_DGRAM),
            media_port=sipp_media_port(),
            timeout_s=90,
        )
    finally:
        await feature_code(stack, "7004", "*46")
        for proc in (agent, unit):
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
    assert result.ok, result.output
    calls = [c for c in await store.list_calls(limit=20) if c.caller_number == caller]
    assert calls, "the citizen's call was not recorded"
    record = await store.get_call(calls[0].id)
    assert record is not None
    # The citizen really was talking to the agent when keying.
    assert [e["agent"] for e in events(record, "queue_leave")] == ["a04"]
    assert events(record, "transfer_request") == []
    unit_log = tmp_path / f"uas-{unit_port}-messages.log"
    invites = [
        line
        for line in (unit_log.read_text(errors="replace") if unit_log.exists() else "").splitlines()
        if line.startswith("INVITE sip:")
    ]
    assert invites == []


async def test_state_directory_of_a_running_stack_is_owner_only(
    stack: StackConfig, store: CaseStore, engine: EngineProcess
) -> None:
    """After a call: the state dir and every directory in it 0700, every file 0600."""
    await call(stack, store, dtmf="", wait_s=0.5, hold_s=1.0)
    cdr = stack.log_dir / "cdr-csv" / "Master.csv"
    assert cdr.exists()
    loose, checked = await asyncio.to_thread(_loose_modes, stack.state_dir)
    assert stat.S_IMODE(stack.state_dir.stat().st_mode) == 0o700
    for secret in ("manager.conf", "ari.conf", "pjsip_hotline.conf"):
        assert stat.S_IMODE((stack.etc_dir / secret).stat().st_mode) == 0o600
    assert stat.S_IMODE(stack.sqlite_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cdr.stat().st_mode) == 0o600
    assert checked > 20
    assert loose == []


def _loose_modes(state_dir: Path) -> tuple[list[str], int]:
    """Paths below `state_dir` open to group or others (a directory other than 0700)."""
    loose: list[str] = []
    checked = 0
    for root, dirs, files in os.walk(state_dir):
        for name in [*dirs, *files]:
            path = Path(root, name)
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                continue
            checked += 1
            mode = stat.S_IMODE(st.st_mode)
            if (mode != 0o700) if stat.S_ISDIR(st.st_mode) else bool(mode & 0o077):
                loose.append(f"{path}: {oct(mode)}")
    return loose, checked


def test_asterisk_runs_as_its_own_user_and_cannot_read_the_engines_files(
    stack: StackConfig,
) -> None:
    """Not root: the `hotline-asterisk` account, which owns none of the engine's files."""
    account = pwd.getpwnam(USER)
    pid = process.read_pid(stack)
    assert pid is not None
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines()
    uids = next(line for line in status if line.startswith("Uid:")).split()[1:]
    assert uids == [str(account.pw_uid)] * 4
    assert account.pw_uid != 0
    for private in (stack.state_dir / "stack.json", stack.sqlite_path):
        st = private.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o600)
    # What it writes is its own: the CDRs and its logs.
    assert (stack.log_dir / "messages.log").stat().st_uid == account.pw_uid
