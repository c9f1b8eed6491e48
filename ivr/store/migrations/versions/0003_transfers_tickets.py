"""transfers, dial attempts and callback tickets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `transfers`, `tickets`, `dial_attempts`, ticket notes, events and counters."""
    # As in 0001, types are spelled out so this revision keeps describing its own day.
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("initiated_by", sa.String(length=16), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_transfers"),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name="fk_transfers_call_id_calls", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_transfers_call_id", "transfers", ["call_id"])
    op.create_index("ix_transfers_started_at", "transfers", ["started_at"])

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("transfer_id", sa.Integer(), nullable=True),
        sa.Column("caller_number", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("overdue", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_path", sa.String(length=256), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=256), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name="fk_tickets_call_id_calls", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.id"],
            name="fk_tickets_transfer_id_transfers",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("number", name="uq_tickets_number"),
    )
    op.create_index("ix_tickets_call_id", "tickets", ["call_id"])
    op.create_index("ix_tickets_transfer_id", "tickets", ["transfer_id"])
    op.create_index("ix_tickets_status", "tickets", ["status"])
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    op.create_index("ix_tickets_due_at", "tickets", ["due_at"])

    op.create_table(
        "dial_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dialstatus", sa.String(length=16), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("ring_seconds", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dial_attempts"),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.id"],
            name="fk_dial_attempts_transfer_id_transfers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_dial_attempts_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        # The unique constraints also index both foreign keys (leading column).
        sa.UniqueConstraint("transfer_id", "seq", name="uq_dial_attempts_transfer_id_seq"),
        sa.UniqueConstraint("ticket_id", "seq", name="uq_dial_attempts_ticket_id_seq"),
        # op.f(): the name is final; the ck naming convention would prefix it again.
        sa.CheckConstraint(
            "(transfer_id IS NULL) <> (ticket_id IS NULL)",
            name=op.f("ck_dial_attempts_one_parent"),
        ),
    )

    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_notes"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_ticket_notes_ticket_id_tickets",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_ticket_notes_ticket_id", "ticket_notes", ["ticket_id"])

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_events"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_ticket_events_ticket_id_tickets",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"])

    op.create_table(
        "ticket_number_counters",
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name="pk_ticket_number_counters"),
    )


def downgrade() -> None:
    """Drop everything `upgrade` created, dependants first."""
    op.drop_table("ticket_number_counters")
    op.drop_index("ix_ticket_events_ticket_id", table_name="ticket_events")
    op.drop_table("ticket_events")
    op.drop_index("ix_ticket_notes_ticket_id", table_name="ticket_notes")
    op.drop_table("ticket_notes")
    op.drop_table("dial_attempts")
    for column in ("due_at", "created_at", "status", "transfer_id", "call_id"):
        op.drop_index(f"ix_tickets_{column}", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index("ix_transfers_started_at", table_name="transfers")
    op.drop_index("ix_transfers_call_id", table_name="transfers")
    op.drop_table("transfers")
