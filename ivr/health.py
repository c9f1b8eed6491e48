"""`ivr status`: one line per part of the stack, each checked for real."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import httpx

from ivr.adapters.ami import AmiClient, AmiUnavailable
from ivr.app import ENGINE_FILE
from ivr.asterisk import install, process
from ivr.config import StackConfig
from ivr.store import CaseStore, StoreUnavailable

TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


async def check(cfg: StackConfig) -> list[Check]:
    asterisk = await asyncio.to_thread(process.status, cfg, install.find())
    results = [Check("asterisk", asterisk.running, asterisk.detail)]
    results += await asyncio.gather(_ami(cfg), _ari(cfg), _fastagi(cfg), _database(cfg))
    return results


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
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(cfg.host, cfg.ports.agi), TIMEOUT_S
        )
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
