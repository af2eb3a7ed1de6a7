"""Helpers for tests of the historical API, its workers and the dashboard it serves."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import uvicorn

from historical_service import jobs
from historical_service.app import create_app
from historical_service.service import run_workers
from historical_service.settings import HistoricalSettings
from historical_service.users import create_user
from schemas.historical import RunHistoricalQuery
from schemas.readings_codec import StoredMessage, Values
from stream_processors.writer import prepare_connection, write_batch
from tests.pipeline import wait_for


def historical_settings(
    kafka_bootstrap: str, database_url: str, unique: str, results_dir: Path, **overrides: Any
) -> HistoricalSettings:
    """A test's own API and workers: its topics, its worker groups, a free port."""
    return HistoricalSettings(
        kafka_bootstrap=kafka_bootstrap,
        database_url=database_url,
        topic_namespace=unique,
        results_dir=results_dir,
        public_url=f"http://127.0.0.1:{free_port()}",
        worker_group=f"{unique}.workers",
        worker_metrics_port=0,
        **overrides,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def running_historical(settings: HistoricalSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The API over real HTTP on ``settings.public_url``, and both lanes' workers."""
    port = int(settings.public_url.rsplit(":", 1)[1])
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    stop = asyncio.Event()
    workers = asyncio.create_task(run_workers(settings, stop))

    async def started() -> bool:
        await asyncio.sleep(0)
        if serving.done():  # startup failed: say why now, not after the timeout
            raise AssertionError(f"the API did not start: {serving.exception()!r}")
        return bool(server.started)

    try:
        await wait_for(started, timeout=60)
        async with httpx.AsyncClient(base_url=settings.public_url, timeout=30) as client:
            yield client
    finally:
        stop.set()
        server.should_exit = True
        ended = await asyncio.wait_for(
            asyncio.gather(serving, workers, return_exceptions=True), timeout=30
        )
        failures = [e for e in ended if isinstance(e, BaseException)]
        if failures and not isinstance(failures[0], SystemExit):
            raise failures[0]


async def store(database_url: str, station: str, readings: list[tuple[datetime, Values]]) -> None:
    """Store ``readings`` of ``station`` the way the sink does (rollups and marks included)."""
    conn = await asyncpg.connect(database_url)
    await prepare_connection(conn)
    try:
        await write_batch(conn, [StoredMessage(uuid4(), station, 0, readings)])
    finally:
        await conn.close()


async def new_user(
    database_url: str, stations: list[str], max_days: int = 400, roles: tuple[str, ...] = ()
) -> tuple[UUID, str]:
    """A user of these stations (and roles): (user_id, bearer token)."""
    conn = await asyncpg.connect(database_url)
    try:
        return await create_user(
            conn,
            name=f"u-{uuid4().hex[:8]}",
            org_id="org",
            stations=stations,
            max_range_days=max_days,
            roles=roles,
        )
    finally:
        await conn.close()


async def record_job(database_url: str, command: RunHistoricalQuery) -> None:
    """The job's row, as the API writes it before publishing: workers run only recorded jobs."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        await jobs.insert_job(pool, command)
    finally:
        await pool.close()


@asynccontextmanager
async def historical_app(
    kafka_bootstrap: str, database_url: str, unique: str, results_dir: Path, **overrides: Any
) -> AsyncIterator[tuple[HistoricalSettings, httpx.AsyncClient]]:
    """A test's own API and workers, running: their settings and an HTTP client."""
    settings = historical_settings(kafka_bootstrap, database_url, unique, results_dir, **overrides)
    async with running_historical(settings) as client:
        yield settings, client
