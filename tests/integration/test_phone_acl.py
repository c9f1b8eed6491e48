"""Agents' phones only from the admin's networks; trunks answer a PBX's challenge (issue 13).

A stack of its own: agent 7001 may use only 127.0.0.1/32 (the table's other agents
keep the profile-wide 127.0.0.0/8), and the test trunk `t-unit` authenticates with a
password from the environment. SIPp from 127.0.0.2 plays the stranger.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.adapters.ami import AmiClient
from ivr.config import StackConfig
from ivr.routing.trunk_secrets import env_name
from tests.harness import asterisk_stack, free_port, wait_until
from tests.integration.conftest import ProfileCopy, copy_profile
from tests.ports import sipp_media_port
from tests.sipp.scenarios import (
    acl_refused_scenario,
    challenging_uas_scenario,
    register_scenario,
    run_caller,
    start_uas,
    uas_scenario,
)

pytestmark = pytest.mark.asterisk

ONLY_HERE = "7001"  # phone_networks: [127.0.0.1/32]
ANYWHERE_LOCAL = "7002"  # the table's phone_networks: 127.0.0.0/8
SECRETS = {"7001": "dev-7001-Taipei!", "7002": "dev-7002-Taipei!"}
TRUNK_USER = "hotline-1999"
TRUNK_PASSWORD = "Pbx-pass-42"
REGISTERING = "t-dep1"  # a trunk whose PBX wants us registered


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def acl_profile(tmp_path_factory: pytest.TempPathFactory) -> ProfileCopy:
    copy = copy_profile("taipei", tmp_path_factory.mktemp("profiles") / "taipei-acl")
    _edit(
        copy.directory / "agents.yaml",
        f'extension: "{ONLY_HERE}",',
        f'extension: "{ONLY_HERE}", phone_networks: [127.0.0.1/32],',
    )
    port = copy.trunk_ports["t-unit"]
    _edit(
        copy.directory / "directory.yaml",
        f"{{id: t-unit, host: 127.0.0.1, port: {port}}}",
        f"{{id: t-unit, host: 127.0.0.1, port: {port}, auth_username: {TRUNK_USER}}}",
    )
    port = copy.trunk_ports[REGISTERING]
    _edit(
        copy.directory / "directory.yaml",
        f"{{id: {REGISTERING}, host: 127.0.0.1, port: {port}}}",
        f"{{id: {REGISTERING}, host: 127.0.0.1, port: {port}, auth_username: {TRUNK_USER}, "
        "registration: true}",
    )
    return copy


def _udp_port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@dataclass
class AclStack:
    cfg: StackConfig
    # The PBX that Asterisk registers to as it starts, and where it logs what it got.
    registrar: subprocess.Popen[str]
    registrar_log: Path


@pytest.fixture(scope="module")
def acl(tmp_path_factory: pytest.TempPathFactory, acl_profile: ProfileCopy) -> Iterator[AclStack]:
    workdir = tmp_path_factory.mktemp("registrar")
    port = acl_profile.trunk_ports[REGISTERING]
    registrar = start_uas(
        challenging_uas_scenario(TRUNK_USER, TRUNK_PASSWORD, "REGISTER"),
        port=port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=workdir,
    )
    try:
        # Asterisk registers as it starts: the PBX must be listening first.
        wait_until(lambda: _udp_port_taken(port), 20, f"the SIPp registrar on port {port}")
        with pytest.MonkeyPatch.context() as env:
            # Trunks' passwords reach the config from the environment, not the tables.
            env.setenv(env_name("t-unit"), TRUNK_PASSWORD)
            env.setenv(env_name(REGISTERING), TRUNK_PASSWORD)
            with asterisk_stack(
                tmp_path_factory.mktemp("acl-stack"), profile=acl_profile.directory
            ) as cfg:
                yield AclStack(cfg, registrar, workdir / f"uas-{port}-messages.log")
    finally:
        if registrar.poll() is None:
            registrar.kill()
            registrar.wait()


@pytest.fixture
def acl_stack(acl: AclStack) -> StackConfig:
    return acl.cfg


def _sipp(stack: StackConfig, scenario: str, local_ip: str, service: str = "s") -> str:
    result = run_caller(
        stack.ports.sip,
        service,
        scenario,
        local_port=free_port(socket.SOCK_DGRAM),
        media_port=sipp_media_port(),
        timeout_s=20,
        local_ip=local_ip,
    )
    assert result.ok, result.output
    return result.output


def _failed_acls(stack: StackConfig, extension: str, address: str) -> int:
    """FailedACL events in Asterisk's security log for one account and source address."""
    lines = (stack.log_dir / "security.log").read_text(errors="replace").splitlines()
    return sum(
        'SecurityEvent="FailedACL"' in line
        and f'AccountID="{extension}"' in line
        and f"/{address}/" in line
        for line in lines
    )


