"""SIPp scenarios for video calls: a caller and an agent phone with audio and video.

SIPp binds a second media socket at the media port + 2 for video; `video_media_port`
finds a port where both are free. The agent's answer uses the payload type
Asterisk's offer gave the codec, as RFC 3264 asks, and fails if the offer lacks it.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path

from tests.sipp.scenarios import OK_NO_TAG, TRYING, sip_reply

# The codec names as SDP writes them, and the payload type our caller offers.
RTPMAP = {
    "vp8": ("96", "VP8/90000", ""),
    "h264": ("97", "H264/90000", "profile-level-id=42e01f;packetization-mode=1"),
}
_AUDIO = """v=0
o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv"""


def caller_sdp(codecs: tuple[str, ...]) -> str:
    """Audio (G.711, RFC 2833) and one video stream offering `codecs`, in that order."""
    payloads = " ".join(RTPMAP[c][0] for c in codecs)
    lines = [f"m=video [media_port+2] RTP/AVP {payloads}"]
    for codec in codecs:
        payload, name, fmtp = RTPMAP[codec]
        lines.append(f"a=rtpmap:{payload} {name}")
        if fmtp:
            lines.append(f"a=fmtp:{payload} {fmtp}")
    return "\n".join([_AUDIO, *lines, "a=sendrecv"])


def video_caller_scenario(caller: str, codecs: tuple[str, ...]) -> str:
    """A citizen's video phone calls [service] and stays until the hotline hangs up,
    answering any re-INVITE on the way."""
    if not caller.isdigit():
        raise ValueError("caller must be digits")
    tag = "tag=[pid]SIPpTag00[call_number]"
    head = f"""From: "Citizen" <sip:{caller}@[local_ip]:[local_port]>;{tag}
To: <sip:[service]@[remote_ip]:[remote_port]>"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="video caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
{head}
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{caller_sdp(codecs)}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
{head}[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
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
    video = "m=video [media_port+2] RTP/AVP [$rpt]\na=rtpmap:[$rpt] [$rname]/90000\na=sendrecv"
    return sip_reply("200 OK", to_tag=False, contact=caller, sdp=True, retrans=True).replace(
        "a=sendrecv", f"a=sendrecv\n{video}", 1
    )


def video_agent_scenario(extension: str, codec: str, talk_ms: int) -> str:
    """An agent's video phone answers with audio and `codec` video, talks, hangs up first."""
    _, name, fmtp = RTPMAP[codec]
    video = "\n".join(
        [
            "m=video [media_port+2] RTP/AVP [$vpt]",
            f"a=rtpmap:[$vpt] {name}",
            *([f"a=fmtp:[$vpt] {fmtp}"] if fmtp else []),
            "a=sendrecv",
        ]
    )
    answer = sip_reply("200 OK", contact=extension, sdp=True, retrans=True).replace(
        "a=sendrecv", f"a=sendrecv\n{video}", 1
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="agent video phone answers and hangs up first">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" assign_to="contact"/>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="caller"/>
      <ereg regexp="a=rtpmap:([0-9]+) {name}" search_in="body" check_it="true"
            assign_to="vline,vpt"/>
    </action>
  </recv>
{TRYING}
{answer}
  <recv request="ACK" rtd="true" crlf="true"/>
  <pause milliseconds="{talk_ms}"/>
  <send retrans="500"><![CDATA[
BYE [$contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{extension}@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
To: [$caller]
Call-ID: [call_id]
CSeq: 1 BYE
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200" crlf="true"/>
  <Reference variables="vline"/>
</scenario>
"""


def video_media_port() -> int:
    """A UDP port free for audio with the port 2 above it free for SIPp's video socket."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as audio:
            audio.bind(("127.0.0.1", 0))
            port = int(audio.getsockname()[1])
            if port > 65533 or port % 2:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as video:
                try:
                    video.bind(("127.0.0.1", port + 2))
                except OSError:
                    continue
                return port


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
