"""`ivr status`: one line per part of the stack, each checked for real."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, replace
from typing import Any

import httpx

from ivr.adapters.ami import AmiClient, AmiUnavailable
from ivr.asterisk import install, process
from ivr.config import StackConfig
from ivr.engine_file import ENGINE_FILE
from ivr.store import CaseStore, StoreUnavailable

TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    # "up" or "down": what this check found just now.
    state: str = ""
    # For ami and ari, the running engine's own link ("up", "down", "connecting") and
    # its last outage (down_at, up_at: None while still down, reason), from the
    # engine's record in run/engine.json; None when no engine runs.
    engine_link: str | None = None
    last_outage: dict[str, str | None] | None = None


async def check(cfg: StackConfig) -> list[Check]:
    asterisk = await asyncio.to_thread(process.status, cfg, install.find())
    results = [Check("asterisk", asterisk.running, asterisk.detail)]
    results += await asyncio.gather(_ami(cfg), _ari(cfg), _fastagi(cfg), _database(cfg))
    results.append(await asyncio.to_thread(_recordings, cfg))
    supervisor = _supervisor(cfg)
    if supervisor is not None:
        results.append(supervisor)
    links = _engine_links(cfg)
    return [_with_link(replace(c, state="up" if c.ok else "down"), links) for c in results]


def _supervisor(cfg: StackConfig) -> Check | None:
    """The engine's supervisor, when one runs (`ivr run`, `ivr supervise`): restarts."""
    from ivr.supervisor import read_state

    state = read_state(cfg)
    if state is None:
        return None
    if not _alive(state.get("pid")):
        return Check("supervisor", False, f"not running (pid {state.get('pid')} is gone)")
    detail = (
        f"pid {state.get('pid')}, engine {state.get('engine_state')}"
        f" (pid {state.get('engine_pid')}), {state.get('engine_restarts', 0)} engine restart(s)"
    )
    last = state.get("last_engine_restart")
    if isinstance(last, dict):
        detail += f", last {last.get('at')}: {last.get('reason')}"
    if state.get("hung_kills"):
        detail += (
            f"; {state['hung_kills']} hung engine(s) killed, "
            f"{state.get('redirected', 0)} caller(s) moved to the fallback"
        )
    if state.get("supervise_asterisk"):
        detail += f"; {state.get('asterisk_restarts', 0)} Asterisk restart(s)"
        last = state.get("last_asterisk_restart")
        if isinstance(last, dict):
            detail += f", last {last.get('at')}"
    return Check("supervisor", state.get("engine_state") == "up", detail)


def _engine_links(cfg: StackConfig) -> dict[str, Any]:
    try:
        engine = json.loads((cfg.run_dir / ENGINE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    if not isinstance(engine, dict) or not _alive(engine.get("pid")):
        return {}  # Left behind by a killed engine: its links say nothing now.
    links = engine.get("links")
    return links if isinstance(links, dict) else {}


def _alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _with_link(c: Check, links: dict[str, Any]) -> Check:
    link = links.get(c.name)
    if not isinstance(link, dict):
        return c
    state = str(link.get("state", "?"))
    outage = link.get("last_outage")
    detail = f"{c.detail}; engine link {state}"
    if isinstance(outage, dict):
        detail += (
            f", last outage {outage.get('down_at')} to {outage.get('up_at') or 'now'}"
            f" ({outage.get('reason')})"
        )
        outage = {k: None if v is None else str(v) for k, v in outage.items()}
    else:
        outage = None
    return replace(c, detail=detail, engine_link=state, last_outage=outage)


async def _ami(cfg: StackConfig) -> Check:
    client = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)
    await client.start()
    try:
        await client.wait_connected(TIMEOUT_S)
        reply = await client.action({"Action": "Ping"}, timeout=TIMEOUT_S)
        return Check("ami", True, f"{cfg.host}:{cfg.ports.ami} {reply.get('Ping', 'Pong')}")
    except AmiUnavailable as exc:
        return Check("ami", False, str(exc))
    finally:
        await client.stop()


async def _ari(cfg: StackConfig) -> Check:
    url = f"{cfg.ari_base_url}/asterisk/info"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            resp = await client.get(url, auth=(cfg.ari_user, cfg.ari_password))
    except httpx.HTTPError as exc:
        return Check("ari", False, f"{url}: {exc.__class__.__name__}")
    if resp.status_code != 200:
        return Check("ari", False, f"{url}: HTTP {resp.status_code}")
    version = resp.json().get("system", {}).get("version", "?")
    return Check("ari", True, f"{cfg.ari_base_url} Asterisk {version}")


async def _fastagi(cfg: StackConfig) -> Check:
    engine_file = cfg.run_dir / ENGINE_FILE
    try:
        engine = json.loads(engine_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return Check("fastagi", False, "engine not running (no engine.json)")
    try:
        async with asyncio.timeout(TIMEOUT_S):
            _, writer = await asyncio.open_connection(cfg.host, cfg.ports.agi)
    except (OSError, TimeoutError) as exc:
        return Check("fastagi", False, f"{cfg.agi_url}: {exc}")
    writer.close()
    return Check("fastagi", True, f"{cfg.agi_url} engine pid {engine.get('pid')}")


async def _database(cfg: StackConfig) -> Check:
    try:
        store = await CaseStore.open(cfg.database_url)
    except StoreUnavailable as exc:
        return Check("database", False, str(exc))
    try:
        await store.ping()
        return Check("database", True, cfg.database_url.split("://", 1)[0])
    except StoreUnavailable as exc:
        return Check("database", False, str(exc))
    finally:
        await store.close()


def _recordings(cfg: StackConfig) -> Check:
    """Disk used by voice messages against profile.yaml's `privacy.recordings_quota_mb`."""
    from ivr.domain.quota import quota_state
    from ivr.retention import MESSAGES_DIR
    from ivr.routing.loader import RoutingError, load_profile

    try:
        quota_mb = load_profile(cfg.routing_dir).profile.privacy.recordings_quota_mb
    except RoutingError as exc:
        return Check("recordings", False, f"cannot read the quota: {exc}")
    directory = cfg.state_dir / MESSAGES_DIR
    used = 0
    if directory.is_dir():
        used = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    state = quota_state(used, quota_mb)
    return Check("recordings", state.ok, f"{directory}: {state.detail}")
