"""Posting simulated readings to the gateway: live at a rate, or a backfill of history."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from tooling.simulator.weather import readings_between

Say = Callable[[str], None]


class Poster:
    """Posts batches, honouring 429/503 ``Retry-After`` like a well-behaved logger."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        self.accepted = 0

    async def post(self, readings: list[dict[str, object]]) -> None:
        body = orjson.dumps({"readings": readings})
        while True:
            response = await self.client.post("/v1/readings", content=body, headers=self.headers)
            if response.status_code == 202:
                self.accepted += len(readings)
                return
            if response.status_code in (429, 503):
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                continue
            raise RuntimeError(f"gateway answered {response.status_code}: {response.text[:500]}")


async def backfill(
    poster: Poster,
    stations: list[str],
    span: timedelta,
    interval: timedelta,
    say: Say,
    *,
    batch: int = 7500,
    concurrency: int = 4,
) -> None:
    """History from ``now - span`` to now, posted ``batch`` readings at a time."""
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - span
    step = interval * max(1, batch // len(stations))
    total = int(span / interval) * len(stations)
    started = time.monotonic()
    pending: set[asyncio.Task[None]] = set()
    ts = start
    while ts < end:
        chunk_end = min(end, ts + step)
        readings = readings_between(stations, ts, chunk_end, interval)
        pending.add(asyncio.create_task(poster.post(readings)))
        if len(pending) >= concurrency:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        ts = chunk_end
        if poster.accepted and poster.accepted % (batch * 50) < batch:
            rate = poster.accepted / (time.monotonic() - started)
            say(f"backfill: {poster.accepted:,}/{total:,} readings ({rate:,.0f}/s)")
    for task in pending:
        await task
    say(f"backfill done: {poster.accepted:,} readings in {time.monotonic() - started:.0f} s")


async def live(poster: Poster, stations: list[str], rate: float, say: Say) -> None:
    """Post about ``rate`` readings per second, round-robin over ``stations``, once a second."""
    per_tick = max(1, round(rate))
    cursor = 0
    announced = time.monotonic()
    while True:
        tick = time.monotonic()
        now = datetime.now(UTC)
        chosen = [
            stations[(cursor + i) % len(stations)] for i in range(min(per_tick, len(stations)))
        ]
        cursor = (cursor + len(chosen)) % len(stations)
        repeats = max(1, per_tick // len(chosen))
        readings = []
        for r in range(repeats):
            ts = now - timedelta(milliseconds=1000 * r / repeats)
            readings += readings_between(
                chosen, ts, ts + timedelta(microseconds=1), timedelta(seconds=1)
            )
        await poster.post(readings)
        if time.monotonic() - announced > 30:
            say(f"live: {poster.accepted:,} readings accepted")
            announced = time.monotonic()
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
