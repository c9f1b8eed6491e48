"""SIPp under load: callers at a fixed rate, UAS phones, and what their files say.

The scenario templates are the tests' (tests/sipp/scenarios.py); this module adds
rate, stats and response-time files. Every SIPp gets its own signalling, media and
control port, a call count (-m) and a global timeout, so every run is bounded.
"""

from __future__ import annotations

import csv
import math
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness import free_port
from tests.ports import sipp_media_port
from tests.sipp.scenarios import (
    _PCAP_NAME,
    OK_NO_TAG,
    PCAP_DIR,
    TRYING,
    caller_scenario,
    sip_reply,
    uas_scenario,
)

# A call whose INVITE→200 took longer than this counts as delayed.
DELAYED_MS = 500.0
RECV_TIMEOUT_MS = 30_000


@dataclass
class SippStats:
    """The last row of a SIPp statistics file (-trace_stat), plus the peak of CurrentCall."""

    created: int = 0
    successful: int = 0
    failed: int = 0
    max_current: int = 0
    rows: int = 0

    @classmethod
    def read(cls, path: Path) -> SippStats:
        stats = cls()
        if not path.exists():
            return stats
        with path.open(encoding="utf-8", errors="replace") as fh:
            rows = list(csv.DictReader(fh, delimiter=";"))
        if not rows:
            return stats
        last = rows[-1]

        def num(row: dict[str, str], key: str) -> int:
            try:
                return int(row.get(key) or 0)
            except ValueError:
                return 0

        stats.created = num(last, "TotalCallCreated") or num(last, "IncomingCall(C)")
        stats.successful = num(last, "SuccessfulCall(C)")
        stats.failed = num(last, "FailedCall(C)")
        stats.max_current = max(num(r, "CurrentCall") for r in rows)
        stats.rows = len(rows)
        return stats


