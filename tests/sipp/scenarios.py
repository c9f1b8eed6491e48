"""SIPp scenarios as templates: one caller (UAC) shape and the unit/agent (UAS) shapes.

The caller sends RFC 2833 DTMF by replaying the digit captures Debian's sip-tester
ships; playing a capture needs root. Each SIPp gets its own signalling and media
port: they all default to media port 6000 and a clash fails with errno 98.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.ports import udp_bound

PCAP_DIR = Path("/usr/share/sip-tester")
_PCAP_NAME = {"*": "star", "#": "pound"}

_SDP = """v=0
o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv"""


def sip_reply(
    status: str,
    *,
    to_tag: bool = True,
    contact: str | None = None,
    sdp: bool = False,
    retrans: bool = False,
    cseq: str = "[last_CSeq:]",
) -> str:
    """A UAS's `<send>` of a response to the last request, for SIPp scenarios.

    `to_tag` adds our To tag (every response that opens or refuses a dialog);
    `contact` is the user part of our Contact ("" for none in the URI); `sdp` carries
    our audio offer; `retrans` retransmits until acknowledged (200 to an INVITE).
    """
    lines = [
        "[last_Via:]",
        "[last_From:]",
        "[last_To:];tag=[pid]SIPpTag01[call_number]" if to_tag else "[last_To:]",
        "[last_Call-ID:]",
        cseq,
    ]
    if contact is not None:
        user = f"{contact}@" if contact else ""
        lines.append(f"Contact: <sip:{user}[local_ip]:[local_port];transport=[transport]>")
    if sdp:
        lines += ["Content-Type: application/sdp", "Content-Length: [len]", "", _SDP]
    else:
        lines.append("Content-Length: 0")
    attrs = ' retrans="500"' if retrans else ""
    body = "\n".join(lines)
    return f"  <send{attrs}><![CDATA[\nSIP/2.0 {status}\n{body}\n]]></send>"


TRYING = sip_reply("100 Trying", to_tag=False)
OK_NO_TAG = sip_reply("200 OK", to_tag=False)

# Video codecs as SDP names them: the payload type a video caller offers, the rtpmap
# name, and the fmtp parameters ("" for none).
RTPMAP = {
    "vp8": ("96", "VP8/90000", ""),
    "h264": ("97", "H264/90000", "profile-level-id=42e01f;packetization-mode=1"),
}


def offer_sdp(video: tuple[str, ...] = ()) -> str:
    """Our audio offer (G.711, RFC 2833) and, with `video`, one video stream offering
    those codecs (keys of RTPMAP) in that order, at the media port + 2."""
    if not video:
        return _SDP
    lines = [f"m=video [media_port+2] RTP/AVP {' '.join(RTPMAP[c][0] for c in video)}"]
    for codec in video:
        payload, name, fmtp = RTPMAP[codec]
        lines.append(f"a=rtpmap:{payload} {name}")
        if fmtp:
            lines.append(f"a=fmtp:{payload} {fmtp}")
    return "\n".join([_SDP, *lines, "a=sendrecv"])


def with_video(reply: str, payload: str, name: str, fmtp: str = "") -> str:
    """A `sip_reply` with SDP, its audio followed by a video stream answering
    `payload` (a number or a SIPp variable) as `name` (rtpmap) with `fmtp`."""
    video = [f"m=video [media_port+2] RTP/AVP {payload}", f"a=rtpmap:{payload} {name}"]
    if fmtp:
        video.append(f"a=fmtp:{payload} {fmtp}")
    stream = "\n".join([*video, "a=sendrecv"])
    return reply.replace("a=sendrecv", f"a=sendrecv\n{stream}", 1)


def _caller_request(method: str, cseq: int, caller: str, name: str, *, retrans: bool) -> str:
    """An in-dialog request without a body from the caller (UAC) to [service]."""
    attrs = ' retrans="500"' if retrans else ""
    return f"""  <send{attrs}><![CDATA[
{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{name}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} {method}
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>"""


def caller_dials(caller: str, sdp: str, *, name: str = "Citizen") -> str:
    """The caller's INVITE to [service] offering `sdp`, the answer, and the ACK: the
    start of every caller scenario, audio (`offer_sdp()`) or video."""
    if not caller.isdigit():
        raise ValueError("caller must be digits")
    if '"' in name or "]]>" in name:
        raise ValueError("name must fit in a quoted display name")
    return f"""  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{name}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{sdp}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
{_caller_request("ACK", 1, caller, name, retrans=False)}"""


def caller_scenario(
    caller: str, digits: str, *, pre_ms: int, gap_ms: int, hold_ms: int, name: str = "Citizen"
) -> str:
    """A citizen calls [service], waits, keys `digits` in RFC 2833, stays, hangs up."""
    dial = caller_dials(caller, offer_sdp(), name=name)
    dtmf = "\n".join(
        f'  <nop><action><exec play_pcap_audio="{PCAP_DIR}/dtmf_2833_{_PCAP_NAME.get(d, d)}.pcap"/>'
        f'</action></nop>\n  <pause milliseconds="{gap_ms}"/>'
        for d in digits
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="hotline caller with RFC 2833 DTMF">
{dial}
  <pause milliseconds="{pre_ms}"/>
{dtmf}
  <pause milliseconds="{hold_ms}"/>
{_caller_request("BYE", 2, caller, name, retrans=True)}
  <recv response="200" crlf="true"/>
</scenario>
"""


def uas_scenario(reply: int, *, answer_hold_ms: int = 2000, ring_ms: int = 0) -> str:
    """A unit or agent phone: 200 (answer, then wait for BYE), 486 (busy) or 180 only.

    `ring_ms` rings that long before a 200, so a test can tell "after the answer"
    from "after the ring" by far more than two processes' log-time jitter."""
    ringing = sip_reply("180 Ringing", contact="")
    if reply == 200:
        pause = f'\n  <pause milliseconds="{ring_ms}"/>' if ring_ms else ""
        middle = f"""{ringing}{pause}
{sip_reply("200 OK", contact="", sdp=True, retrans=True)}
  <recv request="ACK" rtd="true" crlf="true"/>
  <recv request="BYE" timeout="{answer_hold_ms + 600000}"/>
{OK_NO_TAG}"""
    elif reply == 486:
        middle = f"""{sip_reply("486 Busy Here")}
  <recv request="ACK" crlf="true"/>"""
    elif reply == 180:
        middle = f"""{ringing}
  <recv request="CANCEL"/>
{OK_NO_TAG}
{sip_reply("487 Request Terminated", cseq="CSeq: [cseq] INVITE")}
  <recv request="ACK" crlf="true"/>"""
    else:
        raise ValueError(f"unsupported reply {reply}")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="UAS replying {reply}">
  <recv request="INVITE" crlf="true"/>
{TRYING}
{middle}
</scenario>
"""


@dataclass(frozen=True)
class SippResult:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_caller(
    target_port: int,
    service: str,
    scenario: str,
    *,
    local_port: int,
    media_port: int,
    timeout_s: float = 90.0,
    local_ip: str = "127.0.0.1",
    message_file: Path | None = None,
) -> SippResult:
    """Run one SIPp call to 127.0.0.1:target_port from `local_ip`; wait for its end.

    With `message_file`, every SIP message sent and received is traced there.
    """
    with tempfile.TemporaryDirectory() as tmp:
        sf = Path(tmp) / "scenario.xml"
        sf.write_text(scenario, encoding="utf-8")
        cmd = [
            "sipp",
            f"127.0.0.1:{target_port}",
            "-sf",
            str(sf),
            "-s",
            service,
            "-i",
            local_ip,
            "-p",
            str(local_port),
            "-mi",
            local_ip,
            "-mp",
            str(media_port),
            "-m",
            "1",
            "-l",
            "1",
            "-nostdin",
            "-timeout",
            f"{int(timeout_s)}s",
            "-timeout_error",
            "-trace_err",
            "-error_file",
            str(Path(tmp) / "errors.log"),
        ]
        if message_file is not None:
            cmd += ["-trace_msg", "-message_file", str(message_file)]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout_s + 30, check=False, cwd=tmp
        )
        errors = Path(tmp) / "errors.log"
        detail = errors.read_text(errors="replace") if errors.exists() else ""
        return SippResult(proc.returncode, proc.stdout[-2000:] + proc.stderr[-2000:] + detail)


def start_uas(
    scenario: str, *, port: int, media_port: int, calls: int, workdir: Path
) -> subprocess.Popen[str]:
    """Start a UAS in the background; it exits after `calls` calls (or when killed)."""
    sf = workdir / f"uas-{port}.xml"
    sf.write_text(scenario, encoding="utf-8")
    cmd = [
        "sipp",
        "-sf",
        str(sf),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-mi",
        "127.0.0.1",
        "-mp",
        str(media_port),
        "-m",
        str(calls),
        "-nostdin",
        # A request the scenario does not expect is logged and the call goes on, as on
        # a phone. By default SIPp aborts the call: a ringing phone then never answered
        # when a loaded Asterisk resent its INVITE (tests/sipp/test_sipp_uas_retransmission).
        "-default_behaviors",
        "all,-abortunexp",
        "-trace_msg",
        "-message_file",
        str(workdir / f"uas-{port}-messages.log"),
    ]
    errors = workdir / f"uas-{port}-stderr.log"
    with errors.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, text=True, cwd=workdir)
    # Back only once it listens: a SIPp that could not bind would otherwise leave the
    # call it is to answer ringing, and the test failing far from the cause. SIPp binds
    # its SIP port first, then audio and video media (media + 2); all three must be its
    # own, or a video port held by someone else would pass for SIPp's while it exits.
    deadline = time.monotonic() + 20
    while not all(udp_bound(p, proc.pid) for p in (port, media_port, media_port + 2)):
        if proc.poll() is not None:
            raise AssertionError(
                f"SIPp UAS on port {port} exited {proc.returncode}: "
                + errors.read_text(encoding="utf-8", errors="replace")[-2000:]
            )
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"SIPp UAS never listened on port {port}")
        time.sleep(0.02)
    return proc


def register_scenario(extension: str, secret: str) -> str:
    """An agent phone registers (digest auth) its contact at [local_ip]:[local_port].

    When the registrar answers the first REGISTER later than the 500 ms retransmission,
    it answers both copies with a challenge, and the second 401 can arrive after the
    authenticated REGISTER went out. A phone drops it as a stale answer to CSeq 1; so
    does the scenario (the optional 401), and it still wants the 200. A 401 to CSeq 2
    (a wrong password) fails the registration at once.
    """
    head = f"""REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{extension}@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:{extension}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
Contact: <sip:{extension}@[local_ip]:[local_port]>
Expires: 600
Max-Forwards: 70"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="agent phone registers">
  <send retrans="500"><![CDATA[
{head}
CSeq: 1 REGISTER
Content-Length: 0
]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
{head}
CSeq: 2 REGISTER
[authentication username={extension} password={secret}]
Content-Length: 0
]]></send>
  <recv response="401" optional="true" next="refused" test="refused">
    <action>
      <ereg regexp="^ *2 REGISTER" search_in="hdr" header="CSeq:" assign_to="refused"/>
    </action>
  </recv>
  <recv response="200" next="registered"/>
  <label id="refused"/>
  <!-- No 200 follows a refusal: the call fails here, without waiting out its time. -->
  <recv response="200" timeout="100"/>
  <label id="registered"/>
</scenario>
"""


def _answer(extension: str, video: str | None = None) -> str:
    """Take an INVITE and answer it, keeping the caller's Contact and From for later.

    With `video` (a key of RTPMAP) the answer also takes the offer's video in that
    codec, at the payload type the offer gave it (RFC 3264); an offer without that
    codec fails the scenario.
    """
    take = [
        '      <ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" assign_to="contact"/>',
        '      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="caller"/>',
    ]
    if video is not None:
        _, name, fmtp = RTPMAP[video]
        take.append(
            f'      <ereg regexp="a=rtpmap:([0-9]+) {name}" search_in="body" check_it="true"\n'
            '            assign_to="vline,vpt"/>'
        )
    invite = "\n".join(['  <recv request="INVITE" crlf="true">', "    <action>", *take])
    invite += "\n    </action>\n  </recv>"
    if video is None:
        return f"""{invite}
{sip_reply("200 OK", contact=extension, sdp=True)}
  <recv request="ACK" crlf="true"/>"""
    answer = with_video(
        sip_reply("200 OK", contact=extension, sdp=True, retrans=True), "[$vpt]", name, fmtp
    )
    return f"""{invite}
{TRYING}
{answer}
  <recv request="ACK" rtd="true" crlf="true"/>"""


def answer_then_hang_up_scenario(extension: str, talk_ms: int, *, video: str | None = None) -> str:
    """An agent answers, talks for `talk_ms`, then hangs up first (the survey's cue).

    `video`: a video phone, answering with audio and that codec's video (see `_answer`).
    """
    name = "agent video phone answers" if video else "agent answers"
    reference = '\n  <Reference variables="vline"/>' if video else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="{name} and hangs up first">
{_answer(extension, video)}
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
  <recv response="200" crlf="true"/>{reference}
</scenario>
"""


def answer_then_key_scenario(extension: str, digits: str, *, after_ms: int = 1500) -> str:
    """An agent answers, then keys `digits` as SIP INFO (one event per digit).

    INFO rather than RFC 2833: Debian's digit captures all carry the same RTP
    timestamps, which Asterisk drops as duplicates after the first digit.
    The agent's leg is then hung up by Asterisk (the caller has moved on).
    """
    infos = "\n".join(
        f"""  <send retrans="500"><![CDATA[
INFO [$contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{extension}@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
To: [$caller]
Call-ID: [call_id]
CSeq: {n} INFO
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal={digit}
Duration=160
]]></send>
  <recv response="200"/>
  <pause milliseconds="300"/>"""
        for n, digit in enumerate(digits, 1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="agent answers and keys digits">
{_answer(extension)}
  <pause milliseconds="{after_ms}"/>
{infos}
  <recv request="BYE" timeout="60000"/>
{OK_NO_TAG}
</scenario>
"""


def spoofed_invite_scenario(from_user: str) -> str:
    """An INVITE claiming to come from `from_user`, which must be refused (401 or 403)."""
    head = f"""Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{from_user}" <sip:{from_user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="spoofed INVITE">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
{head}
CSeq: 1 INVITE
Contact: <sip:{from_user}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{_SDP}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="401" optional="true" next="refused"/>
  <recv response="403" next="refused"/>
  <label id="refused"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
{head}
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
</scenario>
"""


def _caller_infos(caller: str, digits: str, first_cseq: int, gap_ms: int) -> str:
    """In-dialog SIP INFO digits from the caller (UAC) side, `gap_ms` apart."""
    return "\n".join(
        f"""  <send retrans="500"><![CDATA[
INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Citizen" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {n} INFO
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal={digit}
Duration=160
]]></send>
  <recv response="200"/>
  <pause milliseconds="{gap_ms}"/>"""
        for n, digit in enumerate(digits, first_cseq)
    )


def caller_keys_while_bridged_scenario(
    caller: str,
    menu_digits: str,
    in_call_digits: str,
    *,
    pre_ms: int,
    bridged_ms: int,
    hold_ms: int,
) -> str:
    """A citizen keys `menu_digits` to reach an agent, waits `bridged_ms`, then keys
    `in_call_digits` while talking, stays `hold_ms`, and hangs up.

    Every digit is a SIP INFO: Debian's RFC 2833 captures share RTP timestamps, and
    Asterisk drops a repeated capture as a duplicate.
    """
    base = caller_scenario(caller, "", pre_ms=pre_ms, gap_ms=0, hold_ms=0)
    menu = _caller_infos(caller, menu_digits, 2, 1500)
    in_call = _caller_infos(caller, in_call_digits, 2 + len(menu_digits), 300)
    bye_cseq = 2 + len(menu_digits) + len(in_call_digits)
    marker = '  <send retrans="500"><![CDATA[\nBYE '
    before, after = base.split(marker, 1)
    after = after.replace("CSeq: 2 BYE", f"CSeq: {bye_cseq} BYE", 1)
    return (
        f'{before}{menu}\n  <pause milliseconds="{bridged_ms}"/>\n{in_call}\n'
        f'  <pause milliseconds="{hold_ms}"/>\n{marker}{after}'
    )


def acl_refused_scenario(
    method: str, extension: str, secret: str, *, contact_ip: str = "[local_ip]"
) -> str:
    """A REGISTER or INVITE as agent `extension` with its right password, never accepted.

    Asterisk 22 answers a request that fails an endpoint's ACL as it answers an unknown
    account: a challenge, and after the right password another 401 (or 403), so the
    sender learns nothing. A 200 or a 100-then-call would mean the ACL let it in.
    """
    if method not in ("REGISTER", "INVITE"):
        raise ValueError(method)
    invite = method == "INVITE"
    uri = "sip:[service]@[remote_ip]:[remote_port]" if invite else "sip:[remote_ip]:[remote_port]"
    to = f"<{uri}>" if invite else f"<sip:{extension}@[remote_ip]:[remote_port]>"
    via_from = f"""Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{extension}@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]"""
    body = (
        f"Content-Type: application/sdp\nContent-Length: [len]\n\n{_SDP}"
        if invite
        else "Expires: 600\nContent-Length: 0"
    )

    def request(cseq: int, auth: str) -> str:
        return f"""  <send retrans="500"><![CDATA[
{method} {uri} SIP/2.0
{via_from}
To: {to}
Call-ID: [call_id]
CSeq: {cseq} {method}
Contact: <sip:{extension}@{contact_ip}:[local_port]>
Max-Forwards: 70
{auth}{body}
]]></send>
  <recv response="100" optional="true"/>"""

    def ack(cseq: int) -> str:
        if not invite:
            return ""
        return f"""  <send><![CDATA[
ACK {uri} SIP/2.0
{via_from}
To: {to}[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
"""

    answer = f"[authentication username={extension} password={secret}]\n"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="{method} refused by the endpoint's ACL">
{request(1, "")}
  <recv response="401" auth="true"/>
{ack(1)}{request(2, answer)}
  <recv response="401" optional="true" next="refused"/>
  <recv response="403"/>
  <label id="refused"/>
{ack(2)}</scenario>
"""


def challenging_uas_scenario(username: str, password: str, method: str = "INVITE") -> str:
    """An agency PBX that asks for digest auth: 401 first, then checks the retried request.

    The retried INVITE or REGISTER must carry `username`; SIPp checks the digest against
    `password` and answers, to a valid one, 486 (INVITE) or 200 (REGISTER), and to
    anything else 403.
    """
    if method not in ("INVITE", "REGISTER"):
        raise ValueError(method)
    challenge = sip_reply("401 Unauthorized").replace(
        "Content-Length: 0",
        'WWW-Authenticate: Digest realm="agency-pbx", nonce="[pid][call_number]x9", '
        "algorithm=MD5\nContent-Length: 0",
    )
    invite = method == "INVITE"
    ack = '  <recv request="ACK"/>' if invite else ""
    refused_end = '  <recv request="ACK" next="done"/>' if invite else '  <nop next="done"/>'
    accepted = (
        sip_reply("486 Busy Here")
        if invite
        else sip_reply("200 OK").replace(
            "Content-Length: 0", "[last_Contact:];expires=600\nContent-Length: 0"
        )
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="PBX that challenges {method}">
  <recv request="{method}" crlf="true"/>
{challenge}
{ack}
  <recv request="{method}" crlf="true">
    <action>
      <ereg regexp="username=&quot;{username}&quot;" search_in="hdr" header="Authorization:"
            check_it="true" assign_to="user"/>
      <verifyauth assign_to="valid" username="{username}" password="{password}"/>
    </action>
  </recv>
{TRYING if invite else ""}
  <nop next="valid" test="valid"/>
{sip_reply("403 Forbidden")}
{refused_end}
  <label id="valid"/>
{accepted}
{ack}
  <label id="done"/>
  <Reference variables="user"/>
</scenario>
"""
