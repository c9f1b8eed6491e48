"""Fixtures for tests that run against a real Asterisk started for the session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from ivr.adapters.ami import AmiClient
from ivr.config import StackConfig
from ivr.store import CaseStore
from tests.harness import EngineProcess, asterisk_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    with asterisk_stack(tmp_path_factory.mktemp("stack")) as cfg:
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
