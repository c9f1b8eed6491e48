"""AGISession commands against a real Asterisk, through our own FastAGI server."""

from __future__ import annotations

import pytest

from ivr.adapters.fastagi.server import AGISession, FastAGIServer
from ivr.config import StackConfig
from tests.integration.calls import call_own_handler

pytestmark = pytest.mark.asterisk


async def test_get_variables_reads_several_in_one_command_and_survives_the_separator(
    stack: StackConfig,
) -> None:
    """Values with spaces, empty and unset read back as set; a separator falls back."""
    seen: dict[str, dict[str, str]] = {}
    reads: list[int] = []

    async def handler(session: AGISession, server: FastAGIServer) -> None:
        await session.answer()
        await session.set_variable("HOTLINE_T_A", "two words")
        await session.set_variable("HOTLINE_T_B", "")
        await session.set_variable("HOTLINE_T_C", "left~|~right")
        before = server.stats.count
        seen["plain"] = await session.get_variables("HOTLINE_T_A", "HOTLINE_T_B", "HOTLINE_T_X")
        seen["separator"] = await session.get_variables("HOTLINE_T_A", "HOTLINE_T_C")
        seen["dial"] = await session.get_variables("DIALSTATUS", "CHANNEL(language)")
        reads.append(server.stats.count - before)

    await call_own_handler(stack, handler, hold_s=1.5)
    assert seen["plain"] == {"HOTLINE_T_A": "two words", "HOTLINE_T_B": "", "HOTLINE_T_X": ""}
    assert seen["separator"] == {"HOTLINE_T_A": "two words", "HOTLINE_T_C": "left~|~right"}
    # Functions work inside the expression too (a new channel speaks Asterisk's "en").
    assert seen["dial"] == {"DIALSTATUS": "", "CHANNEL(language)": "en"}
    # One GET FULL VARIABLE for the first and the last read, a fallback for the middle.
    assert reads == [1 + (1 + 2) + 1]
