"""Percentiles for the engine's own timing figures and for the benchmarks."""

from __future__ import annotations

import math
from collections.abc import Iterable


def nearest_rank(values: Iterable[float], p: float) -> float | None:
    """The nearest-rank `p`th percentile (0..100) of `values`; None if there are none."""
    if not 0.0 <= p <= 100.0:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(math.ceil(p / 100.0 * len(ordered)), 1) - 1]
