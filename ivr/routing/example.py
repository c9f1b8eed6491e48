"""The keys of a first test call that shows the hotline working, derived from the tables.

`make run` prints an example call. Hard-coded keys went stale as soon as a profile
put its languages on other keys (Taipei's are 9, 5 and 0), so the example is read
from the profile's own menus: from the entry menu, follow the lowest key that leads
on, until a key reaches a queue (a person answers).
"""

from __future__ import annotations

from ivr.routing.menus import ToLanguage, ToMenu, ToQueue
from ivr.routing.tables import RoutingTables

# SendDTMF's `w` waits half a second: time for the next menu's prompt to start.
PAUSE = "ww"
# A menu entry ends at `#` (else 1.5 s after its last key): the example keys it.
END = "#"
# A keypad's order: 0 (usually "an agent") comes after the numbered choices.
_KEYPAD = "1234567890*#"


def _keys(options: dict[str, object]) -> list[str]:
    return sorted(options, key=_KEYPAD.index)


def example_keys(tables: RoutingTables) -> str:
    """Keys from the entry menu to a queue, each entry ended by #, with pauses; "" if none."""
    keys: list[str] = []
    menu_name = tables.menus.entry
    seen: set[str] = set()
    while menu_name not in seen:
        seen.add(menu_name)
        menu = tables.menu(menu_name)
        queue_key = next(
            (k for k in _keys(dict(menu.options)) if isinstance(menu.options[k], ToQueue)), None
        )
        if queue_key is not None:
            return PAUSE.join(k + END for k in [*keys, queue_key])
        onward = _onward(tables, menu_name, seen)
        if onward is None:
            return ""
        key, menu_name = onward
        keys.append(key)
    return ""


def _onward(tables: RoutingTables, menu_name: str, seen: set[str]) -> tuple[str, str] | None:
    """The first key of a menu that leads to another menu, preferring the default language."""
    menu = tables.menu(menu_name)
    default = tables.profile.default_language
    candidates: list[tuple[int, int, str, str]] = []
    for order, key in enumerate(_keys(dict(menu.options))):
        dest = menu.options[key]
        if isinstance(dest, ToLanguage) and dest.then not in seen:
            candidates.append((0 if dest.language == default else 1, order, key, dest.then))
        elif isinstance(dest, ToMenu) and dest.menu not in seen:
            candidates.append((2, order, key, dest.menu))
    if not candidates:
        return None
    _, _, key, target = min(candidates)
    return key, target
