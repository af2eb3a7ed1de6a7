"""Job state in PostgreSQL: the one place that says what a job is doing.

Every statement on ``historical.jobs`` is here, whoever runs it: the API and
``scada jobs`` (record, find, list, cancel, retry), the workers (claim, heartbeat,
finish) and the janitor (expired results, lost jobs, leftover files).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple
from uuid import UUID

import asyncpg

from historical_service.users import org_of
from schemas.historical import RunHistoricalQuery

TERMINAL = ("completed", "failed", "cancelled")

_COLUMNS = (
    "job_id, user_id, lane, stations, sensors, range_start, range_end, resolution, status, "
    "progress, rows_done, error, cancel_requested, attempts, result_path, result_expires_at, "
    "queued_at, started_at, finished_at"
)


async def insert_job(pool: asyncpg.Pool, command: RunHistoricalQuery) -> None:
    """Record the job of ``command`` as queued; a second insert of it changes nothing.

    The API records a job before publishing its command; a worker records it too,
    for commands that reached the topic some other way.
    """
    await pool.execute(
        "INSERT INTO historical.jobs (job_id, user_id, lane, stations, sensors, range_start, "
        "range_end, resolution) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (job_id) DO NOTHING",
        command.job_id,
        UUID(command.user_id),
        command.lane,
        command.stations,
        command.sensors,
        command.start,
        command.end,
        command.resolution,
    )


async def find_reusable(
    pool: asyncpg.Pool,
    *,
    user_id: UUID,
    stations: list[str],
    sensors: list[str],
    start: datetime,
    end: datetime,
    resolution: str,
) -> tuple[UUID, str] | None:
    """The user's job for exactly this query that can answer it instead of a new run.

    A queued or running one; or a completed one whose result is still kept and
    whose range received no new data since it finished
    (``telemetry.station_day_writes``, kept by the stream processors).
    """
    row = await pool.fetchrow(
        """
        SELECT j.job_id, j.status FROM historical.jobs j
        WHERE j.user_id = $1 AND j.stations = $2 AND j.sensors = $3 AND j.range_start = $4
          AND j.range_end = $5 AND j.resolution = $6 AND NOT j.cancel_requested
          AND (j.status IN ('queued', 'running')
               OR (j.status = 'completed' AND j.result_path IS NOT NULL
                   AND j.result_expires_at > now()
                   AND NOT EXISTS (
                       SELECT 1 FROM telemetry.station_day_writes w
                       WHERE w.station_id = ANY(j.stations)
                         AND w.day >= time_bucket('1 day', j.range_start)
                         AND w.day < j.range_end
                         AND w.last_stored_at > j.finished_at)))
        ORDER BY j.queued_at DESC LIMIT 1
        """,
        user_id,
        stations,
        sensors,
        start,
        end,
        resolution,
    )
    return None if row is None else (UUID(str(row["job_id"])), str(row["status"]))


async def get_job(
    pool: asyncpg.Pool, job_id: UUID, user_id: UUID | None = None
) -> dict[str, Any] | None:
    """The job, or ``None``; with ``user_id``, only if it is that user's."""
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM historical.jobs WHERE job_id = $1 "
        "AND ($2::uuid IS NULL OR user_id = $2)",
        job_id,
        user_id,
    )
    return dict(row) if row else None


async def list_jobs(
    pool: asyncpg.Pool, user_id: UUID | None, limit: int = 100
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM historical.jobs WHERE ($1::uuid IS NULL OR user_id = $1) "
        "ORDER BY queued_at DESC LIMIT $2",
        user_id,
        limit,
    )
    return [dict(r) for r in rows]


async def request_cancel(pool: asyncpg.Pool, job_id: UUID, user_id: UUID) -> str | None:
    """Mark the user's job for cancellation (a queued one is cancelled at once).

    Returns its status; ``None`` if the user has no such job.
    """
    return await _request_cancel(pool, job_id, user_id)


async def operator_cancel(pool: asyncpg.Pool, job_id: UUID) -> str | None:
    """:func:`request_cancel` for any user's job (``scada jobs cancel``)."""
    return await _request_cancel(pool, job_id, None)


async def _request_cancel(pool: asyncpg.Pool, job_id: UUID, user_id: UUID | None) -> str | None:
    # One statement for the API and the CLI: a copy of it once forgot ``finished_at``.
    status = await pool.fetchval(
        "UPDATE historical.jobs SET cancel_requested = true, "
        "status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, "
        "finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END "
        "WHERE job_id = $1 AND ($2::uuid IS NULL OR user_id = $2) RETURNING status",
        job_id,
        user_id,
    )
    return None if status is None else str(status)


async def requeue(pool: asyncpg.Pool, job_id: UUID) -> RunHistoricalQuery | None:
    """Queue a failed or cancelled job again; the command to publish for it, else ``None``."""
    row = await pool.fetchrow(
        "UPDATE historical.jobs SET status = 'queued', cancel_requested = false, error = NULL, "
        "progress = 0, rows_done = 0, finished_at = NULL, queued_at = now() "
        f"WHERE job_id = $1 AND status IN ('failed', 'cancelled') RETURNING {_COLUMNS}",
        job_id,
    )
    if row is None:
        return None
    return RunHistoricalQuery(
        job_id=job_id,
        user_id=str(row["user_id"]),
        # A revoked user's too: the worker then refuses the job, saying why.
        org_id=await org_of(pool, row["user_id"]),
        lane=row["lane"],
        stations=row["stations"],
        sensors=row["sensors"],
        start=row["range_start"],
        end=row["range_end"],
        resolution=row["resolution"],
        requested_at=datetime.now(UTC),
    )


