"""Choosing how to read a range: raw rows, or rollups re-bucketed to an interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from base.durations import parse_duration

# Bucket widths ``auto`` may choose from, smallest first.
NICE = (
    [timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30)]
    + [timedelta(hours=h) for h in (1, 2, 3, 4, 6, 12, 24)]
    + [timedelta(days=d) for d in (2, 7)]
)
AUTO_MAX_POINTS = 2000
RAW_INTERVAL = timedelta(seconds=10)  # what stations typically send


@dataclass(frozen=True)
class Plan:
    """``bucket`` is ``None`` for raw rows; else the width and the rollup table to read."""

    bucket: timedelta | None
    source: str  # "raw" | "station_rollup_1m" | "station_rollup_1h" | "station_rollup_6h"

    @property
    def is_raw(self) -> bool:
        return self.bucket is None


def plan(resolution: str, start: datetime, end: datetime) -> Plan:
    """``raw``, an interval (``5m``, ``1h``; at least one minute), or ``auto`` (≤ 2,000 points)."""
    if resolution == "raw":
        return Plan(None, "raw")
    if resolution == "auto":
        span = end - start
        if span / RAW_INTERVAL <= AUTO_MAX_POINTS:
            return Plan(None, "raw")
        bucket = next((n for n in NICE if span / n <= AUTO_MAX_POINTS), NICE[-1])
    else:
        bucket = parse_duration(resolution)
        if bucket < timedelta(minutes=1) or bucket % timedelta(minutes=1):
            raise ValueError("an interval resolution must be whole minutes (1m or more)")
    # The coarsest rollup whose buckets the requested ones are made of.
    source = next(table for width, table in _ROLLUPS if bucket % width == timedelta(0))
    return Plan(bucket, source)


_ROLLUPS = (
    (timedelta(hours=6), "station_rollup_6h"),
    (timedelta(hours=1), "station_rollup_1h"),
    (timedelta(minutes=1), "station_rollup_1m"),
)
