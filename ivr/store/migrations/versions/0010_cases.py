"""cases: petitions, dispatch orders and the other service types, with clocks and history

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """New tables only: calls, tickets and everything already stored stay as they are."""
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("profile", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("caller_number", sa.String(length=32), nullable=True),
        sa.Column("caller_key", sa.String(length=64), nullable=True),
        sa.Column("caller_name", sa.String(length=64), nullable=True),
        sa.Column("caller_email", sa.String(length=254), nullable=True),
        sa.Column("caller_address", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("district", sa.String(length=16), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("item", sa.Integer(), nullable=True),
        sa.Column("variant", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=True),
        sa.Column("officer", sa.String(length=64), nullable=True),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("summary", sa.String(length=4000), nullable=False),
        sa.Column("reply", sa.String(length=8000), nullable=True),
        sa.Column("nothing_found", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=128), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("converted_to_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("first_reply_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("deidentified_at", TS, nullable=True),
        sa.Column("from_paper", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["cases.id"],
            name="fk_cases_merged_into_id_cases",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["converted_to_id"],
            ["cases.id"],
            name="fk_cases_converted_to_id_cases",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("profile", "number", name="uq_cases_profile_number"),
        sa.UniqueConstraint("idempotency_key", name="uq_cases_idempotency_key"),
    )
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_index("ix_cases_caller_key", "cases", ["caller_key"])
    op.create_index("ix_cases_created_at", "cases", ["created_at"])
    op.create_index("ix_cases_kind_created_at", "cases", ["kind", "created_at"])

    op.create_table(
        "case_counters",
        sa.Column("profile", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("profile", name="pk_case_counters"),
    )

    op.create_table(
        "case_clocks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("clock", sa.String(length=16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("stopped_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_case_clocks"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_clocks_case_id_cases", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_case_clocks_case_id", "case_clocks", ["case_id"])
    op.create_index("ix_case_clocks_open_due", "case_clocks", ["stopped_at", "due_at"])

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("who", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=8000), nullable=True),
        sa.Column("data", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_events_case_id_cases", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_case_events_idempotency_key"),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])

    op.create_table(
        "case_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_links"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_links_case_id_cases", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name="fk_case_links_call_id_calls", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_case_links_ticket_id_tickets",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("case_id", "call_id", name="uq_case_links_case_id_call_id"),
        sa.UniqueConstraint("case_id", "ticket_id", name="uq_case_links_case_id_ticket_id"),
    )
    op.create_index("ix_case_links_case_id", "case_links", ["case_id"])
    op.create_index("ix_case_links_call_id", "case_links", ["call_id"])
    op.create_index("ix_case_links_ticket_id", "case_links", ["ticket_id"])

    op.create_table(
        "call_services",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=True),
        sa.Column("agent_id", sa.String(length=32), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_call_services"),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name="fk_call_services_call_id_calls", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_call_services_case_id_cases", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_call_services_idempotency_key"),
    )
    op.create_index("ix_call_services_call_id", "call_services", ["call_id"])
    op.create_index("ix_call_services_case_id", "call_services", ["case_id"])
    op.create_index("ix_call_services_at_service", "call_services", ["at", "service", "agency_id"])


def downgrade() -> None:
    op.drop_table("call_services")
    op.drop_table("case_links")
    op.drop_table("case_events")
    op.drop_table("case_clocks")
    op.drop_table("case_counters")
    op.drop_table("cases")
