"""tickets made after a store outage, each once: the after_outage mark and an idempotency key

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Mark tickets made when the store returned; key them so replay makes each once."""
    # Existing tickets were all committed while the caller was on the line: not after
    # an outage, and made by no replay (NULL keys never collide).
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("after_outage", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_tickets_idempotency_key", ["idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("uq_tickets_idempotency_key", type_="unique")
        batch.drop_column("idempotency_key")
        batch.drop_column("after_outage")
