"""FastAGI accepts only the peers it may: loopback by default, a permit list otherwise."""

from __future__ import annotations

import asyncio

import pytest

from ivr.adapters.fastagi.server import AGIRouter, AGISession, FastAGIServer
from tests.fastagi.test_fastagi_server import IO_TIMEOUT, header_lines


def test_non_loopback_bind_without_permit_is_refused() -> None:
    with pytest.raises(ValueError, match="permit"):
        FastAGIServer(AGIRouter(), "0.0.0.0", 0)


async def _serve_once(permit: tuple[str, ...]) -> tuple[list[str], bytes]:
    """Connect from 127.0.0.1 to a server with this permit list; what ran, what came back."""
    ran: list[str] = []

    async def handler(session: AGISession) -> None:
        ran.append(session.request.env.get("agi_uniqueid", ""))

    router = AGIRouter()
    router.register("hotline", handler)
    server = FastAGIServer(router, "127.0.0.1", 0, permit=permit)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(("\n".join(header_lines()) + "\n\n").encode())
        await writer.drain()
        try:
            # The first line the server sends (its outcome), or b"" when it hung up.
            data = await asyncio.wait_for(reader.readline(), IO_TIMEOUT)
        except ConnectionResetError:
            data = b""
        writer.close()
    finally:
        await server.stop()
    return ran, data


async def test_peer_outside_the_permit_list_is_dropped_before_its_header() -> None:
    ran, data = await _serve_once(("10.20.0.0/16",))
    assert ran == []
    assert data == b""


async def test_peer_in_the_permit_list_is_served() -> None:
    ran, data = await _serve_once(("127.0.0.0/8",))
    assert ran == ["1700000000.1"]
    assert b"SET VARIABLE" in data
