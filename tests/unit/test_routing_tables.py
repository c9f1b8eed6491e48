"""Routing tables: the shipped profiles load; every kind of bad table is refused whole."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from ivr.prompts import Catalogue, load_catalogue
from ivr.routing.holder import TableHolder
from ivr.routing.loader import Problem, RoutingError, load_profile, render_loc
from ivr.routing.menus import ToCaseCheck, ToEmergency, ToLanguage, ToQueue, ToRecord
from ivr.routing.tables import BlockEntry, TimeRange, Weekday

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "routing"
PROFILES = ("taipei", "kinmen")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "recordings")


def profile_copy(tmp_path: Path, profile: str = "taipei") -> Path:
    """A private copy of a shipped profile, to break one thing in."""
    target = tmp_path / profile
    shutil.copytree(SHIPPED / profile, target)
    return target


def broken(
    tmp_path: Path, file: str, edits: list[tuple[str, str]], profile: str = "taipei"
) -> Path:
    """Copy a shipped profile and apply text edits to one file, each matching exactly once."""
    directory = profile_copy(tmp_path, profile)
    path = directory / file
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} must occur once in routing/{profile}/{file}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return directory


def problems_of(directory: Path, catalogue: Catalogue | None = None) -> list[Problem]:
    with pytest.raises(RoutingError) as refused:
        load_profile(directory, catalogue=catalogue)
    assert refused.value.problems, "a refusal always says why"
    return refused.value.problems


# ---------------------------------------------------------------- shipped profiles


@pytest.mark.parametrize("profile", PROFILES)
def test_shipped_profile_loads_with_the_catalogue(profile: str, catalogue: Catalogue) -> None:
    """Both shipped profiles pass every loader rule, prompts in the catalogue included."""
    tables = load_profile(SHIPPED / profile, catalogue=catalogue)
    assert tables.profile.name == profile
    assert tables.menus.entry in tables.menus.menus
    assert tables.source == SHIPPED / profile


def test_taipei_language_menu_and_main_menu_follow_the_public_record() -> None:
    """Taipei: 9 Mandarin, 0 English; 1-4 and 0 on the main menu (5 checks a case); 24 hours."""
    tables = load_profile(SHIPPED / "taipei")
    language = tables.menu(tables.menus.entry)
    assert language.options["9"] == ToLanguage(type="language", language="zh-TW", then="main")
    assert language.options["0"] == ToLanguage(type="language", language="en", then="main-en")
    main = tables.menu("main")
    assert {k: getattr(d, "queue", None) for k, d in main.options.items()} == {
        "1": "general",
        "2": "dispatch",
        "3": "petition",
        "4": None,
        "5": None,
        "0": "general",
    }
    assert main.options["5"] == ToCaseCheck(type="case_check", then="main")
    emergency = main.options["4"]
    assert isinstance(emergency, ToEmergency)
    assert (emergency.connect_key, emergency.number) == ("1", "119")
    assert tables.directory.trunk(emergency.trunk or "").port == 5080
    assert tables.hours.always_open
    assert tables.profile.enabled_languages == ("zh-TW", "en")


def test_taipei_directory_has_the_integrity_hotline_and_a_unit_behind_the_agency_pbx() -> None:
    """1743 is the integrity hotline; the water unit is dialled over trunk agency-pbx."""
    directory = load_profile(SHIPPED / "taipei").directory
    agency, unit = directory.unit("integrity-hotline")
    assert (agency.id, unit.primary.number) == ("ethics", "1743")
    _, water = directory.unit("water-service")
    assert water.primary.via == "agency-pbx"
    pbx = directory.trunk("agency-pbx")
    assert (pbx.host, pbx.port, pbx.transport) == ("127.0.0.1", 5070, "udp")
    assert directory.extensions()["1743"].via == "local"


def test_kinmen_closes_at_night_into_a_recorded_callback_and_has_a_disaster_mode() -> None:
    """Kinmen: 08:00-20:00 every day; closed → off-hours recording; disaster notice."""
    hours = load_profile(SHIPPED / "kinmen").hours
    assert not hours.always_open
    assert hours.weekly is not None
    assert set(hours.weekly) == set(Weekday)
    assert all(r == [TimeRange(start=time(8), end=time(20))] for r in hours.weekly.values())
    assert isinstance(hours.closed, ToRecord)
    assert hours.closed.reason == "off_hours"
    assert hours.disaster is not None


@pytest.mark.parametrize("profile", PROFILES)
def test_every_queue_has_an_agent_and_every_agency_meets_the_seed_minimums(profile: str) -> None:
    """≥3 liaison deputies, ≥4 emergency contacts with the head, an agent per queue."""
    tables = load_profile(SHIPPED / profile)
    for agency in tables.directory.agencies:
        assert len(agency.liaison.deputies) >= 3
        assert len(agency.emergency_contacts) >= 4
        assert "head" in {c.role for c in agency.emergency_contacts}
    for queue in tables.agents.queues:
        assert tables.agents.agents_for(queue)


# ---------------------------------------------------------------- bad tables

KINMEN_CLOSED = """closed:
  type: record
  prompt: kinmen-closed-record
  reason: off_hours
  max_seconds: 180
