"""Checking a request's token and stations against memory, never the database.

The snapshot of ``ingest.tokens`` (:mod:`ingest_gateway.tokens`) and of station
owners is refreshed behind the requests, so the request path does not wait on
PostgreSQL (SPEC: ingest depends on Kafka alone).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg

from base.credentials import hash_secret
from base.http.requests import bearer_secret
from base.storage.stations import register_stations, registered_since
from base.transient import BoundedCalls, database_unavailable
from ingest_gateway.errors import DatabaseUnavailable, Forbidden, Unauthenticated
from ingest_gateway.tokens import Token, active_token, active_tokens

log = logging.getLogger(__name__)


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
            tokens = await active_tokens(conn)
            # A minute of overlap: a registration committed late is still seen.
            owners = await registered_since(conn, self._owners_since - timedelta(minutes=1))
        self._tokens = tokens
        self._unknown = set()
        for station, org_id, registered_at in owners:
            self._own(station, org_id)
            self._owners_since = max(self._owners_since, registered_at)

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
            return await self._calls.run(
                lambda: active_token(self._pool, digest), self._lookup_timeout
            )
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            raise DatabaseUnavailable(
                "this token is new to the gateway and the database that would confirm it "
                "is unavailable; retry",
                retry_after=5.0,
            ) from exc

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
