"""the language a callback is owed in (tickets.language); queue_legs: waiting and talking

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A waiting caller's callback is owed in the language they chose (DOMAIN 3a)."""
    # Existing tickets keep NULL: nobody recorded which language they were owed in.
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))
    # One caller's stay in one queue: waiting told apart from talking (issue 18).
    op.create_table(
        "queue_legs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hold_s", sa.Float(), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("capped", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key", name="uq_queue_legs_idempotency_key"),
    )
    op.create_index("ix_queue_legs_uniqueid", "queue_legs", ["uniqueid"])
    op.create_index("ix_queue_legs_queue", "queue_legs", ["queue"])
    op.create_index("ix_queue_legs_joined_at", "queue_legs", ["joined_at"])


def downgrade() -> None:
    op.drop_table("queue_legs")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("language")
