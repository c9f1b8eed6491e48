"""Sign-language video calls on the real Asterisk (issue 18, DOMAIN 3: H).

A SIPp video phone offering audio and video calls 1999 and reaches a SIPp agent with
the sign-language skill, past the voice menus; video is negotiated on both legs in
the one codec they share (Asterisk passes video through, it never transcodes it).
An audio-only caller still meets the menus.
"""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from pathlib import Path

import pytest

from ivr.asterisk import install, process
from ivr.config import StackConfig
from ivr.store import CallRecord, CaseStore
from tests.harness import free_port
from tests.integration.calls import StartEngine, events, feature_code, greeting_s, register_agent
from tests.ports import sipp_media_port
from tests.sipp.scenarios import (
    answer_then_hang_up_scenario,
    caller_scenario,
    run_caller,
    start_uas,
)
from tests.sipp.video import (
    sdp_media,
    traced,
    video_caller_scenario,
)

pytestmark = pytest.mark.asterisk

# a03 is the one Taipei agent with the sign-language skill.
SIGNING_AGENT = ("7003", "a03")
INVITE = re.compile(r"^INVITE sip:")
OK = re.compile(r"^SIP/2.0 200 ")
ANY_PORT = "port>0"


def _caller() -> str:
    return "0933" + uuid.uuid4().hex[:6].translate(str.maketrans("abcdef", "123456"))


async def _record_of(store: CaseStore, caller: str) -> CallRecord:
    calls = [c for c in await store.list_calls(limit=30) if c.caller_number == caller]
    assert len(calls) == 1, f"calls from {caller}: {calls}"
    record = await store.get_call(calls[0].id)
    assert record is not None
    return record


def _video(message: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each video stream: "port>0" if it is on a real port (0 declines it), and its codecs."""
    return [
        (ANY_PORT if m.port > 0 else "0", m.codecs) for m in sdp_media(message) if m.kind == "video"
    ]


@pytest.mark.parametrize(
    ("offered", "codec"),
    [
        (("vp8",), "vp8"),
        (("h264",), "h264"),
        # Both offered: the caller's leg keeps one (the tables' first), and the agent's
        # leg is offered that one only, so the legs cannot end up in different codecs.
        (("h264", "vp8"), "vp8"),
    ],
)
async def test_video_caller_reaches_a_signing_agent_with_video_on_both_legs(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    tmp_path: Path,
    offered: tuple[str, ...],
    codec: str,
) -> None:
    """Audio + video offered: no menu, the sign-language queue, a03 answers; the agent's
    INVITE and the caller's 200 OK both carry m=video on a real port in `codec` only."""
    await start_engine()
    extension, agent_id = SIGNING_AGENT
    # SIPp binds UDP: a port free for TCP may be a UDP port in use (an RTP stream).
    port = free_port(socket.SOCK_DGRAM)
    await register_agent(stack, extension, port)
    agent = start_uas(
        answer_then_hang_up_scenario(extension, talk_ms=2000, video=codec),
        port=port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    caller = _caller()
    caller_log = tmp_path / "caller-messages.log"
    await feature_code(stack, extension, "*45")
    try:
        members = process.rx(install.ensure(), stack, "queue show hotline-sign-language")
        assert f"PJSIP/{extension}" in members
        result = await asyncio.to_thread(
            run_caller,
            stack.ports.sip,
            "1999",
            video_caller_scenario(caller, offered),
            local_port=free_port(socket.SOCK_DGRAM),
            media_port=sipp_media_port(),
            timeout_s=90,
            message_file=caller_log,
        )
    finally:
        await feature_code(stack, extension, "*46")
        if agent.poll() is None:
            agent.kill()
        agent.wait(timeout=10)
    assert result.ok, result.output
    # The agent's phone was offered video in the shared codec, on a real port...
    agent_invites = traced(tmp_path / f"uas-{port}-messages.log", INVITE)
    assert len(agent_invites) == 1, agent_invites
    assert _video(agent_invites[0]) == [(ANY_PORT, (codec,))], agent_invites[0]
    # ...and the caller's 200 OK accepted their video in it.
    answers = [m for m in traced(caller_log, OK) if re.search(r"(?m)^CSeq: 1 INVITE", m)]
    assert len(answers) == 1, answers
    assert _video(answers[0]) == [(ANY_PORT, (codec,))], answers[0]
    # A bridge may re-offer the caller's streams (Asterisk aligns the legs' topologies
    # when the caller offered more than one codec): never another video codec.
    reoffers = [m for m in traced(caller_log, INVITE) if not re.search(r"(?m)^CSeq: 1 ", m)]
    for reoffer in reoffers:
        assert _video(reoffer) == [(ANY_PORT, (codec,))], reoffer
    record = await _record_of(store, caller)
    assert events(record, "video_call") == [{"queue": "sign-language", "formats": [codec]}]
    # Past the voice menus: nothing was read from the caller, nothing asked.
    assert events(record, "menu") == []
    assert events(record, "queue_offer") == []
    assert events(record, "queue_enter") == [
        {"queue": "sign-language", "language": "sign-language"}
    ]
    assert [e["agent"] for e in events(record, "queue_leave")] == [agent_id]


async def test_audio_only_caller_still_goes_through_the_menus(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """The carrier now allows video; a caller offering audio only meets the language menu."""
    await start_engine()
    caller = _caller()
    scenario = caller_scenario(
        caller, "9", pre_ms=int(greeting_s(stack) * 1000), gap_ms=1000, hold_ms=3000
    )
    result = await asyncio.to_thread(
        run_caller,
        stack.ports.sip,
        "1999",
        scenario,
        local_port=free_port(socket.SOCK_DGRAM),
        media_port=sipp_media_port(),
    )
    assert result.ok, result.output
    record = await _record_of(store, caller)
    assert events(record, "video_call") == []
    menus = events(record, "menu")
    assert (menus[0]["menu"], menus[0]["entry"]) == ("language", "9")
