"""Console users and sessions in the store (SQLite and PostgreSQL), and the 0011 upgrade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import Connection

import ivr.store
from ivr.domain.vocabulary import Role, UiLanguage
from ivr.store import CaseStore
from ivr.store.users import UserError, UserStore
from ivr.store.users_models import ConsoleUser

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery-staple"
# argon2id at its least cost, for the tests whose subject is not the cost: at the
# console's own (0.3 CPU-s a hash or a check) these tests took 15 CPU-s. The cost
# itself is what test_the_default_cost_… checks.
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


async def test_a_user_signs_in_and_the_session_lives_until_idle(store: CaseStore) -> None:
    """The password is stored as argon2id; a session is found by its token until idle."""
    users = UserStore(store, CHEAP)
    user = await users.add("agent1", PASSWORD, role=Role.AGENT, at=T0, agent_id="a01")
    assert (user.role, user.language, user.agent_id) == (Role.AGENT, UiLanguage.ZH_TW, "a01")
    async with store._session() as session:
        stored = (await session.get(ConsoleUser, user.id)).password_hash  # type: ignore[union-attr]
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    signed = await users.sign_in("agent1", PASSWORD, at=T0, address="127.0.0.1")
    assert signed.refused is None
    assert signed.token is not None
    found = await users.session(signed.token, at=T0 + timedelta(minutes=29))
    assert found is not None
    assert found.user.username == "agent1"
    # Touched at 29 minutes: still alive 29 minutes after that.
    assert await users.session(signed.token, at=T0 + timedelta(minutes=58)) is not None
    assert await users.session(signed.token, at=T0 + timedelta(minutes=89)) is None
    assert await users.session("not-a-token", at=T0) is None


async def test_the_default_cost_is_argon2s_and_a_cheaper_hash_still_verifies(
    store: CaseStore,
) -> None:
    """Users are hashed at argon2-cffi's default cost unless the store is given another
    hasher; a password is checked against the cost its own hash names."""
    default = await UserStore(store).add("dflt", PASSWORD, role=Role.AGENT, at=T0)
    light = await UserStore(store, CHEAP).add("light", PASSWORD, role=Role.AGENT, at=T0)
    async with store._session() as session:
        hashes = {
            u.username: (await session.get(ConsoleUser, u.id)).password_hash  # type: ignore[union-attr]
            for u in (default, light)
        }
    assert "$m=65536,t=3,p=4$" in hashes["dflt"]
    assert "$m=1024,t=1,p=1$" in hashes["light"]
    users = UserStore(store)
    for name in ("dflt", "light"):
        signed = await users.sign_in(name, PASSWORD, at=T0, address="127.0.0.1")
        assert signed.refused is None, name
        wrong = await users.sign_in(name, PASSWORD + "x", at=T0, address="127.0.0.1")
        assert wrong.refused == "bad_credentials", name


async def test_wrong_passwords_lock_the_account_and_the_lock_lifts(store: CaseStore) -> None:
    users = UserStore(store, CHEAP)
    await users.add("sup", PASSWORD, role=Role.SUPERVISOR, at=T0)
    for i in range(4):
        out = await users.sign_in(
            "sup", "wrong-password!", at=T0 + timedelta(seconds=i), address=None
        )
        assert out.refused == "bad_credentials"
    out = await users.sign_in("sup", "wrong-password!", at=T0 + timedelta(seconds=5), address=None)
    assert out.refused == "locked"
    assert out.locked_until == T0 + timedelta(seconds=35)
    right = await users.sign_in("sup", PASSWORD, at=T0 + timedelta(seconds=20), address=None)
    assert right.refused == "locked"
    assert right.token is None
    later = await users.sign_in("sup", PASSWORD, at=T0 + timedelta(seconds=36), address=None)
    assert later.refused is None


async def test_disable_and_a_new_password_end_every_session(store: CaseStore) -> None:
    users = UserStore(store, CHEAP)
    await users.add("off", PASSWORD, role=Role.OFFICER, at=T0)
    first = await users.sign_in("off", PASSWORD, at=T0, address=None)
    assert first.token is not None
    await users.set_password("off", "another-long-password", at=T0)
    assert await users.session(first.token, at=T0) is None
    assert (await users.sign_in("off", PASSWORD, at=T0, address=None)).token is None
    second = await users.sign_in("off", "another-long-password", at=T0, address=None)
    assert second.token is not None
    await users.disable("off")
    assert await users.session(second.token, at=T0) is None
    refused = await users.sign_in("off", "another-long-password", at=T0, address=None)
    assert refused.refused == "disabled"


async def test_a_taken_name_or_a_short_password_is_refused(store: CaseStore) -> None:
    users = UserStore(store, CHEAP)
    await users.add("dup", PASSWORD, role=Role.ADMIN, at=T0)
    with pytest.raises(UserError, match="already exists"):
        await users.add("dup", PASSWORD, role=Role.ADMIN, at=T0)
    with pytest.raises(UserError, match="12 characters"):
        await users.add("short", "abc", role=Role.ADMIN, at=T0)
    assert [u.username for u in await users.list()] == ["dup"]


async def test_upgrade_to_0011_keeps_a_store_written_by_0007(db_url: str) -> None:
    """A 0007 store with a ticket upgrades: the ticket is kept, and users can be added."""
    store = await CaseStore.open(db_url)
    config = Config()
    config.set_main_option("script_location", str(Path(ivr.store.__file__).parent / "migrations"))

    def to_0007(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")

    try:
        async with store._engine.begin() as conn:
            await conn.run_sync(to_0007)
            await conn.execute(
                text(
                    "INSERT INTO tickets (number, caller_number, agency_id, reason, status, "
                    "created_at, due_at) VALUES ('26110001', '0912345678', 'dot', 'busy', "
                    "'open', :t, :t)"
                ),
                {"t": T0},
            )
        await store.migrate()
        ticket = await store.get_ticket_by_number("26110001")
        assert ticket is not None
        assert ticket.caller_number == "0912345678"
        user = await UserStore(store, CHEAP).add("first", PASSWORD, role=Role.AUDITOR, at=T0)
        assert user.role is Role.AUDITOR
    finally:
        await store.close()
