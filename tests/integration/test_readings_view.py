"""The documented ``telemetry.readings`` view over the readings hypertable."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg


async def test_view_has_the_documented_columns_and_types(db: asyncpg.Connection) -> None:
    columns = await db.fetch(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'telemetry' AND table_name = 'readings' ORDER BY ordinal_position"
    )
    assert [(c["column_name"], c["data_type"]) for c in columns] == [
        ("station_id", "text"),
        ("ts", "timestamp with time zone"),
        ("sensor", "text"),
        ("value", "double precision"),
        ("unit", "text"),
        ("kind", "text"),
        ("out_of_range", "boolean"),
    ]


async def test_view_unfolds_one_row_per_sensor_and_keeps_nulls(
    db: asyncpg.Connection, unique: str
) -> None:
    ts = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    await db.execute(
        'INSERT INTO telemetry.station_readings (station_id, ts, "values") VALUES ($1, $2, $3)',
        unique,
        ts,
        json.dumps({"temperature": 27.5, "humidity": 80, "rain": None}),
    )
    rows = await db.fetch(
        "SELECT sensor, value FROM telemetry.readings WHERE station_id = $1 AND ts = $2 "
        "ORDER BY sensor",
        unique,
        ts,
    )
    assert [(r["sensor"], r["value"]) for r in rows] == [
        ("humidity", 80.0),
        ("rain", None),
        ("temperature", 27.5),
    ]


async def test_a_reading_is_stored_once_per_station_and_instant(
    db: asyncpg.Connection, unique: str
) -> None:
    ts = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    insert = (
        'INSERT INTO telemetry.station_readings (station_id, ts, "values") VALUES ($1, $2, $3) '
        "ON CONFLICT (station_id, ts) DO NOTHING"
    )
    await db.execute(insert, unique, ts, json.dumps({"temperature": 1.0}))
    await db.execute(insert, unique, ts, json.dumps({"temperature": 2.0}))
    rows = await db.fetch("SELECT value FROM telemetry.readings WHERE station_id = $1", unique)
    assert [r["value"] for r in rows] == [1.0]  # first write wins
