"""Rollups honour the catalogue's kinds, in the database: an accumulation is summed, an
angle vector-averaged (north stays north), on the sink's Python path and its SQL path,
in the views and in a job's result."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import orjson
import pytest

from historical_service.users import create_user
from schemas.readings import Reading, StationReadingsAccepted
from schemas.readings_codec import StoredMessage
from stream_processors.writer import prepare_connection, stage, write_batch
from tests.pipeline import wait_for

T0 = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)
ANGLES = frozenset({"wind_direction"})


def _message(station: str, readings: list[tuple[int, dict[str, float]]]) -> StoredMessage:
    return StoredMessage.from_model(
        StationReadingsAccepted(
            ingest_id=uuid4(),
            org_id="org",
            station_id=station,
            chunk=0,
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


async def _view(conn: asyncpg.Connection, view: str, station: str) -> dict[str, Any]:
    rows = await conn.fetch(
        f"SELECT sensor, avg, min, max, count, kind, unit, value FROM telemetry.{view} "
        "WHERE station_id = $1",
        station,
    )
    return {r["sensor"]: dict(r) for r in rows}


async def test_rain_is_summed_and_wind_direction_vector_averaged_on_both_paths(
    conn: asyncpg.Connection, unique: str
) -> None:
    station = f"{unique}-k"
    await conn.execute(
        "INSERT INTO ingest.stations (station_id, org_id) VALUES ($1, 'org')", station
    )
    first = _message(
        station,
        [(0, {"rain": 0.5, "wind_direction": 350.0}), (10, {"rain": 1.5, "wind_direction": 10.0})],
    )
    staged = stage([first], ANGLES)
    minute = orjson.loads(staged.levels[0][2][0])  # the Python path: every row is new
    assert len(minute["wind_direction"]) == 6  # min, max, sum, count, Σsin, Σcos
    assert len(minute["rain"]) == 4
    await write_batch(conn, [first], staged=staged)
    # A repeat and a new reading in the same minute: not all new, so the SQL path adds it.
    second = _message(
        station,
        [(0, {"rain": 0.5, "wind_direction": 350.0}), (20, {"rain": 1.0, "wind_direction": 20.0})],
    )
    await write_batch(conn, [second], staged=stage([second], ANGLES))

    for view in ("readings_1m", "readings_1h", "readings_6h"):
        got = await _view(conn, view, station)
        rain, wind = got["rain"], got["wind_direction"]
        assert (rain["kind"], rain["unit"], rain["count"]) == ("accumulation", "mm", 3), view
        assert rain["value"] == pytest.approx(3.0), view
        assert rain["avg"] == pytest.approx(1.0), view
        assert (wind["kind"], wind["unit"]) == ("angle", "°"), view
        # 350°, 10°, 20°: the arithmetic mean is 126.7°, the vector mean about 6.7°.
        assert wind["avg"] == pytest.approx(380 / 3), view
        assert wind["value"] == pytest.approx(6.67, abs=0.05), view


async def test_an_uncatalogued_sensor_is_averaged_plainly_and_shown_as_unknown(
    conn: asyncpg.Connection, unique: str
) -> None:
    station = f"{unique}-u"
    await conn.execute(
        "INSERT INTO ingest.stations (station_id, org_id) VALUES ($1, 'org')", station
    )
    message = _message(station, [(0, {"heading": 350.0}), (10, {"heading": 10.0})])
    await write_batch(conn, [message])  # the writer reads the catalogue's angles itself
    got = (await _view(conn, "readings_1m", station))["heading"]
    assert (got["kind"], got["unit"], got["value"]) == ("unknown", "", 180.0)


async def test_a_job_result_carries_each_kind_aggregate_and_unit(
    historical: Any, db: asyncpg.Connection, database_url: str, unique: str
) -> None:
    _, api = historical
    station = f"{unique}-j"
    _, token = await create_user(db, name=unique, org_id="org", stations=[station])
    conn = await asyncpg.connect(database_url)
    await prepare_connection(conn)
    try:
        await write_batch(
            conn,
            [
                _message(
                    station,
                    [
                        (60 * m + s, {"rain": 0.2, "wind_direction": 355.0 if s else 15.0})
                        for m in range(3)
                        for s in (0, 30)
                    ],
                )
            ],
        )
    finally:
        await conn.close()
    auth = {"authorization": f"Bearer {token}"}
    job = {
        "stations": [station],
        "sensors": ["rain", "wind_direction"],
        "start": T0.isoformat(),
        "end": (T0 + timedelta(minutes=3)).isoformat(),
        "resolution": "1m",
    }
    queued = await api.post("/v1/historical-jobs", headers=auth, json=job)
    assert queued.status_code == 202, queued.text
    url = f"/v1/historical-jobs/{queued.json()['job_id']}"

    async def done() -> Any:
        answer = (await api.get(url, headers=auth)).json()
        return answer if answer["status"] == "completed" else None

    await wait_for(done, timeout=30)
    text = (await api.get(f"{url}/result", headers={**auth, "accept": "text/csv"})).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "station_id",
        "bucket",
        "sensor",
        "avg",
        "min",
        "max",
        "count",
        "value",
        "kind",
        "unit",
    ]
    rain = [r for r in rows if r["sensor"] == "rain"]
    wind = [r for r in rows if r["sensor"] == "wind_direction"]
    assert [(float(r["value"]), r["unit"]) for r in rain] == [(pytest.approx(0.4), "mm")] * 3
    assert all(float(r["value"]) == pytest.approx(5.0, abs=0.01) for r in wind)  # not 185
    assert {r["kind"] for r in wind} == {"angle"}
    page = (await api.get(f"{url}/result", headers=auth)).json()
    assert page["columns"] == ["bucket", "avg", "min", "max", "count", "value"]
    assert {(s["sensor"], s["kind"], s["unit"]) for s in page["series"]} == {
        ("rain", "accumulation", "mm"),
        ("wind_direction", "angle", "°"),
    }
