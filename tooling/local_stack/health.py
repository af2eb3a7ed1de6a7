"""Asking Kafka and TimescaleDB whether they answer, for ``stack status`` and start-up waits."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from base.errors import ServerUnavailable
from base.storage.database import connect


async def kafka_brokers(bootstrap: str, timeout: float = 5.0) -> int | None:
    """How many brokers the cluster at ``bootstrap`` reports, or ``None`` if it does not answer."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    # aiokafka logs every refused connection at ERROR; while waiting that is expected.
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            return len((await admin.describe_cluster())["brokers"])
    except (KafkaError, OSError, TimeoutError):
        return None
    finally:
        await admin.close()
        quiet.setLevel(level)


async def kafka_health(bootstrap: str) -> str:
    brokers = await kafka_brokers(bootstrap)
    if brokers is None:
        return "unreachable"
    return f"ok ({brokers} broker{'s' if brokers != 1 else ''})"


async def database_version(url: str) -> str | None:
    """``TimescaleDB x.y.z (edition)``, ``PostgreSQL`` when the extension is absent, or ``None``."""
    try:
        conn = await connect(url, timeout=5.0)
    except (ServerUnavailable, asyncpg.PostgresError):
        return None
    try:
        row = await conn.fetchrow(
            "SELECT extversion, current_setting('timescaledb.license', true) AS license "
            "FROM pg_extension WHERE extname = 'timescaledb'"
        )
        if row is None:
            return "PostgreSQL (no timescaledb extension yet)"
        return f"TimescaleDB {row['extversion']} ({row['license']})"
    except asyncpg.PostgresError as exc:
        return f"error: {exc}"
    finally:
        await conn.close()


async def database_health(url: str) -> str:
    version = await database_version(url)
    return "unreachable" if version is None else f"ok ({version})"
