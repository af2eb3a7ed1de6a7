"""A readings message crosses the real broker and lands in the real hypertable."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
from aiokafka import AIOKafkaProducer

from base.kafka_topics import ensure_topics
from schemas.readings import Reading, StationReadingsAccepted
from schemas.topics import READINGS


async def test_message_produced_with_acks_all_is_consumed_and_queryable(
    kafka_bootstrap: str,
    producer: AIOKafkaProducer,
    consumer_factory: Any,
    db: asyncpg.Connection,
    unique: str,
) -> None:
    topic = replace(READINGS, name=f"test.{unique}.readings")
    await ensure_topics(kafka_bootstrap, (topic,))
    start = datetime(2026, 11, 23, tzinfo=UTC)
    message = StationReadingsAccepted(
        ingest_id=uuid4(),
        org_id="bmkg",
        station_id=unique,
        chunk=0,
        accepted_at=datetime.now(UTC),
        readings=[
            Reading(ts=start + timedelta(seconds=10 * i), values={"temperature": 20 + i, "rain": 0})
            for i in range(5)
        ],
    )
    metadata = await producer.send_and_wait(
        topic.name, topic.serialize(message), key=message.station_id.encode()
    )

    consumer = await consumer_factory(topic.name, group_id=f"{unique}-sink")
    records = await consumer.getmany(timeout_ms=10_000)
    (received,) = [r for batch in records.values() for r in batch]
    assert (received.partition, received.offset) == (metadata.partition, metadata.offset)
    decoded = topic.deserialize(received.value)
    assert decoded == message

    await db.copy_records_to_table(
        "station_readings",
        schema_name="telemetry",
        columns=["station_id", "ts", "values", "ingest_id"],
        records=[
            (decoded.station_id, r.ts, json.dumps(r.values), decoded.ingest_id)
            for r in decoded.readings
        ],
    )
    rows = await db.fetch(
        "SELECT ts, value FROM telemetry.readings WHERE station_id = $1 AND sensor = 'temperature' "
        "ORDER BY ts",
        unique,
    )
    assert [(r["ts"], r["value"]) for r in rows] == [
        (start + timedelta(seconds=10 * i), 20.0 + i) for i in range(5)
    ]
