"""Sign-language video calls on a scripted Asterisk: past the voice menus, nothing spoken.

A call whose channel negotiated VP8 or H.264 video goes straight to the sign-language
queue; when nobody with the skill is signed in, or the longest wait is used up, a
callback ticket in sign language is committed, with nothing played to a caller who
may not hear it.
"""

from __future__ import annotations

from sqlalchemy import text

from ivr import dialplan_vars as dv
from ivr.asterisk.generate import queue_name
from tests.flow.conftest import CALLER, Finished, FlowEngine
from tests.flow.scripted import key, queue

SIGN = queue_name("sign-language")
VIDEO = "CHANNEL(videonativeformat)"


def video(native: str, agents: int) -> dict[str, str]:
    """Channel variables of a call that negotiated `native` video, `agents` signed in."""
    return {VIDEO: native, f"QUEUE_MEMBER({SIGN},logged)": str(agents)}


def spoken(done: Finished) -> list[str]:
    """Every command that plays to or listens for the caller."""
    return [
        c.line
        for c in done.asterisk.commands
        if c.line.startswith(("STREAM FILE", "GET DATA", "EXEC Read", "EXEC Playback"))
    ]


async def _ticket_language(engine: FlowEngine, done: Finished) -> str | None:
    [opened] = done.events("ticket")
    ticket = await engine.store.get_ticket_by_number(str(opened["number"]))
    assert ticket is not None
    assert ticket.reason == "queue_callback"
    assert ticket.caller_number == CALLER
    async with engine.store.engine.connect() as conn:
        row = (
            await conn.execute(text("SELECT language FROM tickets WHERE id = :i"), {"i": ticket.id})
        ).one()
    return row[0]  # type: ignore[no-any-return]


async def test_a_video_call_goes_past_the_menus_to_a_signing_agent(engine: FlowEngine) -> None:
    done = await engine.call([queue(SIGN, agent="a03")], variables=video("(vp8)", 1))
    assert spoken(done) == []
    assert done.events("video_call") == [{"queue": "sign-language", "formats": ["vp8"]}]
    assert done.events("menu") == []
    [round_] = done.asterisk.sent("EXEC Queue")
    assert round_.words[2].startswith(f"{SIGN},cb({dv.AGENT_LEG_GOSUB}),,,600")
    # The agent's leg inherits the codec to offer; its phone shows the queue, masked number.
    assert done.asterisk.variables[f"_{dv.VIDEO_OFFER}"] == "vp8"
    assert done.asterisk.variables["CALLERID(name)"] == "[手語視訊] 0912○○○678"
    assert done.events("queue_leave")[0]["agent"] == "a03"
    # No spoken survey for a signing caller.
    assert done.record.outcome == "queued"
    assert done.next == dv.NEXT_HANGUP


async def test_h264_is_offered_on_as_the_caller_negotiated_it(engine: FlowEngine) -> None:
    done = await engine.call([queue(SIGN, agent="a03")], variables=video("(h264)", 1))
    assert done.asterisk.variables[f"_{dv.VIDEO_OFFER}"] == "h264"
    assert spoken(done) == []


async def test_nobody_signing_is_a_callback_ticket_in_sign_language_with_nothing_said(
    engine: FlowEngine,
) -> None:
    done = await engine.call(variables=video("(vp8)", 0))
    assert spoken(done) == []
    assert not done.asterisk.sent("EXEC Queue")
    assert done.events("video_wait_end")[0]["reason"] == "no_agents"
    assert await _ticket_language(engine, done) == "sign-language"
    assert done.record.outcome == "ticket"
    assert done.next == dv.NEXT_HANGUP


async def test_the_longest_wait_ends_in_a_callback_not_another_round(engine: FlowEngine) -> None:
    done = await engine.call(variables=video("(vp8)", 1))
    rounds = done.asterisk.sent("EXEC Queue")
    assert len(rounds) == 1
    assert spoken(done) == []
    assert done.events("video_wait_end")[0]["reason"] == "max_wait"
    assert await _ticket_language(engine, done) == "sign-language"
    assert done.record.outcome == "ticket"


async def test_an_anonymous_video_caller_gets_no_ticket_nobody_could_return(
    engine: FlowEngine,
) -> None:
    done = await engine.call(variables=video("(vp8)", 0), caller="")
    assert spoken(done) == []
    assert done.events("ticket") == []
    assert done.events("video_wait_end")[0]["reason"] == "no_agents"
    assert done.next == dv.NEXT_HANGUP


async def test_video_in_a_codec_no_agent_takes_is_a_voice_call(engine: FlowEngine) -> None:
    """H.263 could not be passed to a sign-language agent: the caller meets the menus."""
    done = await engine.call([key("taipei-language-menu", "9")], variables={VIDEO: "(h263)"})
    assert done.events("video_call") == []
    assert done.events("menu")[0]["menu"] == "language"


async def test_an_audio_call_meets_the_menus(engine: FlowEngine) -> None:
    done = await engine.call([key("taipei-language-menu", "9")], variables={VIDEO: "(nothing)"})
    assert done.events("video_call") == []
    assert done.events("menu")[0]["menu"] == "language"
