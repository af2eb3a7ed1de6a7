"""What the gateway's handlers share, built by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from base.transient import BoundedCalls
from ingest_gateway.local_store import LocalStore
from ingest_gateway.publisher import ReadingsPublisher
from ingest_gateway.rate_limit import ReadingsRateLimiter
from ingest_gateway.token_store import TokenStore
from ingest_gateway.validation import Limits
from schemas.topics import TopicSet


@dataclass(frozen=True)
class GatewayState:
    pool: asyncpg.Pool
    topics: TopicSet
    tokens: TokenStore
    store: LocalStore
    limiter: ReadingsRateLimiter
    publisher: ReadingsPublisher
    limits: Limits
    database_calls: BoundedCalls
    """The few database calls requests make (new tokens and stations, status): bounded."""
