"""Free loopback ports for test processes, outside the kernel's ephemeral range.

A port the kernel hands out (bind to 0) lies in its ephemeral range (32768-60999 on
Debian). Between our check and the moment Asterisk, PostgreSQL or a softphone binds it,
any test's outgoing connection may take that same port as its local end; CI lost a run
to exactly that. Below the range only an explicit bind lands, so a port checked free
there stays free unless another worker picks the same one in the same instant.

    10000-19999  services (free_port): Asterisk SIP/AMI/HTTP, engines, consoles, PostgreSQL
    20000-29999  softphone blocks (softphone.phone_ports)
    30000-59199  Asterisk RTP ranges (harness.fresh_ports)
"""

from __future__ import annotations

import random
import socket

SERVICE_PORTS = range(10000, 20000)
PHONE_PORTS = range(20000, 30000)


def bindable(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port free for both TCP and UDP (`kind` kept for callers' clarity)."""
    del kind  # both kinds are checked: SIP listens on UDP and TCP alike
    while True:
        port = random.choice(SERVICE_PORTS)
        if bindable(port, socket.SOCK_STREAM) and bindable(port, socket.SOCK_DGRAM):
            return port
