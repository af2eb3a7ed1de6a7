"""Ingest status: what the gateway accepted and what the stream processors stored of it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from ingest_gateway.local_store import AcceptedIngest


async def ingest_status(
    pool: asyncpg.Pool, ingest_id: UUID, org_id: str, *, timeout: float | None = None
) -> dict[str, Any] | None:
    """The status of one of ``org_id``'s ingests, or ``None`` if none is recorded (yet).

    The stream processors write the ingest's row with its first stored message.
    """
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
        timeout=timeout,
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


def accepted_status(ingest: AcceptedIngest, *, storage_available: bool) -> dict[str, Any]:
    """The status of an ingest this gateway accepted and of which nothing is recorded as stored.

    ``persisted_count`` is ``None`` when the database could not be asked.
    """
    return {
        "ingest_id": str(ingest.ingest_id),
        "state": "accepted",
        "reading_count": ingest.reading_count,
        "persisted_count": 0 if storage_available else None,
        "dead_lettered_count": 0 if storage_available else None,
        "accepted_at": ingest.accepted_at.isoformat(),
        "completed_at": None,
        "response_time_ms": ingest.response_time_ms,
        "seconds_to_complete": None,
    }
