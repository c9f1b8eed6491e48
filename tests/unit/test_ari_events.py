"""parse_event on ARI event JSON shaped as Asterisk 22 sends it over /ari/events."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ivr.adapters.ari import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    ChannelInfo,
    ChannelStateChange,
    Dial,
    PlaybackFinished,
    PlaybackStarted,
    StasisEnd,
    StasisStart,
    UnknownEvent,
    parse_event,
)

APP = "hotline1999"
TS = "2026-11-23T15:02:27.388+0000"


def channel(
    cid: str = "1795446147.4",
    name: str = "Local/s@hotline-test-ari-00000002;1",
    state: str = "Up",
) -> dict[str, Any]:
    """A Channel object as ARI sends it inside events (copied from a live Asterisk 22)."""
    return {
        "id": cid,
        "name": name,
        "state": state,
        "protocol_id": "",
        "caller": {"name": "Test caller", "number": "0223456789"},
        "connected": {"name": "", "number": ""},
        "accountcode": "",
        "dialplan": {
            "context": "hotline-test-caller",
            "exten": "s",
            "priority": 3,
            "app_name": "Wait",
            "app_data": "2",
        },
        "creationtime": "2026-11-23T15:02:27.384+0000",
        "language": "en",
    }


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "timestamp": TS,
        **fields,
        "asterisk_id": "02:fc:00:00:00:01",
        "application": APP,
    }


def playback(state: str) -> dict[str, Any]:
    return {
        "id": "7b090f97-3151-4c76-9a8d-a525e3f0cd6e",
        "media_uri": "sound:/var/lib/hotline1999/sounds/en/fallback",
        "target_uri": "channel:1795446147.4",
        "language": "en",
        "state": state,
    }


EXPECTED_CHANNEL = ChannelInfo(
    id="1795446147.4",
    name="Local/s@hotline-test-ari-00000002;1",
    state="Up",
    caller_number="0223456789",
    caller_name="Test caller",
    exten="s",
    context="hotline-test-caller",
    priority=3,
    app_name="Wait",
)


def test_stasis_start_carries_channel_args_application_and_timestamp() -> None:
    """StasisStart keeps the channel, the Stasis() arguments and the common fields."""
    parsed = parse_event(event("StasisStart", args=["ivr", "1999"], channel=channel()))
    assert parsed == StasisStart(EXPECTED_CHANNEL, ("ivr", "1999"), application=APP, timestamp=TS)


def test_stasis_start_without_args_has_an_empty_tuple() -> None:
    """A StasisStart that lacks args still parses, with no arguments."""
    parsed = parse_event(event("StasisStart", channel=channel()))
    assert isinstance(parsed, StasisStart)
    assert parsed.args == ()


def test_stasis_end() -> None:
    """StasisEnd carries the channel leaving the application."""
    parsed = parse_event(event("StasisEnd", channel=channel()))
    assert parsed == StasisEnd(EXPECTED_CHANNEL, application=APP, timestamp=TS)


def test_channel_dtmf_received() -> None:
    """A DTMF digit arrives with its duration in milliseconds."""
    parsed = parse_event(
        event("ChannelDtmfReceived", digit="4", duration_ms=100, channel=channel())
    )
    assert parsed == ChannelDtmfReceived(EXPECTED_CHANNEL, "4", 100, application=APP, timestamp=TS)


def test_channel_hangup_request_with_and_without_cause() -> None:
    """The cause is optional in a hangup request; `soft` says who asked."""
    with_cause = parse_event(event("ChannelHangupRequest", cause=16, soft=True, channel=channel()))
    assert with_cause == ChannelHangupRequest(
        EXPECTED_CHANNEL, 16, True, application=APP, timestamp=TS
    )
    without = parse_event(event("ChannelHangupRequest", channel=channel()))
    assert isinstance(without, ChannelHangupRequest)
    assert without.cause is None
    assert without.soft is False


def test_channel_destroyed() -> None:
    """ChannelDestroyed reports the Q.850 cause and its text."""
    parsed = parse_event(
        event("ChannelDestroyed", cause=16, cause_txt="Normal Clearing", channel=channel())
    )
    assert parsed == ChannelDestroyed(
        EXPECTED_CHANNEL, 16, "Normal Clearing", application=APP, timestamp=TS
    )


def test_channel_state_change() -> None:
    """ChannelStateChange carries the channel in its new state."""
    parsed = parse_event(event("ChannelStateChange", channel=channel(state="Ringing")))
    assert isinstance(parsed, ChannelStateChange)
    assert parsed.channel.state == "Ringing"


def test_playback_started_and_finished() -> None:
    """Playback events carry the playback id, its target and (when finished) its end state."""
    started = parse_event(event("PlaybackStarted", playback=playback("playing")))
    assert started == PlaybackStarted(
        "7b090f97-3151-4c76-9a8d-a525e3f0cd6e",
        "channel:1795446147.4",
        application=APP,
        timestamp=TS,
    )
    finished = parse_event(event("PlaybackFinished", playback=playback("done")))
    assert finished == PlaybackFinished(
        "7b090f97-3151-4c76-9a8d-a525e3f0cd6e",
        "channel:1795446147.4",
        "done",
        application=APP,
        timestamp=TS,
    )


def test_dial_of_an_originated_channel_has_no_caller() -> None:
    """An originate's Dial events name only the peer; its status is empty until the end."""
    peer = channel(state="Down")
    progress = parse_event(
        event("Dial", dialstatus="", forward="", dialstring="s@hotline-test-caller", peer=peer)
    )
    assert progress == Dial(
        None, "1795446147.4", "", "s@hotline-test-caller", application=APP, timestamp=TS
    )
    busy = parse_event(
        event(
            "Dial",
            dialstatus="BUSY",
            forward="",
            dialstring="s@hotline-test-caller",
            caller=channel("1795446147.3", "PJSIP/alice-00000001"),
            peer=peer,
        )
    )
    assert isinstance(busy, Dial)
    assert busy.caller_id == "1795446147.3"
    assert busy.dialstatus == "BUSY"


