"""Free loopback ports for test processes, outside the kernel's ephemeral range.

A port the kernel hands out (bind to 0) lies in its ephemeral range (32768-60999 on
Debian). Between our check and the moment Asterisk, PostgreSQL or a softphone binds it,
any test's outgoing connection may take that same port as its local end; CI lost a run
to exactly that. Below the range only an explicit bind lands, so a port checked free
there stays free unless another worker picks the same one in the same instant.

    10000-19999  services (free_port): Asterisk SIP/AMI/HTTP, engines, consoles, PostgreSQL
    20000-29999  softphone blocks (softphone.phone_ports, through pick)
    30000-59199  Asterisk RTP ranges (harness.fresh_ports)
    61000-65531  SIPp media blocks (sipp_media_port)

SIPp binds its media port and the port two above it (video RTP); if that second port
is taken it exits at once ("Unable to bind video RTP socket", errno 98), and the
call it was to answer rings unanswered. So a SIPp gets a whole block of four.

A port checked free is only free until something binds it, and a stack's engine lets
go of its ports whenever a test stops or kills it. So each pytest-xdist worker hands
out only its own share of each range, and never the same port twice while its share
lasts: a console of another worker once took a stopped engine's web port, and the
test's sign-in reached the wrong console.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

SERVICE_PORTS = range(10000, 20000)
PHONE_PORTS = range(20000, 30000)
SIPP_MEDIA_PORTS = range(61000, 65532, 4)


def bindable(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def share(ports: range) -> range:
    """This process's share of `ports`: an xdist worker's every n-th, or all of them."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    index = int(worker[2:]) if worker[:2] == "gw" and worker[2:].isdigit() else 0
    return ports[index % count :: count] if count > 1 else ports


_given: set[int] = set()


def pick(ports: range, width: int) -> int:
    """A port of this process's share with `width` ports from it free, not handed out
    before (until the share runs out, when handing out starts over)."""
    mine = share(ports)
    if len(_given.intersection(mine)) > len(mine) // 2:
        _given.difference_update(mine)
    while True:
        port = random.choice(mine)
        if port in _given:
            continue
        block = range(port, port + width)
        if all(bindable(p, socket.SOCK_STREAM) and bindable(p, socket.SOCK_DGRAM) for p in block):
            _given.add(port)
            return port


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port free for both TCP and UDP (`kind` kept for callers' clarity)."""
    del kind  # both kinds are checked: SIP listens on UDP and TCP alike
    return pick(SERVICE_PORTS, 1)


def sipp_media_port() -> int:
    """The first of four free loopback ports: SIPp's audio RTP/RTCP and video RTP/RTCP."""
    return pick(SIPP_MEDIA_PORTS, 4)


def udp_bound(port: int, pid: int | None = None) -> bool:
    """Whether some process (or, given `pid`, that process) has a UDP socket on loopback
    `port`; read from the kernel's table, since binding the port to find out could take
    it from that very process."""
    local = f"0100007F:{port:04X}"
    any_host = f"00000000:{port:04X}"
    with open("/proc/net/udp", encoding="ascii") as table:
        next(table)
        inodes = {f[9] for f in map(str.split, table) if f[1] in (local, any_host)}
    if pid is None:
        return bool(inodes)
    return bool(inodes & _socket_inodes(pid))


def _socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process `pid` holds open (none once it has exited)."""
    fd_dir = Path(f"/proc/{pid}/fd")
    found: set[str] = set()
    try:
        for fd in fd_dir.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue  # closed between listing and reading
            if target.startswith("socket:["):
                found.add(target[len("socket:[") : -1])
    except OSError:
        return set()
    return found
