"""The ``ingest.tokens`` table: every statement on it is here.

A token is a :mod:`base.credentials` secret (``scada_`` + 256 random bits); only
its SHA-256 is stored. The gateway checks requests against a snapshot of these
rows (:mod:`ingest_gateway.token_store`); operators create, list and revoke them
with ``scada tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from base.credentials import STATION_TOKEN_PREFIX, hash_secret, new_secret
from base.storage.database import Connection
from base.storage.stations import register_stations
from ingest_gateway.errors import Forbidden


@dataclass(frozen=True)
class Token:
    token_id: UUID
    org_id: str
    all_stations: bool
    stations: frozenset[str]


async def create_token(
    conn: Connection, *, org_id: str, stations: list[str], name: str = ""
) -> tuple[UUID, str]:
    """Create a token for ``stations`` (``["*"]``: all the org's stations); return id and secret.

    Listed stations are registered to the org; one owned by another org is refused.
    """
    all_stations = stations == ["*"]
    listed = [] if all_stations else sorted(set(stations))
    secret = new_secret(STATION_TOKEN_PREFIX)
    token_id = uuid4()
    async with conn.transaction():
        owners = await register_stations(conn, org_id, listed)
        foreign = sorted(s for s, owner in owners.items() if owner != org_id)
        if foreign:
            raise Forbidden(f"stations {foreign} belong to another organisation")
        await conn.execute(
            "INSERT INTO ingest.tokens (token_id, org_id, name, all_stations, stations, "
            "token_sha256) VALUES ($1, $2, $3, $4, $5, $6)",
            token_id,
            org_id,
            name,
            all_stations,
            listed,
            hash_secret(secret),
        )
    return token_id, secret


@dataclass(frozen=True)
class TokenRow:
    """A token as ``scada tokens list`` shows it (never its secret)."""

    token_id: UUID
    org_id: str
    name: str
    stations: str
    created_at: datetime
    revoked_at: datetime | None


async def list_tokens(conn: Connection) -> list[TokenRow]:
    rows = await conn.fetch(
        "SELECT token_id, org_id, name, CASE WHEN all_stations THEN '*' ELSE "
        "array_to_string(stations, ',') END AS stations, created_at, revoked_at "
        "FROM ingest.tokens ORDER BY created_at"
    )
    return [TokenRow(**dict(r)) for r in rows]


async def revoke_token(conn: Connection, token_id: UUID) -> bool:
    """Revoke an active token; ``False`` if there is none with that id."""
    status = await conn.execute(
        "UPDATE ingest.tokens SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL",
        token_id,
    )
    return str(status).endswith(" 1")


async def active_tokens(conn: Connection) -> dict[bytes, Token]:
    """Every token not revoked, by the SHA-256 of its secret."""
    rows = await conn.fetch(
        "SELECT token_sha256, token_id, org_id, all_stations, stations FROM ingest.tokens "
        "WHERE revoked_at IS NULL",
        timeout=30,
    )
    return {bytes(r["token_sha256"]): _token(r) for r in rows}


async def active_token(pool: asyncpg.Pool, digest: bytes) -> Token | None:
    row = await pool.fetchrow(
        "SELECT token_id, org_id, all_stations, stations FROM ingest.tokens "
        "WHERE token_sha256 = $1 AND revoked_at IS NULL",
        digest,
    )
    return None if row is None else _token(row)


def _token(row: Any) -> Token:
    return Token(row["token_id"], row["org_id"], row["all_stations"], frozenset(row["stations"]))
