"""Fuzzing the loader: whatever a table holds, it is loaded or refused with reasons.

Tables are generated from the schema itself (each pydantic model's JSON schema), with
any value swapped, now and then, for a hostile one: impossible dates written as YAML
timestamps, control characters, huge numbers, wrong types, deep lists. One file of a
good profile is replaced by the generated one, so the cross-file rules run too. The
property (issue 11, defect 6): `load_profile` returns a valid table or raises
`RoutingError` whose every problem names the file and a reason; it never raises
anything else, and never falls back to "could not be checked".
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.prompts import Catalogue, load_catalogue
from ivr.routing.loader import FILES, UNCHECKED, RoutingError, load_profile
from ivr.routing.tables import RoutingTables

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "routing"
CATALOGUE: Catalogue = load_catalogue(ROOT / "recordings")


class Raw(str):
    """Text written unquoted as a YAML timestamp: `2026-02-30` reaches the YAML parser."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Raw, lambda d, v: d.represent_scalar("tag:yaml.org,2002:timestamp", str(v)))

IMPOSSIBLE_MOMENTS = [
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "2026-02-28T25:00:00+08:00",
    "2026-02-28 10:61:00",
    "2026-02-28T10:00:00+99:00",
    "9999-12-31T23:59:59-23:59",
]

# Anything an admin (or an attacker) could type where a value belongs.
HOSTILE: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(IMPOSSIBLE_MOMENTS).map(Raw),
    st.sampled_from(IMPOSSIBLE_MOMENTS),
    st.text(max_size=30),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp"]), max_size=5),
    st.sampled_from(['x"\n[7001]\ntype=aor', "a;b", "Asia", "../../etc", "20:00", "24:00"]),
    st.text(min_size=400, max_size=2000),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(timezones=st.just(timezone(timedelta(hours=8)))),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.recursive(st.none(), lambda inner: st.lists(inner, max_size=2), max_leaves=40),
)


def from_schema(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> Any:
    """A strategy for documents shaped by `schema`, hostile at any node one time in eight."""
    valid = _valid(schema, defs, depth)
    return st.integers(0, 7).flatmap(lambda n: HOSTILE if n == 0 else valid)


def _valid(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:  # noqa: PLR0911
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, depth)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(s, defs, depth) for s in schema[key]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _object(schema, defs, depth)
    if kind == "array":
        if depth > 6:
            return st.just([])
        items = from_schema(schema.get("items", {}), defs, depth + 1)
        lo = schema.get("minItems", 0)
        return st.lists(items, min_size=lo, max_size=max(lo, 3))
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return HOSTILE


def _string(schema: dict[str, Any]) -> Any:
    fmt = schema.get("format")
    if fmt == "date":
        return st.dates(date(2020, 1, 1), date(2030, 12, 31))
    if fmt == "date-time":
        return st.datetimes(
            datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
            datetime(2030, 12, 31),  # noqa: DTZ001
            timezones=st.just(timezone(timedelta(hours=8))),
        )
    if fmt == "time":
        return st.times().map(lambda t: f"{t:%H:%M}")
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(
            lambda s: len(s) <= schema.get("maxLength", 64)
        )
    return st.text(
        min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 30), 30)
    )


def _object(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:
    props = schema.get("properties", {})
    if depth > 6:
        return st.just({})
    if not props:
        extra = schema.get("additionalProperties")
        values = from_schema(extra if isinstance(extra, dict) else {}, defs, depth + 1)
        names = schema.get("propertyNames", {})
        if "$ref" in names:
            names = defs[names["$ref"].rsplit("/", 1)[-1]]
        keys = st.one_of(
            st.sampled_from(names["enum"]) if "enum" in names else _string(names),
            st.text(max_size=8),
            st.integers(),
        )
        return st.dictionaries(keys, values, max_size=3)
    required = set(schema.get("required", ()))
    fields = {k: from_schema(v, defs, depth + 1) for k, v in props.items()}
    return st.fixed_dictionaries(
        {k: v for k, v in fields.items() if k in required},
        optional={
            **{k: v for k, v in fields.items() if k not in required},
            # Now and then a field no model has.
            "unexpected": HOSTILE,
        },
    )


def document(file: str) -> Any:
    schema = FILES[file].model_json_schema()
    return from_schema(schema, schema.get("$defs", {}))


def assert_loaded_or_refused(directory: Path) -> None:
    problems = []
    try:
        tables = load_profile(directory, catalogue=CATALOGUE)
    except RoutingError as exc:
        problems = exc.problems
        assert problems, "a refusal always says why"
    else:
        assert isinstance(tables, RoutingTables)
    for problem in problems:
        assert Path(problem.file).parent == directory, problem
        assert problem.reason, problem
        assert UNCHECKED not in problem.reason, problem
        assert "\n" not in str(problem), problem


def with_file(file: str, text: str | bytes) -> Any:
    """A shipped profile copy with `file` replaced, in a directory removed afterwards."""
    tmp = tempfile.TemporaryDirectory()
    directory = Path(tmp.name) / "taipei"
    shutil.copytree(SHIPPED / "taipei", directory)
    path = directory / file
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return tmp, directory


# A load takes a fraction of a second; raise this for a longer hunt, e.g. 2000.
FUZZ = settings(
    max_examples=int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(st.sampled_from(list(FILES)).flatmap(lambda f: st.tuples(st.just(f), document(f))))
def test_a_table_generated_from_the_schema_is_loaded_or_refused_with_reasons(
    case: tuple[str, Any],
) -> None:
    file, data = case
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True)
    tmp, directory = with_file(file, text)
    with tmp:
        assert_loaded_or_refused(directory)


@FUZZ
@given(
    st.sampled_from(list(FILES)),
    st.data(),
)
def test_a_shipped_table_with_its_text_damaged_is_loaded_or_refused(
    file: str, data: st.DataObject
) -> None:
    """Byte-level damage: cuts, inserted hostile snippets, a bad byte anywhere."""
    original = (SHIPPED / "taipei" / file).read_text(encoding="utf-8").encode()
    at = data.draw(st.integers(0, len(original)))
    snippet = data.draw(
        st.one_of(
            st.sampled_from(
                [
                    b"2026-02-30",
                    b"\n  - ",
                    b": ",
                    b"&a ",
                    b"*a",
                    b"[" * 100,
                    b"{",
                    b"\xff",
                    b"\t",
                    b"!!binary",
                    b"<<: ",
                    b"\x00",
                    b'"',
                    b"? ",
                ]
            ),
            st.binary(max_size=8),
        )
    )
    cut = data.draw(st.integers(0, 20))
    tmp, directory = with_file(file, original[:at] + snippet + original[at + cut :])
    with tmp:
        assert_loaded_or_refused(directory)
