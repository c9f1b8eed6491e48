"""Hostile and broken tables: each is refused with file, field and reason, never a crash.

Covers impossible dates (issue 11, defect 6), emergency-contact order (defect 5),
hostile YAML (issue 13: deep nesting, huge files, bad bytes, alias bombs) and names
that would write into Asterisk's config (issue 13, config injection).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr import cli
from ivr import config as stack_config
from ivr import logging as ivr_logging
from ivr.routing.loader import Problem, RoutingError, load_profile


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    yield
    # cli.main points logging at this test's captured stderr, which closes with the test.
    ivr_logging.configure(stream=sys.__stderr__)


ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "routing"


def copy_of(tmp_path: Path, profile: str = "taipei") -> Path:
    target = tmp_path / profile
    shutil.copytree(SHIPPED / profile, target)
    return target


def edit(directory: Path, file: str, old: str, new: str) -> Path:
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return directory


def refused(directory: Path) -> list[Problem]:
    with pytest.raises(RoutingError) as caught:
        load_profile(directory)
    assert caught.value.problems
    return caught.value.problems


# The shipped profiles list no local days off; this one is impossible.
BAD_HOLIDAYS = "holidays: [{date: 2026-02-30, name: 不存在的日子}]"


def only(problems: list[Problem], file: str) -> list[Problem]:
    return [p for p in problems if Path(p.file).name == file]


# ---------------------------------------------------------------- impossible dates


def test_an_impossible_holiday_is_refused_at_its_field(tmp_path: Path) -> None:
    """2026-02-30 names hours.yaml, holidays[0].date and why; PyYAML used to raise."""
    d = edit(copy_of(tmp_path), "hours.yaml", "holidays: []", BAD_HOLIDAYS)
    problems = only(refused(d), "hours.yaml")
    assert [p.path for p in problems] == ["holidays[0].date"]
    assert "day value is outside expected range" in problems[0].reason


BLOCK = """entries:
  - pattern: "0912345678"
    reason: 非理性來電
    added_by: 督導 王主任
    added_at: {added}
