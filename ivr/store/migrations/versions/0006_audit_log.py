"""audit log of personal-data views, and de-identification marks

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `audit_log`; mark when a call or a ticket was de-identified."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=256), nullable=True),
        sa.Column("reason", sa.String(length=512), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_who", "audit_log", ["who"])
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])
    # Nullable columns: existing rows stay as they were, not yet de-identified.
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("deidentified_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("deidentified_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("deidentified_at")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("deidentified_at")
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    op.drop_index("ix_audit_log_who", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
