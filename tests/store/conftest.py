"""Fixtures giving each test a fresh, migrated case store on SQLite and on PostgreSQL.

A full migration costs 1.5 to 2 s on SQLite (batch mode rebuilds tables) and about
0.5 s on PostgreSQL, for each of some 350 tests. So a store per backend is migrated
once (on SQLite, once per set of migrations: `tests.migrated`), and a test's store is
a copy of it: a file copy on SQLite, a database
made from a template on PostgreSQL, then emptied of the last test's rows for as long as
no test changes its schema (`PgCaseStore`). The copy is what the same migration code
wrote, and `store` still runs `migrate()` on it, which must find it at the head.
The migrations themselves are tested from an empty store and from a previous
release's store by the tests that use `db_url` alone.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ivr.store import CaseStore, default_sqlite_url
from tests import migrated
from tests.pgserver import PostgresServer

PG_DATABASE = "case_store"
PG_TEMPLATE = "case_store_migrated"
SQLITE_FILE = "cases.db"


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


@pytest.fixture(scope="session")
def migrated_sqlite() -> Path:
    """The migrated SQLite store each test's store is copied from (`tests.migrated`)."""
    return migrated.migrated_sqlite()


@pytest.fixture(scope="session")
def pg_migrated(pg_store_database: PostgresServer) -> PostgresServer:
    """The session's server with a migrated template database, closed to connections."""
    pg_store_database.create_database(PG_TEMPLATE)
    migrated.migrate_store(pg_store_database.url_for(PG_TEMPLATE))
    pg_store_database.wait_unused(PG_TEMPLATE)
    return pg_store_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test."""
    name: str = request.param
    return name


class PgCaseStore:
    """The worker's case-store database on PostgreSQL, and what it holds now.

    A test's store starts with the migrated schema and no rows. Where the database
    already holds that schema (the last test used `store` too), emptying its tables is
    enough; a test that had the database to itself (`db_url` alone: migrations,
    upgrades) may have left any schema, so the next store is made from the template.
    """

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.migrated = False

    def url(self) -> str:
        return self.server.url_for(PG_DATABASE)

    def empty(self) -> None:
        """No schema at all, as a fresh database."""
        self.migrated = False
        self.server.reset_database(PG_DATABASE)

    def migrated_and_empty(self) -> None:
        """The migrated schema, and no rows in it."""
        if self.migrated:
            self.server.empty_tables(PG_DATABASE)
            return
        self.server.clone_database(PG_DATABASE, PG_TEMPLATE)
        self.migrated = True


@pytest.fixture(scope="session")
def pg_case_store(pg_store_database: PostgresServer) -> PgCaseStore:
    return PgCaseStore(pg_store_database)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of an empty database of the backend under test (a test's `store` fills it)."""
    if backend == "sqlite":
        yield default_sqlite_url(tmp_path / SQLITE_FILE)
        return
    database: PgCaseStore = request.getfixturevalue("pg_case_store")
    if "store" not in request.fixturenames:
        # Emptying one database per test is ~20x faster than creating a new one.
        database.empty()
    yield database.url()


@pytest.fixture
async def store(
    db_url: str, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[CaseStore]:
    """A migrated CaseStore on a fresh database: `db_url`'s, filled from the template."""
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), tmp_path / SQLITE_FILE)
    else:
        request.getfixturevalue("pg_migrated")
        database: PgCaseStore = request.getfixturevalue("pg_case_store")
        database.migrated_and_empty()
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
