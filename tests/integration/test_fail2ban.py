"""The shipped fail2ban filter against real security-log lines from a brute-force run.

SIPp guesses an agent's SIP password several times; Asterisk's `security` channel logs
each failure. Debian's `fail2ban-regex` then reads that very log with the filter we
ship: every failure counts, with the attacker's address, and nothing else does.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from ivr.config import StackConfig
from tests.harness import free_port, wait_until
from tests.ports import sipp_media_port
from tests.sipp.scenarios import register_scenario, run_caller, spoofed_invite_scenario

pytestmark = pytest.mark.asterisk

REPO = Path(__file__).resolve().parents[2]
FILTER = REPO / "contrib" / "fail2ban" / "filter.d" / "hotline1999-asterisk.conf"
GUESSES = 5
# The events the filter counts (contrib/fail2ban/filter.d/hotline1999-asterisk.conf).
FAILURES = (
    "FailedACL",
    "InvalidAccountID",
    "ChallengeResponseFailed",
    "InvalidPassword",
    "AuthMethodNotAllowed",
    "RequestNotAllowed",
    "UnexpectedAddress",
)


def _failures(log: Path) -> list[str]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [
        line
        for line in text.splitlines()
        if 'Service="PJSIP"' in line and any(f'"{f}"' in line for f in FAILURES)
    ]


@pytest.mark.skipif(shutil.which("fail2ban-regex") is None, reason="Debian's fail2ban")
async def test_fail2ban_filter_catches_every_guessed_password_from_a_real_log(
    stack: StackConfig,
) -> None:
    log = stack.log_dir / "security.log"
    before = len(_failures(log))
    for n in range(GUESSES):
        result = await asyncio.to_thread(
            run_caller,
            stack.ports.sip,
            "7005",
            register_scenario("7005", f"wrong-guess-{n}"),
            local_port=free_port(socket.SOCK_DGRAM),
            media_port=sipp_media_port(),
            timeout_s=10,
            local_ip="127.0.0.3",
        )
        assert not result.ok
    # A scanner's INVITE under a trunk's name, from an address that is not the trunk's.
    await asyncio.to_thread(
        run_caller,
        stack.ports.sip,
        "1999",
        spoofed_invite_scenario("carrier"),
        local_port=free_port(socket.SOCK_DGRAM),
        media_port=sipp_media_port(),
        timeout_s=10,
        local_ip="127.0.0.3",
    )
    await asyncio.to_thread(
        wait_until,
        lambda: len(_failures(log)) >= before + GUESSES + 1,
        30,
        "the failures in the security log",
    )
    lines = log.read_text(errors="replace").splitlines()
    assert any("ChallengeSent" in line for line in lines)
    failures = _failures(log)
    done = await asyncio.to_thread(
        subprocess.run,
        ["fail2ban-regex", "--out", "ip", str(log), str(FILTER)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ips = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    # Every failure line matched, each with the address the guesses came from...
    assert len(ips) == len(failures), [line.split(",", 1)[0][-60:] for line in failures]
    assert ips.count("127.0.0.3") >= GUESSES + 1
    # ...and no other line (ChallengeSent, SuccessfulAuth) did.
    assert len(lines) > len(failures)
