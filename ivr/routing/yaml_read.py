"""Reading one table file: hostile or broken YAML becomes a reason, never an exception.

A table file is data an admin (or an attacker with write access to a shared folder)
typed. Whatever it holds, `read_table` returns the parsed data with the problems it
found, as (field path, reason) pairs. It refuses, each with its own reason:

- a file larger than `MAX_TABLE_BYTES` (the biggest real table, a city's block list,
  is a few hundred kB);
- bytes that are not UTF-8 (the position of the first bad byte is given);
- YAML nested deeper than `MAX_DEPTH` (PyYAML composes recursively, so a document
  nested 5,000 deep would end in RecursionError);
- aliases that expand to more than `MAX_NODES` nodes (a "billion laughs" document is
  a few lines that validation would walk for ever);
- a key written twice in one mapping (plain YAML silently keeps the last one);
- a key that is not text (`1:`, `2026-01-01:`, `null:`, `true:`): every field a table
  names is text, and an unquoted number or date would be compared with text later.

The file is scanned and parsed by libyaml (PyYAML's C loader) when PyYAML was built
with it: a 1,000-unit directory is read about ten times faster than by the pure-Python
parser. The same limits apply to both, in the same order: size, bytes, depth (on the
parser's events, before anything is composed), aliases (on the composed graph, before
anything is built), then the keys.

Dates YAML cannot build (`2026-02-30`) stay strings, so the schema reports them at
their field instead of PyYAML raising ValueError with no file and no field.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ivr.errors import HotlineError

Loc = tuple[str | int, ...]

MAX_TABLE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000

# libyaml's scanner and parser with PyYAML's safe constructor: the same tags and the
# same values as yaml.SafeLoader, an order of magnitude faster on big tables.
if TYPE_CHECKING:
    _SafeBase = yaml.SafeLoader
else:
    _SafeBase = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


class _UniqueKeyLoader(_SafeBase):
    """A safe loader that records duplicate and non-text mapping keys.

    Plain YAML silently keeps the last of two equal keys, and reads `1:` as a number.
    Both are collected rather than raised at the first one so that an admin sees all
    of them; each carries the field path of the mapping that holds it.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[Loc, int]] = []
        self.not_text: list[tuple[Loc, str]] = []
        self._paths: dict[int, Loc] = {}

    def construct_document(self, node: Node) -> Any:
        self._index(node, ())
        return super().construct_document(node)

    def _index(self, node: Node, loc: Loc) -> None:
        # Recursive, but only after `_shape_problem` bounded the depth.
        if id(node) in self._paths:  # an alias: already walked
            return
        self._paths[id(node)] = loc
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                self._index(value_node, (*loc, str(key_node.value)))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, (*loc, i))

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        self.flatten_mapping(node)
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str) and isinstance(key_node, ScalarNode):
                # A number keeps its number in the path, as the menus' own check names it.
                part = key if isinstance(key, int) and not isinstance(key, bool) else key_node.value
                loc = (*self._paths.get(id(node), ()), part)
                self.not_text.append((loc, _not_text(key, key_node)))
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # unhashable: the base class says so with its line
                continue
            if duplicate:
                loc = (*self._paths.get(id(node), ()), str(key))
                self.duplicates.append((loc, key_node.start_mark.line + 1))
        return super().construct_mapping(node, deep)

    def construct_lenient_timestamp(self, node: ScalarNode) -> Any:
        """A date or time YAML cannot build (`2026-02-30`) stays text for the schema to refuse."""
        try:
            return self.construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)


_KINDS = {
    "NoneType": "empty (null)",
    "bool": "true or false",
    "int": "a number",
    "float": "a number",
    "date": "a date",
    "datetime": "a date and time",
}


def _not_text(key: Any, node: ScalarNode) -> str:
    kind = _KINDS.get(type(key).__name__, type(key).__name__)
    return (
        f"the key {node.value!r} (line {node.start_mark.line + 1}) is read as {kind}, "
        f'not text; write it in quotes ("{node.value}")'
    )


_UniqueKeyLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _UniqueKeyLoader.construct_lenient_timestamp
)


def _shape_problem(text: str) -> tuple[str | None, bool]:
    """(why it is refused, whether it has aliases), from the parser's events.

    Iterative, so deep nesting is refused before anything is composed. A document
    without aliases holds exactly the values its events announce, so their count
    bounds it and the graph walk of `_measure` is needed only when there are aliases.
    """
    depth = 0
    values = 0
    aliases = False
    for event in yaml.parse(text, Loader=_SafeBase):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            values += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else "?"
                return (
                    f"nested more than {MAX_DEPTH} levels deep (line {line}); "
                    "no table needs that, so it is refused"
                ), aliases
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent):
            values += 1
        elif isinstance(event, yaml.AliasEvent):
            aliases = True
    if values > MAX_NODES:
        return (
            f"it holds more than {MAX_NODES} values; no table needs that, so it is refused",
            False,
        )
    return None, aliases


class _Refused(HotlineError):
    """The composed document is too big or too deep once aliases are followed."""

    code = "routing.yaml_too_big"


