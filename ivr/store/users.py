"""The console's users and sessions in the case store: argon2 passwords, lockout, expiry.

Uses the case store's own engine and sessions. Rules (lockout, expiry) are pure, in
ivr.domain.signin; this module only reads and writes.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ivr.domain import signin
from ivr.domain.vocabulary import Role, UiLanguage
from ivr.errors import ExitStatus, HotlineError
from ivr.store.models import require_utc_aware
from ivr.store.users_models import ConsoleSession, ConsoleUser

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore

# argon2id with argon2-cffi's defaults (RFC 9106's second recommendation): about
# 0.3 s of CPU per hash. A password is checked against the parameters its own stored
# hash names, so a store may be given a cheaper hasher for the users it adds (the
# browser tests, which add hundreds) without weakening anyone else's.
DEFAULT_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name takes as long as a
    wrong password and names cannot be told apart by timing. Made at the first sign-in,
    not at import: every engine and CLI start would pay for it."""
    return DEFAULT_HASHER.hash(secrets.token_urlsafe(16))


class UserError(HotlineError, ValueError):
    """A user cannot be added or changed as asked; the message says why."""

    code = "user.refused"
    exit_status = ExitStatus.REFUSED


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: Role
    language: UiLanguage
    agent_id: str | None
    extension: str | None
    agency_id: str | None
    unit_id: str | None
    disabled: bool
    locked_until: datetime | None


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: a user with a new session, or why not."""

    user: User | None
    token: str | None = None
    csrf_token: str | None = None
    # "bad_credentials", "locked" or "disabled"; None when signed in.
    refused: str | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    created_at: datetime


def _user(row: ConsoleUser) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        language=UiLanguage(row.language),
        agent_id=row.agent_id,
        extension=row.extension,
        agency_id=row.agency_id,
        unit_id=row.unit_id,
        disabled=row.disabled,
        locked_until=row.locked_until,
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class UserStore:
    """Console users and sessions, over an open CaseStore."""

    def __init__(self, store: CaseStore, hasher: PasswordHasher = DEFAULT_HASHER) -> None:
        self._store = store
        self._hasher = hasher

    async def add(
        self,
        username: str,
        password: str,
        *,
        role: Role,
        at: datetime,
        display_name: str | None = None,
        language: UiLanguage = UiLanguage.ZH_TW,
        agent_id: str | None = None,
        extension: str | None = None,
        agency_id: str | None = None,
        unit_id: str | None = None,
    ) -> User:
        """Add a user; UserError if the name is taken or the password too weak."""
        at = require_utc_aware(at, "at")
        if not username or len(username) > 64 or not username.isprintable() or " " in username:
            raise UserError(f"user name {username!r}: 1 to 64 printable characters, no spaces")
        problem = signin.password_problem(password)
        if problem:
            raise UserError(problem)
        row = ConsoleUser(
            username=username,
            display_name=(display_name or username)[:128],
            role=Role(role),
            password_hash=self._hasher.hash(password),
            language=UiLanguage(language),
            agent_id=agent_id,
            extension=extension,
            agency_id=agency_id,
            unit_id=unit_id,
            disabled=False,
            failed_signins=0,
            created_at=at,
            password_changed_at=at,
        )
        try:
            async with self._store._session() as session, session.begin():
                session.add(row)
        except IntegrityError as exc:
            raise UserError(f"user {username!r} already exists") from exc
        found = await self.get(username)
        assert found is not None
        return found

    async def get(self, username: str) -> User | None:
        async with self._store._session() as session:
            row = (
                await session.scalars(select(ConsoleUser).where(ConsoleUser.username == username))
            ).one_or_none()
        return None if row is None else _user(row)

    async def list(self) -> list[User]:
        async with self._store._session() as session:
            rows = (await session.scalars(select(ConsoleUser).order_by(ConsoleUser.id))).all()
        return [_user(r) for r in rows]

    async def set_password(self, username: str, password: str, *, at: datetime) -> None:
        """Change a password; every session of the user ends with it."""
        problem = signin.password_problem(password)
        if problem:
            raise UserError(problem)
        await self._change(
            username,
            password_hash=self._hasher.hash(password),
            password_changed_at=require_utc_aware(at, "at"),
            failed_signins=0,
            locked_until=None,
        )

    async def disable(self, username: str) -> None:
        """A disabled user cannot sign in; their open sessions end now."""
        await self._change(username, disabled=True)

    async def set_language(self, user_id: int, language: UiLanguage) -> None:
        async with self._store._session() as session, session.begin():
            await session.execute(
                update(ConsoleUser)
                .where(ConsoleUser.id == user_id)
                .values(language=UiLanguage(language))
            )

    async def _change(self, username: str, **values: object) -> None:
        async with self._store._session() as session, session.begin():
            row = (
                await session.scalars(select(ConsoleUser).where(ConsoleUser.username == username))
            ).one_or_none()
            if row is None:
                raise UserError(f"no user {username!r}")
            await session.execute(
                update(ConsoleUser).where(ConsoleUser.id == row.id).values(**values)
            )
            await session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == row.id))

    async def sign_in(
        self, username: str, password: str, *, at: datetime, address: str | None
    ) -> SignIn:
        """Check a password; on success open a session. Failures count toward lockout."""
        at = require_utc_aware(at, "at")
        async with self._store._session() as session, session.begin():
            row = (
                await session.scalars(select(ConsoleUser).where(ConsoleUser.username == username))
            ).one_or_none()
            if row is None:
                _verify(_dummy_hash(), password)
                return SignIn(user=None, refused="bad_credentials")
            if signin.is_locked(row.locked_until, at):
                return SignIn(user=_user(row), refused="locked", locked_until=row.locked_until)
            if not _verify(row.password_hash, password):
                failures = row.failed_signins + 1
                locked = signin.lockout_after(failures, at)
                await session.execute(
                    update(ConsoleUser)
                    .where(ConsoleUser.id == row.id)
                    .values(failed_signins=failures, locked_until=locked)
                )
                return SignIn(
                    user=_user(row),
                    refused="locked" if locked else "bad_credentials",
                    locked_until=locked,
                )
            if row.disabled:
                return SignIn(user=_user(row), refused="disabled")
            await session.execute(
                update(ConsoleUser)
                .where(ConsoleUser.id == row.id)
                .values(failed_signins=0, locked_until=None)
            )
            token = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            session.add(
                ConsoleSession(
                    token_hash=token_hash(token),
                    user_id=row.id,
                    csrf_token=csrf,
                    created_at=at,
                    last_seen_at=at,
                    address=(address or "")[:64] or None,
                )
            )
            user = _user(row)
        return SignIn(user=user, token=token, csrf_token=csrf)

    async def session(self, token: str, *, at: datetime, touch: bool = True) -> Session | None:
        """The live session of a cookie's token, touched; None if unknown or expired.

        `touch=False` only looks: an open event stream checks its session that way, so
        a page left open does not keep its session alive past the idle limit.
        """
        at = require_utc_aware(at, "at")
        key = token_hash(token)
        async with self._store._session() as session, session.begin():
            found = (
                await session.execute(
                    select(ConsoleSession, ConsoleUser)
                    .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
                    .where(ConsoleSession.token_hash == key)
                )
            ).one_or_none()
            if found is None:
                return None
            row, user = found
            if user.disabled or signin.session_expired(row.created_at, row.last_seen_at, at):
                await session.execute(
                    delete(ConsoleSession).where(ConsoleSession.token_hash == key)
                )
                return None
            if not touch:
                return Session(
                    user=_user(user), csrf_token=row.csrf_token, created_at=row.created_at
                )
            await session.execute(
                update(ConsoleSession)
                .where(ConsoleSession.token_hash == key)
                .values(last_seen_at=at)
            )
            return Session(user=_user(user), csrf_token=row.csrf_token, created_at=row.created_at)

    async def sign_out(self, token: str) -> None:
        async with self._store._session() as session, session.begin():
            await session.execute(
                delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash(token))
            )


def _verify(stored: str, password: str) -> bool:
    try:
        return DEFAULT_HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
