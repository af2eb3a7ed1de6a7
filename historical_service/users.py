"""Dashboard users: bearer tokens (stored hashed), station grants and a maximum range."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg

from ingest_gateway.tokens import hash_token

PREFIX = "scadau_"


@dataclass(frozen=True)
class User:
    user_id: UUID
    name: str
    org_id: str
    all_stations: bool
    stations: frozenset[str]
    max_range: timedelta


async def create_user(
    conn: asyncpg.Connection,
    *,
    name: str,
    org_id: str,
    stations: list[str],
    max_range_days: int = 400,
) -> tuple[UUID, str]:
    secret = PREFIX + secrets.token_urlsafe(32)
    user_id = uuid4()
    everything = stations == ["*"]
    await conn.execute(
        "INSERT INTO historical.users (user_id, name, org_id, all_stations, stations, "
        "max_range_days, token_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        user_id,
        name,
        org_id,
        everything,
        [] if everything else sorted(set(stations)),
        max_range_days,
        hash_token(secret),
    )
    return user_id, secret


def _user(row: asyncpg.Record) -> User:
    return User(
        row["user_id"],
        row["name"],
        row["org_id"],
        row["all_stations"],
        frozenset(row["stations"]),
        timedelta(days=row["max_range_days"]),
    )


_COLUMNS = "user_id, name, org_id, all_stations, stations, max_range_days"


async def user_by_token(pool: asyncpg.Pool, secret: str) -> User | None:
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM historical.users WHERE token_sha256 = $1", hash_token(secret)
    )
    return _user(row) if row else None


async def user_by_id(pool: asyncpg.Pool, user_id: UUID) -> User | None:
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM historical.users WHERE user_id = $1", user_id
    )
    return _user(row) if row else None


async def denied_stations(pool: asyncpg.Pool, user: User, stations: list[str]) -> list[str]:
    """The stations of ``stations`` that ``user`` may not read, sorted.

    A user granted ``*`` reads the stations registered to their organisation,
    not every station there is.
    """
    if not user.all_stations:
        return sorted(set(stations) - user.stations)
    owned = await pool.fetch(
        "SELECT station_id FROM ingest.stations WHERE org_id = $1 AND station_id = ANY($2::text[])",
        user.org_id,
        stations,
    )
    return sorted(set(stations) - {r["station_id"] for r in owned})