def read_rtt(workdir: Path, name: str) -> list[float]:
    """Every response time (ms) in the -trace_rtt files of SIPp scenario `name`."""
    times: list[float] = []
    for path in workdir.glob(f"{name}_*_rtt.csv"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split(";")
            if len(parts) >= 2:
                try:
                    times.append(float(parts[1]))
                except ValueError:
                    continue  # the header line
    return times


@dataclass
class CallerRun:
    rate: float
    calls: int
    wall_s: float
    returncode: int
    timed_out: bool
    stats: SippStats
    rtt_ms: list[float] = field(repr=False)
    errors: str = ""

    @property
    def delayed(self) -> int:
        return sum(1 for t in self.rtt_ms if t > DELAYED_MS)


def sipp_common(workdir: Path, name: str, local_port: int, media_port: int) -> list[str]:
    return [
        "-i",
        "127.0.0.1",
        "-p",
        str(local_port),
        "-mi",
        "127.0.0.1",
        "-mp",
        str(media_port),
        "-cp",
        str(free_port(socket.SOCK_DGRAM)),
        "-nostdin",
        "-trace_stat",
        "-stf",
        str(workdir / f"{name}-stats.csv"),
        "-fd",
        "1",
        "-trace_err",
        "-error_file",
        str(workdir / f"{name}-errors.log"),
    ]


def run_callers(
    target_port: int,
    service: str,
    scenario: str,
    *,
    rate: float,
    calls: int,
    workdir: Path,
    timeout_s: float,
    rtp_echo: bool = True,
    limit: int | None = None,
    name: str = "caller",
) -> CallerRun:
    """`calls` calls at `rate` per second to 127.0.0.1:target_port; waits for the end."""
    sf = workdir / f"{name}.xml"
    sf.write_text(scenario, encoding="utf-8")
    cmd = [
        "sipp",
        f"127.0.0.1:{target_port}",
        "-sf",
        str(sf),
        "-s",
        service,
        *sipp_common(workdir, name, free_port(socket.SOCK_DGRAM), sipp_media_port()),
        "-r",
        f"{rate:g}",
        "-m",
        str(calls),
        # High enough never to throttle: a backlog must show, not be hidden.
        "-l",
        str(limit or max(calls, 10)),
        "-recv_timeout",
        str(RECV_TIMEOUT_MS),
        "-timeout",
        f"{math.ceil(timeout_s)}s",
        "-timeout_error",
        "-trace_rtt",
        # Dump every call's time at once: a short run may end before a batch fills.
        "-rtt_freq",
        "1",
    ]
    if rtp_echo:
        cmd.append("-rtp_echo")
    started = time.monotonic()
    timed_out = False
    with subprocess.Popen(
        cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            _, err = proc.communicate(timeout=timeout_s + 30)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            _, err = proc.communicate(timeout=10)
        wall = time.monotonic() - started
        code = proc.returncode
    errors_file = workdir / f"{name}-errors.log"
    errors = errors_file.read_text(errors="replace")[-1500:] if errors_file.exists() else ""
    return CallerRun(
        rate=rate,
        calls=calls,
        wall_s=wall,
        returncode=code,
        timed_out=timed_out or code == -1,
        stats=SippStats.read(workdir / f"{name}-stats.csv"),
        rtt_ms=read_rtt(workdir, name),
        errors=(err or "")[-500:] + errors,
    )


class Uas:
    """A unit phone (or a whole agency PBX) on one port, answering as its scenario says."""

    def __init__(self, scenario: str, *, port: int, workdir: Path, name: str = "uas") -> None:
        self.name = name
        self.workdir = workdir
        sf = workdir / f"{name}.xml"
        sf.write_text(scenario, encoding="utf-8")
        cmd = [
            "sipp",
            "-sf",
            str(sf),
            *sipp_common(workdir, name, port, sipp_media_port()),
            # Bounded: a UAS never outlives its step.
            "-timeout",
            "900s",
            # One line per answered call (rtd on the ACK of its 200).
            "-trace_rtt",
            "-rtt_freq",
            "1",
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def stop(self, settle_s: float = 3.0) -> SippStats:
        """Let the last calls finish, then stop; returns the final statistics."""
        time.sleep(settle_s)
        if self.proc.poll() is None:
            # SIGUSR1 is SIPp's soft quit: no new calls, exit when the current ones end.
            self.proc.send_signal(signal.SIGUSR1)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return SippStats.read(self.workdir / f"{self.name}-stats.csv")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def answering_uas() -> str:
    """Answers every call (180, 200), waits for the BYE: a unit that picks up."""
    return uas_scenario(200)


def liaison_only_uas() -> str:
    """An agency PBX where every unit line is busy and the liaison window (6101x) answers."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="agency PBX: unit lines busy, liaison answers">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="^INVITE sip:6101" search_in="msg" check_it="false" assign_to="liaison"/>
    </action>
  </recv>
{TRYING}
  <nop test="liaison" next="answer"/>
{sip_reply("486 Busy Here")}
  <recv request="ACK" crlf="true" next="end"/>
  <label id="answer"/>
{sip_reply("200 OK", contact="", sdp=True, retrans=True)}
  <recv request="ACK" rtd="true" crlf="true"/>
  <recv request="BYE" timeout="600000"/>
{OK_NO_TAG}
  <label id="end"/>
</scenario>
"""


# ------------------------------------------------------------------ DTMF captures

_PCAP_HEADER = 24
_RTP_OFFSET = 14 + 20 + 8  # Ethernet, IPv4 without options, UDP
_PLAY = re.compile(r'play_pcap_audio="[^"]+"')


def renumbered_capture(source: Path, target: Path, first_seq: int, timestamp: int) -> Path:
    """A copy of an RFC 2833 capture with its RTP sequence and timestamp set anew.

    Debian's captures are independent recordings: from one digit to the next the
    sequence numbers and timestamps jump backwards (and a repeated digit repeats them
    exactly), so Asterisk takes every digit after the first for an old or duplicate
    packet. A phone's stream only moves forward; this makes each play a new event in
    one forward-moving stream. UDP checksums are cleared (0 = none, valid in IPv4).
    """
    data = bytearray(source.read_bytes())
    off = _PCAP_HEADER
    base: int | None = None
    while off + 16 <= len(data):
        incl = int.from_bytes(data[off + 8 : off + 12], "little")
        pkt = off + 16
        rtp = pkt + _RTP_OFFSET
        seq = int.from_bytes(data[rtp + 2 : rtp + 4], "big")
        base = seq if base is None else base
        data[rtp + 2 : rtp + 4] = ((first_seq + seq - base) % 65536).to_bytes(2, "big")
        data[rtp + 4 : rtp + 8] = (timestamp % 2**32).to_bytes(4, "big")
        data[pkt + 14 + 20 + 6 : pkt + 14 + 20 + 8] = b"\0\0"
        off = pkt + incl
    target.write_bytes(bytes(data))
    return target


def caller_with_dtmf(
    digits: str, *, pre_ms: int, gap_ms: int, hold_ms: int, workdir: Path, caller: str
) -> str:
    """The tests' caller scenario, its digits played as one forward-moving RTP stream."""
    scenario = caller_scenario(caller, digits, pre_ms=pre_ms, gap_ms=gap_ms, hold_ms=hold_ms)
    plays = iter(
        renumbered_capture(
            PCAP_DIR / f"dtmf_2833_{_PCAP_NAME.get(d, d)}.pcap",
            workdir / f"dtmf-{i}-{_PCAP_NAME.get(d, d)}.pcap",
            first_seq=1000 + 100 * i,
            # 8 kHz: two seconds of timestamp between events, more than any gap.
            timestamp=160_000 + 16_000 * i,
        )
        for i, d in enumerate(digits)
    )
    return _PLAY.sub(lambda _m: f'play_pcap_audio="{next(plays)}"', scenario)
