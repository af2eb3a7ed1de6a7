"""The TimescaleDB sink: a Kafka consumer group that stores readings at least once, idempotently.

The checkpoint order, per batch (quix-streams' order, written down):

1. decode; records that can never be stored go to the dead-letter topic,
   and we wait for its acknowledgement;
2. write the batch to TimescaleDB and commit the transaction (retrying with
   backoff while the database is unavailable: nothing is dead-lettered for that);
3. commit the Kafka offsets.

A crash between 2 and 3 redelivers the batch, and the write is idempotent,
so every acknowledged reading ends up in the database exactly once.

Every exception is one of two kinds. *Transient* (``base.transient``: the
database or Kafka is away, or a lock race): wait and retry, dead-letter nothing.
*Everything else*, whatever its type (a value PostgreSQL refuses, an instant
that overflows, a bug a record trips): the batch is split until the offending
message is alone, that message goes to the DLQ with the reason, the rest is
stored and the offsets move on. No record can stop the consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from base.storage.catalogue import angle_sensors
from base.transient import BoundedCalls, database_unavailable, kafka_unavailable
from schemas.readings_codec import StoredMessage, decode
from schemas.topics import TopicSet
from stream_processors import metrics
from stream_processors.dead_letters import (
    dead_letter_for,
    dead_letter_for_message,
    send_dead_letters,
)
from stream_processors.settings import ProcessorSettings
from stream_processors.writer import (
    MessageOutcome,
    Staged,
    WriteResult,
    stage,
    write_batch,
)

log = logging.getLogger(__name__)
ANGLES_REFRESH_SECONDS = 60.0
"""How often the sink re-reads which sensors the catalogue calls angles."""

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


@dataclass
class Batch:
    records: list[Record] = field(default_factory=list)
    readings: int = 0


@dataclass(frozen=True)
class Prepared:
    """A decoded batch, ready for the database."""

    records: list[Record]
    generation: int
    groups: list[list[StoredMessage]]
    letters: list[tuple[Any, str, MessageOutcome | None]]
    staged: list[Staged | None]


class Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Notes revocations so the loop drops (and later re-reads) a batch it can no longer commit."""

    def __init__(self) -> None:
        self.generation = 0

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self.generation += 1

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("assigned %d partitions", len(assigned))


