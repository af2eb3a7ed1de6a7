"""The sink's staged rollup statistics for angles: sums of sines and cosines that give the
vector mean of each bucket at every level, whatever the readings (no database)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.readings_codec import StoredMessage
from stream_processors.writer import stage

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _vector_mean(degrees: list[float]) -> float:
    s = sum(math.sin(math.radians(d)) for d in degrees)
    c = sum(math.cos(math.radians(d)) for d in degrees)
    return math.degrees(math.atan2(s, c)) % 360


def _angle_gap(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


@settings(max_examples=60, deadline=None)
@given(
    readings=st.dictionaries(
        st.integers(0, 6 * 3600 - 1),  # seconds into six hours: one 6-hour bucket
        st.floats(0, 359.9, allow_nan=False),
        min_size=1,
        max_size=200,
    )
)
def test_every_level_keeps_the_sums_of_its_angles_vector_mean(readings: dict[int, float]) -> None:
    message = StoredMessage(
        uuid4(),
        "s",
        0,
        [(T0 + timedelta(seconds=s), {"wd": d, "t": 1.0}) for s, d in sorted(readings.items())],
    )
    staged = stage([message], frozenset({"wd"}))
    for level, minutes in zip(staged.levels, (1, 60, 360), strict=True):
        for bucket, stats in zip(level[1], level[2], strict=True):
            got = orjson.loads(stats)
            assert len(got["t"]) == 4  # not an angle: min, max, sum, count only
            low, high, total, count, sines, cosines = got["wd"]
            inside = [
                d
                for s, d in readings.items()
                if bucket <= T0 + timedelta(seconds=s) < bucket + timedelta(minutes=minutes)
            ]
            assert count == len(inside)
            assert (low, high) == (min(inside), max(inside))
            assert math.isclose(total, sum(inside), rel_tol=1e-9)
            if math.hypot(sines, cosines) > 1e-6 * count:  # a mean direction exists
                mean = math.degrees(math.atan2(sines, cosines)) % 360
                assert _angle_gap(mean, _vector_mean(inside)) < 1e-6


def test_no_angles_no_sums() -> None:
    message = StoredMessage(uuid4(), "s", 0, [(T0, {"wd": 350.0})])
    (stats,) = stage([message]).levels[0][2]
    assert orjson.loads(stats) == {"wd": [350.0, 350.0, 350.0, 1]}
