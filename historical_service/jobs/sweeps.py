"""Jobs as the janitor sees them: what no worker will end or delete any more."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple
from uuid import UUID

import asyncpg


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
