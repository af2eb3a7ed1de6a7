"""The alarm sink: every transition on ``scada.alarms.v1`` stored once in
``alarms.events``, and folded into ``alarms.current``, by its own consumer group.

The readings sink's discipline, per batch: decode (what never will goes to the DLQ,
and we wait for its acknowledgement); store every event and its state change in one
transaction, retried while the database is away; then commit the offsets. A crash
between the two redelivers the batch, and each event is stored once by its
``event_id`` (the lifecycle makes a second ``raised`` harmless too). An event the
database refuses for its data is isolated and dead-lettered alone; nothing stops it.

It also ends shelving: an alarm whose ``shelved_until`` has passed gets an
``unshelved`` transition (by ``system``), published like an operator's, with an id
that any instance would give it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any, TypeAlias

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import ConsumerRecord

from base.storage.alarms import shelves_expired, store_transitions
from base.transient import kafka_unavailable
from schemas.alarms import AlarmTransition, event_id
from schemas.readings import ReadingDeadLettered
from schemas.topics import TopicSet
from stream_processors import metrics
from stream_processors.dead_letters import dead_letter_for, send_dead_letters
from stream_processors.settings import ProcessorSettings
from stream_processors.sink import Abandoned, Rebalance, retry_while_unavailable

log = logging.getLogger(__name__)
Record: TypeAlias = "ConsumerRecord[bytes, bytes]"
EXPIRY_EVERY_SECONDS = 5.0


class AlarmSink:
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        pool: asyncpg.Pool,
        topics: TopicSet,
        settings: ProcessorSettings,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.pool = pool
        self.topics = topics
        self.settings = settings
        self.rebalance = Rebalance()
        self._stop = asyncio.Event()
        self._expiry_due = 0.0
        self._unshelved: dict[tuple[str, str, datetime], float] = {}
        """Expiries published, and when: each is published again only after a minute
        (while the sink lags behind its own topic, the row still says shelved)."""

    def subscribe(self) -> None:
        self.consumer.subscribe([self.topics.alarms.name], listener=self.rebalance)

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        try:
            await self._run(stop)
        except Abandoned:
            log.info("alarm sink stopping: a batch not stored is left to be re-read")

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            generation = self.rebalance.generation
            fetched = await self.consumer.getmany(timeout_ms=500, max_records=500)
            records = [r for batch in fetched.values() for r in batch]
            if records:
                await self.store(records, generation)
            if time.monotonic() >= self._expiry_due:
                self._expiry_due = time.monotonic() + EXPIRY_EVERY_SECONDS
                await self.unshelve_expired()

    async def store(self, records: list[Record], generation: int) -> None:
        events: list[AlarmTransition] = []
        letters: list[tuple[Any, str]] = []
        for record in records:
            try:
                events.append(AlarmTransition.model_validate_json(record.value or b""))
            except Exception as exc:  # whatever a hostile record makes pydantic raise
                letter, _ = dead_letter_for(record, f"invalid alarm transition: {exc}"[:500])
                letters.append((letter, "invalid_alarm"))
        await self._store_events(events, letters)
        await self._commit(records, generation)

    async def _store_events(
        self, events: list[AlarmTransition], letters: list[tuple[Any, str]]
    ) -> None:
        if letters:
            await self._dead_letter(letters)
        if not events:
            return
        try:
            await retry_while_unavailable(
                lambda: self._write(events), self.settings.max_backoff_seconds, stop=self._stop
            )
        except Exception as exc:
            if len(events) == 1:  # the database refuses this event for its data
                log.warning("alarm event %s refused (%r): dead-lettered", events[0].event_id, exc)
                letter = _letter(events[0], repr(exc), self.topics.alarms.name)
                await self._dead_letter([(letter, "refused_alarm")])
                return
            half = len(events) // 2
            await self._store_events(events[:half], [])
            await self._store_events(events[half:], [])

    async def _write(self, events: list[AlarmTransition]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            new = await store_transitions(conn, events)
        for event, fresh in zip(events, new, strict=True):
            metrics.ALARM_EVENTS.labels(
                type=event.type, outcome="stored" if fresh else "duplicate"
            ).inc()

    async def _dead_letter(self, letters: list[tuple[Any, str]]) -> None:
        await retry_while_unavailable(
            lambda: send_dead_letters(self.producer, self.topics.readings_dlq, letters),
            self.settings.max_backoff_seconds,
            transient=kafka_unavailable,
            stop=self._stop,
        )

    async def _commit(self, records: list[Record], generation: int) -> None:
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
        if generation != self.rebalance.generation:
            return  # partitions moved while we wrote: the new owner re-reads, harmlessly
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning("alarm offsets not committed (%s); the batch will be re-read", exc)
        except KafkaError as exc:
            log.warning("alarm offset commit failed (%s); the next commit covers it", exc)

    async def unshelve_expired(self) -> None:
        """Publish ``unshelved`` for every alarm whose shelving has run out."""
        now = datetime.now(UTC)
        try:
            rows = await shelves_expired(self.pool, now)
            mark = time.monotonic()
            self._unshelved = {k: t for k, t in self._unshelved.items() if mark - t < 60}
            for row in rows:
                seen = (row["org_id"], row["alarm_id"], row["shelved_until"])
                if seen in self._unshelved:
                    continue
                self._unshelved[seen] = mark
                transition = unshelve(row, now)
                await self.producer.send_and_wait(
                    self.topics.alarms.name,
                    self.topics.alarms.serialize(transition),
                    key=transition.station_id.encode(),
                )
        except Exception as exc:  # the database or Kafka away: the next round tries again
            log.warning("could not unshelve expired alarms (%r)", exc)


def unshelve(row: asyncpg.Record, now: datetime) -> AlarmTransition:
    """The ``unshelved`` transition of an alarm whose shelving ended at ``shelved_until``."""
    until: datetime = row["shelved_until"]
    return AlarmTransition(
        event_id=event_id(row["org_id"], row["alarm_id"], "unshelved", until),
        type="unshelved",
        org_id=row["org_id"],
        alarm_id=row["alarm_id"],
        rule_id=row["rule_id"],
        station_id=row["station_id"],
        sensor=row["sensor"],
        condition=row["condition"],
        severity=row["severity"],
        at=until,
        shelved_until=until,
        by="system",
        reason="the shelving time ran out",
        emitted_at=now,
    )


def _letter(event: AlarmTransition, reason: str, topic: str) -> ReadingDeadLettered:
    return ReadingDeadLettered(
        reason=f"alarm event refused: {reason}"[:500],
        source_topic=topic,
        source_partition=-1,
        source_offset=-1,
        station_id=event.station_id,
        payload=event.model_dump_json(),
        dead_lettered_at=datetime.now(UTC),
    )
