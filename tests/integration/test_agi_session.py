"""AGISession commands against a real Asterisk, through our own FastAGI server."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from ivr.adapters.fastagi.server import AGIRouter, AGISession, FastAGIServer
from ivr.config import StackConfig
from ivr.testcall import place_call

pytestmark = pytest.mark.asterisk


async def test_get_variables_reads_several_in_one_command_and_survives_the_separator(
    stack: StackConfig,
) -> None:
    """Values with spaces, empty and unset read back as set; a separator falls back."""
    seen: dict[str, dict[str, str]] = {}
    reads: list[int] = []
    done = asyncio.Event()

    async def handler(session: AGISession) -> None:
        try:
            await session.answer()
            await session.set_variable("HOTLINE_T_A", "two words")
            await session.set_variable("HOTLINE_T_B", "")
            await session.set_variable("HOTLINE_T_C", "left~|~right")
            before = server.stats.count
            seen["plain"] = await session.get_variables("HOTLINE_T_A", "HOTLINE_T_B", "HOTLINE_T_X")
            seen["separator"] = await session.get_variables("HOTLINE_T_A", "HOTLINE_T_C")
            seen["dial"] = await session.get_variables("DIALSTATUS", "CHANNEL(language)")
            reads.append(server.stats.count - before)
        finally:
            done.set()

    router = AGIRouter()
    router.register("hotline", handler)
    server = FastAGIServer(router, stack.host, stack.ports.agi)
    await server.start()
    try:
        await place_call(
            stack,
            "1999",
            dtmf="",
            caller="0912000000",
            wait_s=0.5,
            hold_s=1.5,
            call_uid=uuid.uuid4().hex,
        )
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await server.stop()
    assert seen["plain"] == {"HOTLINE_T_A": "two words", "HOTLINE_T_B": "", "HOTLINE_T_X": ""}
    assert seen["separator"] == {"HOTLINE_T_A": "two words", "HOTLINE_T_C": "left~|~right"}
    # Functions work inside the expression too (a new channel speaks Asterisk's "en").
    assert seen["dial"] == {"DIALSTATUS": "", "CHANNEL(language)": "en"}
    # One GET FULL VARIABLE for the first and the last read, a fallback for the middle.
    assert reads == [1 + (1 + 2) + 1]
