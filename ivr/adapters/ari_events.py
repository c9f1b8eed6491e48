"""ARI events: the websocket's JSON as typed records, parsed defensively.

An event of a known type that lacks a field, or has one of the wrong type, becomes
`UnknownEvent` (logged), never an exception in the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import structlog

from ivr.errors import HotlineError

log = structlog.get_logger()


class Malformed(HotlineError, ValueError):
    """An event of a known type lacks a field or has one of the wrong type."""

    code = "ari.malformed_event"


@dataclass(frozen=True)
class ChannelInfo:
    """The parts of an ARI Channel object the engine uses."""

    id: str
    name: str
    state: str
    caller_number: str = ""
    caller_name: str = ""
    exten: str = ""
    context: str = ""
    priority: int | None = None
    app_name: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChannelInfo:
        caller = _opt_mapping(data, "caller")
        dialplan = _opt_mapping(data, "dialplan")
        return cls(
            id=_req_str(data, "id"),
            name=_req_str(data, "name"),
            state=_req_str(data, "state"),
            caller_number=_opt_str(caller, "number") or "",
            caller_name=_opt_str(caller, "name") or "",
            exten=_opt_str(dialplan, "exten") or "",
            context=_opt_str(dialplan, "context") or "",
            priority=_opt_int(dialplan, "priority"),
            app_name=_opt_str(dialplan, "app_name") or "",
        )


@dataclass(frozen=True, kw_only=True)
class BaseEvent:
    """What every ARI event carries besides its own fields."""

    application: str | None = None
    timestamp: str | None = None


@dataclass(frozen=True)
class StasisStart(BaseEvent):
    channel: ChannelInfo
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class StasisEnd(BaseEvent):
    channel: ChannelInfo


@dataclass(frozen=True)
class ChannelDtmfReceived(BaseEvent):
    channel: ChannelInfo
    digit: str
    duration_ms: int


@dataclass(frozen=True)
class ChannelHangupRequest(BaseEvent):
    channel: ChannelInfo
    cause: int | None
    soft: bool = False


@dataclass(frozen=True)
class ChannelDestroyed(BaseEvent):
    channel: ChannelInfo
    cause: int
    cause_txt: str


@dataclass(frozen=True)
class ChannelStateChange(BaseEvent):
    channel: ChannelInfo


@dataclass(frozen=True)
class PlaybackStarted(BaseEvent):
    playback_id: str
    target_uri: str


@dataclass(frozen=True)
class PlaybackFinished(BaseEvent):
    playback_id: str
    target_uri: str
    # "done" when it played to the end, "failed" when the file was missing or the
    # channel went away mid-prompt, "cancelled" when stopped.
    state: str


@dataclass(frozen=True)
class Dial(BaseEvent):
    """Progress of a dial; busy on an originated Local leg shows only here (BUSY)."""

    caller_id: str | None
    peer_id: str
    dialstatus: str
    dialstring: str


@dataclass(frozen=True)
class UnknownEvent(BaseEvent):
    """Any event this module does not model, or a known one that failed to parse."""

    type: str
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class LinkUp(BaseEvent):
    """Not from Asterisk: our event socket is (again) connected. Nothing that happened
    while it was down was sent, and Asterisk kept our app's channels and bridges, so a
    handler that holds calls looks at them again (ivr/adapters/threeway.py)."""


AriEvent = (
    StasisStart
    | StasisEnd
    | ChannelDtmfReceived
    | ChannelHangupRequest
    | ChannelDestroyed
    | ChannelStateChange
    | PlaybackStarted
    | PlaybackFinished
    | Dial
    | LinkUp
    | UnknownEvent
)
EventHandler = Callable[[AriEvent], Awaitable[None] | None]


def _req_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise Malformed(f"{key}: expected a string, got {type(value).__name__}")
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Malformed(f"{key}: expected a string, got {type(value).__name__}")
    return value


def _opt_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    # bool is an int to Python, never to ARI.
    if isinstance(value, bool) or not isinstance(value, int):
        raise Malformed(f"{key}: expected an integer, got {type(value).__name__}")
    return value


def _req_int(data: Mapping[str, Any], key: str) -> int:
    value = _opt_int(data, key)
    if value is None:
        raise Malformed(f"{key}: missing")
    return value


def _opt_mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Malformed(f"{key}: expected an object, got {type(value).__name__}")
    return value


def _req_channel(data: Mapping[str, Any], key: str = "channel") -> ChannelInfo:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise Malformed(f"{key}: expected a channel object")
    return ChannelInfo.from_json(value)


def _args(data: Mapping[str, Any]) -> tuple[str, ...]:
    value = data.get("args")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise Malformed("args: expected a list of strings")
    return tuple(value)


def _playback(data: Mapping[str, Any]) -> Mapping[str, Any]:
    value = data.get("playback")
    if not isinstance(value, Mapping):
        raise Malformed("playback: expected a playback object")
    return value


def _stasis_start(d: Mapping[str, Any]) -> AriEvent:
    return StasisStart(_req_channel(d), _args(d))


def _stasis_end(d: Mapping[str, Any]) -> AriEvent:
    return StasisEnd(_req_channel(d))


def _dtmf(d: Mapping[str, Any]) -> AriEvent:
    return ChannelDtmfReceived(
        _req_channel(d), _req_str(d, "digit"), _opt_int(d, "duration_ms") or 0
    )


def _hangup_request(d: Mapping[str, Any]) -> AriEvent:
    soft = d.get("soft", False)
    if not isinstance(soft, bool):
        raise Malformed("soft: expected a boolean")
    return ChannelHangupRequest(_req_channel(d), _opt_int(d, "cause"), soft)


def _destroyed(d: Mapping[str, Any]) -> AriEvent:
    return ChannelDestroyed(_req_channel(d), _req_int(d, "cause"), _req_str(d, "cause_txt"))


def _state_change(d: Mapping[str, Any]) -> AriEvent:
    return ChannelStateChange(_req_channel(d))


def _playback_started(d: Mapping[str, Any]) -> AriEvent:
    pb = _playback(d)
    return PlaybackStarted(_req_str(pb, "id"), _req_str(pb, "target_uri"))


def _playback_finished(d: Mapping[str, Any]) -> AriEvent:
    pb = _playback(d)
    return PlaybackFinished(_req_str(pb, "id"), _req_str(pb, "target_uri"), _req_str(pb, "state"))


def _dial(d: Mapping[str, Any]) -> AriEvent:
    caller_id = _req_channel(d, "caller").id if d.get("caller") is not None else None
    return Dial(
        caller_id,
        _req_channel(d, "peer").id,
        _opt_str(d, "dialstatus") or "",
        _opt_str(d, "dialstring") or "",
    )


_PARSERS: Mapping[str, Callable[[Mapping[str, Any]], AriEvent]] = {
    "StasisStart": _stasis_start,
    "StasisEnd": _stasis_end,
    "ChannelDtmfReceived": _dtmf,
    "ChannelHangupRequest": _hangup_request,
    "ChannelDestroyed": _destroyed,
    "ChannelStateChange": _state_change,
    "PlaybackStarted": _playback_started,
    "PlaybackFinished": _playback_finished,
    "Dial": _dial,
}


def parse_event(data: Mapping[str, Any]) -> AriEvent:
    """Turn one websocket message into a typed event; never raises."""
    kind = data.get("type")
    application = data.get("application")
    application = application if isinstance(application, str) else None
    timestamp = data.get("timestamp")
    timestamp = timestamp if isinstance(timestamp, str) else None
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is not None:
        try:
            event = parser(data)
        except (Malformed, TypeError, ValueError, AttributeError):
            pass
        else:
            return replace(event, application=application, timestamp=timestamp)
    return UnknownEvent(
        kind if isinstance(kind, str) else "", data, application=application, timestamp=timestamp
    )


def decode(message: str | bytes) -> AriEvent:
    try:
        data = json.loads(message)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        text = message if isinstance(message, str) else message.decode("utf-8", "replace")
        log.warning("ari_event_not_json", size=len(message))
        return UnknownEvent("", {"text": text})
    return parse_event(data)


def event_channel(event: AriEvent) -> ChannelInfo | None:
    channel = getattr(event, "channel", None)
    return channel if isinstance(channel, ChannelInfo) else None
