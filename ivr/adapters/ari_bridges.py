"""ARI bridges, and a channel created in our app before it is dialled.

Kept beside `ari.py` (at its size limit) over the same transport. The emergency
three-way call (`ivr/adapters/threeway.py`) is their user: a mixing bridge holds the
citizen, the agent and the emergency line; the emergency leg is created in our Stasis
application first and dialled second, so its progress (the `Dial` events: ringing,
busy, answer) and its end reach us even when it is never answered, which an
originate into the app would not tell (a channel enters the app only once answered).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ivr.adapters.ari import AriClient, AriError


def _id(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class BridgeInfo:
    id: str
    bridge_type: str
    channels: tuple[str, ...]
    name: str = ""


async def create_bridge(ari: AriClient, bridge_id: str, name: str) -> None:
    await ari._request(
        "POST", "/bridges", params={"type": "mixing", "bridgeId": bridge_id, "name": name}
    )


async def add_channels(ari: AriClient, bridge_id: str, channels: Sequence[str]) -> None:
    await ari._request(
        "POST", f"/bridges/{_id(bridge_id)}/addChannel", params={"channel": ",".join(channels)}
    )


async def destroy_bridge(ari: AriClient, bridge_id: str) -> None:
    await ari._request("DELETE", f"/bridges/{_id(bridge_id)}")


async def list_bridges(ari: AriClient) -> list[BridgeInfo]:
    resp = await ari._request("GET", "/bridges")
    data = resp.json()
    if not isinstance(data, list):
        raise AriError("expected a list", request="GET /bridges")
    return [_bridge(item) for item in data if isinstance(item, dict)]


async def get_bridge(ari: AriClient, bridge_id: str) -> BridgeInfo:
    """The bridge as it is now; AriNotFound when it is gone."""
    resp = await ari._request("GET", f"/bridges/{_id(bridge_id)}")
    data = resp.json()
    if not isinstance(data, dict):
        raise AriError("expected an object", request="GET /bridges/{id}")
    return _bridge(data)


def _bridge(item: dict[str, Any]) -> BridgeInfo:
    channels = item.get("channels")
    return BridgeInfo(
        id=str(item.get("id", "")),
        bridge_type=str(item.get("bridge_type", "")),
        channels=tuple(str(c) for c in channels) if isinstance(channels, list) else (),
        name=str(item.get("name", "") or ""),
    )


async def create_channel(
    ari: AriClient,
    endpoint: str,
    *,
    channel_id: str,
    app_args: Sequence[str],
    originator: str | None = None,
) -> None:
    """A channel in our app, not yet dialled (StasisStart comes at once)."""
    params: dict[str, str] = {
        "endpoint": endpoint,
        "app": ari.app,
        "appArgs": ",".join(app_args),
        "channelId": channel_id,
    }
    if originator is not None:
        # Its codecs and linkedid: the CDRs tie the leg to the citizen's call.
        params["originator"] = originator
    await ari._request("POST", "/channels/create", params=params)


async def dial(ari: AriClient, channel_id: str, timeout_s: int) -> None:
    await ari._request("POST", f"/channels/{_id(channel_id)}/dial", params={"timeout": timeout_s})
