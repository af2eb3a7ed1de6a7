"""Historical-job benchmarks: a year-long chart and a raw export, through the API and workers."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tooling.simulator.client import Poster, backfill
from tooling.simulator.weather import SENSORS, station_ids

YEAR_STATION = station_ids(1, "YEAR")[0]


async def ensure_year_of_data(
    gateway: httpx.AsyncClient, write_token: str, pool: asyncpg.Pool, say: Any
) -> None:
    """A year of 10 s readings for one station, backfilled through the gateway once."""
    have = await pool.fetchval(
        "SELECT count(*) FROM telemetry.station_readings WHERE station_id = $1 "
        "AND ts > now() - interval '366 days'",
        YEAR_STATION,
    )
    if have >= 3_000_000:
        return
    say(f"backfilling a year of 10 s readings for {YEAR_STATION} through the pipeline (once) ...")
    await backfill(
        Poster(gateway, write_token),
        [YEAR_STATION],
        timedelta(days=365),
        timedelta(seconds=10),
        say,
    )

    async def stored() -> int:
        return int(
            await pool.fetchval(
                "SELECT count(*) FROM telemetry.station_readings WHERE station_id = $1",
                YEAR_STATION,
            )
        )

    while await stored() < 3_100_000:  # noqa: ASYNC110 (polling another process)
        await asyncio.sleep(2)


async def _run_job(
    api: httpx.AsyncClient, token: str, body: dict[str, Any]
) -> tuple[float, dict[str, Any]]:
    headers = {"authorization": f"Bearer {token}"}
    started = time.perf_counter()
    response = await api.post("/v1/historical-jobs", json=body, headers=headers)
    response.raise_for_status()
    url = response.json()["status_url"]
    while True:
        job = (await api.get(url, headers=headers)).json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return time.perf_counter() - started, job
        await asyncio.sleep(0.005)


async def chart_year(api: httpx.AsyncClient, token: str, runs: int = 7) -> dict[str, Any]:
    """POST → completed for a year of one station, ``auto`` resolution, all 8 sensors."""
    end = datetime.now(UTC)
    body = {
        "stations": [YEAR_STATION],
        "sensors": list(SENSORS),
        "start": (end - timedelta(days=365)).isoformat(),
        "end": end.isoformat(),
        "resolution": "auto",
    }
    times, points = [], 0
    for n in range(runs):
        body["end"] = (end + timedelta(seconds=n)).isoformat()  # a new job each time
        elapsed, job = await _run_job(api, token, body)
        if job["status"] != "completed":
            raise RuntimeError(f"chart job ended {job['status']}: {job['error']}")
        times.append(elapsed * 1000)
        points = job["rows_done"] // len(SENSORS)
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "points_per_sensor": points,
    }


async def raw_export(api: httpx.AsyncClient, token: str, days: int = 30) -> dict[str, Any]:
    """A raw export of ``days`` of one station: rows written per second, and the CSV download."""
    end = datetime.now(UTC) - timedelta(days=1)
    body = {
        "stations": [YEAR_STATION],
        "sensors": list(SENSORS),
        "start": (end - timedelta(days=days)).isoformat(),
        "end": end.isoformat(),
        "resolution": "raw",
        "lane": "bulk",
    }
    _, job = await _run_job(api, token, body)
    started = datetime.fromisoformat(job["started_at"])
    finished = datetime.fromisoformat(job["finished_at"])
    seconds = (finished - started).total_seconds()
    headers = {"authorization": f"Bearer {token}", "accept": "text/csv"}
    downloaded = 0
    t0 = time.perf_counter()
    async with api.stream("GET", job["result_url"], headers=headers) as response:
        async for chunk in response.aiter_bytes():
            downloaded += chunk.count(b"\n")
    download = time.perf_counter() - t0
    return {
        "rows": job["rows_done"],
        "export_seconds": round(seconds, 2),
        "rows_per_second": round(job["rows_done"] / seconds),
        "download_rows_per_second": round((downloaded - 1) / download),
    }
