"""Composition root of the stream processors: clients in, the running sinks out (readings,
and alarm transitions; one process, two consumer groups)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from base.kafka_clients import durable_producer
from base.startup import prepare_platform
from stream_processors.alarm_sink import AlarmSink
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
        alarms = asyncio.create_task(_run_alarm_sink(settings, producer, pool, stop))
        try:
            await sink.run(stop)
        finally:
            stop.set()
            await alarms
    finally:
        await consumer.stop()
        await producer.stop()
        await pool.close()


async def _run_alarm_sink(
    settings: ProcessorSettings,
    producer: AIOKafkaProducer,
    pool: asyncpg.Pool,
    stop: asyncio.Event,
) -> None:
    """The alarm sink until ``stop``; a crash of it (a bug) is logged and it starts again
    after a pause, without taking the readings sink down with it."""
    while not stop.is_set():
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.effective_kafka_bootstrap,
            group_id=settings.alarm_sink_group,
            client_id="stream-processors-alarms",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        sink = AlarmSink(consumer, producer, pool, settings.topics, settings)
        try:
            sink.subscribe()
            await consumer.start()
            log.info(
                "alarm sink consuming %s as %s",
                settings.topics.alarms.name,
                settings.alarm_sink_group,
            )
            await sink.run(stop)
        except Exception:
            log.exception("the alarm sink failed; starting it again in 5 s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5)
        finally:
            await consumer.stop()
