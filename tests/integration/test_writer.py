"""The sink's database write on the real TimescaleDB: dedupe, sensor merge, rollup arithmetic."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import asyncpg
import orjson
import pytest

from schemas.readings import Reading, StationReadingsAccepted
from schemas.readings_codec import StoredMessage
from stream_processors.writer import Staged, prepare_connection, stage, write_batch

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _message(
    station: str, readings: list[tuple[int, dict[str, float | None]]], chunk: int = 0
) -> StoredMessage:
    return StoredMessage.from_model(
        StationReadingsAccepted(
            ingest_id=uuid4(),
            org_id="o",
            station_id=station,
            chunk=chunk,
            accepted_at=datetime.now(UTC),
            readings=[Reading(ts=T0 + timedelta(seconds=s), values=v) for s, v in readings],
        )
    )


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    await prepare_connection(connection)
    try:
        yield connection
    finally:
        await connection.close()


async def _rollup(conn: asyncpg.Connection, view: str, station: str, sensor: str) -> tuple:
    row = await conn.fetchrow(
        f"SELECT min, max, avg, count FROM telemetry.{view} WHERE station_id = $1 AND sensor = $2",
        station,
        sensor,
    )
    assert row is not None
    return tuple(row)


async def test_rollups_merge_across_batches_and_ignore_repeats(
    conn: asyncpg.Connection, unique: str
) -> None:
    await write_batch(conn, [_message(unique, [(0, {"t": 1.0}), (10, {"t": 5.0})])])
    await write_batch(conn, [_message(unique, [(20, {"t": -3.0}), (30, {"t": None})])])
    result = await write_batch(conn, [_message(unique, [(0, {"t": 99.0})])])  # a repeat
    assert result.rows_inserted == 0
    assert await _rollup(conn, "readings_1m", unique, "t") == (-3.0, 5.0, 1.0, 3)
    assert await _rollup(conn, "readings_1h", unique, "t") == (-3.0, 5.0, 1.0, 3)
    assert await _rollup(conn, "readings_6h", unique, "t") == (-3.0, 5.0, 1.0, 3)
    stored = await conn.fetchval(
        "SELECT value FROM telemetry.readings WHERE station_id = $1 AND ts = $2 AND sensor = 't'",
        unique,
        T0,
    )
    assert stored == 1.0  # first write wins


async def test_a_new_sensor_for_a_stored_instant_is_merged_and_counted_once(
    conn: asyncpg.Connection, unique: str
) -> None:
    await write_batch(conn, [_message(unique, [(0, {"t": 1.0})])])
    result = await write_batch(conn, [_message(unique, [(0, {"t": 7.0, "rain": 2.5})])])
    assert (result.rows_inserted, result.rows_merged, result.values_added) == (0, 1, 1)
    values = await conn.fetch(
        "SELECT sensor, value FROM telemetry.readings WHERE station_id = $1 ORDER BY sensor", unique
    )
    assert [(r["sensor"], r["value"]) for r in values] == [("rain", 2.5), ("t", 1.0)]
    assert await _rollup(conn, "readings_1m", unique, "rain") == (2.5, 2.5, 2.5, 1)
    assert await _rollup(conn, "readings_1m", unique, "t") == (1.0, 1.0, 1.0, 1)


async def test_a_redelivered_message_is_recorded_once(
    conn: asyncpg.Connection, unique: str
) -> None:
    message = _message(unique, [(0, {"t": 1.0}), (10, {"t": 2.0})])
    await write_batch(conn, [message])
    await write_batch(conn, [message])
    rows = await conn.fetch(
        "SELECT persisted FROM ingest.persisted_messages WHERE ingest_id = $1", message.ingest_id
    )
    assert [r["persisted"] for r in rows] == [2]
    assert await _rollup(conn, "readings_1m", unique, "t") == (1.0, 2.0, 1.5, 2)


async def test_each_station_keeps_its_newest_reading_and_every_sensor_it_sent(
    conn: asyncpg.Connection, unique: str
) -> None:
    other = f"{unique}-other"
    await write_batch(conn, [_message(unique, [(50, {"rain": 0.5}), (60, {"t": 2.0, "rh": 80.0})])])
    await write_batch(conn, [_message(unique, [(0, {"t": 1.0, "wind": 3.0})])])  # older, late
    await write_batch(
        conn, [_message(unique, [(120, {"t": 3.0})]), _message(other, [(5, {"p": 1000.0})])]
    )
    rows = {
        r["station_id"]: r
        for r in await conn.fetch(
            "SELECT station_id, last_ts, last_values FROM telemetry.station_latest "
            "WHERE station_id = ANY($1::text[])",
            [unique, other],
        )
    }
    assert rows[unique]["last_ts"] == T0 + timedelta(seconds=120)
    # Newest value per sensor: t from the newest reading, rh and rain from the readings
    # before it (rain from an earlier reading of the same batch), wind from the late batch
    # (the only value of wind there is; its t does not replace the newer one).
    assert rows[unique]["last_values"] == {"t": 3.0, "rh": 80.0, "rain": 0.5, "wind": 3.0}
    assert rows[other]["last_ts"] == T0 + timedelta(seconds=5)


async def _rollups_and_latest(conn: asyncpg.Connection, station: str) -> dict[str, Any]:
    levels = {}
    for view in ("readings_1m", "readings_1h", "readings_6h"):
        levels[view] = [
            tuple(r)
            for r in await conn.fetch(
                f"SELECT bucket, sensor, min, max, avg, count FROM telemetry.{view} "
                "WHERE station_id = $1 ORDER BY bucket, sensor",
                station,
            )
        ]
    latest = await conn.fetchrow(
        "SELECT last_ts, last_values FROM telemetry.station_latest WHERE station_id = $1", station
    )
    return {**levels, "latest": tuple(latest or ())}


async def test_a_batch_of_new_rows_adds_what_the_database_would_compute_from_them(
    conn: asyncpg.Connection, unique: str
) -> None:
    """The sink's own aggregates (used when every staged row is new) equal the SQL ones.

    ``fresh`` gets the batch on an empty station: every row is new, so the statement
    takes the aggregates computed in Python. ``known`` already holds the batch's first
    reading, so the same batch is not all new and the statement aggregates what it
    inserted itself. Timestamps carry several offsets and cross minute, hour and
    6-hour boundaries; values are floats, integers, nulls and absent sensors.
    """
    rng = random.Random(7)
    offsets = [
        UTC,
        timezone(timedelta(hours=5, minutes=30)),
        timezone(-timedelta(hours=7)),
    ]
    batch: list[tuple[datetime, dict[str, float | None]]] = []
    for i in range(2000):
        ts = (T0 + timedelta(seconds=37 * i)).astimezone(offsets[i % 3])
        values: dict[str, float | None] = {
            "t": round(rng.uniform(-20, 40), 3),
            "rh": rng.randint(0, 100),
        }
        if i % 5:
            values["rain"] = None if i % 7 == 0 else rng.random()
        batch.append((ts, values))
    # The newest reading lacks rh and nulls rain: the newest values must merge older ones.
    batch.append((batch[-1][0] + timedelta(seconds=37), {"t": 5.5, "rain": None}))
    fresh, known = f"{unique}-fresh", f"{unique}-known"

    def message(
        station: str, readings: list[tuple[datetime, dict[str, float | None]]]
    ) -> StoredMessage:
        return StoredMessage(uuid4(), station, 0, readings)

    first = await write_batch(conn, [message(known, batch[:1])])
    from_python = await write_batch(conn, [message(fresh, batch)])
    from_sql = await write_batch(conn, [message(known, batch)])

    non_null = sum(v is not None for _, values in batch for v in values.values())
    assert (from_python.rows_inserted, from_python.values_added) == (2001, non_null)
    assert (from_sql.rows_inserted, first.values_added + from_sql.values_added) == (2000, non_null)
    ours, theirs = await _rollups_and_latest(conn, fresh), await _rollups_and_latest(conn, known)
    assert len(ours["readings_1m"]) > len(ours["readings_1h"]) > len(ours["readings_6h"]) > 1
    for level in ("readings_1m", "readings_1h", "readings_6h"):
        assert len(ours[level]) == len(theirs[level])
        for mine, other in zip(ours[level], theirs[level], strict=True):
            assert mine[:4] + mine[5:] == other[:4] + other[5:]  # bucket, sensor, min, max, count
            assert mine[4] == pytest.approx(other[4], rel=1e-12)  # avg: sums in another order
    newest = {"rh": batch[-2][1]["rh"], "t": 5.5, "rain": None}
    assert ours["latest"] == theirs["latest"] == (batch[-1][0], newest)
    # And the Python aggregates themselves, against what the database computed for `known`.
    _, buckets, stats = stage([message(fresh, batch)]).levels[2]
    six_hours = {
        (bucket, sensor): (low, high, count)
        for bucket, encoded in zip(buckets, stats, strict=True)
        for sensor, (low, high, _, count) in orjson.loads(encoded).items()
    }
    assert six_hours == {(r[0], r[1]): (r[2], r[3], r[5]) for r in theirs["readings_6h"]}


def _tampered(staged: Staged, factor: int) -> Staged:
    """``staged`` with its aggregates' counts multiplied: visible if the statement uses them."""
    levels = tuple(
        (stations, buckets, [_scaled(encoded, factor) for encoded in stats])
        for stations, buckets, stats in staged.levels
    )
    return dataclasses.replace(staged, levels=levels)


