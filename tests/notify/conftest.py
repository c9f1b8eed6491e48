"""The case-store fixtures (SQLite and PostgreSQL) for the notification tests."""

from tests.store.conftest import (
    backend,
    db_url,
    migrated_sqlite,
    pg_case_store,
    pg_migrated,
    pg_server,
    pg_store_database,
    store,
)

__all__ = [
    "backend",
    "db_url",
    "migrated_sqlite",
    "pg_case_store",
    "pg_migrated",
    "pg_server",
    "pg_store_database",
    "store",
]
