"""Reading a job's windows into its result file on the real TimescaleDB: order, spills, cancel."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from historical_service import query
from historical_service.query import SensorColumns, chunks, copy_windows, header
from historical_service.resolution import Plan, plan
from tests.history import store

T0 = datetime(2025, 6, 1, tzinfo=UTC)
SENSORS = SensorColumns.plain(["t", "rh"])


@pytest.fixture(autouse=True)
def small_spills(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spill past 4 kB, not 4 MB: every window of these tests goes through a part file."""
    monkeypatch.setattr(query._Spool, "SPILL_AT", 4096)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(database_url, min_size=1, max_size=4) as created:
        yield created


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _start(path: Path, raw: Plan) -> Path:
    path.write_text(header(raw))
    return path


async def _export(
    pool: asyncpg.Pool, path: Path, station: str, days: int, readers: int
) -> list[int]:
    p = plan("raw", T0, T0 + timedelta(days=days))
    _start(path, p)
    windows = chunks(T0, T0 + timedelta(days=days), p)
    return [
        n async for n in copy_windows(pool, path, p, [station], SENSORS, windows, readers=readers)
    ]


async def test_windows_read_at_once_and_spilled_to_parts_land_in_order(
    pool: asyncpg.Pool,
    database_url: str,
    unique: str,
    tmp_path: Path,
) -> None:
    """Two readers and a tiny spill threshold: every window goes through a part file."""
    readings = [
        (T0 + timedelta(minutes=7 * i), {"t": float(i), "rh": i % 100})
        for i in range(6 * 24 * 60 // 7)  # six days, one reading every 7 minutes
    ]
    await store(database_url, unique, readings)

    two = tmp_path / "two.csv"
    counts = await _export(pool, two, unique, days=6, readers=2)
    one = tmp_path / "one.csv"
    assert await _export(pool, one, unique, days=6, readers=1) == counts
    assert len(counts) == 20  # windows of 7.2 hours
    assert two.read_bytes() == one.read_bytes()
    rows = list(csv.reader(io.StringIO(two.read_text())))
    assert rows[0] == header(plan("raw", T0, T0)).strip().split(",")
    exported = [(datetime.fromisoformat(ts), sensor, float(v)) for _, ts, sensor, v, _ in rows[1:]]
    assert exported == sorted(exported, key=lambda row: row[0])  # time order across windows
    assert sorted(exported) == sorted(
        (ts, sensor, float(value)) for ts, values in readings for sensor, value in values.items()
    )
    assert _names(tmp_path) == ["one.csv", "two.csv"]  # no part files left


async def test_closing_early_waits_for_the_reads_in_flight_and_leaves_no_parts(
    pool: asyncpg.Pool,
    database_url: str,
    unique: str,
    tmp_path: Path,
) -> None:
    await store(
        database_url,
        unique,
        [(T0 + timedelta(minutes=3 * i), {"t": 1.0, "rh": 2.0}) for i in range(20 * 24 * 20)],
    )
    p = plan("raw", T0, T0 + timedelta(days=20))
    path = _start(tmp_path / "result.csv", p)
    copied = copy_windows(pool, path, p, [unique], SENSORS, chunks(T0, T0 + timedelta(days=20), p))
    async with contextlib.aclosing(copied):
        async for _ in copied:
            break  # a cancel after the first window
    assert _names(tmp_path) == ["result.csv"]
    assert len(path.read_bytes().splitlines()) == 1 + 2 * 20 * 24  # the header and one day


async def test_a_failing_disk_fails_the_export_and_frees_its_connections(
    pool: asyncpg.Pool,
    database_url: str,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await store(
        database_url,
        unique,
        [(T0 + timedelta(minutes=7 * i), {"t": 1.0, "rh": 2.0}) for i in range(6 * 24 * 60 // 7)],
    )

    def disk_full(self: object, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(query._Spool, "_spill", disk_full)
    with pytest.raises(OSError, match="No space left"):
        async with asyncio.timeout(30):
            await _export(pool, tmp_path / "result.csv", unique, days=6, readers=2)
    async with asyncio.timeout(10):  # every connection of the pool came back, usable
        held = [await pool.acquire() for _ in range(4)]
        assert [await c.fetchval("SELECT 1") for c in held] == [1, 1, 1, 1]
        for connection in held:
            await pool.release(connection)
    assert _names(tmp_path) == ["result.csv"]  # no part left behind
