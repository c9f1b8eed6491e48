"""SIPp scenarios for video calls: a caller with audio and video, and what a test reads
of the SDP that was exchanged. The agent's video phone is
`answer_then_hang_up_scenario(..., video=codec)` of `tests.sipp.scenarios`.

SIPp binds a second media socket at the media port + 2 for video; `video_media_port`
finds a port where both are free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.sipp.scenarios import OK_NO_TAG, caller_dials, offer_sdp, sip_reply, with_video


def video_caller_scenario(caller: str, codecs: tuple[str, ...]) -> str:
    """A citizen's video phone calls [service] offering audio and `codecs` video, and
    stays until the hotline hangs up, answering any re-INVITE on the way."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="video caller">
{caller_dials(caller, offer_sdp(codecs))}
  <label id="talk"/>
  <recv request="INVITE" optional="true" next="reinvite">
    <action>
      <ereg regexp="m=video [0-9]+ RTP/AVP ([0-9]+)" search_in="body" check_it="true"
            assign_to="rline,rpt"/>
      <ereg regexp="a=rtpmap:[0-9]+ ([A-Za-z0-9]+)/90000" search_in="body" check_it="true"
            assign_to="rmap,rname"/>
    </action>
  </recv>
  <recv request="BYE" timeout="90000"/>
{OK_NO_TAG}
  <nop next="end"/>
  <label id="reinvite"/>
{_reinvite_answer(caller)}
  <recv request="ACK" crlf="true" next="talk"/>
  <label id="end"/>
  <Reference variables="rline,rmap"/>
</scenario>
"""


def _reinvite_answer(caller: str) -> str:
    """A 200 OK to Asterisk's re-INVITE (a bridge aligning the legs' streams): audio,
    and the one video codec offered, at the payload type offered."""
    reply = sip_reply("200 OK", to_tag=False, contact=caller, sdp=True, retrans=True)
    return with_video(reply, "[$rpt]", "[$rname]/90000")


@dataclass(frozen=True)
class Media:
    """One SDP's media line: its kind, port and the codec names of its rtpmap lines."""

    kind: str
    port: int
    codecs: tuple[str, ...]


def sdp_media(message: str) -> list[Media]:
    """The m= sections of the SDP in a SIP message, with their codec names (lower case)."""
    found: list[Media] = []
    for section in re.split(r"(?m)^(?=m=)", message)[1:]:
        head = re.match(r"m=(\w+) (\d+) ", section)
        if head is None:
            continue
        names = re.findall(r"(?m)^a=rtpmap:\d+ ([\w-]+)/", section)
        found.append(Media(head.group(1), int(head.group(2)), tuple(n.lower() for n in names)))
    return found


def traced(path: Path, first_line: re.Pattern[str]) -> list[str]:
    """The messages in a SIPp `-trace_msg` file whose first SIP line matches."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    found = []
    for block in re.split(r"(?m)^-{10,}.*$", text):
        lines = [line for line in block.splitlines() if line.strip()]
        sip = next(
            (i for i, line in enumerate(lines) if re.match(r"^(SIP/2.0 |[A-Z]+ sip:)", line)), None
        )
        if sip is not None and first_line.match(lines[sip]):
            found.append("\n".join(lines[sip:]))
    return found
