"""A private, throwaway PostgreSQL server for tests.

    with PostgresServer() as pg:
        url = pg.url            # postgresql+asyncpg://postgres@127.0.0.1:PORT/hotline_test
        pg.stop(); pg.start()   # same port and data, for outage tests

Uses the Debian `postgresql` package's binaries; nothing is installed or configured
system-wide, and the cluster lives in a temporary directory removed on exit.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.ports import free_port

PG_ROOT = Path("/usr/lib/postgresql")
DATABASE = "hotline_test"
READY_TIMEOUT_S = 30.0
_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def find_bindir(root: Path = PG_ROOT) -> Path:
    """The bin directory of the newest installed PostgreSQL major version."""
    candidates = [
        d / "bin" for d in root.glob("*") if d.name.isdigit() and (d / "bin" / "initdb").is_file()
    ]
    if not candidates:
        raise RuntimeError(
            f"no PostgreSQL server binaries under {root}/*/bin; "
            "run `apt-get install postgresql` (`make test` does this)"
        )
    return max(candidates, key=lambda b: int(b.parent.name))


class PostgresServer:
    """Start a PostgreSQL cluster on a free loopback port; stop and delete it on exit."""

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.port = 0
        self._tmp: Path | None = None
        self._running = False
        # initdb and postgres refuse to run as root, so as root we run them as the
        # `postgres` user the Debian package creates.
        self._as_owner: list[str] = []
        self._owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            self._owner = pwd.getpwnam("postgres")
            self._as_owner = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return self.url_for(DATABASE)

    def url_for(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def _datadir(self) -> Path:
        assert self._tmp is not None, "server was never set up"
        return self._tmp / "data"

    def __enter__(self) -> PostgresServer:
        try:
            self._setup()
            self.start()
            self.create_database(DATABASE)
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def _setup(self) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        if self._owner is not None:
            os.chown(self._tmp, self._owner.pw_uid, self._owner.pw_gid)
        self._run_as_owner(
            "initdb",
            "--pgdata",
            str(self._datadir),
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--username=postgres",
            "--no-sync",
            "--no-instructions",
        )
        # The port is fixed once, so `url` stays valid across stop()/start().
        self.port = free_port()
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self._tmp}'",
            # Durability buys nothing for a throwaway cluster and costs seconds per run.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        with (self._datadir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# hotline1999 tests\n")
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def start(self) -> None:
        """Start the server (again) and wait, bounded, until it accepts connections."""
        if self._running:
            return
        assert self._tmp is not None
        self._run_as_owner(
            "pg_ctl",
            "start",
            "--pgdata",
            str(self._datadir),
            "--no-wait",
            "--log",
            str(self._tmp / "server.log"),
        )
        self._running = True
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            ready = subprocess.run(
                [
                    str(self.bindir / "pg_isready"),
                    "--quiet",
                    "--host=127.0.0.1",
                    f"--port={self.port}",
                    "--username=postgres",
                    "--timeout=2",
                ],
                check=False,
            )
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"PostgreSQL not ready after {READY_TIMEOUT_S:.0f}s on port {self.port}; "
                    f"server log:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (fast shutdown: clients are disconnected)."""
        if not self._running:
            return
        self._run_as_owner("pg_ctl", "stop", "--pgdata", str(self._datadir), "--mode=fast")
        self._running = False

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        self._psql(f'CREATE DATABASE "{self._ident(name)}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        self._psql(f'DROP DATABASE IF EXISTS "{self._ident(name)}" WITH (FORCE)')

    def reset_database(self, name: str) -> None:
        """Empty a database by recreating its public schema.

        About 20 ms, against about 350 ms for CREATE DATABASE, so suites can give each
        test a clean database. Nobody may hold a connection to it meanwhile.
        """
        self._psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public", database=name)

    def clone_database(self, name: str, template: str) -> None:
        """Make `name` anew as a copy of `template` (about 0.1 s; nobody may be connected
        to the template). FILE_COPY measured faster than WAL_LOG for a small one."""
        self.drop_database(name)
        self._psql(
            f'CREATE DATABASE "{self._ident(name)}" TEMPLATE "{self._ident(template)}" '
            "STRATEGY FILE_COPY"
        )

    def empty_tables(self, name: str, keep: str = "alembic_version") -> None:
        """Delete every row of `name`'s tables but `keep`'s, and restart its sequences.

        The schema stays as it is. About 50 ms of the server's CPU for the case store,
        against about 500 ms for a database made from a template: CREATE DATABASE
        checkpoints, and the new database's first sessions build their catalog caches
        from nothing. TRUNCATE, which makes new files for every table, took 240 ms.
        Foreign keys are not enforced meanwhile (`session_replication_role`, for this
        transaction only), so the order of the tables does not matter.
        """
        self._psql(
            "DO $$ DECLARE r record; BEGIN "
            "PERFORM set_config('session_replication_role', 'replica', true); "
            "FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            f"AND tablename <> '{self._ident(keep)}' LOOP "
            "EXECUTE format('DELETE FROM %I', r.tablename); END LOOP; "
            "FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP "
            "EXECUTE format('ALTER SEQUENCE %I RESTART', r.sequencename); END LOOP; END $$",
            database=name,
        )

    def wait_unused(self, name: str, most_s: float = 30.0) -> None:
        """Wait until no session is connected to `name`: a client's close returns before
        the server's backend has ended, and a database being accessed cannot be a
        template."""
        deadline = time.monotonic() + most_s
        while self._connections(name):
            if time.monotonic() > deadline:
                raise RuntimeError(f"sessions still connected to {name} after {most_s} s")
            time.sleep(0.05)

    def _connections(self, name: str) -> int:
        out = subprocess.run(
            [
                str(self.bindir / "psql"),
                *("--no-psqlrc", "--quiet", "--tuples-only", "--no-align"),
                *("--host=127.0.0.1", f"--port={self.port}", "--username=postgres"),
                "--dbname=postgres",
                "--command",
                f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{self._ident(name)}'",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.strip() or "0")

    def log_tail(self, lines: int = 40) -> str:
        if self._tmp is None or not (self._tmp / "server.log").exists():
            return "(no log)"
        text = (self._tmp / "server.log").read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def cleanup(self) -> None:
        """Stop the server if it runs and delete its files; safe to call twice."""
        if self._running:
            # If it is already gone, the directory is removed all the same.
            with contextlib.suppress(RuntimeError):
                self._run_as_owner(
                    "pg_ctl", "stop", "--pgdata", str(self._datadir), "--mode=immediate"
                )
            self._running = False
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    @staticmethod
    def _ident(name: str) -> str:
        # Test-chosen names only; refuse anything that would need quoting.
        if not _IDENT.fullmatch(name):
            raise ValueError(f"not a plain lower-case SQL identifier: {name!r}")
        return name

    def _psql(self, sql: str, database: str = "postgres") -> None:
        self._run(
            str(self.bindir / "psql"),
            "--no-psqlrc",
            "--quiet",
            "--host=127.0.0.1",
            f"--port={self.port}",
            "--username=postgres",
            f"--dbname={self._ident(database)}",
            "--set=ON_ERROR_STOP=1",
            "--command",
            sql,
        )

    def _run_as_owner(self, tool: str, *args: str) -> None:
        self._run(*self._as_owner, str(self.bindir / tool), *args)

    def _run(self, *argv: str) -> None:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
        if done.returncode != 0:
            output = done.stderr.strip() or done.stdout.strip()
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {output}")
