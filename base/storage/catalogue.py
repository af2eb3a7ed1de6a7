"""The sensor catalogue's rows (``catalogue.sensors``): the one owner of the table.

The defaults (org ``''``) are written from :data:`schemas.sensors.DEFAULT_SENSORS` by
:func:`sync_defaults` whenever the database is prepared; an organisation's rows
override them sensor by sensor.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from base.storage.connection import Connection
from schemas.sensors import DEFAULT_SENSORS, UNKNOWN, Sensor, SensorSpec

DEFAULTS_ORG = ""
MAX_ENTRIES_PER_ORG = 256
"""An organisation's own entries at most (the sink handles every angle name of all of them)."""
_COLUMNS = "sensor, display_name, unit, kind, valid_min, valid_max, decimals"
_UPSERT = (
    f"INSERT INTO catalogue.sensors (org_id, {_COLUMNS}) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
    "ON CONFLICT (org_id, sensor) DO UPDATE SET display_name = excluded.display_name, "
    "unit = excluded.unit, kind = excluded.kind, valid_min = excluded.valid_min, "
    "valid_max = excluded.valid_max, decimals = excluded.decimals, updated_at = now() "
    "WHERE (catalogue.sensors.display_name, catalogue.sensors.unit, catalogue.sensors.kind, "
    "catalogue.sensors.valid_min, catalogue.sensors.valid_max, catalogue.sensors.decimals) "
    "IS DISTINCT FROM (excluded.display_name, excluded.unit, excluded.kind, "
    "excluded.valid_min, excluded.valid_max, excluded.decimals)"
)


async def sync_defaults(conn: Connection) -> None:
    """Make the default rows exactly :data:`DEFAULT_SENSORS` (added, changed, removed).

    Upserts, not delete-and-insert: every service prepares the database as it starts,
    and concurrent upserts of the same rows cannot collide.
    """
    await conn.executemany(_UPSERT, [(DEFAULTS_ORG, *_values(s.name, s)) for s in DEFAULT_SENSORS])
    await conn.execute(
        "DELETE FROM catalogue.sensors WHERE org_id = $1 AND sensor <> ALL($2::text[])",
        DEFAULTS_ORG,
        [s.name for s in DEFAULT_SENSORS],
    )


def _values(name: str, spec: SensorSpec) -> tuple[object, ...]:
    return (
        name,
        spec.display_name,
        spec.unit,
        spec.kind,
        spec.valid_min,
        spec.valid_max,
        spec.decimals,
    )


def _sensor(row: asyncpg.Record, source: str) -> Sensor:
    return Sensor(
        name=row["sensor"],
        display_name=row["display_name"],
        unit=row["unit"],
        kind=row["kind"],
        valid_min=row["valid_min"],
        valid_max=row["valid_max"],
        decimals=row["decimals"],
        source=source,
    )


async def catalogue_of(
    conn: Connection | asyncpg.Pool, org_id: str, seen: Iterable[str] = ()
) -> list[Sensor]:
    """``org_id``'s catalogue, by name: its own rows, else the defaults; and each sensor of
    ``seen`` (what its stations sent) that neither names, as ``unknown``."""
    rows = await conn.fetch(
        f"SELECT org_id, {_COLUMNS} FROM catalogue.sensors WHERE org_id = ANY($1::text[])",
        [DEFAULTS_ORG, org_id],
    )
    found: dict[str, Sensor] = {}
    for row in sorted(rows, key=lambda r: r["org_id"] != DEFAULTS_ORG):  # defaults first
        source = "default" if row["org_id"] == DEFAULTS_ORG else "organisation"
        found[row["sensor"]] = _sensor(row, source)
    for name in seen:
        if name not in found:
            found[name] = Sensor(
                name=name, display_name=name, kind="instantaneous", decimals=2, source=UNKNOWN
            )
    return [found[name] for name in sorted(found)]


async def set_sensor(
    conn: Connection | asyncpg.Pool, org_id: str, name: str, spec: SensorSpec
) -> None:
    """Create or replace ``org_id``'s entry for ``name``.

    :class:`ValueError` for the defaults' org (``''``, written from code only) and for
    an entry past :data:`MAX_ENTRIES_PER_ORG`.
    """
    _not_the_defaults(org_id)
    count = await conn.fetchval(
        "SELECT count(*) FILTER (WHERE sensor <> $2) FROM catalogue.sensors WHERE org_id = $1",
        org_id,
        name,
    )
    if count >= MAX_ENTRIES_PER_ORG:
        raise ValueError(
            f"organisation {org_id} has {count} entries of its own, the most it may have"
        )
    await conn.execute(_UPSERT, org_id, *_values(name, spec))
    await _changed(conn, org_id)


async def remove_sensor(conn: Connection | asyncpg.Pool, org_id: str, name: str) -> bool:
    """Drop ``org_id``'s own entry for ``name`` (the default, if any, applies again)."""
    _not_the_defaults(org_id)
    status = await conn.execute(
        "DELETE FROM catalogue.sensors WHERE org_id = $1 AND sensor = $2", org_id, name
    )
    if status != "DELETE 1":
        return False
    await _changed(conn, org_id)
    return True


def _not_the_defaults(org_id: str) -> None:
    if org_id == DEFAULTS_ORG:
        raise ValueError("the defaults are schemas/sensors.py's; name an organisation")


async def _changed(conn: Connection | asyncpg.Pool, org_id: str) -> None:
    """Record when ``org_id``'s catalogue last changed: results older than it are not reused."""
    await conn.execute(
        "INSERT INTO catalogue.org_changes (org_id, changed_at) VALUES ($1, now()) "
        "ON CONFLICT (org_id) DO UPDATE SET changed_at = excluded.changed_at",
        org_id,
    )


async def angle_sensors(conn: Connection | asyncpg.Pool) -> frozenset[str]:
    """Every sensor name some catalogue (an organisation's or the defaults) calls an angle:
    the stream processors keep the sums a vector mean needs for these."""
    rows = await conn.fetch("SELECT DISTINCT sensor FROM catalogue.sensors WHERE kind = 'angle'")
    return frozenset(r["sensor"] for r in rows)
