"""the language a callback is owed in: tickets.language

Revision ID: 0013
Revises: 0007
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A waiting caller's callback is owed in the language they chose (DOMAIN 3a)."""
    # Existing tickets keep NULL: nobody recorded which language they were owed in.
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("language")
