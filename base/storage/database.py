"""Connecting to TimescaleDB and bringing its schema up to date, as every service does at start."""

from __future__ import annotations

import asyncpg

from base.errors import ServerUnavailable
from base.storage.catalogue import sync_defaults
from base.storage.connection import Connection
from base.storage.features import Features, Retention, enable_features
from base.storage.migrate import migrate

__all__ = ["Connection", "connect", "prepare_database"]


async def connect(url: str, *, timeout: float = 10.0) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url, timeout=timeout)
    except (OSError, TimeoutError, asyncpg.CannotConnectNowError) as exc:
        raise ServerUnavailable(f"TimescaleDB at {_redact(url)} did not answer: {exc}") from exc


async def prepare_database(url: str, retention: Retention | None = None) -> Features:
    """Apply pending migrations and switch on the edition's optional features."""
    conn = await connect(url)
    try:
        await migrate(conn)
        await sync_defaults(conn)
        return await enable_features(conn, retention or Retention())
    finally:
        await conn.close()


def _redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    return f"{scheme}{sep}{creds.split(':', 1)[0]}:***@{host}"
