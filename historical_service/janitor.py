"""Housekeeping every worker process runs: expired results, and jobs nobody is running.

- A result past its expiry (default 1 h) has its file deleted; the job stays
  ``completed`` and its result endpoint answers 410.
- A ``running`` job whose lease expired ``LOST_AFTER`` ago, and which no worker
  took over (a redelivered command normally is, within seconds), ends
  ``failed`` with reason ``worker_lost`` and a ``failed`` event: never
  ``running`` forever.
- Files an attempt left behind (each worker writes ``<job>.<worker>.csv`` and
  its parts; one that crashed, or lost the job's lease and could not clean up,
  leaves them) are deleted once untouched for ``LEFTOVER_AFTER``, unless they
  are the job's result or belong to the worker that now holds its lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer

from historical_service import jobs, metrics
from schemas.historical import HistoricalJobFailed
from schemas.topics import TopicSet

log = logging.getLogger(__name__)
LOST_AFTER = timedelta(minutes=2)
LEFTOVER_AFTER = timedelta(minutes=10)


async def sweep(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    topics: TopicSet,
    lost_after: timedelta = LOST_AFTER,
    results_dir: Path | None = None,
) -> tuple[int, int]:
    """One pass; returns (results removed, jobs failed as lost)."""
    expired = await jobs.expire_results(pool)
    for path in expired:
        await asyncio.to_thread(Path(path).unlink, missing_ok=True)
    lost = await jobs.fail_lost(pool, lost_after)
    events = topics.historical_events
    for job_id, user_id in lost:
        event = HistoricalJobFailed(
            job_id=job_id,
            user_id=str(user_id),
            occurred_at=datetime.now(UTC),
            reason="worker_lost",
            detail="no worker renewed the job's lease",
        )
        await producer.send_and_wait(events.name, events.serialize(event), key=str(job_id).encode())
    metrics.JANITOR.labels(action="result_expired").inc(len(expired))
    metrics.JANITOR.labels(action="job_lost").inc(len(lost))
    if results_dir is not None:
        leftovers = await remove_leftovers(pool, results_dir)
        metrics.JANITOR.labels(action="leftover_removed").inc(leftovers)
    return len(expired), len(lost)


async def remove_leftovers(
    pool: asyncpg.Pool, results_dir: Path, untouched: timedelta = LEFTOVER_AFTER
) -> int:
    """Delete the files of attempts that are over; return how many."""
    candidates = await asyncio.to_thread(_untouched_files, results_dir, untouched)
    by_job: dict[uuid.UUID, list[Path]] = {}
    for path in candidates:
        with contextlib.suppress(ValueError):
            by_job.setdefault(uuid.UUID(path.name.split(".", 1)[0]), []).append(path)
    if not by_job:
        return 0
    known = await jobs.attempts_of(pool, list(by_job))
    doomed = []
    for job_id, paths in by_job.items():
        job = known.get(job_id)
        for path in paths:
            if job is not None and (
                str(path) == job.result_path
                or (job.status == "running" and f".{job.lease_owner}." in path.name)
            ):
                continue
            doomed.append(path)
    await asyncio.to_thread(_unlink, doomed)
    return len(doomed)


def _untouched_files(directory: Path, untouched: timedelta) -> list[Path]:
    if not directory.is_dir():
        return []
    before = time.time() - untouched.total_seconds()
    return [p for p in directory.iterdir() if p.is_file() and p.stat().st_mtime < before]


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


async def run_janitor(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    topics: TopicSet,
    stop: asyncio.Event,
    results_dir: Path | None = None,
    every: float = 30.0,
) -> None:
    while not stop.is_set():
        try:
            await sweep(pool, producer, topics, results_dir=results_dir)
        except Exception as exc:  # a pass that fails, for whatever reason, is tried again
            log.warning("janitor pass failed: %r", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
