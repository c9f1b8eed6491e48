"""Fixtures for tests that run against a real Asterisk started for the session."""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from ivr import app
from ivr.adapters.ami import AmiClient
from ivr.config import StackConfig
from ivr.domain.clock import Clock, system_clock
from ivr.store import CaseStore
from tests.harness import EngineProcess, asterisk_stack, free_port
from tests.integration.calls import StartEngine

REPO = Path(__file__).resolve().parents[2]
# A number the test profile blocks (T7), and a prefix rule.
BLOCKED_NUMBER = "0987000111"
TEST_TRUNKS = ("t-unit", "t-ring", "t-busy", "t-dep1", "t-dep2", "t-dep3", "t-pstn")


def _contacts(prefix: str) -> str:
    roles = ("head", "deputy_head", "section_chief", "secretary")
    return "".join(
        f'      - {{name: 聯絡人{i}, role: {role}, phone: "09110{prefix}{i:02d}"}}\n'
        for i, role in enumerate(roles, 1)
    )


# Two agencies that exist only in tests, with lines on the test trunks above.
TEST_AGENCIES = f"""
  - id: test-agency
    name: 測試局
    name_en: Test Bureau
    supervisor_email: supervisor@test.example
    liaison:
      name: 測試局話務聯繫窗口
      email: liaison@test.example
      deputies:
        - {{name: 代理一, extension: {{number: "69101", via: t-dep1}}}}
        - {{name: 代理二, extension: {{number: "69102", via: t-dep2}}}}
        - {{name: 代理三, extension: {{number: "69103", via: t-dep3}}}}
    emergency_contacts:
{_contacts("91")}    units:
      - id: test-busy-twice
        name: 測試科
        name_en: Test Section
        primary: {{number: "69001", via: t-unit}}
        ring_timeout_s: 5
        retry_pause_s: 1
        dial_code: "6900"
      - id: test-ringing
        name: 響鈴科
        name_en: Ringing Section
        primary: {{number: "69002", via: t-ring}}
        ring_timeout_s: 8
        dial_code: "6902"

  - id: test-busy-agency
    name: 忙線局
    name_en: Busy Bureau
    supervisor_email: supervisor@busy.example
    liaison:
      name: 忙線局話務聯繫窗口
      email: liaison@busy.example
      deputies:
        - {{name: 忙一, extension: {{number: "69201", via: t-busy}}}}
        - {{name: 忙二, extension: {{number: "69202", via: t-busy}}}}
        - {{name: 忙三, extension: {{number: "69203", via: t-busy}}}}
    emergency_contacts:
{_contacts("92")}    units:
      - id: test-all-busy
        name: 忙線科
        name_en: Busy Section
        primary: {{number: "69003", via: t-busy}}
        ring_timeout_s: 5
        retry_pause_s: 1
        dial_code: "6901"
"""


@dataclass(frozen=True)
class ProfileCopy:
    """A copy of a shipped profile whose agency trunks point at free local ports."""

    directory: Path
    trunk_ports: dict[str, int]


def copy_profile(name: str, target: Path) -> ProfileCopy:
    shutil.copytree(REPO / "routing" / name, target)
    directory = target / "directory.yaml"
    text = directory.read_text(encoding="utf-8")
    ports: dict[str, int] = {}

    def repoint(match: re.Match[str]) -> str:
        port = free_port(socket.SOCK_DGRAM)
        ports[match.group(1)] = port
        return f"{{id: {match.group(1)}, host: 127.0.0.1, port: {port}"

    text = re.sub(r"\{id: ([a-z0-9-]+), host: 127\.0\.0\.1, port: \d+", repoint, text)
    # Test trunks: each stands for one agency line, so a SIPp on its port answers
    # (or refuses) exactly that line.
    for trunk in TEST_TRUNKS:
        ports[trunk] = free_port(socket.SOCK_DGRAM)
    test_trunks = "".join(
        f"  - {{id: {t}, host: 127.0.0.1, port: {ports[t]}}}\n" for t in TEST_TRUNKS
    )
    text = text.replace("trunks:\n", "trunks:\n" + test_trunks, 1)
    if name == "taipei":
        text = text.rstrip("\n") + "\n" + TEST_AGENCIES
        text = text.replace("outbound_trunk: emergency-pstn", "outbound_trunk: t-pstn")
    directory.write_text(text, encoding="utf-8")
    blocklist = target / "blocklist.yaml"
    blocklist.write_text(
        "entries:\n"
        f'  - pattern: "{BLOCKED_NUMBER}"\n'
        "    reason: repeated abusive calls after two warnings (T7)\n"
        "    added_by: supervisor-test\n"
        "    added_at: 2026-11-01\n",
        encoding="utf-8",
    )
    return ProfileCopy(target, ports)


@pytest.fixture(scope="session")
def taipei_profile(tmp_path_factory: pytest.TempPathFactory) -> ProfileCopy:
    return copy_profile("taipei", tmp_path_factory.mktemp("profiles") / "taipei")


@pytest.fixture(scope="session")
def kinmen_profile(tmp_path_factory: pytest.TempPathFactory) -> ProfileCopy:
    return copy_profile("kinmen", tmp_path_factory.mktemp("profiles") / "kinmen")


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, taipei_profile: ProfileCopy
) -> Iterator[StackConfig]:
    with asterisk_stack(tmp_path_factory.mktemp("stack"), profile=taipei_profile.directory) as cfg:
        yield cfg


@pytest.fixture
def engine(stack: StackConfig) -> Iterator[EngineProcess]:
    # No test of this fixture opens the console (tests/web and the engine-kill test do).
    proc = EngineProcess(stack, console=False)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
async def start_engine(stack: StackConfig) -> AsyncIterator[StartEngine]:
    """The engine in this test's event loop, so the test can hand it a clock."""
    engines: list[app.Engine] = []

    async def start(clock: Clock = system_clock, profile: Path | None = None) -> app.Engine:
        cfg = replace(stack, routing_profile=str(profile)) if profile else stack
        engine = await app.start(cfg, clock=clock)
        engines.append(engine)
        return engine

    yield start
    for engine in engines:
        await engine.stop()


@pytest.fixture
async def store(stack: StackConfig) -> AsyncIterator[CaseStore]:
    s = await CaseStore.open(stack.database_url)
    await s.migrate()
    yield s
    await s.close()


@pytest.fixture
async def ami(stack: StackConfig) -> AsyncIterator[AmiClient]:
    client = AmiClient(stack.host, stack.ports.ami, stack.ami_user, stack.ami_secret)
    await client.start()
    await client.wait_connected(10.0)
    yield client
    await client.stop()
