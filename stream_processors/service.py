"""Composition root of the stream processors: clients in, a running sink out."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from aiokafka import AIOKafkaConsumer

from base.kafka_clients import durable_producer
from base.startup import prepare_platform
from stream_processors.settings import ProcessorSettings
from stream_processors.sink import TimescaleSink
from stream_processors.writer import prepare_connection

log = logging.getLogger(__name__)


async def run_sink(settings: ProcessorSettings, stop: asyncio.Event) -> None:
    """Run the TimescaleDB sink until ``stop`` is set; closes every client it opened."""
    topics = settings.topics
    bootstrap = settings.effective_kafka_bootstrap
    await prepare_platform(settings)
    pool = await asyncpg.create_pool(
        settings.effective_database_url,
        min_size=1,
        max_size=settings.db_pool_size,
        init=prepare_connection,
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=settings.consumer_group,
        client_id="stream-processors",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_partition_fetch_bytes=16 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    producer = durable_producer(bootstrap, client_id="stream-processors-dlq")
    try:
        await producer.start()
        sink = TimescaleSink(
            consumer,
            producer,
            pool,
            topics,
            settings,
        )
        sink.subscribe()
        await consumer.start()
        log.info("sink consuming %s as group %s", topics.readings.name, settings.consumer_group)
        await sink.run(stop)
    finally:
        await consumer.stop()
        await producer.stop()
        await pool.close()
