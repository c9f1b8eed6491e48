"""The migrated store that test stores are copied from (`tests.migrated`) is at the
head of the migrations, and a copy of it is owner-only like any store."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from alembic.script import ScriptDirectory

from tests.migrated import MIGRATIONS_DIR, copy_migrated_sqlite


def test_a_copy_is_at_the_head_and_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "cases.db"
    copy_migrated_sqlite(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with sqlite3.connect(target) as db:
        [(revision,)] = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert revision == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_a_copy_into_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "cases.db"
    target.write_bytes(b"")
    target.chmod(0o640)
    copy_migrated_sqlite(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_bytes().startswith(b"SQLite format 3\0")
