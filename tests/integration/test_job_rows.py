"""Job rows written by the CLI follow the API's rules: one module writes them for both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from base.kafka_topics import ensure_topics
from historical_service import jobs
from schemas.historical import RunHistoricalQuery
from schemas.topics import TopicSet
from tests.backends import Backends
from tests.history import new_user
from tests.pipeline import wait_for

T0 = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    opened = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        yield opened
    finally:
        await opened.close()


async def _queued(pool: asyncpg.Pool, user_id: UUID, station: str) -> UUID:
    """A queued job of the user's; no worker runs in these tests, so it stays queued."""
    command = RunHistoricalQuery(
        job_id=uuid4(),
        user_id=str(user_id),
        org_id="org",
        lane="bulk",
        stations=[station],
        sensors=["t"],
        start=T0,
        end=T0 + timedelta(days=1),
        resolution="raw",
        requested_at=datetime.now(UTC),
    )
    await jobs.insert_job(pool, command)
    return command.job_id


def _cancel_state(job: dict[str, Any] | None) -> tuple[Any, ...]:
    assert job is not None
    return job["status"], job["cancel_requested"], job["finished_at"] is not None


async def test_the_cli_cancels_a_queued_job_as_the_api_does(
    backends: Backends, database_url: str, unique: str, pool: asyncpg.Pool
) -> None:
    user_id, _ = await new_user(database_url, [f"{unique}-c"])
    by_api, by_cli = [await _queued(pool, user_id, f"{unique}-c") for _ in range(2)]
    assert await jobs.request_cancel(pool, by_api, user_id) == jobs.CancelOutcome("cancelled", True)
    cli = await asyncio.to_thread(backends.scada, "jobs", "cancel", str(by_cli))
    assert cli.returncode == 0, cli.stderr
    assert "status cancelled" in cli.stdout
    api_row, cli_row = [await jobs.get_job(pool, j) for j in (by_api, by_cli)]
    # The CLI's own copy of the statement once left a cancelled job without an end time.
    assert _cancel_state(cli_row) == _cancel_state(api_row) == ("cancelled", True, True)

    missing = await asyncio.to_thread(backends.scada, "jobs", "cancel", str(uuid4()))
    assert missing.returncode == 1
    assert "no such job" in missing.stderr


async def test_a_user_cancels_only_their_own_job_and_an_operator_any(
    database_url: str, unique: str, pool: asyncpg.Pool
) -> None:
    owner, _ = await new_user(database_url, [f"{unique}-o"])
    other, _ = await new_user(database_url, [f"{unique}-p"])
    job_id = await _queued(pool, owner, f"{unique}-o")
    assert await jobs.request_cancel(pool, job_id, other) is None
    assert _cancel_state(await jobs.get_job(pool, job_id)) == ("queued", False, False)
    assert await jobs.operator_cancel(pool, job_id) == jobs.CancelOutcome("cancelled", True)
    # Ended: left as it is, and said so (the API answers 409, the CLI exits 1).
    assert await jobs.operator_cancel(pool, job_id) == jobs.CancelOutcome("cancelled", False)
    assert _cancel_state(await jobs.get_job(pool, job_id)) == ("cancelled", True, True)


async def test_the_cli_retries_a_cancelled_job_with_its_recorded_command(
    backends: Backends,
    database_url: str,
    unique: str,
    pool: asyncpg.Pool,
    consumer_factory: Any,
) -> None:
    station = f"{unique}-r"
    user_id, _ = await new_user(database_url, [station])
    job_id = await _queued(pool, user_id, station)
    topics = TopicSet.for_namespace(unique)
    await ensure_topics(backends.kafka_bootstrap, (topics.historical_requests,))

    running = await asyncio.to_thread(
        backends.scada, "jobs", "retry", str(job_id), namespace=unique
    )
    assert running.returncode == 1  # a queued job is not retried
    assert "only a failed or cancelled job" in running.stderr

    assert await jobs.request_cancel(pool, job_id, user_id) == jobs.CancelOutcome("cancelled", True)
    retried = await asyncio.to_thread(
        backends.scada, "jobs", "retry", str(job_id), namespace=unique
    )
    assert retried.returncode == 0, retried.stderr
    assert "queued again" in retried.stdout
    job = await jobs.get_job(pool, job_id)
    assert job is not None
    assert (job["status"], job["cancel_requested"], job["finished_at"]) == ("queued", False, None)

    requests = topics.historical_requests
    consumer = await consumer_factory(requests.name)

    async def published() -> list[RunHistoricalQuery]:
        batch = await consumer.getmany(timeout_ms=500)
        return [requests.deserialize(r.value) for rs in batch.values() for r in rs]

    (command,) = await wait_for(published, timeout=30)
    assert (command.job_id, command.user_id, command.org_id) == (job_id, str(user_id), "org")
    assert (command.stations, command.start, command.end) == ([station], T0, T0 + timedelta(days=1))


async def test_a_forbidden_job_ends_failed_unless_it_had_ended(
    database_url: str, unique: str, pool: asyncpg.Pool
) -> None:
    user_id, _ = await new_user(database_url, [f"{unique}-f"])
    running, ended = [await _queued(pool, user_id, f"{unique}-f") for _ in range(2)]
    assert await jobs.claim(pool, running, "bulk-someone", timedelta(minutes=1)) is not None
    assert await jobs.operator_cancel(pool, ended) == jobs.CancelOutcome("cancelled", True)
    for job_id in (running, ended):
        await jobs.fail_forbidden(pool, job_id)
    failed, cancelled = [await jobs.get_job(pool, j) for j in (running, ended)]
    assert failed is not None
    assert (failed["status"], failed["error"]) == ("failed", "forbidden")
    assert cancelled is not None
    assert (cancelled["status"], cancelled["error"]) == ("cancelled", None)
