"""A test phone that rings takes a retransmitted INVITE in its stride.

Asterisk resends an INVITE over UDP until a provisional answer reaches it. On a loaded
machine its 100 and 180 can be read after the resend went out, so the phone gets the
same INVITE again while it rings. A real phone goes on ringing and answers; the test
phones (SIPp UAS) must too, or the queue rings an agent that never answers.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

from tests.ports import free_port, sipp_media_port
from tests.sipp.scenarios import offer_sdp, start_uas, uas_scenario


def _invite(local: int, target: int) -> bytes:
    sdp = offer_sdp()
    lines = [
        f"INVITE sip:7002@127.0.0.1:{target} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-retrans-1",
        f"From: <sip:1999@127.0.0.1:{local}>;tag=caller-1",
        f"To: <sip:7002@127.0.0.1:{target}>",
        "Call-ID: retransmitted-invite@127.0.0.1",
        "CSeq: 1 INVITE",
        f"Contact: <sip:1999@127.0.0.1:{local}>",
        "Max-Forwards: 70",
        "Content-Type: application/sdp",
        f"Content-Length: {len(sdp.encode())}",
        "",
        sdp,
    ]
    return "\r\n".join(lines).encode()


def _statuses(sock: socket.socket, until: float) -> list[str]:
    seen: list[str] = []
    while time.monotonic() < until and "200" not in seen:
        try:
            data = sock.recv(65535)
        except TimeoutError:
            continue
        status = re.match(rb"SIP/2.0 (\d{3})", data)
        if status:
            seen.append(status[1].decode())
    return seen


def test_a_ringing_phone_answers_after_the_same_invite_came_twice(tmp_path: Path) -> None:
    port = free_port()
    uas = start_uas(
        uas_scenario(200, ring_ms=1500),
        port=port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(0.2)
            invite = _invite(sock.getsockname()[1], port)
            sock.sendto(invite, ("127.0.0.1", port))
            # The phone rings; the same INVITE arrives again, as Asterisk resends it.
            first = _statuses(sock, time.monotonic() + 0.5)
            sock.sendto(invite, ("127.0.0.1", port))
            later = _statuses(sock, time.monotonic() + 20)
        assert "180" in first, first
        assert "200" in later, (first, later)
    finally:
        uas.kill()
        uas.wait()
