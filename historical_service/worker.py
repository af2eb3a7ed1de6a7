"""Historical workers: run the query commands, publishing progress and the outcome as events.

Per command: the job's row is the truth and the command only a wake-up. A
command for a job that has no row (written onto the topic by anyone else) is
refused: ``failed``, reason ``forbidden``; one that does not match its job's row
is ignored. The worker runs the row's parameters for the row's user, re-checks
that user's grants, claims the job with a lease, reads the range in chunks into
a CSV file, and between chunks (at most every 0.25 s) records progress, extends
the lease and checks for cancellation. The command's offset is committed only
when the job has ended, so a worker that dies leaves the command to be
redelivered; its job's lease expires and another worker takes it.
Two consumer groups, one per lane, read the command topic; each runs only its
own lane's jobs, so a queue of exports never delays a chart.

A job whose execution raises anything but unavailability ends ``failed`` with
the reason, and the worker takes the next command. While the database or Kafka
is away, the command is retried with backoff (not committed): its job is run
again once they are back, never left ``running``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from base.storage.catalogue import catalogue_of
from base.transient import unavailable
from historical_service import jobs, metrics
from historical_service.query import SensorColumns, chunks, copy_windows, header
from historical_service.resolution import Plan, plan
from historical_service.settings import HistoricalSettings
from historical_service.users import denied_stations, user_by_id
from schemas.historical import (
    HistoricalJobCancelled,
    HistoricalJobCompleted,
    HistoricalJobFailed,
    HistoricalJobProgressed,
    Lane,
    RunHistoricalQuery,
)
from schemas.sensors import UNKNOWN
from schemas.topics import TopicSet

log = logging.getLogger(__name__)
PROGRESS_EVERY = 0.5  # seconds between progress events
HEARTBEAT_EVERY = 0.25  # seconds between lease/progress/cancel checks (and after the last window)


class Worker:
    def __init__(
        self,
        settings: HistoricalSettings,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        topics: TopicSet,
        lane: Lane,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.producer = producer
        self.topics = topics
        self.lane = lane
        self.owner = f"{lane}-{uuid.uuid4().hex[:8]}"
        self.lease = timedelta(seconds=settings.lease_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            self.topics.historical_requests.name,
            bootstrap_servers=self.settings.effective_kafka_bootstrap,
            group_id=f"{self.settings.worker_group}.{self.lane}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=3_600_000,  # a bulk export may take long; the lease guards it
            # A command could wait out a whole fetch (500 ms by default) before a worker
            # saw it, which showed as slow chart jobs (docs/decisions/0006).
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=1)
                for tp, records in batch.items():
                    for record in records:
                        if not await self._handle_until_done(record.value or b"", stop):
                            return  # stopping mid-retry: the command is redelivered
                        try:
                            await consumer.commit(
                                {TopicPartition(tp.topic, tp.partition): record.offset + 1}
                            )
                        except KafkaError as exc:
                            # Redelivered after a rebalance: its job has ended, so the
                            # next worker only finds it finished.
                            log.warning("could not commit a command: %s", exc)
        finally:
            await consumer.stop()

    async def _handle_until_done(self, value: bytes, stop: asyncio.Event) -> bool:
        """``handle``, waiting out an unavailable database or Kafka; False if stopped first."""
        delay = 0.5
        while True:
            try:
                await self.handle(value)
                return True
            except Exception as exc:
                if not unavailable(exc):  # failing the job failed: nothing to wait for
                    log.exception("giving up on a command")
                    return True
                log.warning("command deferred (%r); retrying in %.1f s", exc, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                return False
            delay = min(10.0, delay * 2)

    async def handle(self, value: bytes) -> None:
        """Run one command; raises only while the database or Kafka is unavailable."""
        try:
            command = self.topics.historical_requests.deserialize(value)
        except ValidationError as exc:
            log.warning(
                "ignoring an undecodable command: %s",
                exc.errors(include_url=False, include_input=False)[:3],
            )
            return
        if command.lane != self.lane:
            return
        try:
            await self.execute(command)
        except Exception as exc:
            if unavailable(exc):
                raise
            # An expected outcome, not a crash: the job fails with a reason, the worker goes on.
            log.exception("job %s failed", command.job_id)
            await self._fail(command, f"{type(exc).__name__}: {exc}"[:500])

    async def _fail(self, command: RunHistoricalQuery, error: str) -> None:
        # Ours if claimed, else nobody's yet; a job another worker took over is left alone.
        if await jobs.finish(
            self.pool, command.job_id, "failed", rows=0, error=error, owner=self.owner
        ) or await jobs.finish(self.pool, command.job_id, "failed", rows=0, error=error):
            await self._announce(command, HistoricalJobFailed, reason="query_failed", detail=error)

    async def execute(self, command: RunHistoricalQuery) -> None:
        row = await jobs.get_job(self.pool, command.job_id)
        if row is None:
            await self._forbid(command, job_exists=False, detail="no such job")
            return
        recorded = jobs.command_of(row, command)
        if recorded != command:
            # A forged or stale command naming a real job: the job's own command runs it.
            log.warning("ignoring a command that does not match job %s", command.job_id)
            return
        user = await user_by_id(self.pool, _uuid(recorded.user_id))
        if (
            user is None
            or await denied_stations(self.pool, user, recorded.stations)
            or (recorded.end - recorded.start > user.max_range)
        ):
            detail = "" if user is not None else "no such user, or the user was revoked"
            await self._forbid(recorded, job_exists=True, detail=detail)
            return
        # The user row, never the message, says whose catalogue describes the result.
        command = recorded.model_copy(update={"org_id": user.org_id})
        job = await self._claim(command)
        if job is None:
            return
        await self._run(command, job)

    async def _claim(self, command: RunHistoricalQuery) -> dict[str, Any] | None:
        """Claim the job, waiting out the lease of a worker that may have died."""
        while True:
            job = await jobs.claim(self.pool, command.job_id, self.owner, self.lease)
            if job is not None:
                return job
            current = await jobs.get_job(self.pool, command.job_id)
            if current is None or current["status"] in jobs.TERMINAL:
                return None
            await asyncio.sleep(1.0)

    async def _run(self, command: RunHistoricalQuery, job: dict[str, Any]) -> None:
        started = time.monotonic()
        if job["attempts"] == 1:
            wait = (_now() - job["queued_at"]).total_seconds()
            metrics.QUEUE_WAIT.labels(lane=self.lane).observe(max(0.0, wait))
        state = await self._export(command)
        metrics.DURATION.labels(lane=self.lane, state=state).observe(time.monotonic() - started)

    async def _export(self, command: RunHistoricalQuery) -> str:
        query_plan = plan(command.resolution, command.start, command.end)
        directory = self.settings.effective_results_dir
        directory.mkdir(parents=True, exist_ok=True)
        # This worker's own file: one that lost the job's lease (a window slower than the
        # lease) never writes into the file of the worker that took the job over.
        path = directory / f"{command.job_id}.{self.owner}.csv"
        path.write_text(header(query_plan))
        try:
            rows, outcome = await self._copy(command, query_plan, path)
        except BaseException:
            path.unlink(missing_ok=True)  # a failed read leaves no partial result behind
            raise
        if outcome == "cancel":
            await self._cancelled(command, rows, path)
            return "cancelled"
        ttl = timedelta(seconds=self.settings.result_ttl_seconds)
        if outcome == "lost" or not await jobs.finish(
            self.pool,
            command.job_id,
            "completed",
            rows=rows,
            result_path=str(path),
            result_ttl=ttl,
            owner=self.owner,
        ):
            log.warning(
                "job %s: lease lost to another worker; leaving it to that one", command.job_id
            )
            path.unlink(missing_ok=True)
            return "lost"
        await self._announce(
            command,
            HistoricalJobCompleted,
            rows=rows,
            result_url=f"{self.settings.public_url}/v1/historical-jobs/{command.job_id}/result",
            expires_at=_now() + ttl,
        )
        metrics.ROWS.labels(lane=self.lane).inc(rows)
        return "completed"

    async def _copy(
        self, command: RunHistoricalQuery, query_plan: Plan, path: Path
    ) -> tuple[int, Literal["running", "cancel", "lost"]]:
        """Append the range to ``path`` window by window; return the rows and how it ended.

        Between windows, at most every 0.25 s and after the last one: progress and the
        lease are recorded (``cancel`` if asked to, ``lost`` if no longer this worker's); a
        progress event is published at most every 0.5 s. A chart's windows take a few
        milliseconds each, and a database round trip after each was a fifth of its job.
        """
        windows = chunks(command.start, command.end, query_plan)
        rows, last_beat = 0, time.monotonic()
        last_event = last_beat
        catalogue = {s.name: s for s in await catalogue_of(self.pool, command.org_id)}
        names = list(dict.fromkeys(command.sensors))  # each once: the query joins on them
        known = [catalogue.get(name) for name in names]
        sensors = SensorColumns(
            names,
            [s.kind if s else UNKNOWN for s in known],
            [s.unit if s else "" for s in known],
        )
        copied = copy_windows(self.pool, path, query_plan, command.stations, sensors, windows)
        async with contextlib.aclosing(copied):
            async for n, window_rows in _numbered(copied):
                rows += window_rows
                progress = n / len(windows)
                if n < len(windows) and time.monotonic() - last_beat < HEARTBEAT_EVERY:
                    continue
                beat = await jobs.heartbeat(
                    self.pool, command.job_id, self.owner, self.lease, progress, rows
                )
                if beat != "running":
                    return rows, beat
                last_beat = time.monotonic()
                if last_beat - last_event >= PROGRESS_EVERY:
                    await self._announce(
                        command, HistoricalJobProgressed, progress=progress, rows_done=rows
                    )
                    last_event = time.monotonic()
        return rows, "running"

    async def _cancelled(self, command: RunHistoricalQuery, rows: int, path: Any) -> None:
        path.unlink(missing_ok=True)
        if await jobs.finish(self.pool, command.job_id, "cancelled", rows=rows, owner=self.owner):
            await self._announce(command, HistoricalJobCancelled, rows_done=rows)

    async def _forbid(self, command: RunHistoricalQuery, *, job_exists: bool, detail: str) -> None:
        """End the job ``failed: forbidden`` (its row, if it has one) and say so."""
        detail = detail or "the user may not read these stations or this range"
        if job_exists:  # also for a user revoked since: the job never stays queued
            await jobs.fail_forbidden(self.pool, command.job_id)
        await self._announce(command, HistoricalJobFailed, reason="forbidden", detail=detail)

    async def _announce(
        self, command: RunHistoricalQuery, event: Callable[..., Any], **fields: Any
    ) -> None:
        """Publish an event of ``command``'s job, stamped with its job, user and the time."""
        await self._publish(
            event(job_id=command.job_id, user_id=command.user_id, occurred_at=_now(), **fields)
        )

    async def _publish(self, event: Any) -> None:
        topic = self.topics.historical_events
        await self.producer.send_and_wait(
            topic.name, topic.serialize(event), key=str(event.job_id).encode()
        )


async def _numbered(items: AsyncIterator[int]) -> AsyncIterator[tuple[int, int]]:
    n = 0
    async for item in items:
        n += 1
        yield n, item


def _now() -> datetime:
    return datetime.now(UTC)


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        return uuid.UUID(int=0)
