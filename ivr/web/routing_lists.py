"""The routing editor's list editors, shared (issue 17): the block list, the calendar's
days, weekly hours and dispatch items are each rows of a table file in a draft.

One way to read them and one way to change them, for the pages and the JSON API:

- a page reads each row's values and places the checker's problems (the same code and
  text as `ivr routing check`) at the row's fields; problems elsewhere in the draft are
  listed apart and never block a save (publishing needs the whole draft valid);
- a new or replaced row is checked before it is saved: if the checker finds a problem
  at that row, nothing is saved and its reasons go back to the form's fields
  (`FormRefused`); a value saved as typed (`save_as_typed`) is judged after, on the page;
- every save goes through `routing_admin._edit`: the admin role, the draft's revision
  (a stale page is told so), the audit of the edit with its address and diff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ivr.routing import publish as pub
from ivr.routing.loader import render_loc
from ivr.routing.versions import parse_text
from ivr.routing.yaml_edit import EditError, append, remove
from ivr.routing.yaml_rows import replace_entry
from ivr.store import routing_versions as rv
from ivr.store.users import User
from ivr.web import routing_admin as admin
from ivr.web.context import Console

Loc = tuple[str | int, ...]

T = TypeVar("T")


class FormRefused(admin.AdminError):
    """A row is refused: the reasons by form field ("" for the row as a whole)."""

    code = "web.form_refused"

    def __init__(
        self, detail: str, at_field: dict[str, list[str]], problems: list[pub.FieldProblem]
    ) -> None:
        super().__init__(422, detail, problems)
        self.at_field = at_field


class Referred(admin.AdminError):
    """A row is referred to: shown first, removed only when the admin says so again.
    Each editor whose rows others name has its own subclass, with its own code."""

    code = "web.row_referred"

    def __init__(self, detail: str, refs: Sequence[object]) -> None:
        super().__init__(409, detail)
        self.refs = list(refs)


@dataclass(frozen=True)
class Field:
    """One value of a row, as a form shows it: its words' keys and its input's kind."""

    name: str
    label: str
    hint: str = ""
    maxlength: int = 32
    required: bool = True
    kind: str = "text"  # an <input> type, or "checkbox"
    typed: bool = True  # False: shown, never typed (who added an entry, and when)
    empty: str = ""  # the word shown for an empty value ("never" for no expiry)


@dataclass(frozen=True)
class ListSpec:
    """A list of mappings in a table file: `key: [ {field: value}, ... ]`."""

    file: str
    key: str
    fields: tuple[Field, ...]
    # Word keys: the section's heading, the table's caption ({n}), "none", the add
    # form's heading and button, a row's remove button ({name}).
    heading: str
    caption: str
    none: str
    add_heading: str
    add_button: str
    remove: str
    # The fields that name a row on its buttons ("Remove 2027-05-03 市府停止上班").
    named_by: tuple[str, ...] = ()
    # The fields shown as the table's columns (all when empty); the rest are in a form.
    columns: tuple[str, ...] = ()

    def name_of(self, row: Row) -> str:
        return " ".join(row.values[n] for n in self.named_by or self.names[:1])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def shown(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not self.columns or f.name in self.columns)

    @property
    def unshown(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f not in self.shown)

    @property
    def typed(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.typed)

    def loc(self, index: int) -> Loc:
        return (self.key, index)


@dataclass(frozen=True)
class Row:
    index: int
    values: dict[str, str]
    # field name -> the checker's reasons ("" for the row as a whole)
    errors: dict[str, list[str]]

    def error(self, name: str) -> str | None:
        found = self.errors.get(name)
        return "; ".join(found) if found else None

    def joined(self) -> dict[str, str]:
        return {name: "; ".join(reasons) for name, reasons in self.errors.items()}

    def problems(self) -> list[str]:
        return [r for rs in self.errors.values() for r in rs]


@dataclass(frozen=True)
class RowList:
    spec: ListSpec
    rows: list[Row]


@dataclass
class ListPage:
    draft: rv.DraftRecord
    lists: list[RowList]
    problems: list[pub.FieldProblem]
    # Problems in no row shown here: above the tables.
    elsewhere: list[pub.FieldProblem] = field(default_factory=list)

    def rows(self, key: str) -> list[Row]:
        return next(rl.rows for rl in self.lists if rl.spec.key == key)


def text_of(value: Any) -> str:
    """A value as a form shows it: dates ISO, times HH:MM, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ", ".join(f"{k}={text_of(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(text_of(v) for v in value)
    if hasattr(value, "isoformat"):
        text: str = value.isoformat()
        return text[:5] if len(text) == 8 and text.endswith(":00") else text
    return str(value)


def at(problem: pub.FieldProblem, file: str, loc: Loc) -> bool:
    prefix = render_loc(loc)
    return problem.file == file and (
        problem.path == prefix
        or problem.path.startswith(prefix + ".")
        or problem.path.startswith(prefix + "[")
    )


def placed(
    problems: Sequence[pub.FieldProblem], file: str, loc: Loc, names: Sequence[str]
) -> tuple[dict[str, list[str]], list[pub.FieldProblem]]:
    """The problems at the row `loc`, by field ("" for the rest of the row); and the rest."""
    prefix = render_loc(loc)
    mine: dict[str, list[str]] = {}
    rest: list[pub.FieldProblem] = []
    for p in problems:
        if at(p, file, loc):
            name = p.path[len(prefix) + 1 :].split(".")[0].split("[")[0]
            mine.setdefault(name if name in names else "", []).append(p.reason)
        else:
            rest.append(p)
    return mine, rest


def data_of(text: str | None) -> Any:
    return parse_text(text) if text is not None else None


def items(text: str | None, key: str) -> list[Any]:
    data = data_of(text)
    found = data.get(key) if isinstance(data, dict) else None
    return found if isinstance(found, list) else []


def rows_of(
    text: str | None, spec: ListSpec, problems: list[pub.FieldProblem]
) -> tuple[RowList, list[pub.FieldProblem]]:
    rest = problems
    rows: list[Row] = []
    for i, raw in enumerate(items(text, spec.key)):
        item = raw if isinstance(raw, dict) else {}
        errors, rest = placed(rest, spec.file, spec.loc(i), spec.names)
        rows.append(Row(i, {f: text_of(item.get(f)) for f in spec.names}, errors))
    return RowList(spec, rows), rest


async def page(console: Console, draft_id: int, specs: Sequence[ListSpec]) -> ListPage:
    site = admin.site_of(console)
    draft = await admin._draft(console, draft_id)
    problems = await admin.check(site, draft)
    rest = problems
    lists: list[RowList] = []
    for spec in specs:
        row_list, rest = rows_of(draft.files.get(spec.file), spec, rest)
        lists.append(row_list)
    return ListPage(draft, lists, problems, rest)


async def current(
    console: Console, user: User, draft_id: int, revision: int, file: str
) -> tuple[rv.DraftRecord, str]:
    """The draft as the admin saw it, and its file: refused if it changed since."""
    admin._require(user, admin.EDITORS, "edit drafts")
    draft = await admin._draft(console, draft_id)
    if revision != draft.revision:
        # Said before the check runs: the page the admin saw is out of date anyway.
        raise admin.AdminError(
            409,
            f"draft {draft_id} changed since revision {revision} (now {draft.revision}): "
            "look at it again before saving",
        )
    text = draft.files.get(file)
    if text is None:
        raise admin.AdminError(404, f"the draft has no {file}")
    return draft, text


async def save_checked(
    console: Console,
    user: User,
    draft: rv.DraftRecord,
    file: str,
    new_text: str,
    loc: Loc,
    names: Sequence[str],
    what: str,
    address: str | None,
    *,
    clashes: bool = False,
) -> rv.DraftRecord:
    """Save `new_text` unless the checker finds a problem at the row `loc` (or the file
    no longer reads, which the edit did: the draft's file was read to make it).

    `clashes`: also refuse a problem the edit made at another row of the file (a value
    that must be unique, reported at its second place), at the field of that name."""
    site = admin.site_of(console)
    problems = await asyncio.to_thread(pub.check_files, site, {**draft.files, file: new_text})
    mine, _ = placed(problems, file, loc, names)
    whole = [p for p in problems if p.file == file and not p.path]
    if whole:
        mine.setdefault("", []).extend(p.reason for p in whole)
    made: list[pub.FieldProblem] = []
    if clashes and not mine:
        before = set(await asyncio.to_thread(pub.check_files, site, draft.files))
        made = [p for p in problems if p.file == file and p not in before]
        for p in made:
            name = p.path.rsplit(".", 1)[-1]
            mine.setdefault(name if name in names else "", []).append(f"{p.path}: {p.reason}")
    if mine:
        at_row = [p for p in problems if p in whole or p in made or at(p, file, loc)]
        raise FormRefused(f"{file}: {what} is refused; nothing was saved", mine, at_row)
    return await admin._edit(
        console, user, draft.id, draft.revision, file, lambda _old: new_text, address
    )


def _edited(file: str, edit: Callable[[], T]) -> T:
    try:
        return edit()
    except EditError as exc:
        raise admin.AdminError(422, f"{file}: {exc}") from None


async def add(
    console: Console,
    user: User,
    draft_id: int,
    spec: ListSpec,
    *,
    revision: int,
    entry: Mapping[str, object],
    what: str = "the new entry",
    address: str | None = None,
    clashes: bool = False,
) -> rv.DraftRecord:
    """Add a row at the end of the list, checked first; see the module."""

    def edit(text: str) -> tuple[int, str]:
        return len(items(text, spec.key)), append(text, [spec.key], entry)

    return await _save_row(console, user, draft_id, spec, revision, edit, what, address, clashes)


async def replace(
    console: Console,
    user: User,
    draft_id: int,
    spec: ListSpec,
    *,
    revision: int,
    index: int,
    entry: Mapping[str, object],
    what: str = "the changed entry",
    address: str | None = None,
    clashes: bool = False,
) -> rv.DraftRecord:
    """Replace row `index` with `entry`, checked first, as a new row is."""

    def edit(text: str) -> tuple[int, str]:
        return index, replace_entry(text, [spec.key], index, entry)

    return await _save_row(console, user, draft_id, spec, revision, edit, what, address, clashes)


async def _save_row(
    console: Console,
    user: User,
    draft_id: int,
    spec: ListSpec,
    revision: int,
    edit: Callable[[str], tuple[int, str]],
    what: str,
    address: str | None,
    clashes: bool,
) -> rv.DraftRecord:
    """`edit` the list's file as the admin saw it (the row's index and the new text),
    saved unless the checker finds a problem at that row."""
    draft, text = await current(console, user, draft_id, revision, spec.file)
    index, new_text = _edited(spec.file, lambda: edit(text))
    return await save_checked(
        console,
        user,
        draft,
        spec.file,
        new_text,
        spec.loc(index),
        spec.names,
        what,
        address,
        clashes=clashes,
    )


async def remove_row(
    console: Console,
    user: User,
    draft_id: int,
    spec: ListSpec,
    *,
    revision: int,
    index: int,
    address: str | None = None,
) -> rv.DraftRecord:
    path: list[str | int] = [spec.key]
    return await admin._edit(
        console,
        user,
        draft_id,
        revision,
        spec.file,
        lambda text: remove(text, path, index),
        address,
    )


async def save_as_typed(
    console: Console,
    user: User,
    draft_id: int,
    file: str,
    edit: Callable[[str], str],
    *,
    revision: int,
    address: str | None = None,
) -> rv.DraftRecord:
    """Save an edit whatever the checker will say of it: the page shows its problems at
    the field, and publishing refuses the draft until they are fixed."""
    return await admin._edit(console, user, draft_id, revision, file, edit, address)
