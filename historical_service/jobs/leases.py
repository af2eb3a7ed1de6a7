"""Jobs as the workers see them: a job is run under a lease, so one whose worker died
is taken over; a finished job is finished once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg

from historical_service.jobs.columns import COLUMNS


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
        RETURNING {COLUMNS}
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
