"""The migration runner and the schema it builds, on a real TimescaleDB."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import asyncpg
import pytest

from base.errors import MigrationError
from base.storage.features import enable_features
from base.storage.migrate import Migration, load_migrations, migrate


def test_shipped_migrations_are_numbered_from_one_without_gaps() -> None:
    versions = [m.version for m in load_migrations()]
    assert versions == list(range(1, len(versions) + 1))


async def test_migrate_applies_everything_once(fresh_database: str) -> None:
    conn = await asyncpg.connect(fresh_database)
    try:
        applied = await migrate(conn)
        assert applied == [m.version for m in load_migrations()]
        assert await migrate(conn) == []
        hypertables = await conn.fetch(
            "SELECT hypertable_schema || '.' || hypertable_name AS name "
            "FROM timescaledb_information.hypertables ORDER BY 1"
        )
        assert [r["name"] for r in hypertables] == [
            "alarms.events",
            "telemetry.station_readings",
            "telemetry.station_rollup_1h",
            "telemetry.station_rollup_1m",
            "telemetry.station_rollup_6h",
        ]
    finally:
        await conn.close()


async def test_concurrent_services_apply_each_migration_once(fresh_database: str) -> None:
    conns = [await asyncpg.connect(fresh_database) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        assert sorted(len(r) for r in results) == [0, 0, len(load_migrations())]
        count = await conns[0].fetchval("SELECT count(*) FROM scada_meta.schema_migrations")
        assert count == len(load_migrations())
    finally:
        for conn in conns:
            await conn.close()


async def test_an_edited_applied_migration_is_refused(fresh_database: str) -> None:
    conn = await asyncpg.connect(fresh_database)
    try:
        shipped = load_migrations()
        await migrate(conn, shipped)
        edited = [replace(shipped[0], sql=shipped[0].sql + "\n-- edited"), *shipped[1:]]
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, edited)
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_no_trace(fresh_database: str) -> None:
    conn = await asyncpg.connect(fresh_database)
    try:
        shipped = load_migrations()
        broken = Migration(
            len(shipped) + 1, "broken", "CREATE TABLE half_done (x int); SELECT 1/0;"
        )
        with pytest.raises(MigrationError, match="broken failed"):
            await migrate(conn, [*shipped, broken])
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        versions = await conn.fetch("SELECT version FROM scada_meta.schema_migrations")
        assert len(versions) == len(shipped)
    finally:
        await conn.close()


async def test_edition_is_detected_and_recorded(fresh_database: str) -> None:
    conn = await asyncpg.connect(fresh_database)
    try:
        await migrate(conn)
        features = await enable_features(conn)
        license_ = await conn.fetchval("SHOW timescaledb.license")
        assert features.edition == license_
        assert features.compression == (license_ == "timescale")
        recorded = dict(
            await conn.fetch("SELECT feature, enabled FROM scada_meta.timescaledb_features")
        )
        assert recorded["compression"] == features.compression
        assert recorded["rollups"] is True
        await enable_features(conn)  # idempotent
    finally:
        await conn.close()
