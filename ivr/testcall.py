"""`ivr call`: a real call through Asterisk, from a Local channel we control.

Originate gives both halves of the Local channel ids we choose, so the hotline side
(`;2`, the one that runs the 1999 dialplan) is found in the store by its uniqueid.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from ivr import dialplan_vars as dv
from ivr.adapters.ami import AmiClient
from ivr.config import StackConfig
from ivr.store import CaseStore, StoreUnavailable
from ivr.store_cli import call_dict

INBOUND_CONTEXT = "hotline-inbound"
CALLER_CONTEXT = "hotline-test-caller"
SETTLE_S = 10.0


async def place_call(
    cfg: StackConfig,
    number: str,
    *,
    dtmf: str,
    caller: str,
    wait_s: float,
    hold_s: float,
    call_uid: str,
    context: str = INBOUND_CONTEXT,
) -> dict[str, Any]:
    if not all(c in "0123456789*#w" for c in dtmf):
        raise ValueError(f"--dtmf may hold 0-9, *, # and w only, not {dtmf!r}")
    caller_id, hotline_id = f"{call_uid}-caller", f"{call_uid}-hotline"
    fallback: dict[str, str] = {}
    hung_up = asyncio.Event()

    def on_user_event(event: Mapping[str, str]) -> None:
        if event.get("UserEvent") == "HotlineFallback" and event.get("Uniqueid") == hotline_id:
            fallback["reason"] = event.get("Reason", "")

    def on_hangup(event: Mapping[str, str]) -> None:
        if event.get("Uniqueid") == hotline_id:
            hung_up.set()

    ami = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)
    ami.on("UserEvent", on_user_event)
    ami.on("Hangup", on_hangup)
    await ami.start()
    try:
        await ami.wait_connected(5.0)
        await ami.action(
            {
                "Action": "Originate",
                "Channel": f"Local/{number}@{context}/n",
                "Context": CALLER_CONTEXT,
                "Exten": "s",
                "Priority": "1",
                "CallerID": f'"Test caller" <{caller}>',
                "ChannelId": caller_id,
                "OtherChannelId": hotline_id,
                "Timeout": "30000",
                "Async": "true",
                "Variable": ",".join(
                    [
                        f"{dv.TEST_WAIT}={wait_s}",
                        f"{dv.TEST_DTMF}={dtmf}",
                        f"{dv.TEST_HOLD}={hold_s}",
                    ]
                ),
            }
        )
        # A call that outlives its script is still reported: the store says what happened.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s + hold_s + 60.0):
                await hung_up.wait()
    finally:
        await ami.stop()
    # A fallback call may have no record; one that reached the engine gets its end
    # written from AMI a moment after the hangup. Only a call into the hotline is a
    # call of the store: an agent's feature code, dialled in its own context, never is,
    # so waiting for its end would only wait out SETTLE_S.
    settles = not fallback and context == INBOUND_CONTEXT
    record = await _settled_record(cfg, hotline_id, SETTLE_S if settles else 0.0)
    reached = record is not None and not fallback
    if fallback:
        summary = f"took the dialplan fallback ({fallback['reason']})"
    elif record is None:
        summary = "the engine has no record of the call"
    else:
        summary = f"handled by the engine; ended with {record['hangup_cause_text']}"
    return {
        "uniqueid": hotline_id,
        "reached": reached,
        "fallback": fallback.get("reason"),
        "summary": summary,
        "call": record,
    }


async def _settled_record(
    cfg: StackConfig, uniqueid: str, settle_s: float
) -> dict[str, Any] | None:
    """The call as stored, once its end is recorded (the engine writes it from AMI)."""
    store = await CaseStore.open(cfg.database_url)
    try:
        return await _poll_record(store, uniqueid, settle_s)
    except StoreUnavailable:
        # No store yet (the engine never ran): the caller still got the fallback.
        return None
    finally:
        await store.close()


async def _poll_record(store: CaseStore, uniqueid: str, settle_s: float) -> dict[str, Any] | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settle_s
    record = await store.get_call_by_uniqueid(uniqueid)
    while loop.time() < deadline and (record is None or record.ended_at is None):
        await asyncio.sleep(0.1)
        record = await store.get_call_by_uniqueid(uniqueid)
    return call_dict(record) if record else None
