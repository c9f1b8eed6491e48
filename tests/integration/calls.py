"""Placing test calls and reading their timelines, shared by the integration tests."""

from __future__ import annotations

import math
import uuid
import wave
from collections.abc import Awaitable, Callable

from ivr import app
from ivr.config import StackConfig
from ivr.prompts import prompt_path
from ivr.store import CallRecord, CaseStore
from ivr.testcall import place_call

StartEngine = Callable[..., Awaitable[app.Engine]]


def secs(cfg: StackConfig, name: str, language: str = "zh-TW") -> float:
    path = prompt_path(cfg.sounds_dir, language, name).with_suffix(".wav")
    if not path.exists():
        return 0.0
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def pause(seconds: float) -> str:
    """SendDTMF's `w` waits half a second."""
    return "w" * math.ceil(seconds / 0.5)


async def call(
    cfg: StackConfig,
    store: CaseStore,
    *,
    dtmf: str,
    wait_s: float,
    hold_s: float,
    caller: str = "0912345678",
) -> CallRecord:
    result = await place_call(
        cfg,
        "1999",
        dtmf=dtmf,
        caller=caller,
        wait_s=wait_s,
        hold_s=hold_s,
        call_uid=uuid.uuid4().hex,
    )
    record = await store.get_call_by_uniqueid(result["uniqueid"])
    assert record is not None, result["summary"]
    return record


def events(record: CallRecord, kind: str) -> list[dict[str, object]]:
    return [dict(e.data) for e in record.events if e.kind == kind]


def greeting_s(cfg: StackConfig) -> float:
    return secs(cfg, "greeting") + 0.6
