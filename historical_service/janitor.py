"""Housekeeping every worker process runs: expired results, and jobs nobody is running.

- A result past its expiry (default 1 h) has its file deleted; the job stays
  ``completed`` and its result endpoint answers 410.
- A ``running`` job whose lease expired ``LOST_AFTER`` ago, and which no worker
  took over (a redelivered command normally is, within seconds), ends
  ``failed`` with reason ``worker_lost`` and a ``failed`` event: never
  ``running`` forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from historical_service import metrics
from schemas.historical import HistoricalJobFailed
from schemas.topics import TopicSet

log = logging.getLogger(__name__)
LOST_AFTER = timedelta(minutes=2)


async def sweep(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    topics: TopicSet,
    lost_after: timedelta = LOST_AFTER,
) -> tuple[int, int]:
    """One pass; returns (results removed, jobs failed as lost)."""
    expired = await pool.fetch(
        "WITH old AS (SELECT job_id, result_path FROM historical.jobs "
        "WHERE result_path IS NOT NULL AND result_expires_at < now() FOR UPDATE) "
        "UPDATE historical.jobs j SET result_path = NULL FROM old "
        "WHERE j.job_id = old.job_id RETURNING old.result_path"
    )
    for row in expired:
        await asyncio.to_thread(Path(row["result_path"]).unlink, missing_ok=True)
    lost = await pool.fetch(
        "UPDATE historical.jobs SET status = 'failed', lease_owner = NULL, finished_at = now(), "
        "error = 'worker_lost: no worker renewed the job''s lease' "
        "WHERE status = 'running' AND lease_expires_at < now() - $1::interval "
        "RETURNING job_id, user_id",
        lost_after,
    )
    events = topics.historical_events
    for row in lost:
        event = HistoricalJobFailed(
            job_id=row["job_id"],
            user_id=str(row["user_id"]),
            occurred_at=datetime.now(UTC),
            reason="worker_lost",
            detail="no worker renewed the job's lease",
        )
        await producer.send_and_wait(
            events.name, events.serialize(event), key=str(row["job_id"]).encode()
        )
    metrics.JANITOR.labels(action="result_expired").inc(len(expired))
    metrics.JANITOR.labels(action="job_lost").inc(len(lost))
    return len(expired), len(lost)


async def run_janitor(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    topics: TopicSet,
    stop: asyncio.Event,
    every: float = 30.0,
) -> None:
    while not stop.is_set():
        try:
            await sweep(pool, producer, topics)
        except (OSError, asyncpg.PostgresError, KafkaError) as exc:
            log.warning("janitor pass failed: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
