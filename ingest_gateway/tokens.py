"""Write tokens: creating them, and checking a request's token and stations.

A token is a :mod:`base.credentials` secret (``scada_`` + 256 random bits); only
its SHA-256 is stored.
Requests are checked against an in-memory snapshot (:class:`TokenStore`), so
the request path does not touch the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from base.credentials import STATION_TOKEN_PREFIX, hash_secret, new_secret
from base.http.requests import bearer_secret
from base.storage.stations import register_stations
from base.transient import BoundedCalls, database_unavailable
from ingest_gateway.errors import DatabaseUnavailable, Forbidden, Unauthenticated

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Token:
    token_id: UUID
    org_id: str
    all_stations: bool
    stations: frozenset[str]


async def create_token(
    conn: asyncpg.Connection, *, org_id: str, stations: list[str], name: str = ""
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


class TokenStore:
    """Tokens and station owners served from memory, refreshed from the database behind.

    The request path reads only memory (SPEC: ingest depends on Kafka alone):

    - every ``refresh_seconds`` the non-revoked tokens are reloaded in full and new
      station registrations read; **a revoked token stops working within
      ``refresh_seconds``** (default 5 s) while the database is up;
    - while the database is away the last snapshot keeps serving: revoking needs the
      database too, so only a revocation in the last interval before an outage waits
      for it to end;
    - a token not in the snapshot (created since the last refresh) is looked up once,
      with ``lookup_timeout``; if the database cannot answer, :class:`DatabaseUnavailable`
      (503, retry); an unknown secret is remembered as unknown until the next refresh;
    - a ``'*'`` token registers a station it is the first to write (the database row
      decides the owner); an organisation registers at most ``max_stations_per_org``
      that way, and a new station during an outage is a 503.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        refresh_seconds: float = 5.0,
        lookup_timeout: float = 1.0,
        max_stations_per_org: int = 10_000,
        calls: BoundedCalls | None = None,
    ) -> None:
        self._pool = pool
        self.refresh_seconds = refresh_seconds
        self._lookup_timeout = lookup_timeout
        self._max_stations = max_stations_per_org
        self._tokens: dict[bytes, Token] = {}
        self._unknown: set[bytes] = set()
        self._owners: dict[str, str] = {}  # station ownership never changes once registered
        self._org_stations: Counter[str] = Counter()
        self._owners_since = datetime(1970, 1, 1, tzinfo=UTC)
        self._calls = calls or BoundedCalls()

    async def refresh(self) -> None:
        """Reload the tokens and read newly registered stations (raises if the database is away)."""
        async with self._pool.acquire(timeout=self._lookup_timeout * 5) as conn:
            rows = await conn.fetch(
                "SELECT token_sha256, token_id, org_id, all_stations, stations FROM ingest.tokens "
                "WHERE revoked_at IS NULL",
                timeout=30,
            )
            # A minute of overlap: a registration committed late is still seen.
            owners = await conn.fetch(
                "SELECT station_id, org_id, created_at FROM ingest.stations "
                "WHERE created_at >= $1::timestamptz - interval '1 minute'",
                self._owners_since,
                timeout=30,
            )
        self._tokens = {bytes(r["token_sha256"]): _token(r) for r in rows}
        self._unknown = set()
        for row in owners:
            self._own(row["station_id"], row["org_id"])
            self._owners_since = max(self._owners_since, row["created_at"])

    async def keep_fresh(self) -> None:
        """Refresh every ``refresh_seconds`` until cancelled; an outage only delays it."""
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.refresh()
            except Exception as exc:  # the snapshot keeps serving; try again next time
                log.warning("could not refresh tokens (%r); serving the last snapshot", exc)

    async def authenticate(self, authorization: str | None) -> Token:
        digest = hash_secret(bearer_secret(authorization, "station token"))
        token = self._tokens.get(digest)
        if token is not None:
            return token
        if digest not in self._unknown:
            token = await self._lookup(digest)
            if token is not None:
                self._tokens[digest] = token
                return token
            if len(self._unknown) < 100_000:
                self._unknown.add(digest)
        raise Unauthenticated("the token is unknown or revoked")

    async def _lookup(self, digest: bytes) -> Token | None:
        try:
            row = await self._calls.run(
                lambda: self._pool.fetchrow(
                    "SELECT token_id, org_id, all_stations, stations FROM ingest.tokens "
                    "WHERE token_sha256 = $1 AND revoked_at IS NULL",
                    digest,
                ),
                self._lookup_timeout,
            )
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            raise DatabaseUnavailable(
                "this token is new to the gateway and the database that would confirm it "
                "is unavailable; retry",
                retry_after=5.0,
            ) from exc
        return None if row is None else _token(row)

    async def authorize(self, token: Token, stations: set[str]) -> None:
        """Raise :class:`Forbidden` naming every station ``token`` may not write."""
        if not token.all_stations:
            denied = sorted(stations - token.stations)
        else:
            unknown = sorted(s for s in stations if s not in self._owners)
            if unknown:
                await self._register(token.org_id, unknown)
            denied = sorted(s for s in stations if self._owners.get(s) != token.org_id)
        if denied:
            shown = ", ".join(denied[:20]) + (" ..." if len(denied) > 20 else "")
            raise Forbidden(f"this token may not write station(s): {shown}")

    async def _register(self, org_id: str, stations: list[str]) -> None:
        if self._org_stations[org_id] + len(stations) > self._max_stations:
            raise Forbidden(
                f"registering {len(stations)} new station(s) would take organisation {org_id} "
                f"past the {self._max_stations} stations its '*' tokens may register; "
                "an operator can register more with 'scada tokens create --stations ...'"
            )
        try:
            owners = await self._calls.run(
                lambda: register_stations(self._pool, org_id, stations), self._lookup_timeout * 2
            )
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            raise DatabaseUnavailable(
                f"new station(s) {', '.join(stations[:5])} cannot be registered while the "
                "database is unavailable; readings of known stations are accepted; retry",
                retry_after=5.0,
            ) from exc
        for station, owner in owners.items():
            self._own(station, owner)

    def _own(self, station: str, org_id: str) -> None:
        if station not in self._owners:
            self._owners[station] = org_id
            self._org_stations[org_id] += 1


def _token(row: Any) -> Token:
    return Token(row["token_id"], row["org_id"], row["all_stations"], frozenset(row["stations"]))
