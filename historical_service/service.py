"""Composition root of the historical workers: one worker per lane in one process."""

from __future__ import annotations

import asyncio

import asyncpg

from base.kafka_clients import durable_producer
from base.startup import prepare_platform
from historical_service.janitor import run_janitor
from historical_service.settings import HistoricalSettings
from historical_service.worker import Worker


async def run_workers(settings: HistoricalSettings, stop: asyncio.Event) -> None:
    topics = settings.topics
    bootstrap = settings.effective_kafka_bootstrap
    await prepare_platform(settings)
    pool = await asyncpg.create_pool(settings.effective_database_url, min_size=2, max_size=10)
    producer = durable_producer(bootstrap, client_id="historical-workers")
    try:
        await producer.start()
        workers = [
            Worker(settings, pool, producer, topics, lane) for lane in ("interactive", "bulk")
        ]
        await asyncio.gather(
            *(w.run(stop) for w in workers),
            run_janitor(pool, producer, topics, stop, settings.effective_results_dir),
        )
    finally:
        await producer.stop()
        await pool.close()
