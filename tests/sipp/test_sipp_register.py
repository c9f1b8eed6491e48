"""The agent phone's REGISTER scenario against a registrar that answers late.

A registrar slower than SIPp's 500 ms retransmission answers the first REGISTER and
its copy with a challenge each; the second 401 can reach the phone after it sent the
authenticated REGISTER. A loaded test machine made Asterisk do exactly that. Here a
small UDP registrar sends both 401s itself, so the case is met on every run.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.ports import free_port, sipp_media_port
from tests.sipp.scenarios import SippResult, register_scenario, run_caller


def challenge(nonce: str) -> str:
    return f'WWW-Authenticate: Digest realm="test", nonce="{nonce}", algorithm=MD5, qop="auth"'


def _reply(request: str, status: str, extra: str = "") -> bytes:
    keep = [
        line
        for line in request.split("\r\n")
        if line.split(":", 1)[0] in ("Via", "From", "To", "Call-ID", "CSeq")
    ]
    lines = [f"SIP/2.0 {status}", *keep, *([extra] if extra else []), "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@contextmanager
def registrar(*, accept: bool) -> Iterator[tuple[int, list[str]]]:
    """Challenges CSeq 1 twice; answers an authenticated CSeq 2 with 200, or (a wrong
    password) with a new challenge, as Asterisk does."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    seen: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(65535)
            except TimeoutError:
                continue
            request = data.decode(errors="replace")
            cseq = re.search(r"^CSeq: (\d+)", request, re.M)
            seen.append(cseq[1] if cseq else "?")
            if cseq and cseq[1] == "1":
                # The challenge to the request and to its retransmission: Asterisk
                # makes a new nonce for each (a byte-equal copy SIPp would drop).
                for nonce in ("n1", "n2"):
                    sock.sendto(_reply(request, "401 Unauthorized", challenge(nonce)), peer)
            elif "Authorization: Digest" in request and accept:
                sock.sendto(_reply(request, "200 OK"), peer)
            elif "Authorization: Digest" in request:
                sock.sendto(_reply(request, "401 Unauthorized", challenge("n3")), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], seen
    finally:
        stop.set()
        thread.join(5)
        sock.close()


def _register(port: int) -> SippResult:
    """Agent 7002's phone registers at the registrar on `port`."""
    return run_caller(
        port,
        "7002",
        register_scenario("7002", "secret"),
        local_port=free_port(),
        media_port=sipp_media_port(),
        timeout_s=20,
    )


def test_a_late_second_challenge_does_not_fail_the_registration() -> None:
    with registrar(accept=True) as (port, seen):
        result = _register(port)
    assert result.ok, result.output
    assert seen[:2] == ["1", "2"], seen


def test_a_refused_registration_still_fails() -> None:
    with registrar(accept=False) as (port, _):
        result = _register(port)
    assert not result.ok
    # Refused at the 401 to CSeq 2, not by waiting out the scenario's 20 s.
    assert "timed out after" not in result.output, result.output