@pytest.mark.parametrize("method", ["REGISTER", "INVITE"])
def test_agent_phone_from_outside_its_networks_is_refused_even_with_its_password(
    acl_stack: StackConfig, method: str
) -> None:
    """From 127.0.0.2, agent 7001 (allowed 127.0.0.1/32 only) never gets in."""
    before = _failed_acls(acl_stack, ONLY_HERE, "127.0.0.2")
    scenario = acl_refused_scenario(method, ONLY_HERE, SECRETS[ONLY_HERE])
    _sipp(acl_stack, scenario, "127.0.0.2", service="*71")
    # Refused by the ACL, not by a password check: Asterisk says why in its security log.
    # Its logger thread writes that line after the response has gone out, so SIPp may
    # finish first: wait for the line, do not read the file once.
    wait_until(
        lambda: _failed_acls(acl_stack, ONLY_HERE, "127.0.0.2") > before,
        10,
        "Asterisk to log the FailedACL",
    )


def test_agent_phone_cannot_register_a_contact_outside_its_networks(
    acl_stack: StackConfig,
) -> None:
    """From an allowed address, a Contact pointing elsewhere is refused too."""
    scenario = acl_refused_scenario(
        "REGISTER", ONLY_HERE, SECRETS[ONLY_HERE], contact_ip="127.0.0.2"
    )
    _sipp(acl_stack, scenario, "127.0.0.1")


@pytest.mark.parametrize(
    ("extension", "local_ip"), [(ONLY_HERE, "127.0.0.1"), (ANYWHERE_LOCAL, "127.0.0.2")]
)
def test_agent_phone_inside_its_networks_registers_with_its_password(
    acl_stack: StackConfig, extension: str, local_ip: str
) -> None:
    _sipp(acl_stack, register_scenario(extension, SECRETS[extension]), local_ip)


async def _dial(stack: StackConfig, channel: str) -> None:
    ami = AmiClient(stack.host, stack.ports.ami, stack.ami_user, stack.ami_secret)
    await ami.start()
    try:
        await ami.wait_connected(10.0)
        reply = await ami.action(
            {
                "Action": "Originate",
                "Channel": channel,
                "Application": "Wait",
                "Data": "1",
                "Timeout": "20000",
                "Async": "true",
            }
        )
        assert reply["Response"] == "Success", reply
    finally:
        await ami.stop()


def _finish(uas: subprocess.Popen[str]) -> int:
    try:
        return uas.wait(timeout=60)
    finally:
        if uas.poll() is None:
            uas.kill()
            uas.wait()


async def test_trunk_answers_the_pbxs_challenge_with_its_user_and_password(
    acl_stack: StackConfig, acl_profile: ProfileCopy, tmp_path: Path
) -> None:
    port = acl_profile.trunk_ports["t-unit"]
    uas = start_uas(
        challenging_uas_scenario(TRUNK_USER, TRUNK_PASSWORD),
        port=port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    await _dial(acl_stack, "PJSIP/69001@t-unit")
    code = await asyncio.to_thread(_finish, uas)
    log = (tmp_path / f"uas-{port}-messages.log").read_text(errors="replace")
    assert code == 0, log[-3000:]
    invites = [m for m in log.split("\n\n") if m.lstrip().startswith("INVITE sip:69001@")]
    assert len(invites) == 2, log[-3000:]
    assert "Authorization:" not in invites[0]
    assert f'username="{TRUNK_USER}"' in invites[1]
    # SIPp checked the digest against the password: 486 is its answer to a valid one.
    assert "SIP/2.0 486 Busy Here" in log
    assert "SIP/2.0 403" not in log


async def test_trunk_without_credentials_calls_as_before(
    acl_stack: StackConfig, acl_profile: ProfileCopy, tmp_path: Path
) -> None:
    port = acl_profile.trunk_ports["t-ring"]
    uas = start_uas(
        uas_scenario(486), port=port, media_port=sipp_media_port(), calls=1, workdir=tmp_path
    )
    await _dial(acl_stack, "PJSIP/69002@t-ring")
    code = await asyncio.to_thread(_finish, uas)
    log = (tmp_path / f"uas-{port}-messages.log").read_text(errors="replace")
    assert code == 0, log[-3000:]
    assert "INVITE sip:69002@" in log
    assert "Authorization:" not in log


async def test_trunk_with_registration_registers_with_its_credentials(acl: AclStack) -> None:
    """Asterisk registers to the PBX as it starts, and answers its challenge."""
    code = await asyncio.to_thread(_finish, acl.registrar)
    log = acl.registrar_log.read_text(errors="replace")
    assert code == 0, log[-3000:]
    registers = [m for m in log.split("\n\n") if "REGISTER sip:" in m]
    assert len(registers) == 2, log[-3000:]
    assert "Authorization:" not in registers[0]
    assert f'username="{TRUNK_USER}"' in registers[1]
    assert f"From: <sip:{TRUNK_USER}@" in registers[1]
    # SIPp checked the digest against the password before answering 200.
    assert "SIP/2.0 200 OK" in log
    assert "SIP/2.0 403" not in log
