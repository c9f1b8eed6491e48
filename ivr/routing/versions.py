"""A profile's routing as one versioned document, and field-level diffs. Pure.

A document is every table file of one profile, as the exact text an admin wrote
(comments, quoting and order kept, so `ivr routing export` gives back what was
imported and a profile can still live in git). Its digest names its content: two
documents with the same files and bytes have the same digest, whoever made them.

A diff compares two documents as data, not as lines: each change names the file and
the field, with list entries named by their id where they have one, e.g.
`directory.yaml: agencies[pwd].units[hydraulic].primary.number: "2501" → "2509"`.
Secrets are never shown, only that they changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from ivr.errors import HotlineError
from ivr.routing.loader import FILES, OPTIONAL_FILES
from ivr.routing.yaml_read import Loc, read_table_text

# file name -> the file's text
Document = Mapping[str, str]

TABLE_FILES: tuple[str, ...] = (*FILES, *OPTIONAL_FILES)
# List entries are matched by the first of these fields they all have, so a unit
# moved within its list is "moved", not "every field of two units changed".
_ENTRY_KEYS = ("id", "item", "pattern", "code", "date", "name")
# Fields whose values never reach a diff, an audit row or a screen.
_SECRET_FIELDS = frozenset({"secret", "password"})
MASK = "(secret)"


class DocumentError(HotlineError, ValueError):
    """A directory or upload that is not a profile's table files."""

    code = "routing.document_invalid"


def digest(document: Document) -> str:
    """SHA-256 over the files' names and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(document):
        body = document[name].encode("utf-8")
        h.update(f"{name}\0{len(body)}\0".encode())
        h.update(body)
    return h.hexdigest()


def read_document(directory: Path) -> dict[str, str]:
    """The table files of a profile directory; the loader judges their content.

    Only the known table names are taken; a directory with none of them is refused.
    """
    if not directory.is_dir():
        raise DocumentError(f"{directory}: not a profile directory")
    found: dict[str, str] = {}
    for name in TABLE_FILES:
        path = directory / name
        if not path.is_file():
            continue
        try:
            found[name] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    if not found:
        raise DocumentError(f"{directory}: no table files ({', '.join(FILES)})")
    return found


def write_document(document: Document, directory: Path) -> None:
    """Write the files into an existing, empty directory (the caller stages and swaps)."""
    for name in sorted(document):
        if name not in TABLE_FILES:
            raise DocumentError(f"{name}: not a table file")
        (directory / name).write_text(document[name], encoding="utf-8")


# ---------------------------------------------------------------- diff


class ChangeKind(StrEnum):
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"
    # A keyed list whose entries are the same but in another order (deputies, contacts).
    REORDERED = "reordered"


@dataclass(frozen=True)
class Change:
    """One field-level difference between two versions of a profile."""

    file: str
    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        if self.kind is ChangeKind.CHANGED:
            return f"{where}: {_show(self.before)} → {_show(self.after)}"
        if self.kind is ChangeKind.ADDED:
            return f"{where}: added {_show(self.after)}"
        if self.kind is ChangeKind.REMOVED:
            return f"{where}: removed {_show(self.before)}"
        return f"{where}: order {_show(self.before)} → {_show(self.after)}"

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "path": self.path,
            "kind": self.kind.value,
            "before": _plain(self.before),
            "after": _plain(self.after),
            "text": str(self),
        }


def _plain(value: Any) -> Any:
    """JSON-able: dates and times as ISO text, containers recursively."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _show(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, separators=(", ", ": "))


@functools.lru_cache(maxsize=8)
def parse_text(text: str) -> Any:
    """One file as data, for comparing and searching; None when it cannot be read.

    The result is shared: read it, never change it. The same texts come back again
    and again (an edit diffs the draft against its base, then publishing diffs the
    same two; every page of a draft reads it), and building a 1,000-unit directory
    costs about half a second of CPU, so the last few are kept.

    libyaml's parser when PyYAML has it (a 1,000-unit directory parses about ten
    times faster); the checker's own reader for anything libyaml refuses, so a file
    the checker can read is never compared as unreadable.
    """
    # No anchors, no aliases: nothing can expand (the checker's reader bounds those).
    if getattr(yaml, "__with_libyaml__", False) and "&" not in text:
        try:
            return yaml.load(text, Loader=yaml.CSafeLoader)
        except (yaml.YAMLError, ValueError, OverflowError, RecursionError):
            pass
    data, problems = read_table_text(text)
    return None if problems and data is None else data


def parse_document(document: Document) -> dict[str, Any]:
    """Each file as data; a file that cannot be read becomes None (it differs as a whole)."""
    return {name: parse_text(text) for name, text in document.items()}


