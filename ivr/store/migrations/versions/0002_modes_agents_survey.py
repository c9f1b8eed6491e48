"""service modes, agent states, survey ratings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `service_modes`, `agent_states` and `survey_ratings`."""
    # As in 0001, types are spelled out so this revision keeps describing its own day.
    op.create_table(
        "service_modes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mode", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_modes"),
    )

    op.create_table(
        "agent_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queues", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("call_uniqueid", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_agent_states"),
    )
    op.create_index("ix_agent_states_agent_id", "agent_states", ["agent_id"])

    op.create_table(
        "survey_ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=True),
        sa.Column("queue", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_survey_ratings"),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name="fk_survey_ratings_call_id_calls",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("call_id", name="uq_survey_ratings_call_id"),
        # op.f(): the name is final; the ck naming convention would prefix it again.
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_survey_ratings_rating_range")),
    )


def downgrade() -> None:
    """Drop `survey_ratings`, `agent_states` and `service_modes`."""
    op.drop_table("survey_ratings")
    op.drop_index("ix_agent_states_agent_id", table_name="agent_states")
    op.drop_table("agent_states")
    op.drop_table("service_modes")
