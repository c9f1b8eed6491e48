"""The wait a queued caller is told (ivr.domain.wait_estimate): true, or nothing."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.asterisk.conf_text import ConfValueError
from ivr.asterisk.generate import queues_conf
from ivr.asterisk.queue_sounds import announced, prompt_language, publish, queue_sounds
from ivr.asterisk.say_conf import say_conf
from ivr.domain.wait_estimate import (
    MIN_ANSWERED,
    SPOKEN_MINUTES,
    Handled,
    estimate_prompts,
    estimate_wait,
    spoken_minutes,
)
from ivr.prompts import load_catalogue
from ivr.routing.loader import load_profile
from tests.unit.test_routing_tables import broken, problems_of

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def _handled(*talk_s: float, minutes_ago: float = 10) -> list[Handled]:
    return [Handled(NOW - timedelta(minutes=minutes_ago), t) for t in talk_s]


def test_too_little_data_says_nothing() -> None:
    four = _handled(*[120.0] * (MIN_ANSWERED - 1))
    assert estimate_wait(four, now=NOW, position=1, agents=1) is None
    assert estimate_wait([], now=NOW, position=3, agents=2) is None


def test_only_the_last_hour_counts() -> None:
    old = _handled(*[60.0] * 10, minutes_ago=61)
    assert estimate_wait(old, now=NOW, position=1, agents=1) is None
    # Conversations "ending" after now (a skewed clock) are not the past hour's either.
    future = _handled(*[60.0] * 10, minutes_ago=-1)
    assert estimate_wait(future, now=NOW, position=1, agents=1) is None
    recent = _handled(*[60.0] * MIN_ANSWERED, minutes_ago=59)
    estimate = estimate_wait(old + recent, now=NOW, position=1, agents=1)
    assert estimate is not None
    assert estimate.answered == MIN_ANSWERED


def test_nobody_to_answer_says_nothing() -> None:
    data = _handled(*[60.0] * 10)
    assert estimate_wait(data, now=NOW, position=1, agents=0) is None
    assert estimate_wait(data, now=NOW, position=0, agents=2) is None


def test_callers_ahead_share_the_agents_in_turns() -> None:
    data = _handled(100, 100, 100, 100, 100)
    # Next in line, one agent: one conversation, 100 s, said as about 2 minutes.
    one = estimate_wait(data, now=NOW, position=1, agents=1)
    assert one is not None
    assert (one.seconds, one.minutes, one.prompt) == (100, 2, "queue-wait-about-2")
    # Fifth in line, two agents: three conversations in turn, 300 s, 5 minutes.
    fifth = estimate_wait(data, now=NOW, position=5, agents=2)
    assert fifth is not None
    assert (fifth.seconds, fifth.minutes) == (300, 5)


def test_the_mean_talk_time_is_used() -> None:
    estimate = estimate_wait(_handled(60, 60, 60, 60, 360), now=NOW, position=1, agents=1)
    assert estimate is not None
    assert estimate.seconds == 120


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [
        (1, 1),
        (60, 1),
        (61, 2),
        (599, 10),
        (601, 15),
        (15 * 60, 15),
        (15 * 60 + 1, 20),
        (31 * 60, 45),
        (3600, 60),
        (3601, None),
    ],
)
def test_the_minutes_said_are_never_fewer_than_the_arithmetic(
    seconds: float, minutes: int | None
) -> None:
    assert spoken_minutes(seconds) == minutes
    if minutes is not None:
        assert minutes * 60 >= seconds


def test_past_an_hour_the_caller_hears_more_than_an_hour() -> None:
    estimate = estimate_wait(_handled(*[1800.0] * 5), now=NOW, position=3, agents=1)
    assert estimate is not None
    assert (estimate.minutes, estimate.prompt) == (None, "queue-wait-over-60")


def test_every_estimate_prompt_is_in_the_catalogue_in_every_voiced_language() -> None:
    catalogue = load_catalogue(REPO / "recordings")
    assert len(estimate_prompts()) == len(SPOKEN_MINUTES) + 1
    for name in (
        *estimate_prompts(),
        "queue-position-next",
        "queue-position-before",
        "queue-position-after",
        "queue-position-more-before",
        "queue-position-more-after",
    ):
        assert name in catalogue.engine, name
        assert set(catalogue.prompts[name]) == {"zh-TW", "en"}, name


# ------------------------------------------------ the table's field and Asterisk's config

GENERAL_LINE = "skills: [zh-TW], strategy: rrmemory, announce_position: true, max_wait_s: 600}"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("19", "greater than or equal to 20"),
        ("601", "less than or equal to 600"),
        ("often", "integer"),
    ],
)
def test_a_bad_announcement_interval_is_refused_with_file_field_and_reason(
    tmp_path: Path, value: str, reason: str
) -> None:
    directory = broken(
        tmp_path,
        "agents.yaml",
        [(GENERAL_LINE, GENERAL_LINE[:-1] + f", announce_every_s: {value}}}")],
    )
    found = problems_of(directory)
    assert [
        p
        for p in found
        if p.file == str(directory / "agents.yaml")
        and p.path.endswith("announce_every_s")
        and reason in p.reason
    ], found


def test_queues_announce_position_and_our_estimate_every_n_seconds(tmp_path: Path) -> None:
    directory = broken(
        tmp_path,
        "agents.yaml",
        [(GENERAL_LINE, GENERAL_LINE[:-1] + ", announce_every_s: 45}")],
    )
    conf = queues_conf(load_profile(directory), Path("/srv/hotline/sounds"))
    general = conf.split("[hotline-general]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    folder = "/srv/hotline/sounds/queue-wait/general"
    for line in (
        # Positions past 9 are "more than 9": one digit, in our own prompts (say.conf).
        "announce-position = more",
        "announce-position-limit = 9",
        f"queue-quantity1 = {folder}/more-before",
        f"queue-quantity2 = {folder}/more-after",
        "announce-frequency = 45",
        "min-announce-frequency = 45",
        "periodic-announce-frequency = 45",
        "periodic-announce-startdelay = 0",
        f"periodic-announce = {folder}/estimate",
        f"queue-youarenext = {folder}/next",
        f"queue-thereare = {folder}/position-before",
        f"queue-callswaiting = {folder}/position-after",
        # Asterisk's own hold time is not ours, and its thank-you is in English.
        "announce-holdtime = no",
        "queue-thankyou =",
    ):
        assert line in general, (line, general)
    # The default: every 60 s.
    taiwanese = conf.split("[hotline-taiwanese]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert "periodic-announce-frequency = 60" in taiwanese


def test_the_estimate_link_is_replaced_whole_and_removed_when_nothing_is_true(
    tmp_path: Path,
) -> None:
    sounds = tmp_path / "sounds"
    (sounds / "zh-TW").mkdir(parents=True)
    publish(sounds, "general", "zh-TW", "queue-wait-about-2")
    folder = queue_sounds(sounds, "general")
    assert os.readlink(folder / "estimate.wav") == "../../zh-TW/queue-wait-about-2.wav"
    assert os.readlink(folder / "next.wav") == "../../zh-TW/queue-position-next.wav"
    assert announced(sounds, "general") == "queue-wait-about-2"
    # Owner-only, as everything in the state directory, and owned as the sounds are.
    assert folder.stat().st_mode & 0o777 == 0o700
    assert folder.stat().st_uid == sounds.stat().st_uid
    publish(sounds, "general", "zh-TW", "queue-wait-about-5")
    assert announced(sounds, "general") == "queue-wait-about-5"
    publish(sounds, "general", "zh-TW", None)
    assert announced(sounds, "general") is None
    assert not (folder / "estimate.wav").is_symlink()
    assert sorted(p.name for p in folder.iterdir()) == [
        "more-after.wav",
        "more-before.wav",
        "next.wav",
        "position-after.wav",
        "position-before.wav",
    ]


def test_a_queue_without_built_prompts_speaks_the_hotline_default(tmp_path: Path) -> None:
    (tmp_path / "zh-TW").mkdir()
    (tmp_path / "zh-TW" / "queue-position-next.wav").write_bytes(b"")
    assert prompt_language(tmp_path, "nan", "zh-TW") == "zh-TW"
    assert prompt_language(tmp_path, None, "zh-TW") == "zh-TW"
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "queue-position-next.wav").write_bytes(b"")
    assert prompt_language(tmp_path, "en", "zh-TW") == "en"


def test_positions_are_said_with_our_digits_in_the_callers_language() -> None:
    conf = say_conf(Path("/srv/s"), ("zh-TW", "en", "nan", "hak"), {"zh-TW", "en"}, "zh-TW")
    sections = {block.split("]\n", 1)[0]: block for block in conf.split("\n[")[1:]}
    assert "mode = new" in sections["general"]
    assert "_[n]um:X => /srv/s/en/digit-${SAY}" in sections["en"]
    assert "_[n]um:X => /srv/s/zh-TW/digit-${SAY}" in sections["zh-TW"]
    # Taiwanese and Hakka have no prompts of their own: the default language's.
    assert "_[n]um:X => /srv/s/zh-TW/digit-${SAY}" in sections["nan"]
    assert "_[n]um:X => /srv/s/zh-TW/digit-${SAY}" in sections["hak"]


def test_a_sounds_directory_too_long_for_asterisk_is_refused() -> None:
    with pytest.raises(ConfValueError, match="too long"):
        say_conf(Path("/" + "d" * 130), ("zh-TW",), {"zh-TW"}, "zh-TW")