class TimescaleSink:
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
        self._probes = BoundedCalls(limit=2)
        self.angles: frozenset[str] = frozenset()
        """The catalogue's angle sensors (their rollups keep the vector mean's sums)."""
        self._angles_read_at = -math.inf

    def subscribe(self) -> None:
        self.consumer.subscribe([self.topics.readings.name], listener=self.rebalance)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop``; decoding of the next batch overlaps the database write.

        At most one batch is in the database at a time, so offsets are committed
        in order; the next batch is fetched and decoded while the previous one's
        transaction runs in PostgreSQL.
        """
        self._stop = stop
        in_flight: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                # Before fetching: records fetched across a revocation belong to the old
                # generation, and their commit must be skipped.
                generation = self.rebalance.generation
                await self._refresh_angles()
                batch = await self._collect(stop)
                if batch.records:
                    prepared = self.prepare(batch, generation)
                    if in_flight is not None:
                        await in_flight
                    in_flight = asyncio.create_task(self._store_until_done(prepared))
                elif in_flight is not None and in_flight.done():
                    await in_flight
                    in_flight = None
        finally:
            if in_flight is not None:
                await in_flight

    async def _refresh_angles(self) -> None:
        """Re-read the catalogue's angle sensors once a minute; keep the last on failure."""
        now = time.monotonic()
        if now - self._angles_read_at < ANGLES_REFRESH_SECONDS:
            return
        try:
            async with asyncio.timeout(5):
                self.angles = await angle_sensors(self.pool)
            self._angles_read_at = now
        except Exception as exc:  # the database away: the writes will wait for it anyway
            self._angles_read_at = now - ANGLES_REFRESH_SECONDS + 5  # again in 5 s
            log.warning(
                "could not read the catalogue's angle sensors (%r); keeping %s",
                exc,
                sorted(self.angles),
            )

    async def _collect(self, stop: asyncio.Event) -> Batch:
        """Records until ``batch_max_readings`` or ``batch_max_wait_ms`` after the first one."""
        batch = Batch()
        deadline: float | None = None
        while not stop.is_set():
            if deadline is None:
                timeout_ms = 500
            else:
                timeout_ms = int((deadline - time.monotonic()) * 1000)
                if timeout_ms <= 0:
                    break
            fetched = await self.consumer.getmany(timeout_ms=timeout_ms, max_records=200)
            for records in fetched.values():
                for record in records:
                    batch.records.append(record)
                    batch.readings += _reading_count_hint(record)
            if batch.records and deadline is None:
                deadline = time.monotonic() + self.settings.batch_max_wait_ms / 1000
            if batch.readings >= self.settings.batch_max_readings:
                break
        return batch

    async def _store_until_done(self, prepared: Prepared) -> None:
        """``store``, retried with backoff while anything keeps it from finishing.

        Bad data never gets here (it is dead-lettered inside ``store``); what does is
        infrastructure (Kafka refusing the dead letters, a commit that cannot reach the
        coordinator), and waiting is the only right answer: the offsets have moved past
        this batch, so dropping it would lose it.
        """
        delay = 0.1
        while True:
            try:
                await self.store(prepared)
                return
            except Abandoned:
                log.info("stopping: a batch not stored is left to be re-read")
                return
            except Exception:
                if self._stop.is_set():
                    return  # not committed: re-read after the restart
                if prepared.generation != self.rebalance.generation:
                    log.warning("batch abandoned after a rebalance; its new owner re-reads it")
                    return
                log.exception("storing a batch failed; retrying in %.1f s", delay)
                await asyncio.sleep(delay)
                delay = min(self.settings.max_backoff_seconds, delay * 2)

    def prepare(self, batch: Batch, generation: int | None = None) -> Prepared:
        """Decode and split by partition into ``write_concurrency`` groups.

        A station lives in one partition, so the groups touch disjoint rows and
        can be written in concurrent transactions on separate connections.
        """
        decoded, letters = _decode(batch.records)
        n = self.settings.write_concurrency
        groups: list[list[StoredMessage]] = [[] for _ in range(n)]
        for partition, message in decoded:
            groups[partition % n].append(message)
        groups = [g for g in groups if g] or [[]]
        return Prepared(
            batch.records,
            self.rebalance.generation if generation is None else generation,
            groups,
            letters,
            [_stage_or_none(g, self.angles) for g in groups],
        )

    async def store(self, prepared: Prepared) -> None:
        letters = prepared.letters
        if letters:
            await self._dead_letter([(letter, code) for letter, code, _ in letters])
        outcomes = [outcome for _, _, outcome in letters if outcome is not None]
        results = await asyncio.gather(
            *(
                self._store(group, outcomes if i == 0 else [], staged)
                for i, (group, staged) in enumerate(
                    zip(prepared.groups, prepared.staged, strict=True)
                )
            )
        )
        result = sum(results[1:], results[0])
        metrics.BATCH_READINGS.observe(result.readings_in_batch)
        metrics.READINGS_STORED.inc(result.rows_inserted)
        metrics.READINGS_DUPLICATE.inc(
            max(0, result.readings_in_batch - result.rows_inserted - result.rows_merged)
        )
        await self._commit(prepared.records, prepared.generation)

    async def _store(
        self,
        messages: list[StoredMessage],
        dead: list[MessageOutcome],
        staged: Staged | None = None,
    ) -> WriteResult:
        """Write, retrying while the database is away; isolate messages that fail otherwise.

        Any other failure, of whatever type, splits the batch in halves until the
        offending message is alone; that one is dead-lettered and the rest is stored
        — once the database answers: a connection cut mid-statement can surface as an
        error that names no connection (asyncpg's "cannot switch to state"), and then
        the message is written again, not dead-lettered.
        """
        while True:
            try:
                return await retry_while_unavailable(  # type: ignore[no-any-return]
                    lambda: self._write(messages, dead, staged),
                    self.settings.max_backoff_seconds,
                    stop=self._stop,
                )
            except Exception as exc:
                if len(messages) <= 1 and not await self._database_answers():
                    metrics.DB_RETRIES.inc()
                    log.warning("write failed while the database is away (%r); again", exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), 1.0)
                    if self._stop.is_set():
                        raise Abandoned from exc
                    continue
                return await self._isolate(messages, dead, exc)

    async def _database_answers(self) -> bool:
        """``SELECT 1``, bounded also against a frozen server (BoundedCalls: at most 3 s)."""

        async def probe() -> None:
            async with self.pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1", timeout=2)

        try:
            await self._probes.run(probe, 3.0)
        except Exception:
            return False
        return True

    async def _isolate(
        self, messages: list[StoredMessage], dead: list[MessageOutcome], exc: Exception
    ) -> WriteResult:
        """Split a batch the database refused; dead-letter the one message it refuses alone."""
        if len(messages) <= 1:
            if not messages:
                # Only the bookkeeping of dead letters is left, and it failed as data:
                # they are on the DLQ; their ingest status stays short of complete.
                log.error("could not record %d dead-lettered messages: %r", len(dead), exc)
                return WriteResult(0, 0, 0, 0)
            (message,) = messages
            log.warning(
                "dead-lettering ingest %s station %s chunk %d: %r",
                message.ingest_id,
                message.station_id,
                message.chunk,
                exc,
            )
            code = "database_refused" if isinstance(exc, asyncpg.PostgresError) else "unstorable"
            reason = (
                f"database refused it: {exc}"
                if isinstance(exc, asyncpg.PostgresError)
                else f"could not be stored: {type(exc).__name__}: {exc}"
            )
            letter = dead_letter_for_message(message, self.topics.readings.name, reason)
            await self._dead_letter([(letter, code)])
            refused = MessageOutcome(
                message.ingest_id,
                message.station_id,
                message.chunk,
                0,
                len(message.readings),
                message.receipt,
            )
            return await self._store([], [*dead, refused])
        half = len(messages) // 2
        first = await self._store(messages[:half], dead)
        second = await self._store(messages[half:], [])
        return first + second

    async def _dead_letter(self, letters: list[tuple[Any, str]]) -> None:
        """Publish dead letters, waiting out a Kafka that is away (they must not be lost)."""
        await retry_while_unavailable(
            lambda: send_dead_letters(self.producer, self.topics.readings_dlq, letters),
            self.settings.max_backoff_seconds,
            transient=kafka_unavailable,
            stop=self._stop,
        )

    async def _write(
        self,
        messages: list[StoredMessage],
        dead: list[MessageOutcome],
        staged: Staged | None,
    ) -> WriteResult:
        started = time.perf_counter()
        async with self.pool.acquire() as conn:
            result = await write_batch(conn, messages, dead, staged, self.angles)
        metrics.DB_WRITE_SECONDS.observe(time.perf_counter() - started)
        return result

    async def _commit(self, records: list[Record], generation: int) -> None:
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
        if generation != self.rebalance.generation:
            # Partitions moved while we wrote: the new owner re-reads; our write was idempotent.
            metrics.COMMITS.labels(outcome="skipped_rebalance").inc()
            return
        try:
            await self.consumer.commit(offsets)
            metrics.COMMITS.labels(outcome="ok").inc()
        except (CommitFailedError, IllegalStateError) as exc:
            # The group moved on (or these partitions are no longer ours): whoever owns
            # them now re-reads from the last commit; the write was idempotent.
            metrics.COMMITS.labels(outcome="rebalanced").inc()
            log.warning("offset commit refused (%s); the batch will be re-read", exc)
        except KafkaError as exc:
            # The coordinator is away: the next batch's commit carries these offsets too.
            metrics.COMMITS.labels(outcome="failed").inc()
            log.warning("offset commit failed (%s); the next commit covers it", exc)


