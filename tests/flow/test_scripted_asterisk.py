"""The scripted Asterisk answers the engine's own session as Asterisk 22 does."""

from __future__ import annotations

from ivr.adapters.agi.keys import KeyReader
from ivr.adapters.fastagi.server import AGISession
from ivr.domain.menu import Listen
from tests.flow.scripted import ScriptedAsterisk, dial, header, key, keyed, run_session


async def test_a_read_sets_its_timeouts_and_returns_the_callers_entry() -> None:
    asterisk = ScriptedAsterisk([key("main-menu", "1743#")], {})
    seen = []

    async def handler(session: AGISession) -> None:
        reader = KeyReader()
        listen = Listen(first_s=5.0, interdigit_s=1.5, max_digits=4)
        seen.append(await reader.read(session, ["/s/zh-TW/greeting", "/s/zh-TW/main-menu"], listen))
        seen.append(await reader.read(session, ["/s/zh-TW/main-menu"], listen))

    await run_session(handler, asterisk, header("hotline", uniqueid="1.1", caller="0912345678"))
    assert [(k.digits, k.status) for k in seen] == [("1743", "OK"), ("", "TIMEOUT")]
    assert [c.line for c in asterisk.commands[:3]] == [
        "SET VARIABLE TIMEOUT(response) 5.000",
        "SET VARIABLE TIMEOUT(digit) 1.500",
        "EXEC Read HOTLINE_KEYS,/s/zh-TW/greeting&/s/zh-TW/main-menu,4,,1,",
    ]
    assert asterisk.commands[3].line == "GET FULL VARIABLE ${READSTATUS}~|~${HOTLINE_KEYS}"
    # The timeouts did not change: the second read sets none.
    assert [c.line.split()[0] for c in asterisk.commands[4:]] == ["EXEC", "GET"]


async def test_dial_get_data_playback_and_variables_read_back_as_from_asterisk() -> None:
    asterisk = ScriptedAsterisk(
        [dial("2301", "BUSY"), keyed("callback-number-enter", "0223456789")], {"A": "x y"}
    )
    seen: dict[str, object] = {}

    async def handler(session: AGISession) -> None:
        await session.exec_("Playback", "beep")
        await session.command("EXEC", "Dial", "PJSIP/2301,20,g")
        seen["dial"] = await session.get_variables("DIALSTATUS", "HANGUPCAUSE", "A")
        seen["data"] = await session.get_data("/s/en/callback-number-enter", 8000, 12)
        seen["silence"] = await session.get_data("/s/en/survey-question", 6000, 1)
        seen["unset"] = await session.get_variable("NOPE")
        seen["played"] = (await session.stream_file("/s/en/goodbye")).endpos

    await run_session(handler, asterisk, header("hotline", uniqueid="1.2", caller="0912345678"))
    assert seen == {
        "dial": {"DIALSTATUS": "BUSY", "HANGUPCAUSE": "17", "A": "x y"},
        "data": ("0223456789", True),
        "silence": ("", True),
        "unset": None,
        "played": 8000,
    }
    assert asterisk.played() == ["callback-number-enter", "survey-question", "goodbye"]
    assert asterisk.script == []
