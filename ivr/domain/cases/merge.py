"""Merging repeat reports into an open order (T6(6)1) and the three-strikes rule (T6(6)2)."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_000.0
STRIKES = 3  # T6(6)2: the third "nothing found" turns further reports into petitions


@dataclass(frozen=True, slots=True)
class Location:
    address: str
    district: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class OpenOrder:
    case_id: int
    item: int
    location: Location


@dataclass(frozen=True, slots=True)
class PastReport:
    caller: str
    item: int
    location: Location
    nothing_found: bool


def normalise_address(address: str) -> str:
    """One spelling per address: full-width to half-width, 臺 as 台, no spaces."""
    text = unicodedata.normalize("NFKC", address)
    return "".join(text.replace("臺", "台").split())


def distance_m(a: Location, b: Location) -> float | None:
    """Great-circle distance in metres, or None when either has no coordinates."""
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def same_place(a: Location, b: Location, radius_m: float) -> bool:
    """The same address, or coordinates within `radius_m` of each other."""
    if normalise_address(a.address) == normalise_address(b.address):
        return True
    d = distance_m(a, b)
    return d is not None and d <= radius_m


def merge_target(
    item: int, location: Location, open_orders: Iterable[OpenOrder], radius_m: float
) -> OpenOrder | None:
    """The open order a new report of `item` at `location` merges into, if any.

    The nearest qualifying order wins (an exact address counts as distance 0), and the
    oldest (lowest case id) breaks a tie, so the answer never depends on list order.
    """
    best: tuple[float, int, OpenOrder] | None = None
    for order in open_orders:
        if order.item != item or not same_place(order.location, location, radius_m):
            continue
        exact = normalise_address(order.location.address) == normalise_address(location.address)
        d = 0.0 if exact else (distance_m(order.location, location) or 0.0)
        key = (d, order.case_id, order)
        if best is None or key[:2] < best[:2]:
            best = key
    return None if best is None else best[2]


def becomes_petition(
    caller: str,
    item: int,
    location: Location,
    history: Iterable[PastReport],
    radius_m: float,
    strikes: int = STRIKES,
) -> bool:
    """True when this caller already reported this matter `strikes` times, nothing found."""
    found = sum(
        1
        for r in history
        if r.caller == caller
        and r.item == item
        and r.nothing_found
        and same_place(r.location, location, radius_m)
    )
    return found >= strikes
