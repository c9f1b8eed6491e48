"""The monthly case report (DOMAIN 8, P14) and the dispatch spot check (T6(7)1). Pure.

The store counts in SQL; this turns its counts into rows per service type and agency,
with a total, and draws the spot-check sample with a seeded generator so that the same
seed over the same cases draws the same cases.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ivr.domain.vocabulary import CaseClock, CaseKind

TOTAL = "TOTAL"
# Clocks reported as "overdue at each stage", in the order the columns show them.
STAGES: tuple[str, ...] = (
    CaseClock.STAGE1,
    CaseClock.STAGE2,
    CaseClock.REPLY,
    CaseClock.GRADE_B,
    CaseClock.JURISDICTION,
    CaseClock.REVIEW,
    CaseClock.RETURNED,
)


@dataclass(frozen=True)
class CaseReportRow:
    service: str
    agency_id: str
    calls: int = 0
    cases: int = 0
    overdue: Mapping[str, int] = field(default_factory=dict)
    grade_b: int = 0
    dissatisfied: int = 0
    replied: int = 0
    median_reply_s: float | None = None

    @property
    def total(self) -> bool:
        return self.service == TOTAL


def reply_medians(
    reply_seconds: Iterable[tuple[str, str, float]],
) -> tuple[dict[tuple[str, str], tuple[int, float]], tuple[int, float | None]]:
    """(count, median) per (kind, agency) and over all, from single reply times.

    What the store computes in SQL; kept here as the rule the SQL must agree with.
    """
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for kind, agency, seconds in reply_seconds:
        groups[kind, agency].append(seconds)
    every = [s for times in groups.values() for s in times]
    per = {k: (len(v), statistics.median(v)) for k, v in groups.items()}
    return per, (len(every), statistics.median(every) if every else None)


def case_report_rows(
    cases: Mapping[tuple[str, str], tuple[int, int, int]],
    overdue: Mapping[tuple[str, str, str], int],
    replies: Mapping[tuple[str, str], tuple[int, float]],
    services: Mapping[tuple[str, str], int],
    all_replies: tuple[int, float | None] = (0, None),
) -> list[CaseReportRow]:
    """One row per (service type, agency) with anything to count, then the total.

    `replies` is (cases replied, median seconds to reply) per group, `all_replies`
    the same over the month, as the store computed them.
    """
    keys = set(cases) | {(k, a) for k, a, _ in overdue} | set(services) | set(replies)
    order = {k.value: i for i, k in enumerate(CaseKind)}
    rows = []
    for key in sorted(keys, key=lambda k: (order.get(k[0], 99), k[0], k[1])):
        n, b, d = cases.get(key, (0, 0, 0))
        late = {s: overdue.get((key[0], key[1], s), 0) for s in STAGES}
        replied, median = replies.get(key, (0, None))
        rows.append(
            CaseReportRow(
                service=key[0],
                agency_id=key[1] or "-",
                calls=services.get(key, 0),
                cases=n,
                overdue=late,
                grade_b=b,
                dissatisfied=d,
                replied=replied,
                median_reply_s=median,
            )
        )
    rows.append(
        CaseReportRow(
            service=TOTAL,
            agency_id="",
            calls=sum(r.calls for r in rows),
            cases=sum(r.cases for r in rows),
            overdue={s: sum(r.overdue.get(s, 0) for r in rows) for s in STAGES},
            grade_b=sum(r.grade_b for r in rows),
            dissatisfied=sum(r.dissatisfied for r in rows),
            replied=all_replies[0],
            median_reply_s=all_replies[1],
        )
    )
    return rows


@dataclass(frozen=True)
class Closed:
    """A closed dispatch order as the spot check sees it."""

    number: str
    item: int
    district: str


def draw_spot_check(orders: Sequence[Closed], seed: int, per: int = 5) -> list[Closed]:
    """`per` orders per (item, district) at random, all of them where fewer (T6(7)1).

    The draw depends only on the seed and the set of orders: they are sorted first, and
    each group draws from its own generator seeded by (seed, item, district), so an
    order closed late in one group does not change the draw of another.
    """
    groups: dict[tuple[int, str], list[Closed]] = defaultdict(list)
    for order in sorted(orders, key=lambda o: o.number):
        groups[order.item, order.district].append(order)
    drawn: list[Closed] = []
    for (item, district), members in sorted(groups.items()):
        if len(members) <= per:
            drawn += members
            continue
        # Repeatable by design: the printed seed must redraw the same cases.
        rng = random.Random(f"{seed}:{item}:{district}")  # noqa: S311
        drawn += sorted(rng.sample(members, per), key=lambda o: o.number)
    return drawn
