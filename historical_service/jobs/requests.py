"""Jobs as the API and ``scada jobs`` see them: record, reuse, read, cancel, retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args
from uuid import UUID

import asyncpg

from historical_service.jobs.columns import COLUMNS, TERMINAL
from historical_service.users import org_of
from schemas.historical import Lane, RunHistoricalQuery


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
    org_id: str,
    stations: list[str],
    sensors: list[str],
    start: datetime,
    end: datetime,
    resolution: str,
) -> tuple[UUID, str] | None:
    """The user's job for exactly this query that can answer it instead of a new run.

    A queued or running one; or a completed one whose result is still kept and
    whose range received no new data since it finished
    (``telemetry.station_day_writes``, kept by the stream processors) and whose
    organisation's sensor catalogue has not changed since (``catalogue.org_changes``).
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
                         AND w.last_stored_at > j.finished_at)
                   AND NOT EXISTS (
                       SELECT 1 FROM catalogue.org_changes c
                       WHERE c.org_id = $7 AND c.changed_at > j.finished_at)))
        ORDER BY j.queued_at DESC LIMIT 1
        """,
        user_id,
        stations,
        sensors,
        start,
        end,
        resolution,
        org_id,
    )
    return None if row is None else (UUID(str(row["job_id"])), str(row["status"]))


async def get_job(
    pool: asyncpg.Pool, job_id: UUID, user_id: UUID | None = None
) -> dict[str, Any] | None:
    """The job, or ``None``; with ``user_id``, only if it is that user's."""
    row = await pool.fetchrow(
        f"SELECT {COLUMNS} FROM historical.jobs WHERE job_id = $1 "
        "AND ($2::uuid IS NULL OR user_id = $2)",
        job_id,
        user_id,
    )
    return dict(row) if row else None


async def list_jobs(
    pool: asyncpg.Pool, user_id: UUID | None, limit: int = 100
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        f"SELECT {COLUMNS} FROM historical.jobs WHERE ($1::uuid IS NULL OR user_id = $1) "
        "ORDER BY queued_at DESC LIMIT $2",
        user_id,
        limit,
    )
    return [dict(r) for r in rows]


@dataclass(frozen=True)
class CancelOutcome:
    status: str
    """The job's status after the request (``cancelled`` at once for a queued job)."""
    requested: bool
    """False if the job had already ended: nothing was asked of it."""


async def request_cancel(pool: asyncpg.Pool, job_id: UUID, user_id: UUID) -> CancelOutcome | None:
    """Mark the user's job for cancellation (a queued one is cancelled at once).

    ``None`` if the user has no such job; an ended job is left as it is.
    """
    return await _request_cancel(pool, job_id, user_id)


async def operator_cancel(pool: asyncpg.Pool, job_id: UUID) -> CancelOutcome | None:
    """:func:`request_cancel` for any user's job (``scada jobs cancel``)."""
    return await _request_cancel(pool, job_id, None)


async def _request_cancel(
    pool: asyncpg.Pool, job_id: UUID, user_id: UUID | None
) -> CancelOutcome | None:
    # One statement for the API and the CLI: a copy of it once forgot ``finished_at``.
    async with pool.acquire() as conn:
        status = await conn.fetchval(
            "UPDATE historical.jobs SET cancel_requested = true, "
            "status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, "
            "finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END "
            "WHERE job_id = $1 AND ($2::uuid IS NULL OR user_id = $2) "
            "AND status <> ALL($3::text[]) RETURNING status",
            job_id,
            user_id,
            sorted(TERMINAL),
        )
        if status is not None:
            return CancelOutcome(str(status), requested=True)
        ended = await conn.fetchval(
            "SELECT status FROM historical.jobs "
            "WHERE job_id = $1 AND ($2::uuid IS NULL OR user_id = $2)",
            job_id,
            user_id,
        )
    return None if ended is None else CancelOutcome(str(ended), requested=False)


async def requeue(pool: asyncpg.Pool, job_id: UUID) -> RunHistoricalQuery | None:
    """Queue a failed or cancelled job again; the command to publish for it, else ``None``."""
    row = await pool.fetchrow(
        "UPDATE historical.jobs SET status = 'queued', cancel_requested = false, error = NULL, "
        "progress = 0, rows_done = 0, finished_at = NULL, queued_at = now() "
        f"WHERE job_id = $1 AND status IN ('failed', 'cancelled') RETURNING {COLUMNS}",
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


async def jobs_with_prefix(pool: asyncpg.Pool, prefix: str, limit: int = 10) -> list[UUID]:
    """Ids of the jobs whose id starts with ``prefix``, oldest first, at most ``limit``.

    For ``scada jobs show`` and the like, which accept an id's unique prefix as git
    does: two ids back are enough to call a prefix ambiguous, a few more to list them.
    """
    rows = await pool.fetch(
        "SELECT job_id FROM historical.jobs WHERE starts_with(job_id::text, lower($1)) "
        "ORDER BY queued_at, job_id LIMIT $2",
        prefix,
        limit,
    )
    return [UUID(str(r["job_id"])) for r in rows]


async def queue_by_lane(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Per lane (every lane, idle ones too): how many jobs wait, and since when the oldest."""
    rows = await pool.fetch(
        "SELECT l.lane, count(j.job_id) AS queued, min(j.queued_at) AS oldest_queued_at, "
        "extract(epoch FROM now() - min(j.queued_at))::float8 AS oldest_wait_seconds "
        "FROM unnest($1::text[]) AS l(lane) "
        "LEFT JOIN historical.jobs j ON j.lane = l.lane AND j.status = 'queued' "
        "GROUP BY l.lane ORDER BY array_position($1::text[], l.lane)",
        list(get_args(Lane)),
    )
    return [dict(r) for r in rows]
