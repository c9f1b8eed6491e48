"""Alembic environment for the case store.

Migrations run only through `CaseStore.migrate()`, which hands us a live synchronous
connection (inside the store's async engine) in `config.attributes["connection"]`.
There is deliberately no URL-based or offline path: one way in, one set of engine
settings (SQLite pragmas, drivers) for both the app and its migrations.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

# Imported for its tables: the cases' models join Base.metadata here.
import ivr.store.cases_models  # noqa: F401
from ivr.store.models import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError(
        "ivr.store migrations must run through CaseStore.migrate(), "
        "which passes a connection in config.attributes['connection']"
    )
run_migrations(_connection)
