"""Which organisation owns a station: the ``ingest.stations`` row, written once.

The one rule (README, "Who owns a station"): a station belongs to the first
organisation that registers it — by a token or user created for it, or by the
first reading a ``'*'`` token writes — and never changes owner.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from base.storage.database import Connection


async def register_stations(
    conn: Connection | asyncpg.Pool, org_id: str, stations: list[str]
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


async def registered_since(conn: Connection, since: datetime) -> list[tuple[str, str, datetime]]:
    """``(station, owner, registered_at)`` of every station registered from ``since`` on."""
    rows = await conn.fetch(
        "SELECT station_id, org_id, created_at FROM ingest.stations WHERE created_at >= $1",
        since,
        timeout=30,
    )
    return [(r["station_id"], r["org_id"], r["created_at"]) for r in rows]
