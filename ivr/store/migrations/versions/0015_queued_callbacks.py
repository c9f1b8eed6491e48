"""queued_callbacks: a waiting caller's place kept while they hang up (issue 18)

Revision ID: 0015_queued_callbacks
Revises: 0013
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015_queued_callbacks"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Two new tables; nothing existing changes."""
    op.create_table(
        "queued_callbacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticket_number", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_queued_callbacks"),
        sa.UniqueConstraint("idempotency_key", name="uq_queued_callbacks_idempotency_key"),
    )
    op.create_index("ix_queued_callbacks_uniqueid", "queued_callbacks", ["uniqueid"])
    op.create_index("ix_queued_callbacks_requested_at", "queued_callbacks", ["requested_at"])
    op.create_index("ix_queued_callbacks_state", "queued_callbacks", ["state"])
    op.create_table(
        "queued_callback_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["queued_callbacks.id"],
            name="fk_queued_callback_attempts_callback_id_queued_callbacks",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_queued_callback_attempts"),
        sa.UniqueConstraint(
            "callback_id", "attempt", name="uq_queued_callback_attempts_callback_id_attempt"
        ),
        sa.UniqueConstraint("channel_id", name="uq_queued_callback_attempts_channel_id"),
    )
    op.create_index(
        "ix_queued_callback_attempts_callback_id", "queued_callback_attempts", ["callback_id"]
    )


def downgrade() -> None:
    op.drop_table("queued_callback_attempts")
    op.drop_table("queued_callbacks")
