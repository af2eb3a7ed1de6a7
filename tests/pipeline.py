"""Helpers that run the real services in the test process, on a test's own topics and group."""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from ingest_gateway.app import create_app
from ingest_gateway.settings import GatewaySettings
from ingest_gateway.tokens import create_token
from stream_processors.service import run_sink
from stream_processors.settings import ProcessorSettings
from tooling.simulator.weather import SENSORS


def readings(
    stations: list[str], count: int, *, start: datetime | None = None, step_s: int = 10
) -> list[dict[str, Any]]:
    """``count`` readings spread round-robin over ``stations``, ``step_s`` apart per station."""
    start = start or datetime(2026, 11, 1, tzinfo=UTC) - timedelta(days=30)
    out = []
    for i in range(count):
        station = stations[i % len(stations)]
        ts = start + timedelta(seconds=step_s * (i // len(stations)))
        values = {s: round(20 + (i % 97) * 0.1 + n, 2) for n, s in enumerate(SENSORS)}
        out.append({"station_id": station, "ts": ts.isoformat(), "values": values})
    return out


def body(items: list[dict[str, Any]], *, compress: bool = False) -> bytes:
    raw = orjson.dumps({"readings": items})
    return gzip.compress(raw) if compress else raw


@dataclass
class Gateway:
    client: httpx.AsyncClient
    token: str

    async def post(self, items: list[dict[str, Any]], **headers: str) -> httpx.Response:
        return await self.client.post(
            "/v1/readings",
            content=body(items),
            headers={
                "authorization": f"Bearer {self.token}",
                "content-type": "application/json",
                **headers,
            },
        )


async def make_token(database_url: str, org: str, stations: list[str]) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        return (await create_token(conn, org_id=org, stations=stations))[1]
    finally:
        await conn.close()


@asynccontextmanager
async def running_gateway(settings: GatewaySettings, token: str) -> AsyncIterator[Gateway]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield Gateway(client, token)


@asynccontextmanager
async def running_sink(settings: ProcessorSettings) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_sink(settings, stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def wait_for(predicate: Any, *, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Await ``predicate()`` until it returns something truthy; fail after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {value!r})")
        await asyncio.sleep(interval)


async def assert_stored_exactly_once(
    db: asyncpg.Connection, stations: list[str], expected_rows: int
) -> None:
    """``expected_rows`` distinct readings of ``stations`` stored, each once, rollups too."""
    counts = await db.fetchrow(
        "SELECT count(*) AS rows, count(DISTINCT (station_id, ts)) AS distinct_rows "
        "FROM telemetry.station_readings WHERE station_id = ANY($1::text[])",
        stations,
    )
    assert counts is not None
    assert (counts["rows"], counts["distinct_rows"]) == (expected_rows, expected_rows)
    rollup = await db.fetchval(
        "SELECT sum(count) FROM telemetry.readings_1h WHERE station_id = ANY($1::text[])", stations
    )
    assert rollup == expected_rows * 8  # rollups counted every value once, too


def start_processor(
    settings: ProcessorSettings, database_url: str, log: Path, *, metrics_port: int = 0
) -> subprocess.Popen[bytes]:
    """``python -m stream_processors`` on the test's topics and group, batches of 3,000."""
    env = {
        **os.environ,
        "SCADA_KAFKA_BOOTSTRAP": settings.effective_kafka_bootstrap,
        "SCADA_DATABASE_URL": database_url,
        "SCADA_TOPIC_NAMESPACE": settings.topic_namespace,
        "SCADA_CONSUMER_GROUP": settings.consumer_group,
        "SCADA_METRICS_PORT": str(metrics_port),
        "SCADA_BATCH_MAX_READINGS": "3000",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "stream_processors"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
