"""Publishing accepted readings to Kafka: one message per station (and chunk), keyed by station.

Granularity: a reading per message would cost a Kafka record, a JSON
envelope and a consumer-side decode per reading; a station's readings in one
message keep the station ordered and amortise all three. A message holds at
most ``chunk_size`` readings and at most ``max_message_bytes`` bytes (a chunk
over it is halved until it fits): one reading is at most ~25 kB (256 sensors),
so any request within the body limit fits the producer's ``max_request_size``
and the topic's ``max.message.bytes``, which the settings check agree.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from ingest_gateway import metrics
from ingest_gateway.errors import KafkaUnavailable
from ingest_gateway.validation import ReadingIn
from schemas.readings import StationReadingsAccepted
from schemas.readings_codec import encode_messages
from schemas.topics import Topic

RETRY_AFTER_SECONDS = 5.0


class ReadingsPublisher:
    def __init__(
        self,
        producer: AIOKafkaProducer,
        topic: Topic[StationReadingsAccepted],
        *,
        timeout: float,
        chunk_size: int = 2000,
        max_message_bytes: int = 1024 * 1024,
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout = timeout
        self._chunk_size = chunk_size
        self._max_message_bytes = max_message_bytes

    async def publish(
        self,
        *,
        ingest_id: UUID,
        org_id: str,
        token_id: UUID,
        readings: list[ReadingIn],
        accepted_at: datetime,
    ) -> int:
        """Publish and wait until Kafka acknowledged every message (acks=all); return the count.

        Raises :class:`KafkaUnavailable` if that does not happen within the timeout.
        A message that Kafka stores after we gave up is harmless: the client
        retries, and the sink stores each reading once.
        """
        started = time.perf_counter()
        futures: list[asyncio.Future[Any]] = []
        try:
            async with asyncio.timeout(self._timeout):
                for station_id, _chunk, value in encode_messages(
                    ingest_id,
                    org_id,
                    readings,
                    accepted_at,
                    self._chunk_size,
                    self._max_message_bytes,
                    token_id=token_id,
                ):
                    future = await self._producer.send(
                        self._topic.name, value, key=station_id.encode()
                    )
                    future.add_done_callback(_observe)
                    futures.append(future)
                await asyncio.gather(*futures)
        except (TimeoutError, KafkaError) as exc:
            metrics.PRODUCE_FAILURES.inc()
            reason = "did not acknowledge in time" if isinstance(exc, TimeoutError) else str(exc)
            raise KafkaUnavailable(
                f"Kafka {reason}; nothing is acknowledged, retry later",
                retry_after=RETRY_AFTER_SECONDS,
            ) from exc
        metrics.PRODUCE_SECONDS.observe(time.perf_counter() - started)
        return len(futures)


def _observe(future: asyncio.Future[Any]) -> None:
    """Retrieve the outcome of a send we may have stopped waiting for (no unobserved errors)."""
    if not future.cancelled():
        future.exception()
