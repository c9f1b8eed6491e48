"""Pure parts of the console: sign-in rules, words in both languages, wallboard folding."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

from ivr.domain import signin
from ivr.domain.vocabulary import PauseReason
from ivr.web import i18n
from ivr.web.hub import QUEUE_SIZE, Message, PopHub
from ivr.web.wallboard import AgentRow, QueueRow, apply_status

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_lockout_starts_at_the_fifth_failure_and_doubles_to_a_cap() -> None:
    assert signin.lockout_after(4, T0) is None
    assert signin.lockout_after(5, T0) == T0 + timedelta(seconds=30)
    assert signin.lockout_after(6, T0) == T0 + timedelta(seconds=60)
    assert signin.lockout_after(50, T0) == T0 + signin.LOCKOUT_MAX


def test_a_session_ends_when_idle_or_older_than_a_shift() -> None:
    assert not signin.session_expired(T0, T0 + timedelta(minutes=30), T0 + timedelta(minutes=59))
    assert signin.session_expired(T0, T0, T0 + timedelta(minutes=31))
    late = T0 + timedelta(hours=12, minutes=1)
    assert signin.session_expired(T0, late - timedelta(minutes=1), late)


def test_weak_passwords_are_refused_with_the_reason() -> None:
    assert signin.password_problem("short") is not None
    assert signin.password_problem(" leading-space-pw") is not None
    assert signin.password_problem("a-long-enough-password") is None


def test_every_word_has_both_languages_with_the_same_placeholders() -> None:
    fields = string.Formatter()
    for key in i18n.word_keys():
        zh = i18n.translator("zh-TW")
        en = i18n.translator("en")
        zh_names = {f for _, f, _, _ in fields.parse(i18n._WORDS[key][0]) if f}
        en_names = {f for _, f, _, _ in fields.parse(i18n._WORDS[key][1]) if f}
        assert zh_names == en_names, key
        values = dict.fromkeys(zh_names, "x")
        assert zh(key, **values)
        assert en(key, **values)


def test_queue_status_events_fold_into_the_wallboard_rows() -> None:
    rows = {"hotline-general": QueueRow("general", "一般諮詢")}
    apply_status(
        rows,
        [
            {
                "Event": "QueueParams",
                "Queue": "hotline-general",
                "Calls": "2",
                "Completed": "7",
                "Abandoned": "1",
            },
            {"Event": "QueueEntry", "Queue": "hotline-general", "Wait": "41"},
            {"Event": "QueueEntry", "Queue": "hotline-general", "Wait": "12"},
            {"Event": "QueueMember", "Queue": "hotline-general", "Status": "1", "Paused": "0"},
            {"Event": "QueueMember", "Queue": "hotline-general", "Status": "2", "Paused": "0"},
            {"Event": "QueueMember", "Queue": "hotline-general", "Status": "1", "Paused": "1"},
            {"Event": "QueueMember", "Queue": "hotline-other", "Status": "1", "Paused": "0"},
        ],
    )
    row = rows["hotline-general"]
    assert (row.waiting, row.longest_wait_s, row.answered, row.abandoned) == (2, 41, 7, 1)
    assert (row.ready, row.busy, row.paused) == (1, 1, 1)


def test_each_agent_is_shown_once_paused_with_its_reason_if_paused_anywhere() -> None:
    rows = {
        "hotline-general": QueueRow("general", "一般諮詢"),
        "hotline-dispatch": QueueRow("dispatch", "派工報案"),
    }
    agents: dict[str, AgentRow] = {}
    member = {"Event": "QueueMember", "Status": "1", "Paused": "0"}
    apply_status(
        rows,
        [
            {**member, "Queue": "hotline-general", "MemberName": "a01"},
            {
                **member,
                "Queue": "hotline-dispatch",
                "MemberName": "a01",
                "Paused": "1",
                "PausedReason": "meal",
            },
            {**member, "Queue": "hotline-general", "MemberName": "a02", "InCall": "1"},
            {**member, "Queue": "hotline-general", "MemberName": "a03"},
        ],
        agents,
    )
    shown = {a.agent_id: (a.state, a.reason, a.queues) for a in agents.values()}
    assert shown == {
        "a01": ("paused", "meal", ["general", "dispatch"]),
        "a02": ("busy", None, ["general"]),
        "a03": ("ready", None, ["general"]),
    }


def test_pause_reasons_are_the_phones_in_the_users_words() -> None:
    en = i18n.translator("en")
    assert i18n.reason_text(en, "meal") == "Meal"
    assert i18n.reason_text(en, None) == "No reason given"
    # A reason set outside the hotline (Asterisk's CLI) is shown as it is, escaped later.
    assert i18n.reason_text(en, "coffee") == "coffee"
    # Every reason of the phone has its words.
    assert all(i18n.reason_text(en, reason) != str(reason) for reason in PauseReason)


async def test_signing_out_ends_the_sessions_open_streams_only() -> None:
    hub = PopHub()
    async with hub.session_watch("s1") as mine, hub.session_watch("s2") as other:
        hub.end_session("s1")
        assert mine.is_set()
        assert not other.is_set()


async def test_a_page_that_stops_reading_loses_old_messages_not_memory() -> None:
    hub = PopHub()
    async with hub.subscribe("a01") as queue:
        for i in range(QUEUE_SIZE + 5):
            hub.publish("a01", Message("pop", {"n": i}))
        assert queue.qsize() == QUEUE_SIZE
        assert (await queue.get()).data == {"n": 5}
    assert hub.pages("a01") == 0