"""


@pytest.mark.parametrize(
    "added",
    [
        "2026-13-01",
        "2026-02-29",
        "2026-02-28T25:00:00+08:00",
        "2026-02-28T10:00:00+99:00",
        "20260301",
        "[2026, 3, 1]",
    ],
)
def test_impossible_moments_in_the_block_list_are_refused(tmp_path: Path, added: str) -> None:
    d = copy_of(tmp_path)
    (d / "blocklist.yaml").write_text(BLOCK.format(added=added), encoding="utf-8")
    problems = only(refused(d), "blocklist.yaml")
    assert {p.path for p in problems} == {"entries[0].added_at"}, problems


def test_routing_check_prints_file_field_reason_for_a_bad_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ivr routing check` answers a bad date with the exit code 1 and one line, no trace."""
    d = edit(copy_of(tmp_path), "hours.yaml", "holidays: []", BAD_HOLIDAYS)
    code = cli.main(["--state-dir", str(tmp_path / "state"), "routing", "check", str(d)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{d / 'hours.yaml'}: holidays[0].date: " in err
    assert "Traceback" not in err


def test_routing_reload_refuses_a_bad_date_with_file_field_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = edit(copy_of(tmp_path), "hours.yaml", "holidays: []", BAD_HOLIDAYS)
    state = tmp_path / "state"
    stack_config.init(state, None, None, str(d))
    assert cli.main(["--state-dir", str(state), "routing", "reload"]) == 1
    err = capsys.readouterr().err
    assert f"{d / 'hours.yaml'}: holidays[0].date: " in err
    assert "reload refused; the running table keeps serving" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "zone", ["Asia", "x" * 300, "../../../etc/passwd", "Asia/Taipei\x00"], ids=repr
)
def test_a_time_zone_that_is_no_zone_is_refused(tmp_path: Path, zone: str) -> None:
    d = copy_of(tmp_path)
    edit(d, "profile.yaml", "timezone: Asia/Taipei", f"timezone: {zone!r}".replace("'", '"'))
    problems = only(refused(d), "profile.yaml")
    assert [p.path for p in problems] == ["timezone"]


# ---------------------------------------------------------------- hostile YAML


def test_yaml_nested_5000_deep_is_a_clear_error(tmp_path: Path) -> None:
    """Issue 13: PyYAML composes recursively; 5,000 levels used to raise RecursionError."""
    d = copy_of(tmp_path)
    (d / "blocklist.yaml").write_text("entries: " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    problems = only(refused(d), "blocklist.yaml")
    assert len(problems) == 1
    assert "nested more than 64 levels deep" in problems[0].reason


def test_mappings_nested_5000_deep_are_a_clear_error(tmp_path: Path) -> None:
    d = copy_of(tmp_path)
    (d / "blocklist.yaml").write_text("{a: " * 5000 + "1" + "}" * 5000, encoding="utf-8")
    assert "nested more than" in only(refused(d), "blocklist.yaml")[0].reason


def test_an_alias_bomb_is_refused_before_validation(tmp_path: Path) -> None:
    """A "billion laughs" document: nine lines that expand to 10^9 values."""
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    d = copy_of(tmp_path)
    (d / "blocklist.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = only(refused(d), "blocklist.yaml")
    assert ["expand to more than" in p.reason for p in problems] == [True]


def test_an_alias_that_contains_itself_is_refused(tmp_path: Path) -> None:
    d = copy_of(tmp_path)
    (d / "blocklist.yaml").write_text("entries: &loop [*loop]\n", encoding="utf-8")
    assert "contains it" in only(refused(d), "blocklist.yaml")[0].reason


def test_a_huge_file_is_refused_without_being_parsed(tmp_path: Path) -> None:
    d = copy_of(tmp_path)
    with (d / "blocklist.yaml").open("w", encoding="utf-8") as out:
        out.write("entries: []\n")
        out.write("#" + "x" * (5 * 1024 * 1024) + "\n")
    problems = only(refused(d), "blocklist.yaml")
    assert "larger than the 4194304 a table may be" in problems[0].reason


def test_bytes_that_are_not_utf8_are_named_with_their_position(tmp_path: Path) -> None:
    d = copy_of(tmp_path)
    (d / "blocklist.yaml").write_bytes("entries: []\n# 臺北".encode("big5"))
    problems = only(refused(d), "blocklist.yaml")
    assert problems[0].reason.startswith("not UTF-8 text: byte 14 is ")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("- a\n- b\n", "expected a mapping of fields, found list"),
        ("just text\n", "expected a mapping of fields, found str"),
        ("entries: []\n---\nentries: []\n", "not valid YAML"),
        ("? [a, b]\n: 1\n", "not valid YAML"),
        ("entries: !!python/object:os.system {}\n", "not valid YAML"),
        ("entries: !!binary 'not base64!'\n", "not valid YAML"),
        ("<<: 5\n", "not valid YAML"),
        ("", "empty"),
    ],
    ids=["list", "scalar", "two-docs", "unhashable-key", "python-tag", "binary", "merge", "empty"],
)
def test_a_file_that_is_not_a_table_is_refused_whole(
    tmp_path: Path, text: str, reason: str
) -> None:
    d = copy_of(tmp_path)
    (d / "blocklist.yaml").write_text(text, encoding="utf-8")
    problems = only(refused(d), "blocklist.yaml")
    assert any(p.reason.startswith(reason) for p in problems), problems


def test_a_key_with_a_newline_is_reported_on_one_line(tmp_path: Path) -> None:
    d = copy_of(tmp_path)
    (d / "blocklist.yaml").write_text('entries: []\n"bad\\nkey": 1\n', encoding="utf-8")
    problems = only(refused(d), "blocklist.yaml")
    assert [p.path for p in problems] == ['["bad\\nkey"]']
    assert "\n" not in str(problems[0])


def test_a_reason_quoting_a_huge_value_is_clipped(tmp_path: Path) -> None:
    d = edit(copy_of(tmp_path), "profile.yaml", "greeting: greeting", f"greeting: {'A' * 100_000}")
    problems = only(refused(d), "profile.yaml")
    assert [p.path for p in problems] == ["greeting"]
    assert len(problems[0].reason) <= 300


# ---------------------------------------------------------------- emergency contacts (K4(4))

KINMEN_CONTACTS = """      - {name: 李建國, role: head, phone: "0911100101"}
      - {name: 翁美珠, role: deputy_head, phone: "0911100102"}
      - {name: 蔡明德, role: section_chief, phone: "0911100103"}
      - {name: 吳淑貞, role: section_chief, phone: "0911100104"}
"""


def contacts(*rows: tuple[str, str]) -> str:
    return "".join(
        f'      - {{name: {name}, role: {role}, phone: "09111001{i:02d}"}}\n'
        for i, (name, role) in enumerate(rows, 1)
    )


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        (
            [
                ("翁美珠", "deputy_head"),
                ("蔡明德", "section_chief"),
                ("吳淑貞", "section_chief"),
                ("李建國", "head"),
            ],
            "李建國 (head, position 4) comes after 吳淑貞 (section_chief)",
        ),
        (
            [
                ("翁美珠", "deputy_head"),
                ("李建國", "head"),
                ("蔡明德", "section_chief"),
                ("吳淑貞", "section_chief"),
            ],
            "李建國 (head, position 2) comes after 翁美珠 (deputy_head)",
        ),
        (
            [
                ("李建國", "head"),
                ("蔡明德", "section_chief"),
                ("翁美珠", "deputy_head"),
                ("吳淑貞", "section_chief"),
            ],
            "翁美珠 (deputy_head, position 3) comes after 蔡明德 (section_chief)",
        ),
        (
            [
                ("李建國", "head"),
                ("翁美珠", "head"),
                ("蔡明德", "section_chief"),
                ("吳淑貞", "section_chief"),
            ],
            "an agency has one head, found role head at positions 1, 2",
        ),
        (
            [
                ("翁美珠", "deputy_head"),
                ("蔡明德", "section_chief"),
                ("吳淑貞", "section_chief"),
                ("李建國", "secretary"),
            ],
            'one emergency contact must be the agency head (role "head", T2(4)4)',
        ),
    ],
    ids=["head-last", "head-second", "deputy-after-chief", "two-heads", "no-head"],
)
def test_emergency_contacts_escalate_head_then_deputy_then_chiefs(
    tmp_path: Path, rows: list[tuple[str, str]], reason: str
) -> None:
    """Defect 5: K4(4) escalates to the head, the deputy head, then section chiefs."""
    d = edit(copy_of(tmp_path, "kinmen"), "directory.yaml", KINMEN_CONTACTS, contacts(*rows))
    problems = only(refused(d), "directory.yaml")
    assert [p.path for p in problems] == ["agencies[0].emergency_contacts"]
    assert reason in problems[0].reason