def diff(old: Document, new: Document) -> list[Change]:
    """Every field that differs between two documents, file by file, in file order."""
    # Only files whose text differs are parsed: most edits touch one file.
    changed = {n: (old[n], new[n]) for n in set(old) & set(new) if old[n] != new[n]}
    a = {n: parse_text(t[0]) for n, t in changed.items()}
    b = {n: parse_text(t[1]) for n, t in changed.items()}
    for n in set(old) - set(new):
        a[n] = None
    for n in set(new) - set(old):
        b[n] = None
    changes: list[Change] = []
    for name in [*TABLE_FILES, *sorted((set(a) | set(b)) - set(TABLE_FILES))]:
        if name not in a and name not in b:
            continue
        if name not in a:
            changes.append(Change(name, "", ChangeKind.ADDED, after="(file)"))
        elif name not in b:
            changes.append(Change(name, "", ChangeKind.REMOVED, before="(file)"))
        elif name in changed:
            try:
                changes += [
                    Change(name, render_path(loc), kind, before, after)
                    for loc, kind, before, after in _walk(a[name], b[name], ())
                ]
            except RecursionError:  # nested past any table: the checker refuses it anyway
                changes.append(Change(name, "", ChangeKind.CHANGED, "(unreadable)", "(unreadable)"))
    return changes


_Found = tuple[Loc, ChangeKind, Any, Any]


class Entry(str):
    """A list entry named by its id (or item number, pattern, ...), not its position."""

    __slots__ = ()


def render_path(loc: Loc) -> str:
    """`agencies[pwd].units[hydraulic].primary.number`: entries by id, fields by name."""
    out = ""
    for part in loc:
        if isinstance(part, Entry):
            out += (
                f"[{part}]"
                if re.fullmatch(r"[\w.:+*-]+", part)
                else f"[{json.dumps(part, ensure_ascii=False)}]"
            )
        elif isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def _masked(loc: Loc, value: Any) -> Any:
    return MASK if loc and loc[-1] in _SECRET_FIELDS and value is not None else value


def _walk(a: Any, b: Any, loc: Loc) -> Iterator[_Found]:
    if isinstance(a, dict) and isinstance(b, dict):
        yield from _walk_mapping(a, b, loc)
    elif isinstance(a, list) and isinstance(b, list):
        yield from _walk_list(a, b, loc)
    elif a != b or type(a) is not type(b):
        yield loc, ChangeKind.CHANGED, _masked(loc, a), _masked(loc, b)


def _walk_mapping(a: dict[Any, Any], b: dict[Any, Any], loc: Loc) -> Iterator[_Found]:
    for key in [*a, *(k for k in b if k not in a)]:
        here = (*loc, str(key))
        if key not in b:
            yield here, ChangeKind.REMOVED, _masked(here, a[key]), None
        elif key not in a:
            yield here, ChangeKind.ADDED, None, _masked(here, b[key])
        else:
            yield from _walk(a[key], b[key], here)


def _entry_key(a: list[Any], b: list[Any]) -> str | None:
    """The field that names every entry of both lists uniquely, if there is one."""
    entries = [*a, *b]
    if not entries or not all(isinstance(e, dict) for e in entries):
        return None
    for key in _ENTRY_KEYS:
        values_a = [e.get(key) for e in a]
        values_b = [e.get(key) for e in b]
        if all(isinstance(v, str | int | date) and not isinstance(v, bool) for v in values_a) and (
            all(isinstance(v, str | int | date) and not isinstance(v, bool) for v in values_b)
            and len(set(values_a)) == len(a)
            and len(set(values_b)) == len(b)
        ):
            return key
    return None


def _walk_list(a: list[Any], b: list[Any], loc: Loc) -> Iterator[_Found]:
    key = _entry_key(a, b)
    if key is None:
        yield from _walk_positions(a, b, loc)
        return
    by_a = {Entry(_label(e[key])): e for e in a}
    by_b = {Entry(_label(e[key])): e for e in b}
    for label, entry in by_a.items():
        here = (*loc, label)
        if label not in by_b:
            yield here, ChangeKind.REMOVED, _summary(entry), None
        else:
            yield from _walk(entry, by_b[label], here)
    for label, entry in by_b.items():
        if label not in by_a:
            yield (*loc, label), ChangeKind.ADDED, None, _summary(entry)
    kept_a = [k for k in by_a if k in by_b]
    kept_b = [k for k in by_b if k in by_a]
    if kept_a != kept_b:
        yield loc, ChangeKind.REORDERED, kept_a, kept_b


def _walk_positions(a: list[Any], b: list[Any], loc: Loc) -> Iterator[_Found]:
    if all(not isinstance(e, dict | list) for e in [*a, *b]):
        # A list of plain values (skills, adjacent numbers) reads best whole.
        if a != b:
            yield loc, ChangeKind.CHANGED, a, b
        return
    for i in range(max(len(a), len(b))):
        here = (*loc, i)
        if i >= len(b):
            yield here, ChangeKind.REMOVED, a[i], None
        elif i >= len(a):
            yield here, ChangeKind.ADDED, None, b[i]
        else:
            yield from _walk(a[i], b[i], here)


def _label(value: Any) -> str:
    # Entry labels are rendered as [label]; render_loc quotes those that need it.
    return value.isoformat() if isinstance(value, date) else str(value)


def _summary(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: (MASK if k in _SECRET_FIELDS else v) for k, v in entry.items()}
