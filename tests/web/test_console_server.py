"""The console beside the engine: a taken port never takes the engine down."""

from __future__ import annotations

import socket
from pathlib import Path

from ivr.domain.clock import system_clock
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from ivr.store import CaseStore, default_sqlite_url
from ivr.web.server import start_console
from tests.web.conftest import REPO


async def test_a_taken_port_leaves_the_engine_running_without_a_console(tmp_path: Path) -> None:
    """start_console answers None (and logs) when its port is taken; nothing raises."""
    tables = load_profile(REPO / "routing" / "taipei")
    view = build_view(tables)
    store = await CaseStore.open(default_sqlite_url(tmp_path / "c.db"))
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            running = await start_console(
                store=store,
                ami=None,
                tables=lambda: tables,
                view=lambda: view,
                clock=system_clock,
                host="127.0.0.1",
                port=taken.getsockname()[1],
            )
        assert running is None
    finally:
        await store.close()
