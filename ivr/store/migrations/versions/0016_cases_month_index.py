"""cases: an index for one profile's month (the cases report)

Revision ID: 0016_cases_month_index
Revises: 0015_queued_callbacks
Create Date: 2026-11-30

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016_cases_month_index"
down_revision: str | Sequence[str] | None = "0015_queued_callbacks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """An index only: every row stays as it is."""
    op.create_index("ix_cases_profile_created_at", "cases", ["profile", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_profile_created_at", table_name="cases")
