"""Every option of a menu table with the keys that reach it: the paths a walk covers."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.domain.menu import MenuTable
from ivr.routing.menus import Destination, ToLanguage, ToMenu


@dataclass(frozen=True)
class Option:
    """One menu option, the keys that reach it from the entry menu, and its destination."""

    path: tuple[tuple[str, str], ...]
    destination: Destination

    @property
    def name(self) -> str:
        return " ".join(f"{menu}:{k}" for menu, k in self.path)


def next_menu(dest: Destination) -> str | None:
    if isinstance(dest, ToMenu):
        return dest.menu
    if isinstance(dest, ToLanguage):
        return dest.then
    return None


def every_option(table: MenuTable[Destination]) -> list[Option]:
    """Each option of each menu reachable from the entry, by its shortest key path."""
    paths: dict[str, tuple[tuple[str, str], ...]] = {table.entry: ()}
    order = [table.entry]
    for menu in order:
        for k, dest in sorted(table.menus[menu].options.items()):
            target = next_menu(dest)
            if target is not None and target not in paths:
                paths[target] = (*paths[menu], (menu, k))
                order.append(target)
    return [
        Option((*paths[menu], (menu, k)), dest)
        for menu in order
        for k, dest in sorted(table.menus[menu].options.items())
    ]


def path_to(table: MenuTable[Destination], menu: str) -> tuple[tuple[str, str], ...]:
    """The keys that reach `menu` from the entry (empty for the entry itself)."""
    if menu == table.entry:
        return ()
    for option in every_option(table):
        if next_menu(option.destination) == menu:
            return option.path
    raise KeyError(f"menu {menu!r} is not reachable from {table.entry!r}")
