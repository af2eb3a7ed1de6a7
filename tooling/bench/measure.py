"""The measurements. Each returns plain numbers; ``runner`` decides what to run and reports."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import orjson

from tooling.bench.workload import Bodies


@dataclass
class Target:
    client: httpx.AsyncClient
    token: str
    pool: asyncpg.Pool

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}", "content-type": "application/json"}

    async def post(self, body: bytes) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        response = await self.client.post("/v1/readings", content=body, headers=self.headers)
        elapsed = time.perf_counter() - started
        if response.status_code != 202:
            raise RuntimeError(f"gateway answered {response.status_code}: {response.text[:300]}")
        return elapsed, response.json()

    async def persisted(self, ingest_ids: list[str]) -> int:
        """Readings of these ingests now in the database."""
        value = await self.pool.fetchval(
            "SELECT coalesce(sum(persisted), 0) FROM ingest.persisted_messages "
            "WHERE ingest_id = ANY($1::uuid[])",
            ingest_ids,
        )
        return int(value)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def gateway_latency(target: Target, bodies: Bodies, requests: int) -> dict[str, Any]:
    """Sequential 7,500-reading POSTs; client-side wall time to the 202."""
    await target.post(bodies.next())  # warm-up: connections, metadata
    latencies = []
    server = []
    for _ in range(requests):
        elapsed, answer = await target.post(bodies.next())
        latencies.append(elapsed * 1000)
        server.append(answer["response_time_ms"])
    return {
        "requests": requests,
        "readings_per_request": bodies.per_request,
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "server_p50_ms": round(statistics.median(server), 1),
    }


async def sustained(
    target: Target, bodies: Bodies, seconds: float, concurrency: int
) -> dict[str, Any]:
    """Post as fast as ``concurrency`` clients can for ``seconds``; time until all are stored."""
    payloads = [bodies.next() for _ in range(int(seconds * 12) + concurrency)]
    ingest_ids: list[str] = []
    started = time.perf_counter()
    deadline = started + seconds

    async def client() -> None:
        while time.perf_counter() < deadline and payloads:
            _, answer = await target.post(payloads.pop())
            ingest_ids.append(answer["ingest_id"])

    await asyncio.gather(*(client() for _ in range(concurrency)))
    posting = time.perf_counter() - started
    total = len(ingest_ids) * bodies.per_request
    await _until(lambda: _stored(target, ingest_ids, total), timeout=600)
    elapsed = time.perf_counter() - started
    return {
        "readings": total,
        "posting_seconds": round(posting, 2),
        "accepted_per_second": round(total / posting),
        "end_to_end_seconds": round(elapsed, 2),
        "stored_per_second": round(total / elapsed),
    }


async def freshness(
    target: Target, bodies: Bodies, rate: float, seconds: float, batch: int = 500
) -> dict[str, Any]:
    """At ``rate`` readings/s: time from a 202 to its readings being queryable."""
    interval = batch / rate
    stations = [f"{bodies.stations[0]}-f{i}" for i in range(20)]
    pending: dict[str, float] = {}
    delays: list[float] = []
    done = asyncio.Event()

    async def poll() -> None:
        while not (done.is_set() and not pending):
            if pending:
                rows = await target.pool.fetch(
                    "SELECT DISTINCT ingest_id::text FROM ingest.persisted_messages "
                    "WHERE ingest_id = ANY($1::uuid[])",
                    list(pending),
                )
                now = time.perf_counter()
                for row in rows:
                    delays.append((now - pending.pop(row["ingest_id"])) * 1000)
            await asyncio.sleep(0.01)

    poller = asyncio.create_task(poll())
    ends = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < ends:
        tick = time.perf_counter()
        body = bodies.next(batch, [stations[n % len(stations)]])
        n += 1
        _, answer = await target.post(body)
        pending[answer["ingest_id"]] = time.perf_counter()
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - tick)))
    done.set()
    await asyncio.wait_for(poller, timeout=120)
    return {
        "rate_readings_per_second": round(rate),
        "batches": len(delays),
        "p50_ms": round(statistics.median(delays), 1),
        "p99_ms": round(percentile(delays, 99), 1),
        "max_ms": round(max(delays), 1),
    }


async def backlog(target: Target, bodies: Bodies, readings: int) -> list[str]:
    """Post ``readings`` while nothing consumes them; return the ingest ids."""
    ids = []
    for _ in range(max(1, readings // bodies.per_request)):
        _, answer = await target.post(bodies.next())
        ids.append(answer["ingest_id"])
    return ids


async def catch_up(target: Target, ingest_ids: list[str], readings: int) -> dict[str, Any]:
    started = time.perf_counter()
    await _until(lambda: _stored(target, ingest_ids, readings), timeout=900)
    elapsed = time.perf_counter() - started
    return {
        "readings": readings,
        "seconds": round(elapsed, 2),
        "readings_per_second": round(readings / elapsed),
    }


async def raw_copy_with_dedupe(pool: asyncpg.Pool, bodies: Bodies, readings: int) -> dict[str, Any]:
    """The floor to compare against: COPY + INSERT … ON CONFLICT DO NOTHING, no rollups."""
    rows = []
    for _ in range(max(1, readings // bodies.per_request)):
        for r in orjson.loads(bodies.next())["readings"]:
            rows.append((r["station_id"], r["ts"], orjson.dumps(r["values"])))
    async with pool.acquire() as conn:
        await conn.execute("DROP TABLE IF EXISTS scada_meta.bench_raw")
        await conn.execute(
            "CREATE TABLE scada_meta.bench_raw (station_id text NOT NULL, ts timestamptz NOT NULL, "
            '"values" jsonb NOT NULL, PRIMARY KEY (station_id, ts))'
        )
        await conn.execute("SELECT create_hypertable('scada_meta.bench_raw', by_range('ts'))")
        typed = [(s, datetime.fromisoformat(ts), v) for s, ts, v in rows]
        started = time.perf_counter()
        for start in range(0, len(typed), 20_000):
            async with conn.transaction():
                await conn.execute(
                    "CREATE TEMP TABLE bench_stage "
                    '(station_id text, ts timestamptz, "values" jsonb) ON COMMIT DROP'
                )
                await conn.copy_records_to_table(
                    "bench_stage",
                    records=typed[start : start + 20_000],
                    columns=["station_id", "ts", "values"],
                )
                await conn.execute(
                    "INSERT INTO scada_meta.bench_raw SELECT * FROM bench_stage "
                    "ON CONFLICT (station_id, ts) DO NOTHING"
                )
        elapsed = time.perf_counter() - started
        await conn.execute("DROP TABLE scada_meta.bench_raw")
    return {
        "readings": len(rows),
        "seconds": round(elapsed, 2),
        "readings_per_second": round(len(rows) / elapsed),
    }


async def _stored(target: Target, ingest_ids: list[str], total: int) -> bool:
    return await target.persisted(ingest_ids) >= total


async def _until(check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not await check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the pipeline did not store the readings in time")
        await asyncio.sleep(0.05)
