"""``Idempotency-Key``: a repeat within 24 hours gets the first response and publishes nothing.

The key is claimed before publishing (a row with no response yet), so two
concurrent requests with one key cannot both publish. Only a 202 is kept;
a request that failed releases its key so that the client's retry can succeed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from ingest_gateway.errors import IdempotencyConflict

WINDOW = "24 hours"


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


class IdempotencyKeys:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim(self, token_id: UUID, key: str, body: bytes) -> StoredResponse | None:
        """Claim ``key``; ``None`` means "go ahead", else the first request's response."""
        if not 1 <= len(key) <= 255:
            raise IdempotencyConflict("Idempotency-Key must be 1 to 255 characters")
        digest = hashlib.sha256(body).digest()
        async with self._pool.acquire() as conn, conn.transaction():
            # An expired key is free again.
            await conn.execute(
                f"DELETE FROM ingest.idempotency_keys WHERE token_id = $1 AND key = $2 "
                f"AND created_at < now() - interval '{WINDOW}'",
                token_id,
                key,
            )
            claimed = await conn.fetchval(
                "INSERT INTO ingest.idempotency_keys (token_id, key, request_sha256) "
                "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true",
                token_id,
                key,
                digest,
            )
            if claimed:
                return None
            row = await conn.fetchrow(
                "SELECT request_sha256, status_code, response FROM ingest.idempotency_keys "
                "WHERE token_id = $1 AND key = $2",
                token_id,
                key,
            )
        if row is None:  # released between our insert and select; the client may retry
            raise IdempotencyConflict("a request with this Idempotency-Key just failed; retry")
        if bytes(row["request_sha256"]) != digest:
            raise IdempotencyConflict("this Idempotency-Key was used with a different body")
        if row["status_code"] is None:
            raise IdempotencyConflict("a request with this Idempotency-Key is still in flight")
        return StoredResponse(row["status_code"], orjson.loads(row["response"]))

    async def complete(self, token_id: UUID, key: str, status: int, body: dict[str, Any]) -> None:
        await self._pool.execute(
            "UPDATE ingest.idempotency_keys SET status_code = $3, response = $4::jsonb "
            "WHERE token_id = $1 AND key = $2",
            token_id,
            key,
            status,
            orjson.dumps(body).decode(),
        )

    async def release(self, token_id: UUID, key: str) -> None:
        await self._pool.execute(
            "DELETE FROM ingest.idempotency_keys WHERE token_id = $1 AND key = $2 "
            "AND status_code IS NULL",
            token_id,
            key,
        )

    async def purge_expired(self) -> int:
        result = await self._pool.execute(
            f"DELETE FROM ingest.idempotency_keys WHERE created_at < now() - interval '{WINDOW}'"
        )
        return int(result.split()[-1])
