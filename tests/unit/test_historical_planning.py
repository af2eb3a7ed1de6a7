"""Resolution planning and query windows (pure logic)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from historical_service.query import chunks
from historical_service.resolution import plan

START = datetime(2025, 3, 1, 7, 13, tzinfo=UTC)


def test_auto_picks_raw_for_short_ranges_and_at_most_2000_buckets_otherwise() -> None:
    assert plan("auto", START, START + timedelta(hours=5)).is_raw
    year = plan("auto", START, START + timedelta(days=365))
    assert year.bucket == timedelta(hours=6)
    assert year.source == "station_rollup_6h"  # the coarsest level its buckets are made of
    assert timedelta(days=365) / year.bucket <= 2000
    assert plan("15m", START, START + timedelta(days=1)).source == "station_rollup_1m"
    assert plan("3h", START, START + timedelta(days=30)).source == "station_rollup_1h"
    assert plan("1d", START, START + timedelta(days=30)).source == "station_rollup_6h"


@pytest.mark.parametrize("bad", ["30s", "90s", "soon"])
def test_intervals_must_be_whole_minutes(bad: str) -> None:
    with pytest.raises(ValueError, match="m"):
        plan(bad, START, START + timedelta(days=1))


@pytest.mark.parametrize(
    ("resolution", "days"), [("raw", 1), ("raw", 390), ("1h", 30), ("auto", 365), ("15m", 3)]
)
def test_windows_cover_the_range_once_and_never_split_a_bucket(resolution: str, days: int) -> None:
    end = START + timedelta(days=days)
    p = plan(resolution, START, end)
    windows = chunks(START, end, p)
    assert windows[0][0] == START
    assert windows[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    if p.bucket is not None:
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        assert all((edge - epoch) % p.bucket == timedelta(0) for _, edge in windows[:-1])
        assert len(windows) <= 5
    else:
        assert all(b - a <= timedelta(days=1) for a, b in windows)


@pytest.mark.parametrize("huge", ["3000000d", "1000000w", "99999999999d", "3661d", "1" * 40 + "d"])
def test_intervals_are_bounded_before_any_arithmetic(huge: str) -> None:
    # Each of these once raised OverflowError in a worker (or a 500 in the API).
    with pytest.raises(ValueError, match=r"3660 days|not a duration"):
        plan(huge, START, START + timedelta(days=1))


def test_the_longest_interval_still_plans_and_windows() -> None:
    query_plan = plan("3660d", START, START + timedelta(days=400))
    windows = chunks(START, START + timedelta(days=400), query_plan)
    assert windows[0][0] == START
    assert windows[-1][1] == START + timedelta(days=400)
