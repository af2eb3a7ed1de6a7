"""Ingest status: what the gateway accepted and what the stream processors stored of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


async def record_accepted(
    pool: asyncpg.Pool,
    *,
    ingest_id: UUID,
    org_id: str,
    token_id: UUID,
    reading_count: int,
    message_count: int,
    accepted_at: datetime,
    response_time_ms: float,
) -> None:
    await pool.execute(
        "INSERT INTO ingest.ingests (ingest_id, org_id, token_id, reading_count, message_count, "
        "accepted_at, response_time_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        ingest_id,
        org_id,
        token_id,
        reading_count,
        message_count,
        accepted_at,
        response_time_ms,
    )


async def ingest_status(pool: asyncpg.Pool, ingest_id: UUID, org_id: str) -> dict[str, Any] | None:
    """The status of one of ``org_id``'s ingests, or ``None`` if it has no such ingest."""
    row = await pool.fetchrow(
        """
        SELECT i.ingest_id, i.reading_count, i.message_count, i.accepted_at, i.response_time_ms,
               coalesce(sum(p.persisted), 0)::bigint     AS persisted_count,
               coalesce(sum(p.dead_lettered), 0)::bigint AS dead_lettered_count,
               count(p.chunk)                            AS messages_done,
               max(p.stored_at)                          AS last_stored_at
        FROM ingest.ingests i
        LEFT JOIN ingest.persisted_messages p USING (ingest_id)
        WHERE i.ingest_id = $1 AND i.org_id = $2
        GROUP BY i.ingest_id
        """,
        ingest_id,
        org_id,
    )
    if row is None:
        return None
    done = row["messages_done"] >= row["message_count"]
    if done:
        state = "completed" if row["dead_lettered_count"] == 0 else "completed_with_dead_letters"
    else:
        state = "persisting" if row["messages_done"] else "accepted"
    completed_at = row["last_stored_at"] if done else None
    return {
        "ingest_id": str(row["ingest_id"]),
        "state": state,
        "reading_count": row["reading_count"],
        "persisted_count": row["persisted_count"],
        "dead_lettered_count": row["dead_lettered_count"],
        "accepted_at": row["accepted_at"].isoformat(),
        "completed_at": completed_at.isoformat() if completed_at else None,
        "response_time_ms": row["response_time_ms"],
        "seconds_to_complete": (
            (completed_at - row["accepted_at"]).total_seconds() if completed_at else None
        ),
    }
