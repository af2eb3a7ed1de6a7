"""What storage functions take: a connection of one's own, or one borrowed from a pool."""

from __future__ import annotations

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Connection = asyncpg.Connection | PoolConnectionProxy
"""A connection of one's own, or one borrowed from a pool (``async with pool.acquire()``)."""