def test_channel_info_from_a_sparse_channel_object() -> None:
    """Only id, name and state are required; the rest defaults to empty."""
    info = ChannelInfo.from_json({"id": "1.1", "name": "PJSIP/x-1", "state": "Ring"})
    assert info == ChannelInfo("1.1", "PJSIP/x-1", "Ring", "", "", "", "", None, "")


def test_unknown_event_type_keeps_type_and_raw() -> None:
    """Event types this module does not model come back as UnknownEvent, untouched."""
    raw = event("ChannelVarset", variable="HOTLINE_TEST_HOLD", value="2", channel=channel())
    parsed = parse_event(raw)
    assert parsed == UnknownEvent("ChannelVarset", raw, application=APP, timestamp=TS)


def _without(data: dict[str, Any], *path: str) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node = out
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return out


def _with(data: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


_GOOD_DTMF = event("ChannelDtmfReceived", digit="4", duration_ms=100, channel=channel())
_GOOD_DESTROYED = event(
    "ChannelDestroyed", cause=16, cause_txt="Normal Clearing", channel=channel()
)
_GOOD_FINISHED = event("PlaybackFinished", playback=playback("done"))
_GOOD_DIAL = event("Dial", dialstatus="BUSY", dialstring="x", peer=channel())


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_without(_GOOD_DTMF, "channel"), id="no-channel"),
        pytest.param(_with(_GOOD_DTMF, "not a channel", "channel"), id="channel-not-object"),
        pytest.param(_without(_GOOD_DTMF, "channel", "id"), id="channel-without-id"),
        pytest.param(_with(_GOOD_DTMF, 17, "channel", "name"), id="channel-name-not-string"),
        pytest.param(_with(_GOOD_DTMF, [], "channel", "caller"), id="caller-not-object"),
        pytest.param(_with(_GOOD_DTMF, "3", "channel", "dialplan", "priority"), id="prio-text"),
        pytest.param(_without(_GOOD_DTMF, "digit"), id="dtmf-without-digit"),
        pytest.param(_with(_GOOD_DTMF, "100", "duration_ms"), id="duration-as-text"),
        pytest.param(_with(_GOOD_DTMF, True, "duration_ms"), id="duration-as-bool"),
        pytest.param(_without(_GOOD_DESTROYED, "cause"), id="destroyed-without-cause"),
        pytest.param(_with(_GOOD_DESTROYED, None, "cause_txt"), id="destroyed-null-text"),
        pytest.param(_with(_GOOD_DESTROYED, 16.5, "cause"), id="cause-as-float"),
        pytest.param(_without(_GOOD_FINISHED, "playback"), id="finished-without-playback"),
        pytest.param(_without(_GOOD_FINISHED, "playback", "state"), id="finished-without-state"),
        pytest.param(_without(_GOOD_DIAL, "peer"), id="dial-without-peer"),
        pytest.param(_with(_GOOD_DIAL, "x", "caller"), id="dial-caller-not-object"),
        pytest.param(
            event("StasisStart", args="ivr,1999", channel=channel()), id="args-not-a-list"
        ),
        pytest.param(event("StasisStart", args=["ivr", 7], channel=channel()), id="args-not-str"),
        pytest.param(
            event("ChannelHangupRequest", cause=16, soft="yes", channel=channel()),
            id="soft-not-bool",
        ),
    ],
)
def test_malformed_known_event_becomes_unknown_event(raw: dict[str, Any]) -> None:
    """A known type with a missing or mistyped field is UnknownEvent with the raw data."""
    parsed = parse_event(raw)
    assert isinstance(parsed, UnknownEvent)
    assert parsed.type == raw["type"]
    assert parsed.raw == raw
    assert parsed.application == APP
    assert parsed.timestamp == TS


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param({}, id="empty"),
        pytest.param({"channel": channel()}, id="no-type"),
        pytest.param({"type": 42, "channel": channel()}, id="type-not-string"),
        pytest.param({"type": None}, id="type-null"),
    ],
)
def test_event_without_a_usable_type_is_unknown_with_empty_type(raw: dict[str, Any]) -> None:
    """No type, or one that is not a string, gives UnknownEvent('') with the raw data."""
    parsed = parse_event(raw)
    assert parsed == UnknownEvent("", raw)


def test_common_fields_of_the_wrong_type_are_dropped_not_fatal() -> None:
    """A non-string application or timestamp does not cost the event itself."""
    raw = {**event("StasisEnd", channel=channel()), "application": 1, "timestamp": None}
    parsed = parse_event(raw)
    assert parsed == StasisEnd(EXPECTED_CHANNEL)
