"""The AGI wire protocol, parsed and formatted without any I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.adapters.fastagi.protocol import (
    AGIProtocolError,
    AGIReply,
    AGIRequest,
    format_command,
    parse_env_line,
    parse_reply,
)

USAGE_REPLY = [
    "520-Invalid command syntax.  Proper usage follows:",
    " Usage: GET DATA <file to be streamed> [timeout] [maxdigits]",
    "Stream the given file, and receive DTMF data.",
    "520 End of proper usage.",
]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "200 result=0 endpos=12345",
            AGIReply(200, "0", None, False, 12345, "200 result=0 endpos=12345"),
        ),
        (
            "200 result=-1 endpos=0",
            AGIReply(200, "-1", None, False, 0, "200 result=-1 endpos=0"),
        ),
        (
            "200 result=1 (some value with spaces)",
            AGIReply(
                200,
                "1",
                "some value with spaces",
                False,
                None,
                "200 result=1 (some value with spaces)",
            ),
        ),
        (
            "200 result= (timeout)",
            AGIReply(200, "", "timeout", True, None, "200 result= (timeout)"),
        ),
        (
            "200 result=123 (timeout)",
            AGIReply(200, "123", "timeout", True, None, "200 result=123 (timeout)"),
        ),
        ("200 result=49", AGIReply(200, "49", None, False, None, "200 result=49")),
        ("200 result=", AGIReply(200, "", None, False, None, "200 result=")),
        ("200 result=1 ()", AGIReply(200, "1", "", False, None, "200 result=1 ()")),
        (
            "200 result=1 (a (nested) value)",
            AGIReply(200, "1", "a (nested) value", False, None, "200 result=1 (a (nested) value)"),
        ),
        (
            "200 result=0 (dtmf) endpos=800",
            AGIReply(200, "0", "dtmf", False, 800, "200 result=0 (dtmf) endpos=800"),
        ),
        (
            "510 Invalid or unknown command",
            AGIReply(
                510, "", "Invalid or unknown command", False, None, "510 Invalid or unknown command"
            ),
        ),
        (
            "511 Command Not Permitted on a dead channel or intercept routine",
            AGIReply(
                511,
                "",
                "Command Not Permitted on a dead channel or intercept routine",
                False,
                None,
                "511 Command Not Permitted on a dead channel or intercept routine",
            ),
        ),
    ],
)
def test_parse_single_line_replies(line: str, expected: AGIReply) -> None:
    """Every single-line reply shape Asterisk 22 sends is parsed field by field."""
    assert parse_reply([line]) == expected


def test_parse_multiline_usage_reply() -> None:
    """A 520- usage reply keeps its text and raw lines."""
    reply = parse_reply(USAGE_REPLY)
    assert reply.code == 520
    assert reply.data is not None
    assert reply.data.startswith("Invalid command syntax.")
    assert "Usage: GET DATA" in reply.data
    assert reply.raw == "\n".join(USAGE_REPLY)
    assert not reply.timeout


def test_parse_single_line_520() -> None:
    """A 520 without usage text is a single line."""
    reply = parse_reply(["520 Invalid command syntax.  Proper usage not available."])
    assert reply.code == 520


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [""],
        ["HANGUP"],
        ["100 result=0 Trying..."],
        ["200 result=0 endpos=abc"],
        ["200 result=1 (unclosed"],
        ["200 result=0 trailing"],
        ["500 Unknown code"],
        ["200result=0"],
        USAGE_REPLY[:-1],
        ["200 result=0", "200 result=1"],
        ["200 result=0 endpos=" + "9" * 5000],
    ],
)
def test_parse_reply_refuses_unknown_shapes(lines: list[str]) -> None:
    """Anything Asterisk would not send is an AGIProtocolError."""
    with pytest.raises(AGIProtocolError):
        parse_reply(lines)


@pytest.mark.parametrize(
    ("result", "expected"),
    [("0", 0), ("-1", -1), ("49", 49), ("", None), ("12#", None), ("9" * 40, None)],
)
def test_result_int(result: str, expected: int | None) -> None:
    """result_int is the integer result, or None when the token is not one."""
    assert AGIReply(200, result, None, False, None, "").result_int == expected


@given(st.lists(st.text(max_size=200), max_size=5))
def test_parse_reply_only_raises_protocol_errors(lines: list[str]) -> None:
    """On arbitrary text, parse_reply either parses or raises AGIProtocolError."""
    try:
        reply = parse_reply(lines)
    except AGIProtocolError:
        return
    assert reply.code in {200, 510, 511, 520}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("agi_uniqueid: 1700000000.1", ("agi_uniqueid", "1700000000.1")),
        ("agi_accountcode: ", ("agi_accountcode", "")),
        ("agi_accountcode:", ("agi_accountcode", "")),
        ("agi_calleridname: Dr: Who", ("agi_calleridname", "Dr: Who")),
        ("agi_arg_1: a b  c ", ("agi_arg_1", "a b  c ")),
    ],
)
def test_parse_env_line(line: str, expected: tuple[str, str]) -> None:
    """Header lines split at the first colon; values may be empty or contain ': '."""
    assert parse_env_line(line) == expected


@pytest.mark.parametrize(
    "line",
    ["hello world", "agi_request agi://x/y", "AGI_REQUEST: x", "x_agi_a: b", "agi_: b", ""],
)
def test_parse_env_line_refuses_garbage(line: str) -> None:
    """Lines that are not agi_<key>: <value> are protocol errors."""
    with pytest.raises(AGIProtocolError):
        parse_env_line(line)


def test_request_from_network_script_with_query() -> None:
    """agi://host/hotline?lang=en&x=1 routes to "hotline" with the parsed query."""
    env = {
        "agi_network": "yes",
        "agi_network_script": "hotline?lang=en&x=1",
        "agi_request": "agi://127.0.0.1:4573/hotline?lang=en&x=1",
        "agi_uniqueid": "1700000000.1",
        "agi_channel": "PJSIP/alice-00000001",
        "agi_callerid": "1001",
        "agi_calleridname": "Alice",
        "agi_extension": "1999",
        "agi_context": "hotline",
        "agi_language": "en",
        "agi_dnid": "1999",
    }
    request = AGIRequest.from_env(env)
    assert request.script == "hotline"
    assert dict(request.query) == {"lang": "en", "x": "1"}
    assert request.args == ()
    assert request.env["agi_network"] == "yes"
    assert (request.uniqueid, request.channel) == ("1700000000.1", "PJSIP/alice-00000001")
    assert (request.callerid, request.calleridname) == ("1001", "Alice")
    assert (request.extension, request.context) == ("1999", "hotline")
    assert (request.language, request.dnid) == ("en", "1999")


