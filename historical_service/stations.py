"""What the dashboard lists: a user's stations, when each was last heard from, its sensors.

Both reads are small and bounded (one row per station; a few minutes of one
station), so the API answers them directly; anything longer is a job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson

from historical_service.users import User

LIVE_WITHIN = timedelta(minutes=2)
LATE_WITHIN = timedelta(minutes=30)
RECENT_LIMIT = 20_000  # readings in a live snapshot, whatever the window

_LATEST = """
SELECT s.station_id, l.last_ts, l.last_stored_at, l.last_values
FROM unnest($1::text[]) AS s(station_id)
LEFT JOIN telemetry.station_latest l USING (station_id)
ORDER BY s.station_id
"""


@dataclass(frozen=True)
class StationStatus:
    station_id: str
    last_seen: datetime | None  # timestamp of the newest stored reading
    last_stored_at: datetime | None  # when the sink last stored anything for it
    sensors: list[str]

    def health(self, now: datetime) -> str:
        """``live`` (heard within 2 min), ``late`` (30 min), ``silent``, or ``no_data``."""
        if self.last_seen is None:
            return "no_data"
        age = now - self.last_seen
        return "live" if age <= LIVE_WITHIN else "late" if age <= LATE_WITHIN else "silent"

    def view(self, now: datetime) -> dict[str, Any]:
        return {
            "station_id": self.station_id,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "last_stored_at": self.last_stored_at.isoformat() if self.last_stored_at else None,
            "health": self.health(now),
            "sensors": self.sensors,
        }


async def station_ids(pool: asyncpg.Pool, user: User) -> list[str]:
    """The stations ``user`` may read: their grants, or all of their organisation's."""
    if not user.all_stations:
        return sorted(user.stations)
    rows = await pool.fetch(
        "SELECT station_id FROM ingest.stations WHERE org_id = $1 ORDER BY station_id",
        user.org_id,
    )
    return [r["station_id"] for r in rows]


async def statuses(pool: asyncpg.Pool, stations: list[str]) -> list[StationStatus]:
    rows = await pool.fetch(_LATEST, stations)
    return [
        StationStatus(
            r["station_id"],
            r["last_ts"],
            r["last_stored_at"],
            sorted(orjson.loads(r["last_values"])) if r["last_values"] else [],
        )
        for r in rows
    ]


async def recent_readings(
    pool: asyncpg.Pool, station_id: str, since: datetime
) -> list[tuple[datetime, dict[str, float | None]]]:
    """The station's stored readings from ``since`` on, oldest first (at most 20,000)."""
    rows = await pool.fetch(
        'SELECT ts, "values" FROM (SELECT ts, "values" FROM telemetry.station_readings '
        "WHERE station_id = $1 AND ts >= $2 ORDER BY ts DESC LIMIT $3) r ORDER BY ts",
        station_id,
        since,
        RECENT_LIMIT,
    )
    return [(r["ts"], orjson.loads(r["values"])) for r in rows]


async def unreported_sensors(
    pool: asyncpg.Pool, stations: list[str], sensors: list[str]
) -> list[str]:
    """The sensors of ``sensors`` none of ``stations`` has ever had stored, sorted.

    ``station_latest`` (one row per station) knows nearly every sensor a station has
    sent; one it lacks (a sensor only ever merged into readings already stored) is
    looked for in the 6-hour rollups before it is called unreported. A job for a
    misspelt sensor is refused instead of completing empty.
    """
    reported = await pool.fetch(
        "SELECT DISTINCT k.sensor FROM telemetry.station_latest l "
        "CROSS JOIN LATERAL jsonb_object_keys(l.last_values) AS k(sensor) "
        "WHERE l.station_id = ANY($1::text[]) AND k.sensor = ANY($2::text[])",
        stations,
        sensors,
    )
    missing = sorted(set(sensors) - {r["sensor"] for r in reported})
    if not missing:
        return []
    rolled = await pool.fetch(
        "SELECT DISTINCT k.sensor FROM telemetry.station_rollup_6h r "
        "CROSS JOIN LATERAL jsonb_object_keys(r.stats) AS k(sensor) "
        "WHERE r.station_id = ANY($1::text[]) AND k.sensor = ANY($2::text[])",
        stations,
        missing,
    )
    return sorted(set(missing) - {r["sensor"] for r in rolled})
