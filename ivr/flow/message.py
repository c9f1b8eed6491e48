"""The caller's recorded message, kept in the spool directory beside the call's id."""

from __future__ import annotations

import asyncio
import os

from ivr.flow.call import Call


async def record_message(call: Call, max_seconds: int) -> str | None:
    """Record after a beep until silence, `#` or `max_seconds`; the file, or None."""
    # A provisional id (negative, store down) is no name for a file that outlives it.
    prefix = call.call_id if call.call_id > 0 else "outage"
    path = call.services.spool_dir / f"{prefix}-{call.uniqueid.replace('/', '_')}"
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    # RECORD FILE: file format escape-digits timeout(ms) offset BEEP s=silence
    reply = await call.session.command(
        "RECORD",
        "FILE",
        str(path),
        "wav",
        "#",
        str(max_seconds * 1000),
        "0",
        "BEEP",
        "s=5",
        timeout=max_seconds + 30.0,
    )
    recorded = await asyncio.to_thread(os.path.exists, f"{path}.wav")
    message = f"{path}.wav" if recorded else None
    call.event("recorded", result=reply.result, path=message)
    return message