def _database_away(exc: BaseException) -> bool:
    """The sink touches no files: any OSError of its database calls is the network."""
    return database_unavailable(exc) or isinstance(exc, OSError)


class Abandoned(BaseException):
    """Stopping while waiting out an outage: the batch is given up, not committed.

    A BaseException, so that no ``except Exception`` on the way mistakes it for the
    data's fault and dead-letters the batch.
    """


async def retry_while_unavailable(
    operation: Callable[[], Awaitable[Any]],
    max_backoff: float,
    *,
    transient: Callable[[BaseException], bool] = _database_away,
    stop: asyncio.Event | None = None,
) -> Any:
    """Run ``operation`` until it does not fail transiently, backing off exponentially.

    Raises :class:`Abandoned` if ``stop`` is set while it waits.
    """
    delay = 0.1
    while True:
        try:
            return await operation()
        except Exception as exc:
            if not transient(exc):
                raise
            metrics.DB_RETRIES.inc()
            log.warning("unavailable (%r); retrying in %.1f s", exc, delay)
        if stop is None:
            await asyncio.sleep(delay)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                raise Abandoned
        delay = min(max_backoff, delay * 2)


def _decode(
    records: list[Record],
) -> tuple[list[tuple[int, StoredMessage]], list[tuple[Any, str, MessageOutcome | None]]]:
    """``(partition, message)`` for what decodes; a dead letter for what never will."""
    messages = []
    letters = []
    for record in records:
        try:
            messages.append((record.partition, decode(record.value or b"")))
        except Exception as exc:  # whatever a hostile record makes the decoder raise
            if isinstance(exc, ValidationError):
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                    for e in exc.errors(include_url=False, include_input=False)[:5]
                )
            else:
                problems = f"{type(exc).__name__}: {exc}"
            letter, envelope = dead_letter_for(record, f"invalid message: {problems}")
            outcome = None
            if envelope.ingest_id and envelope.station_id and envelope.chunk is not None:
                outcome = MessageOutcome(
                    envelope.ingest_id, envelope.station_id, envelope.chunk, 0, envelope.readings
                )
            letters.append((letter, "invalid_message", outcome))
    return messages, letters


def _stage_or_none(messages: list[StoredMessage], angles: frozenset[str]) -> Staged | None:
    """``stage``, or ``None`` to have the writer stage (and isolate) a group that fails to."""
    try:
        return stage(messages, angles)
    except Exception as exc:
        log.warning("staging a group failed (%r); isolating the message", exc)
        return None


def _reading_count_hint(record: Record) -> int:
    """About how many readings a record holds, without decoding it (for batch sizing)."""
    return max(1, len(record.value or b"") // 100)