def command_of(job: dict[str, Any], received: RunHistoricalQuery) -> RunHistoricalQuery:
    """The command the job's row stands for; what the row does not keep comes from ``received``.

    A worker runs this, never the command as received: the row is the truth about
    whose job it is and what it reads (a command naming job J with user B's stations
    would otherwise hand B's data to J's owner).
    """
    return received.model_copy(
        update={
            "user_id": str(job["user_id"]),
            "lane": job["lane"],
            "stations": list(job["stations"]),
            "sensors": list(job["sensors"]),
            "start": job["range_start"],
            "end": job["range_end"],
            "resolution": job["resolution"],
        }
    )


# Workers: a job is run under a lease, so one whose worker died is taken over.


async def claim(
    pool: asyncpg.Pool, job_id: UUID, owner: str, lease: timedelta
) -> dict[str, Any] | None:
    """Take the job if it is queued, or running under a lease that expired (its worker died)."""
    row = await pool.fetchrow(
        f"""
        UPDATE historical.jobs SET status = 'running', lease_owner = $2,
            lease_expires_at = now() + $3::interval, attempts = attempts + 1,
            started_at = coalesce(started_at, now())
        WHERE job_id = $1 AND NOT cancel_requested
          AND (status = 'queued' OR (status = 'running' AND lease_expires_at < now()))
        RETURNING {_COLUMNS}
        """,
        job_id,
        owner,
        lease,
    )
    return dict(row) if row else None


async def heartbeat(
    pool: asyncpg.Pool, job_id: UUID, owner: str, lease: timedelta, progress: float, rows: int
) -> Literal["running", "cancel", "lost"]:
    """Extend the lease and record progress: go on, ``cancel`` as asked, or ``lost`` (not ours)."""
    cancel = await pool.fetchval(
        "UPDATE historical.jobs SET lease_expires_at = now() + $3::interval, progress = $4, "
        "rows_done = $5 WHERE job_id = $1 AND lease_owner = $2 AND status = 'running' "
        "RETURNING cancel_requested",
        job_id,
        owner,
        lease,
        progress,
        rows,
    )
    if cancel is None:
        return "lost"
    return "cancel" if cancel else "running"


async def finish(
    pool: asyncpg.Pool,
    job_id: UUID,
    status: str,
    *,
    rows: int,
    error: str | None = None,
    result_path: str | None = None,
    result_ttl: timedelta | None = None,
    owner: str | None = None,
) -> bool:
    """End a job that has not ended, held by ``owner`` (``None``: by nobody yet). True if ended.

    A worker that lost the job's lease to another can thus neither complete nor fail
    nor cancel it, and nothing ends a job twice.
    """
    status_line = await pool.execute(
        "UPDATE historical.jobs SET status = $2, rows_done = $3, error = $4, result_path = $5, "
        "result_expires_at = now() + $6::interval, finished_at = now(), lease_owner = NULL, "
        "progress = CASE WHEN $2 = 'completed' THEN 1 ELSE progress END "
        "WHERE job_id = $1 AND lease_owner IS NOT DISTINCT FROM $7 "
        "AND status NOT IN ('completed', 'failed', 'cancelled')",
        job_id,
        status,
        rows,
        error,
        result_path,
        result_ttl or timedelta(0),
        owner,
    )
    return bool(status_line == "UPDATE 1")


async def fail_forbidden(pool: asyncpg.Pool, job_id: UUID) -> None:
    """End the job ``failed: forbidden`` unless it has ended, whoever holds its lease.

    Its user may no longer read what it reads (or is revoked): no worker may run it.
    """
    await pool.execute(
        "UPDATE historical.jobs SET status = 'failed', error = 'forbidden', "
        "finished_at = now() WHERE job_id = $1 AND status NOT IN "
        "('completed', 'failed', 'cancelled')",
        job_id,
    )


# The janitor: what no worker will end or delete any more.


async def expire_results(pool: asyncpg.Pool) -> list[str]:
    """Forget the results past their expiry; return their files, for the caller to delete.

    Forgotten first, so the API answers 410 for a result before its file goes.
    """
    rows = await pool.fetch(
        "WITH old AS (SELECT job_id, result_path FROM historical.jobs "
        "WHERE result_path IS NOT NULL AND result_expires_at < now() FOR UPDATE) "
        "UPDATE historical.jobs j SET result_path = NULL FROM old "
        "WHERE j.job_id = old.job_id RETURNING old.result_path"
    )
    return [str(row["result_path"]) for row in rows]


async def fail_lost(pool: asyncpg.Pool, lost_after: timedelta) -> list[tuple[UUID, UUID]]:
    """End ``failed: worker_lost`` the running jobs whose lease expired ``lost_after`` ago.

    Returns their (job_id, user_id), for the failed events.
    """
    rows = await pool.fetch(
        "UPDATE historical.jobs SET status = 'failed', lease_owner = NULL, finished_at = now(), "
        "error = 'worker_lost: no worker renewed the job''s lease' "
        "WHERE status = 'running' AND lease_expires_at < now() - $1::interval "
        "RETURNING job_id, user_id",
        lost_after,
    )
    return [(UUID(str(row["job_id"])), UUID(str(row["user_id"]))) for row in rows]


class Attempts(NamedTuple):
    """What says which of a job's files are still wanted: its result, its running attempt."""

    status: str
    lease_owner: str | None
    result_path: str | None


async def attempts_of(pool: asyncpg.Pool, job_ids: list[UUID]) -> dict[UUID, Attempts]:
    """The jobs among ``job_ids`` that exist, by id."""
    rows = await pool.fetch(
        "SELECT job_id, status, lease_owner, result_path FROM historical.jobs "
        "WHERE job_id = ANY($1::uuid[])",
        job_ids,
    )
    return {
        UUID(str(row["job_id"])): Attempts(row["status"], row["lease_owner"], row["result_path"])
        for row in rows
    }
