"""Sign-language video calls: recognising one, its waiting, its table and its codecs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ivr.asterisk.apply import sections
from ivr.asterisk.generate import pjsip_conf
from ivr.asterisk.media import CARRIER_TEMPLATE, media_conf
from ivr.domain.video import (
    VideoCallback,
    VideoGiveUp,
    VideoWait,
    shared_video,
    video_formats,
    video_move,
)
from ivr.domain.vocabulary import VideoWaitEnd
from ivr.routing.loader import RoutingError, load_profile
from ivr.routing.view import build_view

ROOT = Path(__file__).resolve().parents[2]
TAIPEI = ROOT / "routing" / "taipei"
VIDEO_QUEUE = (
    "  - {id: sign-language, name: 手語視訊, skills: [sign-language], strategy: ringall, "
    "announce_position: false, max_wait_s: 600, video_codecs: [vp8, h264]}"
)


# ---------------------------------------------------------------- recognising a video call


@pytest.mark.parametrize(
    ("native", "formats"),
    [
        ("(vp8)", ("vp8",)),
        ("(h264|vp8)", ("h264", "vp8")),
        ("(nothing)", ()),
        ("", ()),
        (None, ()),
        ("(H264)", ("h264",)),
    ],
)
def test_video_formats_read_asterisks_format_names(
    native: str | None, formats: tuple[str, ...]
) -> None:
    assert video_formats(native) == formats


def test_a_video_call_needs_video_in_a_codec_the_agents_take() -> None:
    """Video in a codec no agent's phone is offered is no video call: it could not pass."""
    assert shared_video("(vp8)", ("vp8", "h264")) == ("vp8",)
    assert shared_video("(h263|h264)", ("vp8", "h264")) == ("h264",)
    assert shared_video("(h263)", ("vp8", "h264")) == ()
    assert shared_video("(vp8)", ()) == ()
    assert shared_video("(nothing)", ("vp8",)) == ()


# ---------------------------------------------------------------- waiting, nothing spoken


def test_nobody_signed_in_is_a_callback_at_once() -> None:
    move = video_move(agents_signed_in=0, waited_s=0, max_wait_s=600, caller_known=True)
    assert move == VideoCallback(VideoWaitEnd.NO_AGENTS)


def test_a_signing_agent_signed_in_means_waiting_the_whole_longest_wait() -> None:
    move = video_move(agents_signed_in=1, waited_s=0, max_wait_s=600, caller_known=True)
    assert move == VideoWait(600)


def test_after_a_round_only_what_is_left_of_the_longest_wait() -> None:
    move = video_move(agents_signed_in=2, waited_s=420.5, max_wait_s=600, caller_known=True)
    assert move == VideoWait(179)


def test_the_longest_wait_used_up_is_a_callback_not_another_round() -> None:
    """A round cut a second short by Queue() buys no extra round of a few seconds."""
    move = video_move(agents_signed_in=1, waited_s=596, max_wait_s=600, caller_known=True)
    assert move == VideoCallback(VideoWaitEnd.MAX_WAIT)


def test_an_unknown_number_cannot_be_called_back() -> None:
    move = video_move(agents_signed_in=0, waited_s=0, max_wait_s=600, caller_known=False)
    assert move == VideoGiveUp(VideoWaitEnd.NO_AGENTS)


# ---------------------------------------------------------------- the table


def _with_agents(tmp_path: Path, edit: tuple[str, str]) -> Path:
    target = tmp_path / "taipei"
    shutil.copytree(TAIPEI, target)
    path = target / "agents.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(edit[0]) == 1
    path.write_text(text.replace(*edit), encoding="utf-8")
    return target


