"""What operators ask of Kafka: consumer lag per group and partition, and the dead letters.

Behind ``scada lag``, ``scada status`` and ``scada dlq list|show|replay|purge``. Everything here
reads with group-less consumers, so looking never moves anyone's offsets.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.errors import KafkaError

from base.errors import ScadaError, ServerUnavailable
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
    committed: int | None  # None: the group never committed this partition
    end: int
    messages: int
    seconds: float  # age of the oldest message not yet consumed; 0 when caught up


async def consumer_lag(bootstrap: str, groups: Iterable[str] | None = None) -> list[PartitionLag]:
    """Lag of ``groups`` (default: every group with committed offsets), per partition.

    Every partition of each topic a group has committed on is reported, not only
    the committed ones: a group commits a partition only once it has consumed
    from it, so a partition no message had reached yet (or whose first messages
    it has not read) would otherwise be missing. Such a partition counts from
    its log start, where this project's groups (``auto_offset_reset="earliest"``)
    begin. Topics deleted since a group committed on them are left out.
    """
    async with _clients(bootstrap) as (admin, consumer):
        if groups is None:
            groups = sorted(g[0] for g in await admin.list_consumer_groups())
        groups = list(groups)
        existing = await _topic_partitions(admin)
        # Many groups (every test leaves some): their offsets are asked for together,
        # and every partition's start and end in one request each.
        limit = asyncio.Semaphore(16)

        async def offsets(group: str) -> dict[TopicPartition, int]:
            async with limit:
                listed = await admin.list_consumer_group_offsets(group)
            return {tp: meta.offset for tp, meta in listed.items() if meta.offset >= 0}

        # A TaskGroup: if one request fails, the others are cancelled before the admin
        # client closes under them.
        async with asyncio.TaskGroup() as tasks:
            asked = [tasks.create_task(offsets(g)) for g in groups]
        committed_by_group = {g: task.result() for g, task in zip(groups, asked, strict=True)}
        partitions_by_group = {
            group: [
                tp
                for topic in sorted({tp.topic for tp in committed} & existing.keys())
                for tp in existing[topic]
            ]
            for group, committed in committed_by_group.items()
        }
        every = sorted({tp for tps in partitions_by_group.values() for tp in tps})
        if not every:
            return []
        starts = await consumer.beginning_offsets(every)
        ends = await consumer.end_offsets(every)
        # Below the log start (retention deleted it), a group resumes at the start.
        resume = {
            (group, tp): max(committed_by_group[group].get(tp, starts[tp]), starts[tp])
            for group, tps in partitions_by_group.items()
            for tp in tps
        }
        oldest = await _timestamps_of(
            consumer, {(tp, offset) for (_, tp), offset in resume.items() if offset < ends[tp]}
        )
        now = time.time()
        out: list[PartitionLag] = []
        for group, tps in partitions_by_group.items():
            for tp in tps:
                at = resume[group, tp]
                stamp = oldest.get((tp, at))
                out.append(
                    PartitionLag(
                        group,
                        tp.topic,
                        tp.partition,
                        committed_by_group[group].get(tp),
                        ends[tp],
                        max(0, ends[tp] - at),
                        max(0.0, now - stamp / 1000) if stamp is not None else 0.0,
                    )
                )
        return out


@dataclass(frozen=True)
class GroupLag:
    group: str
    partitions: int
    messages: int  # behind, over all its partitions
    max_seconds: float  # the age of the oldest message it has not consumed, on any partition


def lag_by_group(rows: Iterable[PartitionLag]) -> list[GroupLag]:
    """One line per group of :func:`consumer_lag`'s rows, in the order they came."""
    groups: dict[str, list[PartitionLag]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    return [
        GroupLag(
            group,
            len(parts),
            sum(p.messages for p in parts),
            max(p.seconds for p in parts),
        )
        for group, parts in groups.items()
    ]


async def dead_letter_depth(bootstrap: str, dlq: Topic[Any]) -> int:
    """How many dead letters the topic holds now, without reading them."""
    async with _consumer(bootstrap) as consumer:
        partitions = await _partitions(bootstrap, dlq.name)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        return sum(ends[tp] - starts[tp] for tp in partitions)


async def _topic_partitions(admin: AIOKafkaAdminClient) -> dict[str, list[TopicPartition]]:
    """Every topic's partitions, in order.

    All topics, not the groups' own: naming a deleted topic in a metadata request
    would create it again on a cluster that auto-creates topics.
    """
    return {
        t["topic"]: [
            TopicPartition(t["topic"], p)
            for p in sorted(part["partition"] for part in t["partitions"])
        ]
        for t in await admin.describe_topics()
        if t["error_code"] == 0
    }


async def _timestamps_of(
    consumer: AIOKafkaConsumer, wanted: set[tuple[TopicPartition, int]]
) -> dict[tuple[TopicPartition, int], int]:
    """The timestamp (ms) of the message at each ``(partition, offset)``.

    A consumer is at one position per partition, so positions are read in rounds,
    each with every partition at most once (groups on distinct topics: one round).
    """
    found: dict[tuple[TopicPartition, int], int] = {}
    pending = sorted(wanted)
    deadline = time.monotonic() + 10  # for all rounds together
    while pending and time.monotonic() < deadline:
        round_: dict[TopicPartition, int] = {}
        later = []
        for tp, offset in pending:
            if tp in round_:
                later.append((tp, offset))
            else:
                round_[tp] = offset
        for tp, stamp in (await _timestamps(consumer, round_, deadline)).items():
            found[tp, round_[tp]] = stamp
        pending = later
    return found


async def _timestamps(
    consumer: AIOKafkaConsumer, at: dict[TopicPartition, int], deadline: float | None = None
) -> dict[TopicPartition, int]:
    """The timestamp (ms) of the message at each position (what is found by ``deadline``)."""
    if not at:
        return {}
    consumer.assign(list(at))
    for tp, offset in at.items():
        consumer.seek(tp, offset)
    found: dict[TopicPartition, int] = {}
    deadline = time.monotonic() + 10 if deadline is None else deadline
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
    try:
        await consumer.start()
        yield consumer
    except KafkaError as exc:
        raise _unavailable(bootstrap, exc) from exc
    finally:
        await consumer.stop()


@asynccontextmanager
async def _clients(bootstrap: str) -> AsyncIterator[tuple[AIOKafkaAdminClient, AIOKafkaConsumer]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        async with _consumer(bootstrap) as consumer:
            yield admin, consumer
    except KafkaError as exc:
        raise _unavailable(bootstrap, exc) from exc
    finally:
        await admin.close()


def _unavailable(bootstrap: str, exc: KafkaError) -> ServerUnavailable:
    # An operator command on a stopped Kafka says so in one line, not a traceback.
    return ServerUnavailable(f"Kafka at {bootstrap} did not answer: {exc}")


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    count = (await describe_topics(bootstrap, [topic])).get(topic)
    if count is None:
        raise ScadaError(f"topic {topic} does not exist")
    return [TopicPartition(topic, p) for p in range(count)]
