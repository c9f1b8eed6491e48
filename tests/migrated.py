"""A migrated SQLite case store, built once for each set of migrations and copied.

Most stores a test starts from are empty: every stack's, every console's, the flow
tests'. Migrating an empty store runs all the migrations, about 1 CPU-s on SQLite
(batch mode rebuilds tables), and the suite started some hundred of them. So the store
the migrations write is kept, keyed by the content of every migration, and each test
store is a byte copy of it. What opens the copy still runs `migrate()`, which finds it
at the head. The migrations themselves are tested from an empty store and from a
previous release's store by `tests/store`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ivr.store
from ivr.store import CaseStore, default_sqlite_url

MIGRATIONS_DIR = Path(ivr.store.__file__).parent / "migrations"


def _digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(MIGRATIONS_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def migrated_sqlite() -> Path:
    """The cached migrated store for the migrations as they are now (built if missing).

    Shared by every test session on the machine, as the prompt cache is: the key
    changes with any migration, and the file is renamed into place whole, so a reader
    never sees half a store."""
    cache = Path(tempfile.gettempdir()) / "hotline1999-test-stores" / f"{_digest()}.sqlite3"
    if cache.exists():
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=cache.parent, prefix=".building-"))
    try:
        path = building / cache.name
        migrate_store(default_sqlite_url(path))
        # Closed, SQLite has folded its write-ahead log into the file; a log left
        # beside it would hold part of the schema, and a copy of the file alone
        # would lack it.
        assert not path.with_name(path.name + "-wal").exists(), "store closed with a WAL"
        path.chmod(0o644)
        os.replace(path, cache)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return cache


def copy_migrated_sqlite(target: Path) -> None:
    """Fill `target` with a migrated store. An existing file keeps its mode (a stack's
    store is made owner-only before anything opens it); a new one is owner-only."""
    source = migrated_sqlite()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out)


def migrate_store(url: str) -> None:
    """Migrate the store at `url` on a thread of its own, so that a caller inside an
    event loop (a fixture of pytest-asyncio's) can use it too."""

    async def migrate() -> None:
        store = await CaseStore.open(url)
        try:
            await store.migrate()
        finally:
            await store.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, migrate()).result()
