"""Fan-out of job events from Kafka to each user's Server-Sent Events streams.

Every API process reads the whole events topic (no consumer group, from the
end at start) and hands each event to the queues of its user's open streams.
A user only ever receives events whose ``user_id`` is theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from schemas.topics import Topic

log = logging.getLogger(__name__)


class EventBroker:
    def __init__(self, bootstrap: str, topic: Topic[Any]) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="latest"
        )
        self.subscribers: dict[str, set[asyncio.Queue[tuple[str, Any]]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        partitions = self.consumer.partitions_for_topic(self.topic.name)
        if not partitions:
            await self.consumer._client.force_metadata_update()  # topic created moments ago
            partitions = self.consumer.partitions_for_topic(self.topic.name) or set()
        assigned = [TopicPartition(self.topic.name, p) for p in partitions]
        self.consumer.assign(assigned)
        await self.consumer.seek_to_end(*assigned)
        for tp in assigned:  # resolve "end" now, before any job can publish
            await self.consumer.position(tp)
        self._task = asyncio.create_task(self._pump())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()

    def subscribe(self, user_id: str) -> asyncio.Queue[tuple[str, Any]]:
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=1000)
        self.subscribers[user_id].add(queue)
        return queue

    def unsubscribe(self, user_id: str, queue: asyncio.Queue[tuple[str, Any]]) -> None:
        self.subscribers[user_id].discard(queue)

    async def _pump(self) -> None:
        while True:
            try:
                batch = await self.consumer.getmany(timeout_ms=500)
            except KafkaError as exc:
                log.warning("events consumer: %s", exc)
                await asyncio.sleep(1)
                continue
            for records in batch.values():
                for record in records:
                    try:
                        event = self.topic.deserialize(record.value or b"")
                    except ValueError:
                        continue
                    event_id = f"{record.partition}:{record.offset}"
                    for queue in list(self.subscribers.get(event.user_id, ())):
                        if not queue.full():
                            queue.put_nowait((event_id, event))