def test_other_officers_may_follow_the_deputy_head_in_any_order(tmp_path: Path) -> None:
    rows = [
        ("李建國", "head"),
        ("翁美珠", "deputy_head"),
        ("蔡明德", "chief_secretary"),
        ("吳淑貞", "section_chief"),
    ]
    d = edit(copy_of(tmp_path, "kinmen"), "directory.yaml", KINMEN_CONTACTS, contacts(*rows))
    roles = [c.role for c in load_profile(d).directory.agencies[0].emergency_contacts]
    assert roles == ["head", "deputy_head", "chief_secretary", "section_chief"]


# ---------------------------------------------------------------- config injection

INJECTED_NAME = '"陳淑芬\\"\\n[7001]\\ntype = aor\\n"'


def test_an_agent_name_that_would_open_a_config_section_is_refused(tmp_path: Path) -> None:
    """Issue 13: a quote and a newline in a name wrote a new section into pjsip.conf."""
    d = edit(copy_of(tmp_path), "agents.yaml", "name: 陳淑芬,", f"name: {INJECTED_NAME},")
    problems = only(refused(d), "agents.yaml")
    assert [p.path for p in problems] == ["agents[0].name"]
    assert "control character U+000A at position 5" in problems[0].reason


@pytest.mark.parametrize(
    ("file", "old", "new", "path", "reason"),
    [
        ("agents.yaml", "name: 陳淑芬,", 'name: "陳\\"淑芬",', "agents[0].name", 'may not hold "'),
        (
            "agents.yaml",
            "name: 一般諮詢,",
            'name: "一般\'諮詢",',
            "queues[0].name",
            "may not hold '",
        ),
        (
            "agents.yaml",
            "name: 陳淑芬,",
            'name: "陳\\\\淑芬",',
            "agents[0].name",
            "may not hold \\",
        ),
        ("agents.yaml", "name: 陳淑芬,", 'name: "陳\\u202e淑芬",', "agents[0].name", "U+202E"),
        ("agents.yaml", "name: 陳淑芬,", f"name: {'陳' * 101},", "agents[0].name", "at most 100"),
        ("profile.yaml", "description: 臺北", 'description: "\\r" #', "description", "U+000D"),
        ("agents.yaml", "name: 陳淑芬,", 'name: "陳\\0淑芬",', "agents[0].name", "U+0000"),
    ],
    ids=["double-quote", "single-quote", "backslash", "bidi-override", "too-long", "cr", "nul"],
)
def test_text_reaching_config_or_logs_is_refused_with_its_field(
    tmp_path: Path, file: str, old: str, new: str, path: str, reason: str | None
) -> None:
    d = copy_of(tmp_path)
    text = (d / file).read_text(encoding="utf-8")
    assert old in text
    (d / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    problems = only(refused(d), file)
    assert path in [p.path for p in problems], problems
    if reason is not None:
        assert any(reason in p.reason for p in problems if p.path == path), problems


# ---------------------------------------------------------------- libyaml reading (issue 17)


@pytest.mark.parametrize(
    ("text", "path", "kind"),
    [
        ('entries: []\n1: "x"\n', "[1]", "a number"),
        ("entries: []\n2026-01-01: x\n", '["2026-01-01"]', "a date"),
        ("entries: []\nnull: 1\n", "null", "empty (null)"),
        ("entries: []\ntrue: 1\n", "true", "true or false"),
        ("entries: []\n1.5: 1\n", '["1.5"]', "a number"),
    ],
    ids=["int", "date", "null", "bool", "float"],
)
def test_a_key_that_is_not_text_is_refused_at_its_field(
    tmp_path: Path, text: str, path: str, kind: str
) -> None:
    """YAML reads `1:` as a number; the file is refused with the key's field and line."""
    d = copy_of(tmp_path)
    (d / "blocklist.yaml").write_text(text, encoding="utf-8")
    problems = only(refused(d), "blocklist.yaml")
    assert [p.path for p in problems] == [path]
    assert f"is read as {kind}, not text; write it in quotes" in problems[0].reason
    assert "(line 2)" in problems[0].reason


def test_a_nested_key_that_is_not_text_names_its_whole_path(tmp_path: Path) -> None:
    d = copy_of(tmp_path)
    text = (d / "hours.yaml").read_text(encoding="utf-8")
    (d / "hours.yaml").write_text(text + "sla_extra:\n  inner:\n    7: x\n", encoding="utf-8")
    problems = only(refused(d), "hours.yaml")
    assert [p.path for p in problems] == ["sla_extra.inner[7]"]


def test_libyaml_reads_the_tables_when_pyyaml_has_it() -> None:
    """The speed of the editor's publish rests on this (bench/routing_versions.py)."""
    import yaml

    from ivr.routing import yaml_read

    assert yaml.__with_libyaml__, "PyYAML without libyaml: tables are read 5x slower"
    assert issubclass(yaml_read._UniqueKeyLoader, yaml.CSafeLoader)


@pytest.mark.parametrize(
    "text",
    [
        "entries: " + "[" * 1500 + "]" * 1500,
        "entries:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)) + "  " * 200 + "x",
        "entries: [" + "a, " * 600_000 + "]",
        "a: &a [x, x]\n"
        + "".join(
            f"b{i}: &b{i} [*{'a' if i == 0 else f'b{i - 1}'}, *{'a' if i == 0 else f'b{i - 1}'}]\n"
            for i in range(40)
        ),
        "entries: [\x00]",
        "entries: [\ud800]",
        "? {a: 1}\n: 2\n",
        "entries: [1, 2\n",
    ],
    ids=[
        "flow-1500",
        "block-200",
        "600k-values",
        "alias-doubling",
        "nul",
        "surrogate",
        "mapping-key",
        "unclosed",
    ],
)
def test_hostile_text_in_memory_is_one_reason_never_an_exception(text: str) -> None:
    """A draft's text (from the web or the API) goes through the same reader."""
    from ivr.routing.yaml_read import read_table_text

    data, problems = read_table_text(text)
    assert data is None
    assert len(problems) == 1
    loc, reason = problems[0]
    assert loc == ()
    assert reason
