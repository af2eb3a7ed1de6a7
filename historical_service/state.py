"""What the API's handlers share, built by the app's lifespan."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaProducer

from historical_service.alarm_feed import AlarmFeed
from historical_service.events import EventBroker
from historical_service.live import LiveFeed
from historical_service.settings import HistoricalSettings
from schemas.topics import TopicSet


@dataclass(frozen=True)
class ApiState:
    settings: HistoricalSettings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    topics: TopicSet
    events: EventBroker
    live: LiveFeed
    alarms: AlarmFeed
    streams: Counter[UUID] = field(default_factory=Counter)
    """Open SSE streams per user."""
