"""What operators ask of Kafka: consumer lag per group and partition, and the dead letters.

Behind ``scada lag`` and ``scada dlq list|show|replay|purge``. Everything here
reads with group-less consumers, so looking never moves anyone's offsets.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from base.errors import ScadaError
from base.kafka_clients import durable_producer
from base.kafka_topics import describe_topics
from schemas.readings import ReadingDeadLettered, StationReadingsAccepted
from schemas.topics import Topic

READ_TIMEOUT = 30.0  # seconds to read the dead-letter topic to its end


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int
    messages: int
    seconds: float  # age of the oldest message not yet consumed; 0 when caught up


async def consumer_lag(bootstrap: str, groups: Iterable[str] | None = None) -> list[PartitionLag]:
    """Lag of ``groups`` (default: every group with committed offsets), per partition."""
    async with _clients(bootstrap) as (admin, consumer):
        if groups is None:
            groups = sorted(g[0] for g in await admin.list_consumer_groups())
        out: list[PartitionLag] = []
        for group in groups:
            committed = {
                tp: meta.offset
                for tp, meta in (await admin.list_consumer_group_offsets(group)).items()
                if meta.offset >= 0
            }
            if not committed:
                continue
            ends = await consumer.end_offsets(list(committed))
            oldest = await _timestamps(
                consumer, {tp: o for tp, o in committed.items() if o < ends[tp]}
            )
            now = time.time()
            for tp in sorted(committed, key=lambda t: (t.topic, t.partition)):
                behind = max(0, ends[tp] - committed[tp])
                age = max(0.0, now - oldest[tp] / 1000) if tp in oldest else 0.0
                out.append(
                    PartitionLag(
                        group, tp.topic, tp.partition, committed[tp], ends[tp], behind, age
                    )
                )
        return out


async def _timestamps(
    consumer: AIOKafkaConsumer, at: dict[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """The timestamp (ms) of the message at each position."""
    if not at:
        return {}
    consumer.assign(list(at))
    for tp, offset in at.items():
        consumer.seek(tp, offset)
    found: dict[TopicPartition, int] = {}
    deadline = time.monotonic() + 10
    while len(found) < len(at) and time.monotonic() < deadline:
        batches = await consumer.getmany(*[tp for tp in at if tp not in found], timeout_ms=500)
        for tp, records in batches.items():
            if records and tp not in found:
                found[tp] = records[0].timestamp
    return found


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    letter: ReadingDeadLettered

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"

    def payload(self) -> bytes:
        if self.letter.payload_encoding == "base64":
            return base64.b64decode(self.letter.payload)
        return self.letter.payload.encode()


async def dead_letters(
    bootstrap: str, dlq: Topic[Any], limit: int | None = None
) -> list[DeadLetter]:
    """What the dead-letter topic holds now, oldest first."""
    async with _consumer(bootstrap) as consumer:
        partitions = await _partitions(bootstrap, dlq.name)
        consumer.assign(partitions)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, starts[tp])
        out: list[DeadLetter] = []
        deadline = time.monotonic() + READ_TIMEOUT
        while pending := [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            if time.monotonic() > deadline:
                raise ScadaError(f"{dlq.name} could not be read to its end in {READ_TIMEOUT:g} s")
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, records in batches.items():
                out.extend(
                    DeadLetter(
                        tp.partition,
                        record.offset,
                        ReadingDeadLettered.model_validate_json(record.value or b"{}"),
                    )
                    for record in records
                    if record.offset < ends[tp]
                )
        out.sort(key=lambda d: (d.letter.dead_lettered_at, d.partition, d.offset))
        return out if limit is None else out[:limit]


async def replay(bootstrap: str, readings: Topic[Any], letters: list[DeadLetter]) -> list[str]:
    """Publish each letter's original message to the readings topic again; return what was sent.

    Only payloads that are still valid readings messages are sent (the others
    would only be dead-lettered again); the sink's idempotent write makes a
    replay of something already stored change nothing.
    """
    producer = durable_producer(bootstrap, client_id="scada-dlq-replay")
    await producer.start()
    sent: list[str] = []
    try:
        for letter in letters:
            try:
                message = StationReadingsAccepted.model_validate_json(letter.payload())
            except ValueError:
                continue
            await producer.send_and_wait(
                readings.name, readings.serialize(message), key=message.station_id.encode()
            )
            sent.append(letter.position)
    finally:
        await producer.stop()
    return sent


async def purge(bootstrap: str, dlq: Topic[Any], through: dict[int, int] | None = None) -> int:
    """Delete dead letters: up to offset ``through[partition]`` (inclusive), or all there are now.

    Returns how many records went. ``through`` lets an operator delete exactly
    what they listed, not letters that arrived since.
    """
    async with _clients(bootstrap) as (admin, consumer):
        partitions = await _partitions(bootstrap, dlq.name)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        if through is not None:
            ends = {tp: min(ends[tp], through.get(tp.partition, -1) + 1) for tp in partitions}
        doomed = {tp: RecordsToDelete(ends[tp]) for tp in partitions if ends[tp] > starts[tp]}
        if doomed:
            await admin.delete_records(doomed)
        return sum(ends[tp] - starts[tp] for tp in doomed)


@asynccontextmanager
async def _consumer(bootstrap: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A group-less consumer: reading with it moves nobody's offsets."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


@asynccontextmanager
async def _clients(bootstrap: str) -> AsyncIterator[tuple[AIOKafkaAdminClient, AIOKafkaConsumer]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        async with _consumer(bootstrap) as consumer:
            yield admin, consumer
    finally:
        await admin.close()


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    count = (await describe_topics(bootstrap, [topic])).get(topic)
    if count is None:
        raise ScadaError(f"topic {topic} does not exist")
    return [TopicPartition(topic, p) for p in range(count)]
