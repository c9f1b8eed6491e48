"""routing versions: published versions kept whole, drafts, per-profile settings, and
the version that served each call

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
# Written on 0007; chained after the console's 0011 once both were on one branch.
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """New tables only: existing data is untouched."""
    op.create_table(
        "routing_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("rollback_of", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_routing_versions"),
        sa.UniqueConstraint("profile", "number", name="uq_routing_versions_profile_number"),
    )
    op.create_index("ix_routing_versions_digest", "routing_versions", ["digest"])
    op.create_table(
        "routing_drafts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("base", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_digest", sa.String(length=64), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_by", sa.String(length=64), nullable=True),
        sa.Column("scheduled_comment", sa.String(length=500), nullable=True),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_routing_drafts"),
        sa.UniqueConstraint("idempotency_key", name="uq_routing_drafts_idempotency_key"),
    )
    op.create_index("ix_routing_drafts_profile", "routing_drafts", ["profile"])
    op.create_index("ix_routing_drafts_scheduled_at", "routing_drafts", ["scheduled_at"])
    op.create_table(
        "routing_profile_settings",
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("two_person_rule", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("profile", name="pk_routing_profile_settings"),
    )
    op.create_table(
        "call_routing_versions",
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uniqueid", name="pk_call_routing_versions"),
    )


def downgrade() -> None:
    op.drop_table("call_routing_versions")
    op.drop_table("routing_profile_settings")
    op.drop_index("ix_routing_drafts_scheduled_at", table_name="routing_drafts")
    op.drop_index("ix_routing_drafts_profile", table_name="routing_drafts")
    op.drop_table("routing_drafts")
    op.drop_index("ix_routing_versions_digest", table_name="routing_versions")
    op.drop_table("routing_versions")
