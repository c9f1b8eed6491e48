"""The Asterisk config renderer can never emit a section no table asked for.

Property (issue 13, config injection): for any value the table schema accepts, the
generated pjsip.conf has exactly the sections and lines it has for a plain value, no
line that Asterisk would read as a directive (`#include`, `#exec`), and the value reads
back unchanged once Asterisk's `\\;` escape is undone.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ivr.asterisk.conf_text import ConfValueError, conf_value
from ivr.asterisk.generate import pjsip_conf, queues_conf
from ivr.routing.loader import load_profile
from ivr.routing.tables import Agent, Queue, RoutingTables, Trunk

ROOT = Path(__file__).resolve().parents[2]
TABLES = load_profile(ROOT / "routing" / "taipei")
STACK_SECRET = "stack-secret-for-tests"

# Text as hostile as it gets: every category, with the characters that matter to
# Asterisk's parser drawn often.
HOSTILE_TEXT = st.text(
    st.one_of(
        st.sampled_from(list("\"';[]#\\\n\r=<>,${}()!&|\x00\u2028\u202e ")),
        st.characters(),
    ),
    max_size=60,
)

# Ids and hosts that look right, then (often) carry a hostile tail: the schema's
# patterns must hold to the very end of the value, a trailing newline included.
IDENT_LIKE = st.tuples(
    st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True),
    st.one_of(st.just(""), HOSTILE_TEXT),
).map("".join)
HOST_LIKE = st.tuples(
    st.from_regex(r"[A-Za-z0-9.:\-\[\]]{1,20}", fullmatch=True),
    st.one_of(st.just(""), HOSTILE_TEXT),
).map("".join)


def with_agent(agent: Agent) -> RoutingTables:
    return replace(TABLES, agents=TABLES.agents.model_copy(update={"agents": [agent]}))


def accepted(model: type[Any], **fields: Any) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError:
        return None


def shape(conf: str) -> list[str]:
    """Section headers in order, and each other line's key: what a name may not change."""
    out = []
    for line in conf.splitlines():
        if line.startswith("[") or not line or line.startswith(";"):
            out.append(line)
        else:
            out.append(line.split("=", 1)[0])
    return out


def assert_no_directive(conf: str) -> None:
    for line in conf.splitlines():
        assert not line.lstrip().startswith("#"), line


def unescape(value: str) -> str:
    return value.replace("\\;", ";")


AGENT = {"id": "a01", "extension": "7001", "secret": "dev-7001-Taipei!", "skills": ["zh-TW"]}


@settings(max_examples=300, deadline=None)
@given(HOSTILE_TEXT)
def test_no_accepted_agent_name_adds_a_section_or_a_line(name: str) -> None:
    agent = accepted(Agent, **AGENT, name=name)
    if agent is None:
        return  # refused by the schema, with its reason: nothing reaches the config
    conf = pjsip_conf(with_agent(agent), STACK_SECRET)
    plain = pjsip_conf(with_agent(Agent.model_validate({**AGENT, "name": "X"})), STACK_SECRET)
    assert shape(conf) == shape(plain)
    assert_no_directive(conf)
    callerid = re.search(r"^callerid = (.*)$", conf, re.MULTILINE)
    assert callerid is not None
    # An unescaped ";" would start a comment and cut the caller id short.
    assert re.search(r"(?<!\\);", callerid[1]) is None
    assert unescape(callerid[1]) == f'"{name}" <7001>'


@settings(max_examples=200, deadline=None)
@given(IDENT_LIKE, HOST_LIKE)
def test_no_accepted_trunk_id_or_host_adds_a_section(trunk_id: str, host: str) -> None:
    trunk = accepted(Trunk, id=trunk_id, host=host)
    if trunk is None:
        return
    directory = TABLES.directory.model_copy(update={"trunks": [trunk]})
    conf = pjsip_conf(replace(TABLES, directory=directory), STACK_SECRET)
    headers = [line for line in conf.splitlines() if line.startswith("[")]
    plain = Trunk(id="t", host="127.0.0.1")
    expected = [
        line
        for line in pjsip_conf(
            replace(TABLES, directory=TABLES.directory.model_copy(update={"trunks": [plain]})),
            STACK_SECRET,
        ).splitlines()
        if line.startswith("[")
    ]
    assert headers == [h.replace("[t]", f"[{trunk.id}]") for h in expected]
    assert_no_directive(conf)


@settings(max_examples=200, deadline=None)
@given(IDENT_LIKE, HOSTILE_TEXT)
def test_no_accepted_queue_adds_a_section(queue_id: str, name: str) -> None:
    queue = accepted(Queue, id=queue_id, name=name, skills=["zh-TW"])
    if queue is None:
        return
    agents = TABLES.agents.model_copy(update={"queues": [queue]})
    conf = queues_conf(replace(TABLES, agents=agents))
    headers = [line for line in conf.splitlines() if line.startswith("[")]
    assert headers == [f"[hotline-{queue.id}]"]
    assert_no_directive(conf)


def test_a_name_with_a_semicolon_is_kept_whole_in_the_caller_id() -> None:
    agent = Agent.model_validate({**AGENT, "name": "陳;淑芬"})
    conf = pjsip_conf(with_agent(agent), STACK_SECRET)
    assert 'callerid = "陳\\;淑芬" <7001>\n' in conf


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\x00b", "a\u2028b", "a\x85b"], ids=repr)
def test_the_renderer_refuses_a_line_break_the_schema_let_through(value: str) -> None:
    """Defence in depth: even a value that skipped the schema cannot end its line."""
    with pytest.raises(ConfValueError):
        conf_value(value)
    unchecked = Agent.model_construct(**{**AGENT, "name": f"x{value}"})
    with pytest.raises(ConfValueError):
        pjsip_conf(with_agent(unchecked), STACK_SECRET)


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (Trunk, {"id": "pbx\n", "host": "127.0.0.1"}),
        (Trunk, {"id": "pbx", "host": "127.0.0.1\n[x]"}),
        (Queue, {"id": "general\n", "name": "一般", "skills": ["zh-TW"]}),
        (Queue, {"id": "general", "name": "一般\n[x]", "skills": ["zh-TW"]}),
    ],
    ids=["trunk-id", "trunk-host", "queue-id", "queue-name"],
)
def test_a_trailing_line_break_is_refused_in_ids_hosts_and_names(
    model: type[Any], fields: dict[str, Any]
) -> None:
    assert accepted(model, **fields) is None
