"""Fixtures giving each test a fresh, migrated case store on SQLite and on PostgreSQL."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ivr.store import CaseStore, default_sqlite_url
from tests.pgserver import PostgresServer

PG_DATABASE = "case_store"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL for the whole session, started only if a test needs it."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def pg_store_database(pg_server: PostgresServer) -> PostgresServer:
    """The session's server, with a database of the case-store tests' own."""
    pg_server.create_database(PG_DATABASE)
    return pg_server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test."""
    name: str = request.param
    return name


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of an empty database of the backend under test, dropped afterwards."""
    if backend == "sqlite":
        yield default_sqlite_url(tmp_path / "cases.db")
        return
    # Emptying one database per test is ~20x faster than creating a new one.
    server: PostgresServer = request.getfixturevalue("pg_store_database")
    server.reset_database(PG_DATABASE)
    yield server.url_for(PG_DATABASE)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[CaseStore]:
    """A migrated CaseStore on a fresh database."""
    opened = await CaseStore.open(db_url)
    await opened.migrate()
    yield opened
    await opened.close()


@pytest.fixture
def unreachable_url(backend: str, tmp_path: Path) -> str:
    """A URL of the backend under test where no database can be reached."""
    if backend == "sqlite":
        return default_sqlite_url(tmp_path / "no-such-dir" / "cases.db")
    with socket.socket() as s:
        # A port the kernel just handed out and took back: nothing listens there.
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/hotline_test"