def test_request_falls_back_to_agi_request_url() -> None:
    """Without agi_network_script the path and query come from the agi_request URL."""
    request = AGIRequest.from_env({"agi_request": "agi://127.0.0.1:4573/hotline?lang=en&x=1"})
    assert request.script == "hotline"
    assert dict(request.query) == {"lang": "en", "x": "1"}


def test_request_args_in_order() -> None:
    """agi_arg_1..N become args in numeric order, empty ones included."""
    env = {f"agi_arg_{i}": f"v{i}" for i in range(12, 0, -1)}
    env["agi_arg_3"] = ""
    env["agi_network_script"] = "/menu.v2"
    request = AGIRequest.from_env(env)
    assert request.script == "menu.v2"
    assert request.args == ("v1", "v2", "", *(f"v{i}" for i in range(4, 13)))


def test_request_env_is_read_only() -> None:
    """The request's mappings cannot be changed after the fact."""
    request = AGIRequest.from_env({"agi_network_script": "hotline?a=1"})
    with pytest.raises(TypeError):
        request.env["agi_network_script"] = "other"  # type: ignore[index]
    with pytest.raises(TypeError):
        request.query["a"] = "2"  # type: ignore[index]


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"agi_network_script": "", "agi_request": ""},
        {"agi_request": "agi://127.0.0.1:4573"},
        {"agi_network_script": "hot line"},
        {"agi_network_script": "a/b"},
        {"agi_network_script": "?x=1"},
        {"agi_network_script": "../etc/passwd"},
    ],
)
def test_request_refuses_unroutable(env: dict[str, str]) -> None:
    """A missing or malformed script name is a protocol error."""
    with pytest.raises(AGIProtocolError):
        AGIRequest.from_env(env)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("ANSWER",), b"ANSWER\n"),
        (("STREAM", "FILE", "hello-world", ""), b'STREAM FILE hello-world ""\n'),
        (("SET", "VARIABLE", "X", "two words"), b'SET VARIABLE X "two words"\n'),
        (("VERBOSE", 'say "hi"', "1"), b'VERBOSE "say \\"hi\\"" 1\n'),
        (("SET", "VARIABLE", "P", "C:\\x"), b'SET VARIABLE P "C:\\\\x"\n'),
        (("SET", "VARIABLE", "T", "a\tb"), b'SET VARIABLE T "a\tb"\n'),
        (("EXEC", "Dial", "PJSIP/100,30"), b"EXEC Dial PJSIP/100,30\n"),
    ],
)
def test_format_command_quoting(parts: tuple[str, ...], expected: bytes) -> None:
    """Empty, spaced, quoted and backslashed arguments are quoted and escaped."""
    assert format_command(*parts) == expected


@pytest.mark.parametrize("bad", ["x\nHANGUP", "x\r", "\n", "a\x00b"])
def test_format_command_refuses_injection(bad: str) -> None:
    """A line break (or NUL) in any part is refused rather than sent."""
    with pytest.raises(ValueError, match="line break"):
        format_command("SET", "VARIABLE", "X", bad)


def test_format_command_needs_a_word() -> None:
    """An empty command is refused."""
    with pytest.raises(ValueError, match="at least one word"):
        format_command()


def _asterisk_split(line: str) -> list[str]:
    """Asterisk's parse_args() from res_agi.c, for round-trip checks."""
    args: list[str] = []
    cur: list[str] | None = None
    quoted = escaped = False
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and cur is None:
                cur = []
                args.append("")
        elif ch in " \t" and not quoted and not escaped:
            if cur is not None:
                args[-1] = "".join(cur)
            cur = None
        elif ch == "\\" and not escaped:
            escaped = True
            continue
        else:
            if cur is None:
                cur = []
                args.append("")
            cur.append(ch)
        escaped = False
    if cur is not None:
        args[-1] = "".join(cur)
    return args


_parts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)


@given(st.lists(_parts, min_size=1, max_size=6))
def test_format_command_never_emits_a_line_break(parts: list[str]) -> None:
    """format_command emits exactly one line, or refuses; Asterisk reads back the parts."""
    try:
        line = format_command(*parts)
    except ValueError:
        assert any(c in part for part in parts for c in "\r\n\x00")
        return
    assert line.endswith(b"\n")
    assert b"\n" not in line[:-1]
    assert b"\r" not in line
    assert _asterisk_split(line[:-1].decode()) == parts
