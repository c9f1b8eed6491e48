"""Case-store reads for the CLI, as plain dicts ready for JSON or a table."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ivr.config import StackConfig
from ivr.domain.clock import system_clock
from ivr.store import CallRecord, CaseStore


def call_dict(record: CallRecord) -> dict[str, Any]:
    data = {f.name: getattr(record, f.name) for f in fields(record) if f.name != "events"}
    data["events"] = [
        {"seq": e.seq, "at": e.at, "kind": e.kind, "data": dict(e.data)} for e in record.events
    ]
    return data


async def list_calls(cfg: StackConfig, limit: int) -> list[dict[str, Any]]:
    store = await CaseStore.open(cfg.database_url)
    try:
        return [call_dict(c) for c in await store.list_calls(limit=limit)]
    finally:
        await store.close()


async def show_call(cfg: StackConfig, call_id: int) -> dict[str, Any] | None:
    store = await CaseStore.open(cfg.database_url)
    try:
        record = await store.get_call(call_id)
        return call_dict(record) if record else None
    finally:
        await store.close()


async def upgrade(cfg: StackConfig) -> None:
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
    finally:
        await store.close()


async def set_mode(cfg: StackConfig, *, active: bool, by: str, note: str | None) -> str:
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        await store.set_mode("disaster", active=active, at=system_clock(), by=by, note=note)
        mode = await store.current_mode(system_clock())
    finally:
        await store.close()
    return (
        f"service mode: {mode} (24-hour service with the disaster announcement)"
        if (mode == "disaster")
        else f"service mode: {mode}"
    )


async def show_mode(cfg: StackConfig) -> str:
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        mode = await store.current_mode(system_clock())
        history = await store.mode_history(limit=5)
    finally:
        await store.close()
    lines = [f"service mode: {mode}"]
    lines += [
        f"  {h.changed_at:%Y-%m-%d %H:%M} {h.mode} {'on' if h.active else 'off'} by {h.changed_by}"
        for h in history
    ]
    return "\n".join(lines)
