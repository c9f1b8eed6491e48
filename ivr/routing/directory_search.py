"""Finding units in a directory by name or by duty (the dispatch items they handle). Pure.

Works on the parsed YAML of a draft, which need not be valid: an admin searches a
half-edited directory too. Anything malformed is skipped, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UnitHit:
    agency: str
    agency_index: int
    unit: str
    unit_index: int
    name: str
    name_en: str
    primary: str
    # "name" (its name, id or a number matched) or "duty" (a dispatch item it handles).
    matched: str
    duties: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Row:
    hit: UnitHit
    text: str  # lower-cased name, name_en, id and numbers


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _numbers(unit: dict[str, Any]) -> list[str]:
    refs = [unit.get("primary"), *(unit.get("adjacent") or [])]
    return [_text(r.get("number")) for r in refs if isinstance(r, dict)]


class DirectoryIndex:
    """Every unit of a directory, ready to search (build once per draft revision)."""

    def __init__(self, directory: Any, dispatch: Any = None) -> None:
        duties: dict[str, list[str]] = {}
        items = dispatch.get("items") if isinstance(dispatch, dict) else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("unit"), str):
                label = f"{item.get('item')} {_text(item.get('name'))} {_text(item.get('name_en'))}"
                duties.setdefault(item["unit"], []).append(label.strip())
        self._rows: list[_Row] = []
        agencies = directory.get("agencies") if isinstance(directory, dict) else None
        for ai, agency in enumerate(agencies if isinstance(agencies, list) else []):
            if not isinstance(agency, dict):
                continue
            units = agency.get("units")
            for ui, unit in enumerate(units if isinstance(units, list) else []):
                if not isinstance(unit, dict):
                    continue
                numbers = _numbers(unit)
                unit_id = _text(unit.get("id"))
                hit = UnitHit(
                    agency=_text(agency.get("id")),
                    agency_index=ai,
                    unit=unit_id,
                    unit_index=ui,
                    name=_text(unit.get("name")),
                    name_en=_text(unit.get("name_en")),
                    primary=numbers[0] if numbers else "",
                    matched="name",
                    duties=tuple(duties.get(unit_id, ())),
                )
                text = " ".join([hit.name, hit.name_en, unit_id, *numbers]).lower()
                self._rows.append(_Row(hit, text))

    def __len__(self) -> int:
        return len(self._rows)

    def search(self, query: str, *, limit: int = 50) -> list[UnitHit]:
        """Units whose name, id or number holds `query`, then those whose duties do."""
        words = query.lower().split()
        if not words:
            return [row.hit for row in self._rows[:limit]]
        by_name = [r.hit for r in self._rows if all(w in r.text for w in words)]
        seen = {h.unit for h in by_name}
        by_duty = [
            UnitHit(**{**r.hit.__dict__, "matched": "duty"})
            for r in self._rows
            if r.hit.unit not in seen
            and any(all(w in duty.lower() for w in words) for duty in r.hit.duties)
        ]
        return [*by_name, *by_duty][:limit]