def _measure(root: Node) -> None:
    """Refuse a node graph whose aliases expand too deep, too wide or into a loop.

    Memoised, so a "billion laughs" document is measured in a moment; recursion is
    bounded by `MAX_DEPTH` because deeper graphs are refused on the way down.
    """
    known: dict[int, tuple[int, int]] = {}  # id -> (expanded size, height)
    walking: set[int] = set()

    def measure(node: Node, level: int) -> tuple[int, int]:
        if id(node) in walking:
            raise _Refused("an alias refers to a value that contains it; refused")
        size_height = known.get(id(node))
        if size_height is None:
            if level > MAX_DEPTH:
                raise _Refused(f"aliases nest it more than {MAX_DEPTH} levels deep; refused")
            walking.add(id(node))
            children: list[Node] = []
            if isinstance(node, MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, SequenceNode):
                children = list(node.value)
            size, height = 1, 1
            for child in children:
                child_size, child_height = measure(child, level + 1)
                size = min(size + child_size, MAX_NODES + 1)
                height = max(height, child_height + 1)
            walking.discard(id(node))
            size_height = known[id(node)] = (size, height)
        if level + size_height[1] > MAX_DEPTH + 1:
            raise _Refused(f"aliases nest it more than {MAX_DEPTH} levels deep; refused")
        if size_height[0] > MAX_NODES:
            raise _Refused(f"its aliases expand to more than {MAX_NODES} values; refused")
        return size_height

    measure(root, 1)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused(
            f"not UTF-8 text: byte {exc.start} is {raw[exc.start : exc.start + 1]!r}; "
            "save the file as UTF-8"
        ) from exc


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


def read_table(path: Path) -> tuple[Any, list[tuple[Loc, str]], bool]:
    """(data, problems, exists) for one table file; data is None when unusable.

    Problems are (field path, reason); an empty path means the whole file.
    """
    try:
        data, found = _parse(path)
    except FileNotFoundError:
        return None, [], False
    except OSError as exc:
        return None, [((), f"cannot be read: {exc.strerror or exc}")], True
    except _Refused as exc:
        return None, [((), str(exc))], True
    return data, _found(data, found), True


def read_table_text(text: str) -> tuple[Any, list[tuple[Loc, str]]]:
    """(data, problems) for a table file's text, held in memory (a stored version)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_TABLE_BYTES:
        return None, [((), f"{size} bytes: larger than the {MAX_TABLE_BYTES} a table may be")]
    try:
        data, found = _parse_text(text)
    except _Refused as exc:
        return None, [((), str(exc))]
    return data, _found(data, found)


def _found(data: Any, found: list[tuple[Loc, str]]) -> list[tuple[Loc, str]]:
    if data is None and not found:
        return [((), "empty: expected a mapping of fields")]
    return found


def _parse(path: Path) -> tuple[Any, list[tuple[Loc, str]]]:
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        raise _Refused(f"{size} bytes: larger than the {MAX_TABLE_BYTES} a table may be")
    return _parse_text(_decode(path.read_bytes()))


def _parse_text(text: str) -> tuple[Any, list[tuple[Loc, str]]]:
    """(data, problems); data is None when a key is not text (the file is refused whole)."""
    loader: _UniqueKeyLoader | None = None
    try:
        # The reader refuses some characters (NUL, other control characters) as it starts.
        loader = _UniqueKeyLoader(text)
        shape, aliases = _shape_problem(text)
        if shape is not None:
            raise _Refused(shape)
        node = loader.get_single_node()
        if node is None:
            return None, []
        if aliases:
            _measure(node)
        data = loader.construct_document(node)
        found: list[tuple[Loc, str]] = [
            (loc, f"duplicate key (line {line}); YAML would keep only the last")
            for loc, line in loader.duplicates
        ]
        not_text = loader.not_text
    except yaml.YAMLError as exc:
        raise _Refused(_yaml_reason(exc)) from exc
    except UnicodeEncodeError as exc:
        # libyaml reads UTF-8: text held in memory may carry a lone surrogate.
        raise _Refused(
            f"not UTF-8 text: character {exc.start} is {exc.object[exc.start]!r}"
        ) from exc
    except RecursionError as exc:
        # Depth is bounded above; this is a second line of defence, not the usual path.
        raise _Refused(f"nested too deep to read (more than {MAX_DEPTH} levels)") from exc
    finally:
        if loader is not None:
            loader.dispose()
    if not_text:
        # Validating would add a second, vaguer reason at each of these keys.
        return None, [*found, *not_text]
    return data, found


def _yaml_reason(exc: yaml.YAMLError) -> str:
    if "maximum nesting depth" in str(exc):
        # libyaml stops at 1,000 levels of [ or { while it scans ahead, before the
        # event walk reaches level 65: the same refusal, in the same words.
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        return (
            f"nested more than {MAX_DEPTH} levels deep (line {line}); "
            "no table needs that, so it is refused"
        )
    return f"not valid YAML: {_one_line(str(exc))}"
