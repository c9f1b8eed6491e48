"""Cross-file rules on menus.yaml: destinations exist, every menu is reachable and
has a way out, language keys lead to the language's people."""

from __future__ import annotations

from collections.abc import Iterator

from ivr.routing.cross_base import TablesBase, menu_destinations, next_menu
from ivr.routing.files import MENUS, PROFILE
from ivr.routing.menus import (
    Destination,
    MenuTable,
    ToAnnouncement,
    ToCaseCheck,
    ToEmergency,
    ToExtension,
    ToLanguage,
    ToMenu,
    ToQueue,
    ToUnit,
)
from ivr.routing.yaml_read import Loc


class MenuRules(TablesBase):
    """The menus' rules; `cross_checks.Tables` runs them with the others."""

    # -- menus.yaml (and hours.closed, which leads into the menus too)

    def _menus(self, menus: MenuTable) -> None:
        if menus.entry not in menus.menus:
            self.add(MENUS, ("entry",), f"no menu {menus.entry!r} under menus")
        for name, menu in menus.menus.items():
            for loc, dest in menu_destinations(name, menu):
                self._destination(MENUS, loc, dest)
            if isinstance(menu.on_exhausted, ToAnnouncement | ToEmergency | ToCaseCheck):
                self.add(
                    MENUS,
                    ("menus", name, "on_exhausted", "type"),
                    "never hang up on a caller who simply did not press anything: "
                    "on_exhausted must reach a person (a queue, unit, record...), "
                    f"not {menu.on_exhausted.type}",
                )
        self._reachable(menus)
        self._exits(menus)
        self._language_keys(menus)
        self._languages_honoured(menus)

    def _destination(self, file: str, loc: Loc, dest: Destination) -> None:  # noqa: PLR0912 - one branch per type
        # A table that did not parse cannot be searched: skip checks that need it.
        menus = self.menus.menus if self.menus is not None else None
        if isinstance(dest, ToMenu) and menus is not None and dest.menu not in menus:
            self.add(file, (*loc, "menu"), f"no menu {dest.menu!r} in menus.yaml")
        elif isinstance(dest, ToLanguage):
            if menus is not None and dest.then not in menus:
                self.add(file, (*loc, "then"), f"no menu {dest.then!r} in menus.yaml")
            if self.profile is not None and dest.language not in self.profile.enabled_languages:
                self.add(
                    file,
                    (*loc, "language"),
                    f"{dest.language} is not an enabled language in profile.yaml",
                )
        elif isinstance(dest, ToCaseCheck) and dest.then is not None and menus is not None:
            if dest.then not in menus:
                self.add(file, (*loc, "then"), f"no menu {dest.then!r} in menus.yaml")
        elif isinstance(dest, ToQueue) and self.agents is not None:
            if dest.queue not in {q.id for q in self.agents.queues}:
                self.add(file, (*loc, "queue"), f"no queue {dest.queue!r} in agents.yaml")
        elif isinstance(dest, ToUnit) and self.directory is not None:
            if dest.unit not in {u.id for a in self.directory.agencies for u in a.units}:
                self.add(file, (*loc, "unit"), f"no unit {dest.unit!r} in directory.yaml")
        elif isinstance(dest, ToExtension) and self.directory is not None:
            if dest.extension not in self.directory.extensions():
                self.add(
                    file, (*loc, "extension"), f"no extension {dest.extension} in directory.yaml"
                )
        elif isinstance(dest, ToEmergency):
            self._emergency(file, loc, dest)

    def _emergency(self, file: str, loc: Loc, dest: ToEmergency) -> None:
        connect = (dest.connect_key, dest.trunk, dest.number)
        if any(v is not None for v in connect) and any(v is None for v in connect):
            self.add(
                file,
                loc,
                "connecting an emergency call needs connect_key, trunk and number together",
            )
        trunks = {t.id for t in self.directory.trunks} if self.directory is not None else None
        if dest.trunk is not None and trunks is not None and dest.trunk not in trunks:
            self.add(file, (*loc, "trunk"), f"no trunk {dest.trunk!r} in directory.yaml")

    def _edges(self, menus: MenuTable) -> dict[str, set[str]]:
        return {
            name: {
                target
                for _, dest in menu_destinations(name, menu)
                if (target := next_menu(dest)) is not None and target in menus.menus
            }
            for name, menu in menus.menus.items()
        }

    def _reachable(self, menus: MenuTable) -> None:
        if self.hours is None or menus.entry not in menus.menus:
            return  # the roots are not all known: do not guess
        roots = {menus.entry}
        if self.hours.closed is not None and (m := next_menu(self.hours.closed)) is not None:
            roots.add(m)
        edges = self._edges(menus)
        seen: set[str] = set()
        todo = [r for r in roots if r in menus.menus]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(edges[name])
        for name in menus.menus:
            if name not in seen:
                self.add(
                    MENUS,
                    ("menus", name),
                    f"unreachable: no path leads here from the entry menu {menus.entry!r}",
                )

    def _exits(self, menus: MenuTable) -> None:
        edges = self._edges(menus)
        for group in cycles(edges):
            members = set(group)
            escapes = any(
                next_menu(dest) not in members
                for name in group
                for _, dest in menu_destinations(name, menus.menus[name])
            )
            if not escapes:
                first = min(group)
                self.add(
                    MENUS,
                    ("menus", first),
                    f"menus {', '.join(sorted(group))} loop with no exit: every option and "
                    "on_exhausted leads back into them, so a caller can never reach a person",
                )

    def _language_keys(self, menus: MenuTable) -> None:
        if self.profile is None or menus.entry not in menus.menus:
            return
        entry = menus.menus[menus.entry]
        for i, lang in enumerate(self.profile.languages):
            if lang.key is None or not lang.enabled:
                continue
            dest = entry.options.get(lang.key)
            if not (isinstance(dest, ToLanguage) and dest.language == lang.code):
                self.add(
                    PROFILE,
                    ("languages", i, "key"),
                    f"key {lang.key} should select {lang.code}, but in menus.yaml "
                    f'menus.{menus.entry}.options["{lang.key}"] '
                    + ("is missing" if dest is None else f"goes to a {dest.type}"),
                )

    def _languages_honoured(self, menus: MenuTable) -> None:
        """After a caller chooses a language, every queue ahead must have agents speaking it.

        The 2023 Taipei complaint (DOMAIN 3a): callers who chose Taiwanese were quietly
        handed to Mandarin-only agents. Only choices are followed: before any ToLanguage
        or a language's key in the entry menu (even a disabled language's) the caller has
        chosen nothing, so any queue may serve them.
        """
        if self.agents is None or menus.entry not in menus.menus:
            return
        skills = {q.id: set(q.skills) for q in self.agents.queues}
        # A language's key in the entry menu is its choice even when it leads to a plain
        # menu (a disabled language's notice, as Taipei's key 5): the caller pressed
        # "Taiwanese", and a disabled language is promised as much as an enabled one.
        chosen_by_key: dict[Loc, str] = {
            ("menus", menus.entry, "options", lang.key): lang.code
            for lang in (self.profile.languages if self.profile is not None else [])
            if lang.key is not None
        }
        start: list[tuple[str, str | None]] = [(menus.entry, None)]
        if self.hours is not None and self.hours.closed is not None:
            nxt = next_menu(self.hours.closed)
            if nxt is not None:
                lang = (
                    self.hours.closed.language
                    if isinstance(self.hours.closed, ToLanguage)
                    else None
                )
                start.append((nxt, lang))
        seen: set[tuple[str, str | None]] = set()
        reported: set[tuple[Loc, str]] = set()
        while start:
            name, lang = state = start.pop()
            if state in seen or name not in menus.menus:
                continue
            seen.add(state)
            for loc, dest in menu_destinations(name, menus.menus[name]):
                lang = state[1] if state[1] is not None else chosen_by_key.get(loc)
                if isinstance(dest, ToMenu):
                    start.append((dest.menu, lang))
                elif isinstance(dest, ToLanguage):
                    start.append((dest.then, dest.language))
                elif (
                    isinstance(dest, ToQueue)
                    and lang is not None
                    and dest.queue in skills
                    and lang not in skills[dest.queue]
                    and (loc, lang) not in reported
                ):
                    reported.add((loc, lang))
                    self.add(
                        MENUS,
                        (*loc, "queue"),
                        f"callers who chose {lang} reach queue {dest.queue!r}, whose agents "
                        f"need not speak {lang}; send them to a queue with skill {lang} "
                        "(DOMAIN 3a)",
                    )


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of menus that form a loop (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges[node]:
                    groups.append(sorted(group))
    return groups
