"""every written row carries the idempotency key its writer made

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose rows a write adds; each gets a unique key column. (Calls are keyed by
# their Asterisk uniqueid, unique since 0001; tickets got their key in 0007.)
KEYED = (
    "call_events",
    "agent_states",
    "survey_ratings",
    "transfers",
    "dial_attempts",
    "service_modes",
    "calendar_closures",
    "ticket_notes",
)


def upgrade() -> None:
    """Add the key columns, give every existing row a key of its own, then require them."""
    for table in KEYED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
    # Rows written before keys existed get one no writer makes: "legacy-" and their id.
    for table in (*KEYED, "tickets"):
        rows = sa.table(table, sa.column("id"), sa.column("idempotency_key"))
        op.execute(
            rows.update()
            .where(rows.c.idempotency_key.is_(None))
            .values(idempotency_key=sa.literal("legacy-") + sa.cast(rows.c.id, sa.String(20)))
        )
    for table in KEYED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("idempotency_key", existing_type=sa.String(64), nullable=False)
            batch.create_unique_constraint(f"uq_{table}_idempotency_key", ["idempotency_key"])
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("idempotency_key", existing_type=sa.String(64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("idempotency_key", existing_type=sa.String(64), nullable=True)
    for table in reversed(KEYED):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_idempotency_key", type_="unique")
            batch.drop_column("idempotency_key")
