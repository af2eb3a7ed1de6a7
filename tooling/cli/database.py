"""The connection pool a command opens on TimescaleDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from base.errors import ServerUnavailable

CONNECT_TIMEOUT = 10.0  # seconds


@asynccontextmanager
async def database_pool(url: str) -> AsyncIterator[asyncpg.Pool]:
    """A small pool on ``url``; a database that does not answer is one line, not a traceback."""
    try:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.CannotConnectNowError) as exc:
        raise ServerUnavailable(f"TimescaleDB did not answer: {exc}") from exc
    try:
        yield pool
    finally:
        await pool.close()
