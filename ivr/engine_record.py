"""The engine's record in the run directory (ENGINE_FILE), kept current for the CLI.

`ivr status`, the supervisor and `ivr routing reload` read it: the engine's pid, AGI
port, routing version, console URL and the state of its AMI and ARI links. It is
written whole (a temporary file renamed), at start, on a routing reload and whenever a
link goes down or comes back.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import TYPE_CHECKING, Any

from ivr.adapters.ami import Outage
from ivr.engine_file import ENGINE_FILE

if TYPE_CHECKING:
    from ivr.app import Engine

# How often the engine looks at its AMI and ARI links to note a change in ENGINE_FILE.
LINK_POLL_S = 0.25


def _link(connected: bool, outages: list[Outage]) -> dict[str, Any]:
    last = outages[-1] if outages else None
    return {
        "state": "up" if connected else ("down" if outages else "connecting"),
        "outages": len(outages),
        "last_outage": None
        if last is None
        else {
            "down_at": last.down_at.isoformat(),
            "up_at": last.up_at.isoformat() if last.up_at else None,
            "reason": last.reason,
        },
    }


def _links(engine: Engine) -> dict[str, Any]:
    return {
        "ami": _link(engine.ami.connected, engine.ami.outages),
        "ari": _link(engine.ari.connected, engine.ari.outages),
    }


def write_engine_file(engine: Engine) -> None:
    """pid, AGI port, routing version and the AMI/ARI links, for the CLI; never half-written."""
    info = {
        "pid": os.getpid(),
        "agi_port": engine.agi.port,
        "routing_version": engine.routing.holder.version,
        # Non-zero: the profile on disk was refused at start; the last good copy serves.
        "routing_refused": len(engine.routing.refused_at_start),
        "links": _links(engine),
        "console": engine.console.url if engine.console else None,
    }
    path = engine.cfg.run_dir / ENGINE_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(info), encoding="utf-8")
    tmp.replace(path)


async def watch_links(engine: Engine) -> None:
    """Rewrite ENGINE_FILE whenever a link goes down or comes back."""
    written = _links(engine)
    while True:
        await asyncio.sleep(LINK_POLL_S)
        links = _links(engine)
        if links != written:
            write_engine_file(engine)
            written = links
