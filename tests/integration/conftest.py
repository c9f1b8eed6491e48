"""Fixtures for tests that run against a real Asterisk started for the session."""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.adapters.ami import AmiClient
from ivr.config import StackConfig
from ivr.store import CaseStore
from tests.harness import EngineProcess, asterisk_stack, free_port

REPO = Path(__file__).resolve().parents[2]
# A number the test profile blocks (T7), and a prefix rule.
BLOCKED_NUMBER = "0987000111"


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
    proc = EngineProcess(stack)
    proc.start()
    yield proc
    proc.stop()


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
