"""calendar closures (typhoon days) declared by the city

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `calendar_closures`; no existing table changes."""
    # As in 0001, types are spelled out so this revision keeps describing its own day.
    op.create_table(
        "calendar_closures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("closes_at", sa.Time(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_closures"),
    )
    op.create_index("ix_calendar_closures_day", "calendar_closures", ["day"])


def downgrade() -> None:
    op.drop_index("ix_calendar_closures_day", table_name="calendar_closures")
    op.drop_table("calendar_closures")
