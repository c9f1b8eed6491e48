"""`dispatch_items.yaml`: the dispatch catalogue of a profile (T6, K7), as validated data.

Each item names its executing agency and unit from the directory, a stage-1 deadline in
hours and a stage-2 deadline in days or hours. Deadline arithmetic is the domain's
(`ivr.domain.cases.deadlines`); this module only reads and checks the table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Annotated

from pydantic import Field, model_validator

from ivr.domain.cases.deadlines import DispatchItem
from ivr.routing.menus import Ident, Strict

ItemText = Annotated[str, Field(min_length=1, max_length=200)]
Hours = Annotated[float, Field(gt=0, le=24 * 400)]
Days = Annotated[float, Field(gt=0, le=400)]


class DispatchItemRow(Strict):
    item: Annotated[int, Field(ge=1, le=999)]
    name: ItemText
    name_en: ItemText
    agency: Ident
    unit: Ident
    stage1_hours: Hours | None = None
    stage2_days: Days | None = None
    stage2_hours: Hours | None = None
    stage2_variants: dict[Ident, Days] = Field(default_factory=dict)
    # Item 16: before 16:00 cleared within 4 hours; after, by 12:00 the next day.
    same_day_rule: bool = False
    # Items 4 and 17: how many times the unit tries to reach the citizen in stage 1.
    contact_attempts: Annotated[int, Field(ge=0, le=10)] = 0
    note: Annotated[str, Field(max_length=500)] = ""

    @model_validator(mode="after")
    def _one_stage2_unit(self) -> DispatchItemRow:
        if self.stage2_days is not None and self.stage2_hours is not None:
            raise ValueError("give stage 2 in days or in hours, not both")
        if self.same_day_rule and self.stage1_hours is None:
            raise ValueError("the same-day rule is a stage-1 rule: give stage1_hours")
        return self


class DispatchItems(Strict):
    # Metres within which a new report of an item merges into an open order (T6(6)1).
    merge_radius_m: Annotated[float, Field(ge=0, le=5000)] = 30
    items: list[DispatchItemRow] = Field(default_factory=list, max_length=500)

    def domain_items(self) -> dict[int, DispatchItem]:
        return {
            row.item: DispatchItem(
                number=row.item,
                name=row.name,
                name_en=row.name_en,
                agency_id=row.agency,
                unit=row.unit,
                stage1_hours=row.stage1_hours,
                stage2_days=row.stage2_days,
                stage2_hours=row.stage2_hours,
                stage2_variants=dict(row.stage2_variants),
                same_day_rule=row.same_day_rule,
                contact_attempts=row.contact_attempts,
            )
            for row in self.items
        }


def dispatch_problems(
    table: DispatchItems, units_by_agency: Mapping[str, Iterable[str]]
) -> list[tuple[str, str]]:
    """(field path, reason) for each item whose number repeats or whose unit is unknown."""
    problems: list[tuple[str, str]] = []
    counts = Counter(row.item for row in table.items)
    for i, row in enumerate(table.items):
        where = f"items[{i}]"
        if counts[row.item] > 1:
            problems.append((f"{where}.item", f"item {row.item} is listed more than once"))
        if row.agency not in units_by_agency:
            problems.append((f"{where}.agency", f"no agency {row.agency!r} in the directory"))
        elif row.unit not in set(units_by_agency[row.agency]):
            problems.append((f"{where}.unit", f"agency {row.agency!r} has no unit {row.unit!r}"))
    return problems
