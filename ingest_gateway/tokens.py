"""Write tokens: creating them, and checking a request's token and stations.

A token is ``scada_`` + 43 URL-safe characters (256 random bits). Only its
SHA-256 is stored; a fast hash is enough for a secret of that entropy.
Lookups are cached for ``ttl`` seconds so the hot path rarely touches the
database; a revoked token stops working within that time.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from uuid import UUID, uuid4

import asyncpg

from ingest_gateway.errors import Forbidden, Unauthenticated

PREFIX = "scada_"


@dataclass(frozen=True)
class Token:
    token_id: UUID
    org_id: str
    all_stations: bool
    stations: frozenset[str]


def hash_token(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


async def create_token(
    conn: asyncpg.Connection, *, org_id: str, stations: list[str], name: str = ""
) -> tuple[UUID, str]:
    """Create a token for ``stations`` (``["*"]``: all the org's stations); return id and secret.

    Listed stations are registered to the org; one owned by another org is refused.
    """
    all_stations = stations == ["*"]
    listed = [] if all_stations else sorted(set(stations))
    secret = PREFIX + secrets.token_urlsafe(32)
    token_id = uuid4()
    async with conn.transaction():
        owners = await _register_stations(conn, org_id, listed)
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
            hash_token(secret),
        )
    return token_id, secret


async def _register_stations(
    conn: asyncpg.Connection | asyncpg.Pool, org_id: str, stations: list[str]
) -> dict[str, str]:
    """Register unknown ``stations`` to ``org_id``; return every listed station's owner."""
    if not stations:
        return {}
    await conn.execute(
        "INSERT INTO ingest.stations (station_id, org_id) SELECT unnest($1::text[]), $2 "
        "ON CONFLICT (station_id) DO NOTHING",
        stations,
        org_id,
    )
    rows = await conn.fetch(
        "SELECT station_id, org_id FROM ingest.stations WHERE station_id = ANY($1::text[])",
        stations,
    )
    return {r["station_id"]: r["org_id"] for r in rows}


class TokenStore:
    """Authenticates bearer tokens and authorises stations, with a short-lived cache."""

    def __init__(self, pool: asyncpg.Pool, *, ttl: float = 30.0) -> None:
        self._pool = pool
        self._ttl = ttl
        self._tokens: dict[bytes, tuple[Token | None, float]] = {}
        self._owners: dict[str, str] = {}  # station ownership never changes once registered

    async def authenticate(self, authorization: str | None) -> Token:
        scheme, _, secret = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("send the station token as 'Authorization: Bearer <token>'")
        digest = hash_token(secret.strip())
        cached = self._tokens.get(digest)
        if cached is None or cached[1] < time.monotonic():
            row = await self._pool.fetchrow(
                "SELECT token_id, org_id, all_stations, stations FROM ingest.tokens "
                "WHERE token_sha256 = $1 AND revoked_at IS NULL",
                digest,
            )
            token = (
                Token(
                    row["token_id"], row["org_id"], row["all_stations"], frozenset(row["stations"])
                )
                if row
                else None
            )
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            cached = (token, time.monotonic() + self._ttl)
            self._tokens[digest] = cached
        if cached[0] is None:
            raise Unauthenticated("the token is unknown or revoked")
        return cached[0]

    async def authorize(self, token: Token, stations: set[str]) -> None:
        """Raise :class:`Forbidden` naming every station ``token`` may not write."""
        if not token.all_stations:
            denied = sorted(stations - token.stations)
        else:
            unknown = [s for s in stations if s not in self._owners]
            if unknown:
                self._owners.update(await _register_stations(self._pool, token.org_id, unknown))
            denied = sorted(s for s in stations if self._owners.get(s) != token.org_id)
        if denied:
            shown = ", ".join(denied[:20]) + (" ..." if len(denied) > 20 else "")
            raise Forbidden(f"this token may not write station(s): {shown}")
