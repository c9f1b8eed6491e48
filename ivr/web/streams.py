"""Server-sent event streams that end with their session.

A stream is one long request: the session was checked when it opened, and a page left
open would otherwise keep receiving callers' numbers after its user signed out or went
idle past the limit. So every stream waits on its queue, on its session being signed
out (at once, through the hub), and on a periodic look at the session in the store
(expiry, a disabled user, a sign-out in another process). The look does not touch the
session: an open page alone does not keep it alive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from fastapi import Request

from ivr.store.users import token_hash
from ivr.web import auth
from ivr.web.context import Console
from ivr.web.hub import Message

log = structlog.get_logger()


async def until_session_ends(
    request: Request, ctx: Console, queue: asyncio.Queue[Message]
) -> AsyncIterator[Message]:
    """The queue's messages while the request's session lives; then stops."""
    token = request.cookies.get(auth.SESSION_COOKIE, "")
    async with ctx.hub.session_watch(token_hash(token)) as signed_out:
        while True:
            message = await _next(queue, signed_out, ctx.session_check_s)
            if signed_out.is_set():
                break
            if message is None:
                if await ctx.users.session(token, at=ctx.clock(), touch=False) is None:
                    break
                continue
            yield message
    log.info("console_stream_ended", path=request.url.path)


async def _next(
    queue: asyncio.Queue[Message], signed_out: asyncio.Event, timeout_s: float
) -> Message | None:
    """The next message, or None when signed out or `timeout_s` passed first."""
    getting = asyncio.ensure_future(queue.get())
    stopping = asyncio.ensure_future(signed_out.wait())
    try:
        await asyncio.wait({getting, stopping}, timeout=timeout_s, return_when="FIRST_COMPLETED")
    finally:
        stopping.cancel()
        if not getting.done():
            getting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        if getting.done() and not getting.cancelled():
            return getting.result()
    return None