"""
TAIPEI_MAIN_EXHAUSTED = "    on_exhausted: {type: queue, queue: general}\n\n  main-en:"
LOOP = """entry: language
menus:
  loop-a:
    prompt: taipei-main-menu
    options:
      "1": {type: menu, menu: loop-b}
    on_exhausted: {type: menu, menu: loop-b}
  loop-b:
    prompt: taipei-main-menu
    options:
      "1": {type: language, language: zh-TW, then: loop-a}
    on_exhausted: {type: menu, menu: loop-a}
"""

BAD = [
    # (id, profile, file, edits, (file, path, words in the reason))
    (
        "unknown-field",
        "taipei",
        "menus.yaml",
        [("    max_tries: 2\n", "    max_tries: 2\n    colour: blue\n")],
        ("menus.yaml", "menus.language.colour", "unknown field"),
    ),
    (
        "unknown-field-in-destination",
        "taipei",
        "menus.yaml",
        [("queue: petition}", "queue: petition, via: x}")],
        ("menus.yaml", 'menus.main.options["3"].via', "unknown field"),
    ),
    (
        "duplicate-menu-key",
        "taipei",
        "menus.yaml",
        [
            (
                '"0": {type: queue, queue: general}     # an agent',
                '"0": {type: queue, queue: general}\n      "1": {type: queue, queue: petition}',
            )
        ],
        ("menus.yaml", 'menus.main.options["1"]', "duplicate key"),
    ),
    (
        "unquoted-key",
        "taipei",
        "menus.yaml",
        [('"3": {type: queue, queue: petition}', "3: {type: queue, queue: petition}")],
        ("menus.yaml", "menus.main.options[3]", 'write it in quotes ("3")'),
    ),
    (
        "unknown-destination-type",
        "taipei",
        "menus.yaml",
        [("{type: queue, queue: petition}", "{type: voicemail, queue: petition}")],
        ("menus.yaml", 'menus.main.options["3"]', "unknown destination type 'voicemail'"),
    ),
    (
        "missing-menu",
        "taipei",
        "menus.yaml",
        [("{type: menu, menu: taiwanese}", "{type: menu, menu: taiwan}")],
        ("menus.yaml", 'menus.language.options["5"].menu', "no menu 'taiwan'"),
    ),
    (
        "missing-queue",
        "taipei",
        "menus.yaml",
        [("{type: queue, queue: petition}", "{type: queue, queue: petitions}")],
        ("menus.yaml", 'menus.main.options["3"].queue', "no queue 'petitions'"),
    ),
    (
        "missing-unit",
        "taipei",
        "menus.yaml",
        [("{type: queue, queue: petition}", "{type: unit, unit: sewers}")],
        ("menus.yaml", 'menus.main.options["3"].unit', "no unit 'sewers'"),
    ),
    (
        "missing-extension",
        "taipei",
        "menus.yaml",
        [("{type: queue, queue: petition}", '{type: extension, extension: "1744"}')],
        ("menus.yaml", 'menus.main.options["3"].extension', "no extension 1744"),
    ),
    (
        "missing-emergency-trunk",
        "taipei",
        "directory.yaml",
        [("id: emergency-pstn,", "id: carrier,")],
        ("menus.yaml", 'menus.main.options["4"].trunk', "no trunk 'emergency-pstn'"),
    ),
    (
        "disabled-language",
        "taipei",
        "menus.yaml",
        [("{type: menu, menu: taiwanese}", "{type: language, language: nan, then: main}")],
        ("menus.yaml", 'menus.language.options["5"].language', "nan is not an enabled language"),
    ),
    (
        "unreachable-menu",
        "taipei",
        "menus.yaml",
        [
            (
                "entry: language\nmenus:\n",
                "entry: language\nmenus:\n  orphan:\n    prompt: taipei-main-menu\n"
                "    options: {}\n    on_exhausted: {type: queue, queue: general}\n",
            )
        ],
        ("menus.yaml", "menus.orphan", "unreachable"),
    ),
    (
        "loop-without-exit",
        "taipei",
        "menus.yaml",
        [
            ("entry: language\nmenus:\n", LOOP),
            ("{type: menu, menu: taiwanese}", "{type: menu, menu: loop-a}"),
        ],
        ("menus.yaml", "menus.loop-a", "loop-a, loop-b loop with no exit"),
    ),
    (
        "on-exhausted-announcement",
        "taipei",
        "menus.yaml",
        [
            (
                TAIPEI_MAIN_EXHAUSTED,
                "    on_exhausted: {type: announcement, prompt: taipei-disaster-notice}\n\n"
                "  main-en:",
            )
        ],
        (
            "menus.yaml",
            "menus.main.on_exhausted.type",
            "never hang up on a caller who simply did not press anything",
        ),
    ),
    (
        "case-check-back-to-no-menu",
        "taipei",
        "menus.yaml",
        [('"5": {type: case_check, then: main}', '"5": {type: case_check, then: nowhere}')],
        ("menus.yaml", 'menus.main.options["5"].then', "no menu 'nowhere' in menus.yaml"),
    ),
    (
        "language-choice-not-honoured",
        "taipei",
        "menus.yaml",
        [('"1": {type: queue, queue: english}', '"1": {type: queue, queue: general}')],
        ("menus.yaml", 'menus.main-en.options["1"].queue', "callers who chose en"),
    ),
    (
        "language-key-mismatch",
        "taipei",
        "menus.yaml",
        [
            (
                '"0": {type: language, language: en, then: main-en}',
                '"0": {type: queue, queue: english}',
            )
        ],
        ("profile.yaml", "languages[2].key", "key 0 should select en"),
    ),
    (
        "default-language-disabled",
        "taipei",
        "profile.yaml",
        [("default_language: zh-TW", "default_language: hak")],
        ("profile.yaml", "default_language", "hak must be declared under languages and enabled"),
    ),
    (
        "bad-timezone",
        "taipei",
        "profile.yaml",
        [("timezone: Asia/Taipei", "timezone: Asia/Taipai")],
        ("profile.yaml", "timezone", "not an IANA time zone"),
    ),
    (
        "two-deputies",
        "taipei",
        "directory.yaml",
        [('        - {name: 楊舒涵, extension: {number: "3103"}}\n', "")],
        (
            "directory.yaml",
            "agencies[1].liaison.deputies",
            "at least 3 deputies are required (K3(2)), found 2",
        ),
    ),
    (
        "three-emergency-contacts",
        "taipei",
        "directory.yaml",
        [('      - {name: 許淑惠, role: secretariat_director, phone: "0911000104"}\n', "")],
        (
            "directory.yaml",
            "agencies[0].emergency_contacts",
            "at least 4 emergency contacts are required (T2(4)4), found 3",
        ),
    ),
    (
        "no-head-contact",
        "taipei",
        "directory.yaml",
        [('role: head, phone: "0911000201"', 'role: director, phone: "0911000201"')],
        ("directory.yaml", "agencies[1].emergency_contacts", 'agency head (role "head"'),
    ),
    (
        "duplicate-extension",
        "taipei",
        "directory.yaml",
        [('adjacent: [{number: "2402"}]', 'adjacent: [{number: "2302"}]')],
        (
            "directory.yaml",
            "agencies[0].units[1].adjacent[0].number",
            "extension 2302 is already unit new-construction's",
        ),
    ),
    (
        "duplicate-unit-id",
        "taipei",
        "directory.yaml",
        [("- id: hydraulic", "- id: parks-lights")],
        (
            "directory.yaml",
            "agencies[0].units[2].id",
            "unit parks-lights is already at agencies[0].units[1].id",
        ),
    ),
    (
        "extension-via-missing-trunk",
        "taipei",
        "directory.yaml",
        [('{number: "61001", via: agency-pbx}', '{number: "61001", via: water-pbx}')],
        ("directory.yaml", "agencies[3].units[0].primary.via", "no trunk 'water-pbx'"),
    ),
    (
        "dial-code-is-another-units-extension",
        "taipei",
        "directory.yaml",
        [('dial_code: "6100"', 'dial_code: "2301"')],
        ("directory.yaml", "agencies[3].units[0].dial_code", "unit new-construction's extension"),
    ),
    (
        "agent-extension-clashes-with-unit",
        "taipei",
        "agents.yaml",
        [('extension: "7001"', 'extension: "2301"')],
        (
            "agents.yaml",
            "agents[0].extension",
            "2301 is already unit new-construction's extension",
        ),
    ),
    (
        "queue-with-no-agent",
        "taipei",
        "agents.yaml",
        [("skills: [nan], strategy: ringall", "skills: [hak, dispatch], strategy: ringall")],
        ("agents.yaml", "queues[4].skills", "no agent has all of hak, dispatch"),
    ),
    (
        "short-agent-secret",
        "taipei",
        "agents.yaml",
        [('secret: "dev-7002-Taipei!"', 'secret: "short"')],
        ("agents.yaml", "agents[1].secret", "at least 12 characters"),
    ),
    (
        "unknown-skill",
        "taipei",
        "agents.yaml",
        [("skills: [zh-TW, dispatch]}", "skills: [zh-TW, plumbing]}")],
        ("agents.yaml", "agents[5].skills[1]", "Input should be"),
    ),
    (
        "bad-time-range",
        "kinmen",
        "hours.yaml",
        [('  sun: [["08:00", "20:00"]]', '  sun: [["20:00", "08:00"]]')],
        ("hours.yaml", "weekly.sun[0]", "20:00-08:00 ends before it starts"),
    ),
    (
        "unquoted-time",
        "kinmen",
        "hours.yaml",
        [('  sat: [["08:00", "20:00"]]', '  sat: [["08:00", 20:00]]')],
        ("hours.yaml", "weekly.sat[0].end", 'write times in quotes, e.g. "20:00"'),
    ),
    (
        "not-hh-mm",
        "kinmen",
        "hours.yaml",
        [('  fri: [["08:00", "20:00"]]', '  fri: [["8am", "20:00"]]')],
        ("hours.yaml", "weekly.fri[0].start", "'8am' is not a time of day"),
    ),
    (
        "overlapping-ranges",
        "taipei",
        "hours.yaml",
        [
            (
                '  mon: [["08:30", "12:30"], ["13:30", "17:30"]]',
                '  mon: [["08:30", "12:30"], ["12:00", "17:30"]]',
            )
        ],
        ("hours.yaml", "office_hours.mon", "time ranges overlap: 08:30-12:30 and 12:00-17:30"),
    ),
    (
        "holiday-and-makeup-day",
        "taipei",
        "hours.yaml",
        [
            ("holidays: []", "holidays:\n  - {date: 2027-05-03, name: 市府停止上班}"),
            ("makeup_workdays: []", "makeup_workdays:\n  - {date: 2027-05-03, name: 補行上班}"),
        ],
        (
            "hours.yaml",
            "makeup_workdays[0].date",
            "2027-05-03 is both a make-up working day and a holiday (市府停止上班)",
        ),
    ),
    (
        "makeup-day-on-a-weekday",
        "taipei",
        "hours.yaml",
        [("makeup_workdays: []", "makeup_workdays:\n  - {date: 2026-03-04, name: 補行上班}")],
        ("hours.yaml", "makeup_workdays[0].date", "2026-03-04 is a wed, already a working day"),
    ),
    (
        "closed-is-an-announcement",
        "kinmen",
        "hours.yaml",
        [(KINMEN_CLOSED, "closed: {type: announcement, prompt: kinmen-closed-record}\n")],
        ("hours.yaml", "closed.type", "recorded for a callback (K4(4))"),
    ),
    (
        "closed-to-a-missing-queue",
        "kinmen",
        "hours.yaml",
        [(KINMEN_CLOSED, "closed: {type: queue, queue: night}\n")],
        ("hours.yaml", "closed.queue", "no queue 'night' in agents.yaml"),
    ),
    (
        "closed-missing",
        "kinmen",
        "hours.yaml",
        [(KINMEN_CLOSED, "")],
        ("hours.yaml", "closed", "required unless always_open"),
    ),
    (
        "bad-blocklist-pattern",
        "taipei",
        "blocklist.yaml",
        [
            (
                "entries: []",
                'entries:\n  - {pattern: "09-1234*", reason: 迭次來電, added_by: 督導, '
                "added_at: 2026-11-01}",
            )
        ],
        ("blocklist.yaml", "entries[0].pattern", "'09-1234*' is not a number pattern"),
    ),
    (
        "blocklist-prefix-too-broad",
        "taipei",
        "blocklist.yaml",
        [
            (
                "entries: []",
                'entries:\n  - {pattern: "09*", reason: 迭次來電, added_by: 督導, '
                "added_at: 2026-11-01}",
            )
        ],
        ("blocklist.yaml", "entries[0].pattern", "at least 4 digits"),
    ),
    (
        "blocklist-naive-time",
        "taipei",
        "blocklist.yaml",
        [
            (
                "entries: []",
                'entries:\n  - {pattern: "0912345678", reason: 非理性來電, added_by: 督導, '
                "added_at: 2026-11-01 09:30:00}",
            )
        ],
        ("blocklist.yaml", "entries[0].added_at", "has no UTC offset"),
    ),
    (
        "blocklist-expires-before-added",
        "taipei",
        "blocklist.yaml",
        [
            (
                "entries: []",
                'entries:\n  - {pattern: "0912345678", reason: 非理性來電, added_by: 督導, '
                "added_at: 2026-11-01, expires_at: 2026-10-01}",
            )
        ],
        ("blocklist.yaml", "entries[0].expires_at", "expires before it was added"),
    ),
    (
        "enabled-language-missing-prompts",
        "taipei",
        "profile.yaml",
        [('    key: "5"\n    enabled: false', '    key: "5"\n    enabled: true')],
        ("menus.yaml", "menus.main.prompt", "'taipei-main-menu' has no nan text"),
    ),
]


@pytest.mark.parametrize(
    ("profile", "file", "edits", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD],
)
def test_bad_table_is_refused_naming_file_path_and_reason(
    tmp_path: Path,
    catalogue: Catalogue,
    profile: str,
    file: str,
    edits: list[tuple[str, str]],
    expected: tuple[str, str, str],
) -> None:
    """Each broken table is refused whole, with the file, field path and reason."""
    directory = broken(tmp_path, file, edits, profile)
    problems = problems_of(directory, catalogue)
    want_file, want_path, want_reason = expected
    matches = [
        p
        for p in problems
        if p.file == str(directory / want_file) and p.path == want_path and want_reason in p.reason
    ]
    assert matches, "\n".join(str(p) for p in problems)


def test_all_problems_are_reported_at_once_across_files(tmp_path: Path) -> None:
    """Two broken files give two problems in one refusal, not the first one only."""
    directory = broken(
        tmp_path,
        "directory.yaml",
        [('        - {name: 楊舒涵, extension: {number: "3103"}}\n', "")],
    )
    agents = directory / "agents.yaml"
    agents.write_text(
        agents.read_text(encoding="utf-8").replace("skills: [nan]", "skills: [nan, sign-language]"),
        encoding="utf-8",
    )
    paths = {(Path(p.file).name, p.path) for p in problems_of(directory)}
    assert ("directory.yaml", "agencies[1].liaison.deputies") in paths
    assert ("agents.yaml", "queues[4].skills") in paths


def test_error_message_reads_file_path_reason(tmp_path: Path) -> None:
    """str(RoutingError) is one `file: path: reason` line per problem."""
    directory = broken(
        tmp_path,
        "directory.yaml",
        [('        - {name: 楊舒涵, extension: {number: "3103"}}\n', "")],
    )
    with pytest.raises(RoutingError) as refused:
        load_profile(directory)
    assert str(refused.value) == (
        f"{directory / 'directory.yaml'}: agencies[1].liaison.deputies: "
        "at least 3 deputies are required (K3(2)), found 2"
    )


def test_missing_empty_unknown_and_unparsable_files_are_named(tmp_path: Path) -> None:
    """A missing table, an empty one, a stray file and bad YAML are each reported."""
    directory = profile_copy(tmp_path)
    (directory / "blocklist.yaml").unlink()
    (directory / "agents.yaml").write_text("", encoding="utf-8")
    (directory / "hours.yml").write_text("always_open: true\n", encoding="utf-8")
    (directory / "menus.yaml").write_text("entry: [unclosed\n", encoding="utf-8")
    reasons = {Path(p.file).name: p.reason for p in problems_of(directory)}
    assert reasons["blocklist.yaml"].startswith("missing")
    assert reasons["agents.yaml"].startswith("empty")
    assert reasons["hours.yml"].startswith("not a table file")
    assert reasons["menus.yaml"].startswith("not valid YAML")


def test_not_a_directory_is_refused(tmp_path: Path) -> None:
    """Pointing the loader at nothing is a problem, not a crash."""
    problems = problems_of(tmp_path / "nowhere")
    assert problems == [Problem(str(tmp_path / "nowhere"), "", "not a profile directory")]


# ---------------------------------------------------------------- small pieces


def test_render_loc_quotes_keys_that_are_not_names() -> None:
    """Paths read like the YAML: dotted names, [index], and ["1"] for key 1."""
    assert render_loc(("agencies", 2, "liaison", "deputies")) == "agencies[2].liaison.deputies"
    assert render_loc(("menus", "main", "options", "1")) == 'menus.main.options["1"]'
    assert render_loc(()) == ""


def test_time_range_reads_pairs_and_weekday_of_a_date() -> None:
    """["08:00", "20:00"] becomes a TimeRange; 2026-11-23 is a Monday."""
    assert TimeRange.model_validate(["08:00", "20:00"]) == TimeRange(start=time(8), end=time(20))
    assert Weekday.of(date(2026, 11, 23)) is Weekday.MON


def test_block_entry_matches_exact_numbers_and_prefixes() -> None:
    """An exact pattern matches one number; a "*" pattern matches a prefix."""
    added = datetime(2026, 11, 1, tzinfo=UTC)
    exact = BlockEntry(pattern="0912345678", reason="r", added_by="a", added_at=added)
    prefix = BlockEntry(pattern="+886912*", reason="r", added_by="a", added_at=added)
    assert exact.matches("0912345678")
    assert not exact.matches("09123456789")
    assert prefix.matches("+886912000111")
    assert not prefix.matches("+886913000111")


def test_agent_repr_hides_the_secret() -> None:
    """A logged agent never shows its SIP secret."""
    agent = load_profile(SHIPPED / "taipei").agents.agents[0]
    assert agent.secret not in repr(agent)


# ---------------------------------------------------------------- TableHolder


def test_holder_swaps_in_a_good_table_and_counts_versions(tmp_path: Path) -> None:
    """A good reload replaces the table whole and bumps the version."""
    moments = iter([datetime(2026, 11, 23, 1, tzinfo=UTC), datetime(2026, 11, 23, 2, tzinfo=UTC)])
    holder = TableHolder.load(SHIPPED / "taipei", clock=lambda: next(moments))
    first = holder.current
    assert (holder.version, holder.loaded_at.hour) == (1, 1)
    loaded = holder.reload(profile_copy(tmp_path, "kinmen"))
    assert holder.current is loaded.tables is not first
    assert holder.current.profile.name == "kinmen"
    assert (holder.version, holder.loaded_at.hour) == (2, 2)


def test_holder_keeps_the_old_table_when_a_reload_is_refused(tmp_path: Path) -> None:
    """A bad reload raises and leaves the same table object and the same version."""
    holder = TableHolder.load(SHIPPED / "taipei")
    before = holder.loaded
    bad = broken(
        tmp_path, "menus.yaml", [("{type: queue, queue: petition}", "{type: queue, queue: nope}")]
    )
    with pytest.raises(RoutingError, match="no queue 'nope'"):
        holder.reload(bad)
    assert holder.loaded is before
    assert holder.current is before.tables
    assert holder.version == 1


def test_holder_with_a_stricter_validator_refuses_what_it_refuses(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """The holder uses the validator it is given, here one that needs the catalogue."""
    holder = TableHolder.load(
        SHIPPED / "kinmen", validate=lambda d: load_profile(d, catalogue=catalogue)
    )
    bad = broken(
        tmp_path,
        "menus.yaml",
        [("prompt: kinmen-main-menu-en", "prompt: kinmen-menu-unrecorded")],
        "kinmen",
    )
    with pytest.raises(RoutingError, match="not in the prompt catalogue"):
        holder.reload(bad)
    assert holder.version == 1
    assert isinstance(holder.current.menu("main").on_exhausted, ToQueue)
