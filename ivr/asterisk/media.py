"""Codecs on the generated endpoints: audio everywhere, video only where the tables say.

Asterisk passes video through and never transcodes it, so a video call reaches a
sign-language agent with its picture only when the caller's leg and the agent's leg
share a codec. Both are rendered from the one list in agents.yaml (the video queue's
`video_codecs`): the carrier's template here, and the phones of the agents that
queue rings (generate.py). With no video queue nothing offers video, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from ivr.routing.tables import Agent, AgentsTable

MEDIA_FILE = "pjsip_media.conf"
# The carrier endpoint (asterisk-conf/pjsip.conf) inherits its codecs from this template.
CARRIER_TEMPLATE = "hotline-carrier-media"
AUDIO_CODECS = ("ulaw", "alaw")


def codec_lines(video: Sequence[str] = ()) -> str:
    """An endpoint's codec settings: G.711 first, then the video codecs it may carry."""
    allow = ",".join((*AUDIO_CODECS, *video))
    return f"disallow = all\nallow = {allow}\ndtmf_mode = rfc4733\ndirect_media = no\n"


def video_codecs(agents: AgentsTable) -> tuple[str, ...]:
    queue = agents.video_queue()
    return tuple(queue.video_codecs or ()) if queue is not None else ()


def agent_video(agents: AgentsTable, agent: Agent) -> tuple[str, ...]:
    """The video codecs an agent's phone is offered: the video queue's, if it rings them."""
    queue = agents.video_queue()
    if queue is None or agent not in agents.agents_for(queue):
        return ()
    return tuple(queue.video_codecs or ())


def media_conf(agents: AgentsTable) -> str:
    """The carrier's codecs: what a caller's phone may negotiate on the inbound side."""
    video = video_codecs(agents)
    # With video, the caller's leg keeps one codec per stream (the first of ours its
    # phone offered): the agent's leg is then offered exactly that video codec
    # (dialplans/hotline.conf, [hotline-agent-leg]), never one the caller's leg lacks.
    one = "incoming_call_offer_pref = local_first\n" if video else ""
    return (
        "; Generated from the routing tables by hotline1999. Do not edit.\n\n"
        f"[{CARRIER_TEMPLATE}](!)\n{codec_lines(video)}{one}\n"
    )
