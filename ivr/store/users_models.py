"""Tables of the web console's users and their sign-in sessions (migration 0011)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ivr.domain.vocabulary import Role, UiLanguage, values
from ivr.store.models import Base, UTCDateTime


def _one_of(column: str, words: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{w}'" for w in words)
    return f"{column} IN ({quoted})"


class ConsoleUser(Base):
    """A person who signs in to the console: one role, one interface language."""

    __tablename__ = "console_users"
    __table_args__ = (
        CheckConstraint(_one_of("role", values(Role)), name="ck_console_users_role"),
        CheckConstraint(_one_of("language", values(UiLanguage)), name="ck_console_users_language"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(128), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    # argon2id, in its PHC string form (algorithm, parameters, salt and hash).
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    # An agent's id in the routing tables (agents.yaml); their phone is its extension.
    agent_id: Mapped[str | None] = mapped_column(String(32))
    # An officer's or liaison's own phone, rung first by click-to-callback.
    extension: Mapped[str | None] = mapped_column(String(16))
    agency_id: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    failed_signins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class ConsoleSession(Base):
    """A signed-in browser. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("console_users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    address: Mapped[str | None] = mapped_column(String(64))
