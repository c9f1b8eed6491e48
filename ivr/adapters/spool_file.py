"""The outage spool's file: JSON lines appended and fsync'ed, rewritten atomically."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger()


async def uncancelled(coro: Awaitable[None]) -> None:
    """Await a file operation to its end even if cancelled, so the lock covers all of it."""
    task = asyncio.ensure_future(coro)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def read_lines(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    lines = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            line = None
        if isinstance(line, dict):
            lines.append(line)
        else:
            # Only the last line can be torn (the engine died writing it), and its
            # write had not returned: nobody was promised that record.
            log.warning("store_spool_torn_line", path=str(path), line=raw[:200])
    return lines


def append_lines(path: Path, lines: list[dict[str, Any]], *, sync: bool = True) -> None:
    """Append the lines; with `sync`, on disk (fsync'ed) when this returns."""
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        _write_all(fd, data.encode("utf-8"))
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    if created and sync:
        _fsync_dir(path.parent)


def replace_lines(path: Path, lines: list[dict[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        _write_all(fd, data.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(directory: Path) -> None:
    # The new name (or the rename) is durable only once the directory is.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