def _problems(directory: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(RoutingError) as refused:
        load_profile(directory)
    return [(Path(p.file).name, p.path, p.reason) for p in refused.value.problems]


def test_the_shipped_taipei_table_has_one_video_queue_of_signing_agents() -> None:
    tables = load_profile(TAIPEI)
    queue = tables.agents.video_queue()
    assert queue is not None
    assert queue.video_codecs == ["vp8", "h264"]
    assert [a.id for a in tables.agents.agents_for(queue)] == ["a03"]
    view = build_view(tables)
    assert (view.video_queue, view.video_codecs) == ("sign-language", ("vp8", "h264"))
    assert view.queues["sign-language"].language is None


def test_kinmen_has_no_video_queue() -> None:
    view = build_view(load_profile(ROOT / "routing" / "kinmen"))
    assert (view.video_queue, view.video_codecs) == (None, ())


def test_a_video_queue_whose_agents_lack_the_skill_is_refused(tmp_path: Path) -> None:
    """Rung agents must sign: a video queue without the skill is refused at its field."""
    directory = _with_agents(
        tmp_path, ("skills: [sign-language], strategy", "skills: [zh-TW], strategy")
    )
    found = _problems(directory)
    assert len(found) == 1, found
    file, path, reason = found[0]
    assert (file, path) == ("agents.yaml", "queues[5].skills")
    assert "sign-language skill" in reason


def test_a_video_queue_nobody_can_serve_is_refused(tmp_path: Path) -> None:
    directory = _with_agents(
        tmp_path, ("skills: [sign-language], strategy", "skills: [sign-language, hak], strategy")
    )
    found = _problems(directory)
    assert ("agents.yaml", "queues[5].skills") in {(f, p) for f, p, _ in found}
    assert any("no agent has all of sign-language, hak" in r for _, _, r in found)


def test_two_video_queues_are_refused(tmp_path: Path) -> None:
    directory = _with_agents(
        tmp_path,
        (VIDEO_QUEUE, f"{VIDEO_QUEUE}\n{VIDEO_QUEUE.replace('id: sign-language', 'id: sign-two')}"),
    )
    found = _problems(directory)
    assert found == [
        (
            "agents.yaml",
            "queues[6].video_codecs",
            "queue 'sign-language' is already the video queue: video calls go to one queue",
        )
    ]


@pytest.mark.parametrize(
    ("codecs", "path", "reason"),
    [
        ("[vp8, vp8]", "queues[5].video_codecs", "vp8 is listed twice"),
        ("[h263]", "queues[5].video_codecs[0]", "Input should be 'vp8' or 'h264'"),
        ("[]", "queues[5].video_codecs", "at least 1 item"),
    ],
)
def test_bad_video_codecs_are_refused_with_the_field(
    tmp_path: Path, codecs: str, path: str, reason: str
) -> None:
    directory = _with_agents(tmp_path, ("video_codecs: [vp8, h264]", f"video_codecs: {codecs}"))
    found = _problems(directory)
    assert [(f, p) for f, p, _ in found] == [("agents.yaml", path)], found
    assert reason in found[0][2]


def test_a_video_queue_offers_no_spoken_other_language_key(tmp_path: Path) -> None:
    directory = _with_agents(
        tmp_path,
        ("video_codecs: [vp8, h264]}", "video_codecs: [vp8, h264], other_language_queue: general}"),
    )
    found = _problems(directory)
    assert [(f, p) for f, p, _ in found] == [("agents.yaml", "queues[5].other_language_queue")]


def test_a_broken_video_field_is_refused_never_a_crash(tmp_path: Path) -> None:
    """`null` leaves a queue of no spoken language and no video: refused too."""
    for n, value in enumerate(("{vp8: 1}", "vp8", "[[vp8]]", "null", "[vp8, h264, vp8]")):
        directory = _with_agents(
            tmp_path / str(n), ("video_codecs: [vp8, h264]", f"video_codecs: {value}")
        )
        found = _problems(directory)
        assert all(p.startswith("queues[5]") for _, p, _ in found), (value, found)
        assert all("could not be checked" not in r for _, _, r in found), (value, found)


# ---------------------------------------------------------------- the codecs Asterisk is given


def _sections(conf: str) -> dict[str, str]:
    parts = re.split(r"(?m)^\[([^\]]+)\](?:\([^)]*\))?\s*$", conf)
    found: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        found[name] = found.get(name, "") + body
    return found


def test_only_the_signing_agents_phones_are_offered_video() -> None:
    tables = load_profile(TAIPEI)
    conf = _sections(pjsip_conf(tables, "stack-secret-for-tests"))
    assert "allow = ulaw,alaw,vp8,h264\n" in conf["7003"]
    for other in ("7001", "7002", "7004", "7005", "7006"):
        assert "allow = ulaw,alaw\n" in conf[other], other
    # Video is passed through, never transcoded: no phone gets a codec the carrier lacks.
    carrier = media_conf(tables.agents)
    assert f"[{CARRIER_TEMPLATE}](!)\n" in carrier
    assert "allow = ulaw,alaw,vp8,h264\n" in carrier


def test_without_a_video_queue_nothing_offers_video() -> None:
    tables = load_profile(ROOT / "routing" / "kinmen")
    assert "vp8" not in pjsip_conf(tables, "stack-secret-for-tests")
    carrier = media_conf(tables.agents)
    assert "allow = ulaw,alaw\n" in carrier
    assert "vp8" not in carrier


def test_the_carrier_endpoint_takes_its_codecs_from_the_generated_template() -> None:
    pjsip = (ROOT / "asterisk-conf" / "pjsip.conf").read_text(encoding="utf-8")
    assert pjsip.index("#include pjsip_media.conf") < pjsip.index(f"[carrier]({CARRIER_TEMPLATE})")
    carrier = pjsip.split(f"[carrier]({CARRIER_TEMPLATE})", 1)[1].split("\n\n", 1)[0]
    assert "allow" not in carrier


def test_reload_check_reads_sections_that_inherit_a_template() -> None:
    """`[carrier](hotline-carrier-media)` is the carrier endpoint, not more of the
    section before it (the reload's check once took the transport for an endpoint)."""
    conf = (
        "[transport-udp]\ntype = transport\nprotocol = udp\n\n"
        f"[{CARRIER_TEMPLATE}](!)\nallow = ulaw\n\n"
        f"[carrier]({CARRIER_TEMPLATE})\ntype = endpoint\ncontext = hotline-inbound\n"
    )
    assert set(sections(conf, "endpoint")) == {"carrier"}
    assert set(sections(conf, "transport")) == {"transport-udp"}
