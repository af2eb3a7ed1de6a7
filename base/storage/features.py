"""Which TimescaleDB edition we are on, and which optional features we switched on.

The Apache edition (Debian's package) has hypertables and ``time_bucket``
but no compression, continuous aggregates or policies; the community edition
(the ``timescale/timescaledb`` image) has them all. Rollups never depend on
the edition (the stream processors maintain them); compression and retention
policies are switched on where the edition allows, and the outcome is
recorded in ``scada_meta.timescaledb_features`` for operators to read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    """How long each table keeps data where the edition can enforce it (``None``: forever)."""

    raw_days: int | None = 400
    rollup_1m_days: int | None = 800
    rollup_1h_days: int | None = None
    compress_after_days: int = 7


@dataclass(frozen=True)
class Features:
    edition: str  # "apache" | "timescale" (community)
    version: str
    compression: bool
    retention_policies: bool


async def detect_edition(conn: asyncpg.Connection) -> tuple[str, str]:
    license_ = await conn.fetchval("SELECT current_setting('timescaledb.license')")
    version = await conn.fetchval(
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
    )
    return str(license_), str(version)


async def enable_features(conn: asyncpg.Connection, retention: Retention = Retention()) -> Features:
    """Switch on what the edition supports; record and return the outcome. Idempotent."""
    edition, version = await detect_edition(conn)
    community = edition == "timescale"
    if community:
        await conn.execute(
            """
            ALTER TABLE telemetry.station_readings SET (
                timescaledb.compress,
                timescaledb.compress_segmentby = 'station_id',
                timescaledb.compress_orderby = 'ts DESC')
            """
        )
        await conn.execute(
            "SELECT add_compression_policy('telemetry.station_readings', "
            "make_interval(days => $1), if_not_exists => true)",
            retention.compress_after_days,
        )
        for table, days in (
            ("telemetry.station_readings", retention.raw_days),
            ("telemetry.station_rollup_1m", retention.rollup_1m_days),
            ("telemetry.station_rollup_1h", retention.rollup_1h_days),
            ("telemetry.station_rollup_6h", retention.rollup_1h_days),
        ):
            if days is not None:
                await conn.execute(
                    "SELECT add_retention_policy($1::regclass, make_interval(days => $2), "
                    "if_not_exists => true)",
                    table,
                    days,
                )
    features = Features(edition, version, compression=community, retention_policies=community)
    await _record(conn, features, retention)
    log.info(
        "TimescaleDB %s edition %s: compression %s, retention policies %s",
        edition,
        version,
        "on" if community else "unavailable",
        "on" if community else "unavailable",
    )
    return features


async def _record(conn: asyncpg.Connection, features: Features, retention: Retention) -> None:
    why_not = f"not supported by the {features.edition} edition"
    rows = [
        ("edition", True, f"{features.edition} {features.version}"),
        (
            "compression",
            features.compression,
            f"after {retention.compress_after_days} days" if features.compression else why_not,
        ),
        (
            "retention_policies",
            features.retention_policies,
            f"raw {retention.raw_days} d, 1m {retention.rollup_1m_days} d, "
            f"1h {retention.rollup_1h_days or 'forever'}"
            if features.retention_policies
            else why_not,
        ),
        ("rollups", True, "maintained by the stream processors (any edition)"),
    ]
    await conn.execute(
        """
        CREATE TABLE IF NOT EXISTS scada_meta.timescaledb_features (
            feature    text PRIMARY KEY,
            enabled    boolean     NOT NULL,
            detail     text        NOT NULL,
            checked_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    await conn.executemany(
        """
        INSERT INTO scada_meta.timescaledb_features (feature, enabled, detail) VALUES ($1, $2, $3)
        ON CONFLICT (feature) DO UPDATE
        SET enabled = EXCLUDED.enabled, detail = EXCLUDED.detail, checked_at = now()
        """,
        rows,
    )
