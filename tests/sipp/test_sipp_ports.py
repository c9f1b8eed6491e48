"""SIPp's ports: a UAS is handed back only once it listens, and one that cannot bind
says why at once, instead of leaving the call it was to answer ringing."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.ports import SERVICE_PORTS, free_port, share, sipp_media_port, udp_bound
from tests.sipp.scenarios import start_uas, uas_scenario


def test_udp_bound_reads_the_kernels_table() -> None:
    port = free_port()
    assert not udp_bound(port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))
        assert udp_bound(port)
        assert udp_bound(port, os.getpid())
    assert not udp_bound(port)
    assert not udp_bound(port, os.getpid())


def test_a_media_block_is_four_free_ports() -> None:
    port = sipp_media_port()
    for p in range(port, port + 4):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", p))


def test_a_uas_is_listening_when_it_is_handed_back(tmp_path: Path) -> None:
    port, media = free_port(), sipp_media_port()
    uas = start_uas(uas_scenario(200), port=port, media_port=media, calls=1, workdir=tmp_path)
    try:
        assert uas.poll() is None
        assert udp_bound(port, uas.pid)
        assert udp_bound(media, uas.pid)
        assert udp_bound(media + 2, uas.pid)
    finally:
        uas.kill()
        uas.wait()


def test_a_uas_whose_video_port_is_taken_says_so(tmp_path: Path) -> None:
    """SIPp binds the port two above its media port for video; taken, SIPp exits."""
    media = sipp_media_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", media + 2))
        with pytest.raises(AssertionError, match="Unable to bind video RTP socket"):
            start_uas(
                uas_scenario(200), port=free_port(), media_port=media, calls=1, workdir=tmp_path
            )


def test_each_worker_hands_out_its_own_share(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "6")
    shares = []
    for n in range(6):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{n}")
        shares.append(set(share(SERVICE_PORTS)))
    assert set().union(*shares) == set(SERVICE_PORTS)
    assert sum(map(len, shares)) == len(SERVICE_PORTS)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw2")
    given = [free_port() for _ in range(200)]
    assert set(given) <= shares[2]
    assert len(set(given)) == len(given)