def _scaled(encoded: bytes, factor: int) -> bytes:
    stats = orjson.loads(encoded)
    return orjson.dumps(
        {k: [lo, hi, total, count * factor] for k, (lo, hi, total, count) in stats.items()}
    )


async def test_the_statement_takes_the_batchs_aggregates_only_when_every_row_is_new(
    conn: asyncpg.Connection, unique: str
) -> None:
    readings = [(0, {"t": 1.0}), (10, {"t": 2.0}), (20, {"t": 3.0})]
    new, seen = f"{unique}-new", f"{unique}-seen"
    await write_batch(conn, [_message(seen, readings[:1])])
    for station in (new, seen):
        message = _message(station, readings)
        await write_batch(conn, [message], staged=_tampered(stage([message]), 10))
    # All new: the (tampered) batch aggregates were used. Not all new: the database's own.
    assert (await _rollup(conn, "readings_1m", new, "t"))[3] == 30
    assert await _rollup(conn, "readings_1m", seen, "t") == (1.0, 3.0, 2.0, 3)


async def test_a_batch_whose_sum_overflows_is_refused_as_the_database_would(
    conn: asyncpg.Connection, unique: str
) -> None:
    # Past the edge's bound (+-1e300) since; stored before it, or replayed from a DLQ.
    message = StoredMessage(
        uuid4(), unique, 0, [(T0, {"t": 1e308}), (T0 + timedelta(seconds=10), {"t": 1e308})]
    )
    assert stage([message]).usable is False
    with pytest.raises(asyncpg.NumericValueOutOfRangeError):
        await write_batch(conn, [message])
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM telemetry.station_readings WHERE station_id = $1", unique
        )
        == 0
    )
